"""``tutor grade [ID ...]``: grade the learner's solutions headless, in parallel.

Exit codes: 0 all passed, 1 any failed or errored, 2 bad input. One exercise that times
out or crashes is reported by name and never costs the results of the others.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator

from tutor.commands.common import existing_workspace, lessons_from, print_warnings, start_tutor
from tutor.core import draw_seed
from tutor.errors import UsageError
from tutor.grading import GRADESCOPE_HIDDEN_DEFAULT
from tutor.grading.formats import to_gradescope, to_json, to_junit, write_atomic, write_json
from tutor.grading.results import ExerciseReport
from tutor.i18n import N_, _
from tutor.present import count, judge_words
from tutor.session import Event, Notice, Session
from tutor.textsafe import for_terminal_line

STATUS_STYLE = {"pass": "green", "fail": "red", "error": "yellow"}


def main(args: argparse.Namespace) -> int:
    lessons = lessons_from(args)
    workspace = existing_workspace(args, lessons)
    exercises = list(dict.fromkeys(e for i in args.ids for e in lessons.select(i))) if args.ids else lessons.exercises()
    if not exercises:
        raise UsageError(_("no exercises to grade"))
    for target in (args.json_file, args.junit, args.gradescope):
        if target is not None and target.is_dir():
            raise UsageError(_("{target}: is a directory; give a file name for the report").format(target=target))
    started = time.perf_counter()
    seed = args.seed if args.seed is not None else draw_seed()
    # No file: not started. Still an error in the reports (nothing was handed in), but
    # the learner's progress keeps it "not started" and the summary says so.
    missing = {e.id for e in exercises if not workspace.path_for(e).exists()}
    with _reporter(len(exercises), missing) as reporter, start_tutor(lessons, args, workspace, grading=True) as core:
        reporter.grading()
        session = Session(core)
        session.subscribe(_warn)
        reports = session.grade(exercises, jobs=args.jobs, on_done=reporter.done, seed=seed)
    elapsed = time.perf_counter() - started
    print_warnings(workspace)

    payload = to_json(reports)
    payload["seed"] = seed
    if args.json_file:
        write_json(args.json_file, payload)
    if args.junit:
        write_atomic(args.junit, to_junit(reports))
    if args.gradescope:
        write_json(args.gradescope, to_gradescope(reports, args.gradescope_hidden_visibility or GRADESCOPE_HIDDEN_DEFAULT))
    summary = payload["summary"]
    not_started = sum(r.id in missing for r in reports)
    counts = _("{passed} passed, {failed} failed, {errored} errored").format(
        passed=summary["passed"], failed=summary["failed"], errored=summary["errored"] - not_started)
    if not_started:
        counts += _(", {n} not started").format(n=not_started)
    print(counts + _(" ({exercises} in {seconds} s; seed {seed}: `--seed {seed}` grades again with the same inputs)").format(
        exercises=count(len(reports), "exercise"), seconds=f"{elapsed:.1f}", seed=seed))
    return 0 if payload["status"] == "pass" else 1


def _warn(event: Event) -> None:
    if isinstance(event, Notice):
        print("tutor: " + _("warning: {message}").format(message=for_terminal_line(event.message)), file=sys.stderr)


NOT_STARTED = N_("NOT STARTED")
#: A verdict's word, in capitals in English (padded to the widest one's cells: see _label).
VERDICTS = {"pass": N_("PASS"), "fail": N_("FAIL"), "error": N_("ERROR")}


def _label(report: ExerciseReport, missing: set[str]) -> str:
    from rich.cells import cell_len

    if report.id in missing:
        return _(NOT_STARTED)
    word = _(VERDICTS.get(report.status, report.status.upper()))
    width = max(cell_len(_(verdict)) for verdict in VERDICTS.values())  # 5 in English, 6 in Chinese
    return word + " " * max(0, width - cell_len(word))


def _line(report: ExerciseReport, missing: set[str]) -> str:
    # The message quotes the hand-in (an exception's type name and text): one line of
    # data, never a line of its own that reads as a verdict or a CI command.
    message = for_terminal_line(judge_words(report.message))
    if report.id in missing:
        return f"{_label(report, missing)} {for_terminal_line(report.id)}\n      {message}"
    text = f"{_label(report, missing)} {for_terminal_line(report.id)}  ({report.duration_ms / 1000:.2f} s)"
    if report.status != "pass" or report.hidden_unrun:  # a public copy's pass: what waits at grading
        text += f"\n      {message}"
    return text


class _Lines:
    """Plain lines for CI logs (and for a single exercise, which needs no bar): one per
    exercise as it finishes, on stdout."""

    def __init__(self, missing: set[str]) -> None:
        self.missing = missing

    def grading(self) -> None:
        pass

    def done(self, report: ExerciseReport) -> None:
        print(_line(report, missing=self.missing), flush=True)


class _Bar(_Lines):
    """A progress bar on the terminal (stderr), from the sandbox's start to the last
    exercise; each verdict is printed above it as it comes."""

    def __init__(self, total: int, missing: set[str]) -> None:
        super().__init__(missing)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        self.task = self.progress.add_task(_("starting the sandbox"), total=total)

    def grading(self) -> None:
        self.progress.update(self.task, description=_("grading"))

    def done(self, report: ExerciseReport) -> None:
        from rich.markup import escape

        style = "dim" if report.id in self.missing else STATUS_STYLE[report.status]
        self.progress.console.print(f"[{style}]{_label(report, self.missing)}[/] {escape(for_terminal_line(report.id))}"
                                    + ("" if report.status == "pass" else
                                       f"\n      [dim]{escape(for_terminal_line(judge_words(report.message)))}[/]"))
        self.progress.advance(self.task)


@contextlib.contextmanager
def _reporter(total: int, missing: set[str]) -> Iterator[_Lines]:
    """A bar when more than one exercise is graded on a terminal, else plain lines."""
    if total < 2 or not sys.stderr.isatty():
        yield _Lines(missing)
        return
    bar = _Bar(total, missing)
    with bar.progress:
        yield bar
