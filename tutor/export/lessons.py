"""``tutor export lessons OUT [--public]``: copy a lesson set; ``--public`` writes the
learners' copy, without hidden checks and without ``python wrong`` answers.

The instructor keeps the private set (with hidden checks) outside the learners'
repository and grades with ``--lessons``; learners get this copy.
"""

from __future__ import annotations

import re
from pathlib import Path

from tutor.errors import UsageError
from tutor.lessons import Exercise, Lesson, LessonSet, parse_lesson_text

FENCE_CLOSE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*$")
CHECK_HEADER = re.compile(r"^\s*\[\[\s*check\s*\]\]")


def _fence_end(lines: list[str], start: int) -> int:
    """The 0-based index of the line closing the fence opened at 0-based ``start``."""
    opener = lines[start].lstrip()[:3]
    for i in range(start + 1, len(lines)):
        if FENCE_CLOSE.match(lines[i]) and lines[i].strip().startswith(opener):
            return i
    return len(lines) - 1


def public_text(lesson: Lesson, text: str) -> str:
    """``text`` (the lesson's file) without hidden checks and wrong answers."""
    lines = text.splitlines()
    drop: set[int] = set()
    for exercise in lesson.exercises:
        for wrong in exercise.wrong:
            start = wrong.line - 1
            end = _fence_end(lines, start)
            drop.update(range(start, end + 1))
            if end + 1 < len(lines) and not lines[end + 1].strip():
                drop.add(end + 1)
        drop.update(_hidden_check_lines(exercise, lines))
    kept = [line for i, line in enumerate(lines) if i not in drop]
    return "\n".join(kept) + "\n"


def _hidden_check_lines(exercise: Exercise, lines: list[str]) -> set[int]:
    hidden = [c for c in exercise.checks if c.hidden]
    if not hidden:
        return set()
    if len(hidden) == len(exercise.checks):
        raise UsageError(f"exercise {exercise.id}: every check is hidden; the public copy needs a visible one")
    fence_start = exercise.checks_line - 1
    fence_end = _fence_end(lines, fence_start)
    headers = [i for i in range(fence_start + 1, fence_end) if CHECK_HEADER.match(lines[i])]
    drop: set[int] = set()
    for check in hidden:
        start = check.line - 1
        later = [h for h in headers if h > start]
        end = later[0] if later else fence_end
        drop.update(range(start, end))
    return drop


def export_lessons(lessons: LessonSet, out: Path, *, public: bool) -> list[Path]:
    """Write every lesson of ``lessons`` into ``out``; a public copy is parsed again to
    prove it holds no hidden check and no wrong answer."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for lesson in lessons.lessons:
        text = lesson.path.read_text(encoding="utf-8")
        if public:
            text = public_text(lesson, text)
            again = parse_lesson_text(text, out / lesson.path.name)
            if any(e.hidden_count or e.wrong for e in again.exercises) or \
                    [e.id for e in again.exercises] != [e.id for e in lesson.exercises]:
                raise UsageError(f"{lesson.path}: the public copy could not be made cleanly; please report this")
        target = out / lesson.path.name
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
