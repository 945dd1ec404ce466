"""``tutor grade --batch SUBMISSIONS/``: grade a class, one hand-in per student folder.

Students are graded in parallel on one warm sandbox. Each student's JSON and JUnit report
lands in ``SUBMISSIONS-reports/`` as soon as the student is done, so a crash or Ctrl+C
loses nothing and the next run resumes: it keeps each report whose hand-in, lessons and
seed are unchanged and grades the rest (``--regrade``: everyone). The gradebook
(``--gradebook FILE.json`` or ``.csv``, default ``SUBMISSIONS-gradebook.json``;
``--gradebook-format canvas`` for Canvas's import) is written at the end, with a row for
every student of ``--roster CSV``. Exit 0 when every student was graded, 1 if any could
not be (an error, a student missing, exercises left by ``--budget``), 2 for bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from tutor.atomic import atomic_write
from tutor.batch import (
    Batch,
    GradebookFormat,
    StudentResult,
    gradebook_canvas,
    gradebook_csv,
    gradebook_json,
    read_roster,
    students_in,
)
from tutor.batch.late import parse_due, parse_rule, roster_dues
from tutor.commands.common import lessons_from, start_tutor
from tutor.errors import UsageError


def main(args: argparse.Namespace) -> int:
    submissions: Path = args.batch
    lessons = lessons_from(args)
    exercises = list(dict.fromkeys(lessons.resolve(i) for i in args.ids)) if args.ids else lessons.exercises()
    if not exercises:
        raise UsageError("no exercises to grade")
    roster = read_roster(args.roster) if args.roster else None
    due = parse_due(args.due) if args.due else None
    dues = roster_dues(roster)
    rule = parse_rule(args.late_penalty) if args.late_penalty else None
    if rule and not (due or dues):
        raise UsageError("--late-penalty needs a due date: --due, or a due column in the roster")
    gradebook: Path = args.gradebook or Path(f"{submissions.resolve()}-gradebook.json")
    kind = _format(gradebook, args.gradebook_format)
    if args.assignment and kind != "canvas":
        raise UsageError("--assignment goes with --gradebook-format canvas")
    if gradebook.is_dir():
        raise UsageError(f"{gradebook}: is a directory; give a file name for the gradebook")
    students_in(submissions, roster)  # a bad folder is said before the sandbox starts
    out = Path(f"{submissions.resolve()}-reports")
    started = time.perf_counter()
    with start_tutor(lessons, args, grading=True) as core:
        batch = Batch(core, submissions, out, exercises, budget=args.budget, seed=args.seed, roster=roster,
                      regrade=args.regrade, due=due, dues=dues, late_rule=rule)
        students = batch.students()
        try:
            results = _run(batch, len(students), args.jobs or os.cpu_count() or 1)
        except KeyboardInterrupt:
            done = sum(1 for s in students if s.folder is not None and batch.done(s.name) is not None)
            print(f"tutor: interrupted: {done} of {len(students)} students graded; run the same command again to "
                  "grade the rest", file=sys.stderr)
            return 130
    if kind == "canvas":
        body = gradebook_canvas(results, args.assignment or "tutor")
    elif kind == "csv":
        body = gradebook_csv(results, exercises, batch.provenance)
    else:
        body = gradebook_json(results, batch.provenance)
    try:
        gradebook.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(gradebook, body)
    except OSError as exc:
        raise UsageError(f"{gradebook}: cannot write the gradebook ({exc.strerror or exc})") from None
    counts = {status: sum(r.status == status for r in results) for status in ("error", "missing", "incomplete")}
    total = sum(r.score for r in results)
    said = ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no errors"
    print(f"{len(results)} student{'s' if len(results) != 1 else ''} graded in {time.perf_counter() - started:.1f} s "
          f"({said}); mean score {total / max(len(results), 1):.2f} of "
          f"{max((r.max_score for r in results), default=0):g}; seed {batch.seed}; gradebook: {gradebook}; reports: {out}")
    if counts["incomplete"]:
        print("tutor: the time budget left exercises not graded; run the same command again to grade them", file=sys.stderr)
    return 1 if any(counts.values()) else 0


def _format(gradebook: Path, chosen: str | None) -> GradebookFormat:
    """The gradebook's format: the one asked for, else the file's suffix."""
    if chosen in ("csv", "canvas") and gradebook.suffix != ".csv" or chosen == "json" and gradebook.suffix != ".json":
        raise UsageError(f"{gradebook}: a {chosen} gradebook must be a {'.json' if chosen == 'json' else '.csv'} file")
    if chosen == "canvas":
        return "canvas"
    if gradebook.suffix not in (".json", ".csv"):
        raise UsageError(f"{gradebook}: the gradebook must be a .json or .csv file")
    return "csv" if gradebook.suffix == ".csv" else "json"


def _line(result: StudentResult, resumed: bool) -> str:
    note = " (graded earlier)" if resumed else ""
    if result.late:
        late = result.late
        unit = "days" if "days_late" in late else "hours"
        note += f" (late by {late[f'{unit}_late']} {unit}: -{late['penalty'] * 100:g}%, from {late['raw_score']:g})"
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
