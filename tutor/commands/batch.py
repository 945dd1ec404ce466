"""``tutor grade --batch SUBMISSIONS/``: grade a class, one workspace per student folder.

Students are graded in parallel on one warm sandbox. Each student's JSON and JUnit report
lands in ``SUBMISSIONS-reports/`` as soon as the student is done, so a crash or Ctrl+C
loses nothing and the next run resumes. The gradebook (``--gradebook FILE.json`` or
``.csv``, default ``SUBMISSIONS-gradebook.json``) is written at the end. Exit 0 when every
student was graded, 1 if any folder could not be, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from tutor.atomic import atomic_write
from tutor.batch import Batch, StudentResult, gradebook_csv, gradebook_json, students_in
from tutor.commands.common import lessons_from, start_tutor
from tutor.core import draw_seed
from tutor.errors import UsageError


def main(args: argparse.Namespace) -> int:
    submissions: Path = args.batch
    lessons = lessons_from(args)
    exercises = list(dict.fromkeys(lessons.resolve(i) for i in args.ids)) if args.ids else lessons.exercises()
    if not exercises:
        raise UsageError("no exercises to grade")
    students = students_in(submissions)
    gradebook: Path = args.gradebook or Path(f"{submissions.resolve()}-gradebook.json")
    if gradebook.suffix not in (".json", ".csv"):
        raise UsageError(f"{gradebook}: the gradebook must be a .json or .csv file")
    if gradebook.is_dir():
        raise UsageError(f"{gradebook}: is a directory; give a file name for the gradebook")
    out = Path(f"{submissions.resolve()}-reports")
    started = time.perf_counter()
    with start_tutor(lessons, args, grading=True) as core:
        batch = Batch(core, submissions, out, exercises, budget=args.budget,
                      seed=args.seed if args.seed is not None else draw_seed())
        try:
            results = _run(batch, len(students), args.jobs or os.cpu_count() or 1)
        except KeyboardInterrupt:
            done = sum(1 for s in students if batch.done(s.name) is not None)
            print(f"tutor: interrupted: {done} of {len(students)} students graded; run the same command again to "
                  "grade the rest", file=sys.stderr)
            return 130
    body = gradebook_csv(results, exercises) if gradebook.suffix == ".csv" else gradebook_json(results)
    try:
        gradebook.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(gradebook, body)
    except OSError as exc:
        raise UsageError(f"{gradebook}: cannot write the gradebook ({exc.strerror or exc})") from None
    errored = [r for r in results if r.status == "error"]
    total = sum(r.score for r in results)
    print(f"{len(results)} student{'s' if len(results) != 1 else ''} graded in {time.perf_counter() - started:.1f} s "
          f"({len(errored)} with errors); mean score {total / max(len(results), 1):.2f} of "
          f"{results[0].max_score if results else 0:g}; gradebook: {gradebook}; reports: {out}")
    return 1 if errored else 0


def _line(result: StudentResult, resumed: bool) -> str:
    note = " (graded earlier)" if resumed else ""
    text = f"{result.status.upper():6} {result.student}  {result.score:g}/{result.max_score:g}{note}"
    return text + (f"\n       {result.message}" if result.message else "")


def _run(batch: Batch, total: int, jobs: int) -> list[StudentResult]:
    if not sys.stderr.isatty():
        def plain(result: StudentResult, resumed: bool) -> None:
            print(_line(result, resumed), flush=True)

        return batch.run(jobs, plain)

    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("students"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("students", total=total, rate="")
        started = time.perf_counter()
        graded = 0

        def fancy(result: StudentResult, resumed: bool) -> None:
            nonlocal graded
            graded += 0 if resumed else 1
            rate = graded / max(time.perf_counter() - started, 1e-9) * 60
            style = "green" if result.status == "graded" else "yellow"
            progress.console.print(f"[{style}]{escape(_line(result, resumed))}[/]")
            progress.update(task, advance=1, rate=f"{rate:.1f}/min" if graded else "")

        return batch.run(jobs, fancy)
