"""``tutor new lesson ID`` and ``tutor new exercise LESSON ID``: scaffolds for authors.

``new lesson`` writes ``DIR/NN-ID.md`` (``NN``: the next ``order``); ``new exercise``
appends an exercise to the lesson with that id. Both refuse an id that is taken or
malformed and never overwrite a file. What they write passes ``check-lessons
--format-only`` and fails the full ``check-lessons`` until the author writes the
reference solution (``tutor.authoring.scaffold``).
"""

from __future__ import annotations

import argparse
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from tutor.authoring.scaffold import FIRST_EXERCISE, exercise_text, lesson_text
from tutor.errors import LessonError, UsageError
from tutor.lessons import Lesson, parse_lesson_file, parse_lesson_text
from tutor.lessons.discover import SKIP_NAMES, default_lessons_dir
from tutor.lessons.parser import HEADER_FENCE, ID_RE

HEADER_ID_RE = re.compile(r'^\s*id\s*=\s*["\']([^"\']*)["\']')
HEADER_ORDER_RE = re.compile(r"^\s*order\s*=\s*(-?\d+)")
ID_RULE = "lowercase letters, digits and '-', starting with a letter or digit"


@dataclass
class _Found:
    """One lesson file of the directory: parsed, or what its header seems to say."""

    path: Path
    lesson: Lesson | None
    error: LessonError | None
    ident: str | None
    order: int | None


def main(args: argparse.Namespace) -> int:
    root: Path = args.lessons or default_lessons_dir()
    if not root.exists():
        raise UsageError(f"{root}: no such directory (create it first, or name another with --lessons DIR)")
    if not root.is_dir():
        raise UsageError(f"{root}: not a directory (--lessons takes the directory of the lesson files)")
    if args.kind == "lesson":
        return new_lesson(root, args.id)
    return new_exercise(root, args.lesson, args.id)


def new_lesson(root: Path, lesson_id: str) -> int:
    _check_id(lesson_id, "lesson")
    found = _scan(root)
    for item in found:
        if item.ident == lesson_id:
            id_line = _header_guess(item.path)[1]  # read again only to point at it
            raise UsageError(f"{item.path}:{id_line}: a lesson with id '{lesson_id}' is already here; choose another id")
    order = max((item.order for item in found if item.order is not None), default=0) + 1
    path = root / f"{order:02d}-{lesson_id}.md"
    text = lesson_text(lesson_id, order)
    parse_lesson_text(text, path)  # a scaffold that does not parse is our bug: never write it
    _create(path, text)
    print(f"wrote {path}: lesson '{lesson_id}' (order {order}) with the exercise '{lesson_id}/{FIRST_EXERCISE}'")
    _next_steps(path)
    return 0


def new_exercise(root: Path, lesson_id: str, exercise_id: str) -> int:
    _check_id(exercise_id, "exercise")
    target = _find_lesson(root, lesson_id)
    for exercise in target.exercises:
        if exercise.short_id == exercise_id:
            raise UsageError(f"{target.path}:{exercise.line}: lesson '{lesson_id}' already has an exercise "
                             f"'{exercise_id}'; choose another id")
    try:
        old = target.path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{target.path}: cannot read: {exc.strerror or exc}") from None
    separator = "" if old.endswith("\n\n") else "\n" if old.endswith("\n") else "\n\n"
    addition = separator + exercise_text(exercise_id)
    line = (old + separator).count("\n") + 1  # the exercise's heading
    parse_lesson_text(old + addition, target.path)  # the file as it will be must still parse
    try:
        with target.path.open("a", encoding="utf-8") as handle:
            handle.write(addition)
    except OSError as exc:
        raise UsageError(f"{target.path}: cannot write: {exc.strerror or exc}") from None
    print(f"added the exercise '{lesson_id}/{exercise_id}' to {target.path} at line {line}")
    _next_steps(target.path)
    return 0


def _next_steps(path: Path) -> None:
    print("next: replace every TODO, write the reference in the 'python solution' fence, and watch it with")
    print(f"  tutor check-lessons --watch {path}")


def _check_id(ident: str, what: str) -> None:
    if not ID_RE.match(ident):
        raise UsageError(f"{what} id '{ident}' must be {ID_RULE} (such as 'broadcasting-rules')")


def _create(path: Path, text: str) -> None:
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise UsageError(f"{path}: already exists; never overwritten (move it, or choose another id)") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _scan(root: Path) -> list[_Found]:
    """Every lesson file in ``root``; a malformed one still counts with the id and order
    its header seems to declare, so a new lesson never takes them."""
    found = []
    for path in sorted(p for p in root.glob("*.md") if p.name not in SKIP_NAMES and p.is_file()):
        try:
            lesson = parse_lesson_file(path)
        except LessonError as exc:
            ident, _, order = _header_guess(path)
            found.append(_Found(path, None, exc, ident, order))
            continue
        found.append(_Found(path, lesson, None, lesson.id, lesson.order))
    return found


def _header_guess(path: Path) -> tuple[str | None, int, int | None]:
    """The id, its line and the order a header declares, read line by line (no TOML)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None, 1, None
    ident, id_line, order = None, 1, None
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == HEADER_FENCE:
            break
        if ident is None and (m := HEADER_ID_RE.match(line)):
            ident, id_line = m.group(1), number
        if order is None and (m := HEADER_ORDER_RE.match(line)):
            order = int(m.group(1))
    return ident, id_line, order


def _find_lesson(root: Path, lesson_id: str) -> Lesson:
    found = _scan(root)
    for item in found:
        if item.ident == lesson_id:
            if item.lesson is None:
                assert item.error is not None
                raise UsageError(f"{item.error.msg} (fix the lesson before adding an exercise)")
            return item.lesson
    known = [item.ident for item in found if item.ident]
    close = difflib.get_close_matches(lesson_id, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f" ({', '.join(known)})" if known else ""
    raise UsageError(f"{root}: no lesson with id '{lesson_id}'{hint}")
