"""Find and load a directory (or list) of lesson files."""

from __future__ import annotations

import difflib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tutor.errors import LessonError, UsageError
from tutor.i18n import _
from tutor.lessons.model import Exercise, Lesson
from tutor.lessons.parser import parse_lesson_file
from tutor.lessons.translate import current_language, translated_lesson

SKIP_NAMES = {"README.md"}


def default_lessons_dir() -> Path:
    """The lessons that ship with tutor: the repository's ``lessons/`` in a source
    checkout or editable install, ``<prefix>/share/tutor/lessons`` in a wheel install."""
    override = os.environ.get("TUTOR_LESSONS")
    if override:
        return Path(override)
    source = Path(__file__).resolve().parents[2] / "lessons"
    if source.is_dir():
        return source
    return Path(sys.prefix) / "share" / "tutor" / "lessons"


@dataclass
class LessonSet:
    """The lessons found, in order, and the files that failed to parse."""

    lessons: list[Lesson] = field(default_factory=list)
    errors: list[LessonError] = field(default_factory=list)
    #: The directories the set was loaded from (a file's own directory for a file),
    #: parsed or not: the sandbox hides them all.
    roots: list[Path] = field(default_factory=list)

    @classmethod
    def unparsed(cls, paths: list[Path]) -> LessonSet:
        """A set that knows only where its lessons live: for ``tutor run``, which hides
        them from learner code but never reads them (parsing costs startup time)."""
        return cls(roots=[p if p.is_dir() else p.parent for p in paths if p.exists()])

    def exercises(self) -> list[Exercise]:
        return [e for lesson in self.lessons for e in lesson.exercises]

    def exercise(self, exercise_id: str) -> Exercise:
        for exercise in self.exercises():
            if exercise.id == exercise_id:
                return exercise
        raise KeyError(exercise_id)

    def directories(self) -> list[Path]:
        """The directories the lessons came from: the sandbox hides them from learner
        code, since they hold the reference solutions."""
        return sorted({*(lesson.path.parent.resolve() for lesson in self.lessons), *(r.resolve() for r in self.roots)})

    def resolve(self, ident: str) -> Exercise:
        """The exercise named ``ident``: a full id (``lesson/exercise``) or, when only one
        lesson has it, the short one. Otherwise a :class:`UsageError` with close matches."""
        exercises = self.exercises()
        for exercise in exercises:
            if exercise.id == ident:
                return exercise
        short = [e for e in exercises if e.short_id == ident]
        if len(short) == 1:
            return short[0]
        if len(short) > 1:
            raise UsageError(_("'{ident}' is ambiguous: {ids}").format(ident=ident, ids=", ".join(e.id for e in short)))
        by_name = {e.id: e.id for e in exercises}
        for e in exercises:
            by_name.setdefault(e.short_id, e.id)
        close = difflib.get_close_matches(ident, list(by_name), n=5, cutoff=0.5)
        close_ids = list(dict.fromkeys(by_name[c] for c in close))
        if close_ids:
            raise UsageError(_("unknown exercise '{ident}'; did you mean {ids}?").format(ident=ident, ids=", ".join(close_ids)))
        raise UsageError(_("unknown exercise '{ident}'; `tutor list` shows them all").format(ident=ident))

    def select(self, ident: str) -> list[Exercise]:
        """The exercises ``ident`` names: a lesson id gives every exercise of the lesson,
        anything else one exercise (see :meth:`resolve`)."""
        lesson = next((lesson for lesson in self.lessons if lesson.id == ident), None)
        if lesson is not None and lesson.exercises:
            return list(lesson.exercises)
        return [self.resolve(ident)]

    def lesson(self, lesson_id: str) -> Lesson:
        for lesson in self.lessons:
            if lesson.id == lesson_id:
                return lesson
        raise KeyError(lesson_id)


def lesson_files(paths: list[Path]) -> list[Path]:
    """Expand directories into their ``*.md`` lesson files (README.md excluded).

    A file named twice (``a.md lessons/``) is read once, so it is not its own duplicate.
    """
    files: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.glob("*.md") if p.name not in SKIP_NAMES)
            if not found:
                raise UsageError(_("{path}: no lesson files (*.md) in this directory").format(path=path))
        elif path.exists():
            found = [path]
        else:
            raise UsageError(_("{path}: no such file or directory").format(path=path))
        for file in found:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                files.append(file)
    return files


def load_lessons(paths: list[Path] | Path | None = None, lang: str | None = None) -> LessonSet:
    """Parse every lesson under ``paths``; collect errors instead of stopping at one.

    Two files declaring the same lesson id are an error on the second file. Each lesson's
    words are in ``lang`` where its catalogue has them (default: the language ``--lang``,
    ``TUTOR_LANG`` or the locale chose; see ``tutor.lessons.translate``).
    """
    lang = lang or current_language()
    if paths is None:
        paths = [default_lessons_dir()]
    elif isinstance(paths, Path):
        paths = [paths]
    result = LessonSet(roots=[p if p.is_dir() else p.parent for p in paths])
    seen: dict[str, Lesson] = {}
    for file in lesson_files(list(paths)):
        try:
            lesson = parse_lesson_file(file)
        except LessonError as exc:
            result.errors.append(exc)
            continue
        if lesson.id in seen:
            first = seen[lesson.id]
            result.errors.append(LessonError(file, _id_line(file), f"duplicate lesson id '{lesson.id}' (also in {first.path})"))
            continue
        seen[lesson.id] = lesson
        result.lessons.append(translated_lesson(lesson, lang))
    result.lessons.sort(key=lambda l: (l.order, l.id))
    return result


def _id_line(path: Path) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if re.match(r"\s*id\s*=", line):
            return number
    return 1
