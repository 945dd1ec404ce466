"""``tutor grade [ID ...]``: grade the learner's solutions headless, in parallel.

Exit codes: 0 all passed, 1 any failed or errored, 2 bad input. One exercise that times
out or crashes is reported by name and never costs the results of the others.
"""

from __future__ import annotations

import argparse
import sys
import time

from tutor.commands.common import existing_workspace, lessons_from, print_warnings, start_tutor
from tutor.core import Tutor, draw_seed
from tutor.errors import UsageError
from tutor.grading.formats import to_gradescope, to_json, to_junit, write_atomic, write_json
from tutor.grading.results import ExerciseReport
from tutor.lessons import Exercise

STATUS_STYLE = {"pass": "green", "fail": "red", "error": "yellow"}


def main(args: argparse.Namespace) -> int:
    lessons = lessons_from(args)
    workspace = existing_workspace(args, lessons)
    exercises = list(dict.fromkeys(lessons.resolve(i) for i in args.ids)) if args.ids else lessons.exercises()
    if not exercises:
        raise UsageError("no exercises to grade")
    for target in (args.json_file, args.junit, args.gradescope):
        if target is not None and target.is_dir():
            raise UsageError(f"{target}: is a directory; give a file name for the report")
    started = time.perf_counter()
    seed = args.seed if args.seed is not None else draw_seed()
    with start_tutor(lessons, args, workspace) as core:
        reports = _run_with_progress(exercises, core, args.jobs, seed)
    elapsed = time.perf_counter() - started
    print_warnings(workspace)

    payload = {**to_json(reports), "seed": seed}
    if args.json_file:
        write_json(args.json_file, payload)
    if args.junit:
        write_atomic(args.junit, to_junit(reports))
    if args.gradescope:
        write_json(args.gradescope, to_gradescope(reports))
    summary = payload["summary"]
    print(f"{summary['passed']} passed, {summary['failed']} failed, {summary['errored']} errored "
          f"({len(reports)} exercises in {elapsed:.1f} s; seed {seed}: `--seed {seed}` grades again with the same inputs)")
    return 0 if payload["status"] == "pass" else 1


def _warn(message: str) -> None:
    print(f"tutor: warning: {message}", file=sys.stderr)


def _line(report: ExerciseReport) -> str:
    text = f"{report.status.upper():5} {report.id}  ({report.duration_ms / 1000:.2f} s)"
    if report.status != "pass":
        text += f"\n      {report.message}"
    return text


def _run_with_progress(exercises: list[Exercise], core: Tutor, jobs: int | None, seed: int) -> list[ExerciseReport]:
    if not sys.stderr.isatty():
        # Plain lines for CI logs: one per exercise as it finishes.
        def plain(report: ExerciseReport) -> None:
            print(_line(report), flush=True)

        return core.grade_many(exercises, jobs=jobs, on_done=plain, warn=_warn, seed=seed)

    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("grading", total=len(exercises))

        def fancy(report: ExerciseReport) -> None:
            style = STATUS_STYLE[report.status]
            progress.console.print(f"[{style}]{report.status.upper():5}[/] {escape(report.id)}"
                                   + ("" if report.status == "pass" else f"\n      [dim]{escape(report.message)}[/]"))
            progress.advance(task)

        return core.grade_many(exercises, jobs=jobs, on_done=fancy, warn=_warn, seed=seed)
