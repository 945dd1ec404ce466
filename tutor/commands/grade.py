"""``tutor grade [ID ...]``: grade the learner's solutions headless, in parallel.

Exit codes: 0 all passed, 1 any failed or errored, 2 bad input. One exercise that times
out or crashes is reported by name and never costs the results of the others.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tutor.commands.common import lessons_from, print_warnings
from tutor.commands.workspace import resolve_exercise
from tutor.errors import UsageError, WorkspaceError
from tutor.grading.grade import grade_source
from tutor.grading.report import ExerciseReport
from tutor.grading.reports import to_gradescope, to_json, to_junit, write_atomic, write_json
from tutor.lessons import Exercise
from tutor.workspace import Workspace, default_workspace
from tutor.sandbox.api import SandboxClientProtocol

STATUS_STYLE = {"pass": "green", "fail": "red", "error": "yellow"}


def _grade_one(exercise: Exercise, workspace: Workspace, client: SandboxClientProtocol, device: str) -> ExerciseReport:
    path = workspace.path_for(exercise)
    if not path.exists():
        return ExerciseReport(id=exercise.id, status="error", message=f"no solution file at {path} (run `tutor init`)")
    try:
        source = workspace.read(exercise)
    except WorkspaceError as exc:
        return ExerciseReport(id=exercise.id, status="error", message=exc.msg)
    try:
        return grade_source(exercise, source, client, include_hidden=True, device=device, filename=str(path))
    except Exception as exc:  # noqa: BLE001 - one exercise's failure must not cost the others
        return ExerciseReport(id=exercise.id, status="error", message=f"grading failed: {type(exc).__name__}: {exc}")


def grade_exercises(exercises: list[Exercise], workspace: Workspace, client: SandboxClientProtocol, device: str,
                    jobs: int, on_done: Callable[[ExerciseReport], None] | None = None) -> list[ExerciseReport]:
    """Grade in parallel and record each result in the workspace; ``on_done`` hears of
    each report as it finishes. The result keeps the order of ``exercises``."""
    reports: dict[str, ExerciseReport] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(_grade_one, e, workspace, client, device): e for e in exercises}
        for future in as_completed(futures):
            report = future.result()
            reports[report.id] = report
            try:
                workspace.record_result(report.id, report.status)
            except WorkspaceError as exc:
                print(f"tutor: warning: {exc.msg}", file=sys.stderr)
            if on_done:
                on_done(report)
    return [reports[e.id] for e in exercises]


def main(args: argparse.Namespace) -> int:
    lessons = lessons_from(args)
    root: Path = getattr(args, "workspace", None) or default_workspace()
    if not root.is_dir():
        raise UsageError(f"{root}: no workspace here (create one with `tutor init {root}`)")
    exercises = [resolve_exercise(lessons, i) for i in args.ids] if args.ids else lessons.exercises()
    exercises = list(dict.fromkeys(exercises))
    if not exercises:
        raise UsageError("no exercises to grade")
    for target in (args.json_file, args.junit, args.gradescope):
        if target is not None and target.is_dir():
            raise UsageError(f"{target}: is a directory; give a file name for the report")
    workspace = Workspace(root, lessons)

    from tutor.sandbox.client import SandboxClient, resolve_device

    device = resolve_device(args.device)
    jobs = args.jobs or os.cpu_count() or 1
    started = time.perf_counter()
    with SandboxClient(hide_paths=lessons.directories(), device=device) as client:
        reports = _run_with_progress(exercises, workspace, client, device, jobs)
    elapsed = time.perf_counter() - started
    print_warnings(workspace)

    payload = to_json(reports)
    if args.json_file:
        write_json(args.json_file, payload)
    if args.junit:
        write_atomic(args.junit, to_junit(reports))
    if args.gradescope:
        write_json(args.gradescope, to_gradescope(reports))
    summary = payload["summary"]
    print(f"{summary['passed']} passed, {summary['failed']} failed, {summary['errored']} errored "
          f"({len(reports)} exercises in {elapsed:.1f} s)")
    return 0 if payload["status"] == "pass" else 1


def _line(report: ExerciseReport) -> str:
    text = f"{report.status.upper():5} {report.id}  ({report.duration_ms / 1000:.2f} s)"
    if report.status != "pass":
        text += f"\n      {report.message}"
    return text


def _run_with_progress(exercises: list[Exercise], workspace: Workspace, client: SandboxClientProtocol, device: str,
                       jobs: int) -> list[ExerciseReport]:
    if not sys.stderr.isatty():
        # Plain lines for CI logs: one per exercise as it finishes.
        def plain(report: ExerciseReport) -> None:
            print(_line(report), flush=True)

        return grade_exercises(exercises, workspace, client, device, jobs, plain)

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

        return grade_exercises(exercises, workspace, client, device, jobs, fancy)
