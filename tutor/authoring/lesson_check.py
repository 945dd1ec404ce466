"""``tutor check-lessons``, beyond the format: every reference solution passes its checks,
every starter and every ``python wrong`` answer fails them, and every snippet prints what
its ``output`` fence shows."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from tutor.authoring.scaffold import REFERENCE_PLACEHOLDER
from tutor.core import Tutor
from tutor.lessons import Exercise, Lesson, LessonSet, Snippet
from tutor.lessons.output_match import output_mismatch
from tutor.lessons.translate import catalogue_path, catalogue_report, compiled_is_current, update_catalogue
from tutor.sandbox.api import RunResult


def snippet_problem(snippet: Snippet, result: RunResult) -> str | None:
    """Why a snippet's run disagrees with the lesson, or ``None``."""
    if result.missing_package:
        return None  # optional package absent here: the learner sees "needs package X"
    if not result.ok:
        reason = result.error.message if result.error else result.status
        return f"snippet {snippet.index + 1} failed: {result.status}: {reason}"
    if snippet.expected_output is None:
        return None
    mismatch = output_mismatch(snippet.expected_output, result.stdout, exact=snippet.exact_output, device=result.device)
    return f"snippet {snippet.index + 1} {mismatch.describe()}" if mismatch else None


def _check_exercise(exercise: Exercise, lesson: Lesson, core: Tutor) -> list[str]:
    problems = []
    # A public copy holds the reference's values, not its code: nothing to run.
    ref = None if exercise.reference is not None else \
        core.grade(exercise, exercise.solution, include_hidden=True, filename="reference.py")
    if ref is None:
        pass
    elif ref.status != "pass" and REFERENCE_PLACEHOLDER in exercise.solution:
        problems.append(f"{lesson.path}:{exercise.solution_line}: exercise '{exercise.id}': the reference solution does not pass: "
                        "it is still the placeholder of `tutor new` (raise NotImplementedError); write the reference")
    elif ref.status != "pass":
        problems.append(f"{lesson.path}:{exercise.solution_line}: exercise '{exercise.id}': the reference solution does not pass: {ref.message}")
    starter = core.grade(exercise, exercise.starter, include_hidden=True, filename="starter.py")
    if starter.status == "pass":
        problems.append(f"{lesson.path}:{exercise.starter_line}: exercise '{exercise.id}': the starter passes every check; it must fail")
    for wrong in exercise.wrong:
        verdict = core.grade(exercise, wrong.code, include_hidden=True, filename="wrong.py")
        if verdict.status == "pass":
            problems.append(f"{lesson.path}:{wrong.line}: exercise '{exercise.id}': a wrong answer ({wrong.reason}) "
                            "passes every check; the checks must reject it")
    return problems


def _check_snippet(snippet: Snippet, lesson: Lesson, core: Tutor) -> list[str]:
    if not snippet.run or snippet.missing():
        return []  # an optional package absent here: the learner is told, nothing to compare
    result = core.run(snippet.code, f"{lesson.id}-snippet-{snippet.index + 1}.py", timeout=30)
    problem = snippet_problem(snippet, result)
    return [f"{lesson.path}:{snippet.line}: {problem}"] if problem else []


def lesson_problems(lessons: Iterable[Lesson], core: Tutor, jobs: int | None = None) -> list[str]:
    """Every problem of the exercises and snippets of ``lessons``, as ``FILE:LINE: message``,
    in lesson order, checked in parallel on ``core``'s started sandbox. Ctrl+C cancels the
    runs in flight before it propagates (never a wait for a slow reference)."""
    work = [(lesson, item) for lesson in lessons for item in (*lesson.exercises, *lesson.snippets)]

    def one(pair: tuple[Lesson, Exercise | Snippet]) -> list[str]:
        lesson, item = pair
        if isinstance(item, Exercise):
            return _check_exercise(item, lesson, core)
        return _check_snippet(item, lesson, core)

    pool = ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1)
    try:
        return [p for found in pool.map(one, work) for p in found]
    except KeyboardInterrupt:
        core.cancel_all()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def check_exercises(lessons: LessonSet, device: str = "cpu") -> int:
    """Run every exercise and snippet of ``lessons`` in the sandbox on ``device``; print
    each problem as ``FILE:LINE: message`` on stderr. Exit status: 0 all good, 1 any problem."""
    work = [item for lesson in lessons.lessons for item in (*lesson.exercises, *lesson.snippets)]
    print(f"checking {sum(isinstance(i, Exercise) for i in work)} exercise(s) and "
          f"{sum(isinstance(i, Snippet) for i in work)} snippet(s) in the sandbox...", file=sys.stderr, flush=True)
    # By default on the CPU, the device every learner has; `--device cuda` proves the
    # course on a GPU (outputs compared with the device suffix ignored, references and
    # answers graded on the same device).
    with Tutor(lessons, device=device) as core:
        core.start()
        problems = lesson_problems(lessons.lessons, core)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("every reference passes, every starter fails, every wrong answer fails, every snippet prints its output")
    return 0


def check_translations(lessons: LessonSet, lang: str, *, update: bool = False) -> int:
    """Check the ``lang`` catalogues of ``lessons`` (text only; nothing runs): print each
    missing, stale or broken entry as ``FILE:LINE: message`` of the English source on
    stderr. With ``update``, bring the catalogues up to date first. Exit status: 0 every
    entry translated and sound, 1 any problem."""
    problems = []
    done = total = 0
    for lesson in lessons.lessons:
        if update:
            change = update_catalogue(lesson, lang)
            print(f"{change.path}: {change.entries} entries, {change.added} new, {change.stale} stale, "
                  f"{change.obsolete} obsolete", file=sys.stderr)
        report = catalogue_report(lesson, lang)
        problems.extend(report.problems)
        path = catalogue_path(lesson.path, lang)
        if path.is_file() and not compiled_is_current(path):
            # Not a problem of the translation: the course loads from the .po, only slower.
            print(f"{path}: note: its compiled form (.mo) is out of date; --update-catalogue rebuilds it", file=sys.stderr)
        done, total = done + report.translated, total + report.entries
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s); {done} of {total} entries translated to {lang}", file=sys.stderr)
        return 1
    print(f"{lang}: {done} of {total} entries translated in {len(lessons.lessons)} lesson(s), none missing, stale or broken")
    return 0
