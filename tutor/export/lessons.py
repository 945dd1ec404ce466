"""``tutor export lessons OUT [--public]``: copy a lesson set; ``--public`` writes the
learners' copy, a handout without the answers.

The public copy is written from the parsed lesson model (``tutor.lessons.writer``), never
by deleting lines of the author's file. Each exercise keeps its prompt, starter, visible
checks, ``[rules]`` and hints (the third rung, the code, only with ``keep_code_hints``);
it loses the reference solution, the ``python wrong`` answers and the hidden checks. In
place of the solution it holds the reference's values for each visible check on the
lesson's seeds, in the encoding the judge reads (data, never code), and the number of
hidden checks waiting at grading: a learner's local check still says exactly what
differs, and a pass says "visible checks pass; N hidden checks at grading".

The instructor keeps the private set outside the learners' repository and grades with
``--lessons``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from tutor.core import Tutor
from tutor.errors import UsageError
from tutor.grading.grade import reference_result
from tutor.lessons import Exercise, Lesson, LessonSet, parse_lesson_text
from tutor.lessons.model import StoredReference
from tutor.lessons.writer import lesson_markdown

#: Hints climb three rungs: where to look, which concept or function, then the code
#: (lessons/README.md). A public copy stops below the code unless asked.
CODE_RUNG = 2
#: The device the stored values are computed on: the one every learner has.
DEVICE = "cpu"


def refuse_own_source(lessons: LessonSet, out: Path, extra: Iterable[Path] = ()) -> None:
    """A usage error when writing into ``out`` would write into or over the lessons it
    is made from (or over ``extra``, the ``--lessons`` folder): a public copy written over
    the private set would lose its hidden checks and solutions for good."""
    target = out.resolve()
    sources = {lesson.path.resolve().parent for lesson in lessons.lessons} | {p.resolve() for p in extra}
    for source in sorted(sources):
        if target == source or source in target.parents:
            raise UsageError(f"{out}: is inside the lessons it is made from ({source}); choose a folder outside them")
    for lesson in lessons.lessons:
        written = target / lesson.path.name
        if written.exists() and written.samefile(lesson.path):
            raise UsageError(f"{out}: would write over the lesson {lesson.path}; choose another folder")


def public_exercise(exercise: Exercise, reference: StoredReference, *, keep_code_hints: bool = False) -> Exercise:
    """``exercise`` as the learners' copy holds it."""
    if not exercise.visible_checks:
        raise UsageError(f"exercise {exercise.id}: every check is hidden; the public copy needs a visible one")
    hints = exercise.hints if keep_code_hints or len(exercise.hints) <= CODE_RUNG else exercise.hints[:CODE_RUNG]
    return replace(exercise, solution="", wrong=(), checks=exercise.visible_checks, hints=hints, reference=reference)


def stored_reference(exercise: Exercise, core: Tutor) -> StoredReference:
    """The reference's record for the visible checks on the lesson's seeds, run in the
    sandbox as grading runs it; a reference that fails a visible check is the lesson's
    bug, and no copy is written."""
    result = reference_result(core.client(), exercise, exercise.visible_checks, DEVICE)
    if result.missing_package:
        raise UsageError(f"exercise {exercise.id}: its reference needs {result.missing_package} to compute the values "
                         f"of the public copy (pip install {result.missing_package})")
    if not result.ok:
        reason = result.error.message if result.error else result.status
        raise UsageError(f"exercise {exercise.id}: the reference solution failed ({reason}); run `tutor check-lessons`")
    results = result.data.get("results")
    if not isinstance(results, list):
        raise UsageError(f"exercise {exercise.id}: the reference gave no check results; run `tutor check-lessons`")
    for item in results:
        error = item.get("error") if isinstance(item, dict) else "malformed"
        if error:
            name = item.get("check") if isinstance(item, dict) else "?"
            raise UsageError(f"exercise {exercise.id}: the reference fails check '{name}'; run `tutor check-lessons`")
    # Only the results: the rest of a record (names called, kernels run) is the run's own.
    # Their order is kept (no sorted keys): the judge names the first difference it meets,
    # in a dict's own order, as it does against the reference's run.
    return StoredReference(record=json.dumps({"results": results}), blobs=tuple(result.blobs.items()),
                           hidden_checks=exercise.hidden_count, hidden_points=exercise.hidden_points, device=DEVICE)


def public_lesson(lesson: Lesson, references: dict[str, StoredReference], *, keep_code_hints: bool = False) -> Lesson:
    blocks = tuple(public_exercise(b, references[b.id], keep_code_hints=keep_code_hints) if isinstance(b, Exercise) else b
                   for b in lesson.blocks)
    return replace(lesson, blocks=blocks)


def _same_exercise(public: Exercise, written: Exercise) -> bool:
    """What the learner's copy must keep of an exercise, compared after a parse."""
    def checks(e: Exercise) -> list[tuple[object, ...]]:
        return [(c.name, c.expr, c.setup, c.rtol, c.atol, c.hidden, c.specs, c.points, dict(c.table)) for c in e.checks]

    return (public.id, public.title, public.prompt, public.starter, public.hints, public.seeds, public.rules,
            public.requires, public.timeout, public.reference, checks(public)) == \
        (written.id, written.title, written.prompt, written.starter, written.hints, written.seeds, written.rules,
         written.requires, written.timeout, written.reference, checks(written))


def write_public(lessons: Sequence[Lesson], out: Path, core: Tutor, *, keep_code_hints: bool = False,
                 jobs: int | None = None) -> list[Path]:
    """Write the learners' copy of ``lessons`` into ``out``; each file is parsed again and
    must give back the model it was written from (no solution, no wrong answer, no hidden
    check, every visible check and rule as the author wrote them)."""
    exercises = [e for lesson in lessons for e in lesson.exercises]
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        references = dict(zip([e.id for e in exercises], pool.map(lambda e: stored_reference(e, core), exercises)))
    texts = []
    for lesson in lessons:
        public = public_lesson(lesson, references, keep_code_hints=keep_code_hints)
        text = lesson_markdown(public)
        again = parse_lesson_text(text, out / lesson.path.name)
        if len(again.exercises) != len(public.exercises) or \
                not all(_same_exercise(a, b) for a, b in zip(public.exercises, again.exercises)) or \
                any(e.solution or e.wrong or e.hidden_count for e in again.exercises):
            raise UsageError(f"{lesson.path}: the public copy could not be written faithfully; please report this")
        texts.append((out / lesson.path.name, text))
    out.mkdir(parents=True, exist_ok=True)
    for path, text in texts:
        path.write_text(text, encoding="utf-8")
    return [path for path, _ in texts]


def copy_lessons(lessons: Sequence[Lesson], out: Path) -> list[Path]:
    """A copy of the lesson files as they are (the instructor's own, hidden checks and all)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for lesson in lessons:
        shutil.copy2(lesson.path, out / lesson.path.name)
        written.append(out / lesson.path.name)
    return written
