"""The verdict of a check run: one line per check and, on failure, what differed."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import LoadingIndicator, Static

from tutor import present as fmt
from tutor.app.widgets.info_table import InfoTable
from tutor.grading.results import CheckResult, ExerciseReport
from tutor.i18n import N_, _, ngettext

MARKS = {"pass": "✓", "fail": "✗", "error": "!", "hidden": "•"}


def headline(report: ExerciseReport) -> str:
    """One line that never claims more than was checked: while hidden checks have not
    run (a public copy), a pass is "Visible checks pass", never "Passed", and the hidden ones are named;
    "Passed" is for a verdict that ran every check (`tutor grade`'s)."""
    ran = [c for c in report.checks if c.status != "hidden"]
    passed = sum(1 for c in ran if c.status == "pass")
    hidden = report.hidden_unrun or sum(1 for c in report.checks if c.status == "hidden")
    tail = fmt.sep() + ngettext("{n} hidden check runs only in `tutor grade`", "{n} hidden checks run only in `tutor grade`",
                                hidden).format(n=hidden) if hidden else ""
    if report.status == "pass":
        if hidden:
            return "✓ " + _("Visible checks pass ({n} of {total})").format(n=passed, total=len(ran)) + tail
        return "✓ " + _("Passed: {n} of {checks}").format(n=passed, checks=fmt.count(len(ran), "check"))
    if report.status == "error" and not ran:
        return "! " + (_("Could not check: {message}").format(message=fmt.judge_words(report.message)) if report.message
                       else _("Could not check"))
    verdict = "✗ " + _("Failed") if report.status == "fail" else "! " + _("Error")
    counted = (_("{n} of {total} visible checks pass") if hidden else _("{n} of {total} checks pass")).format(n=passed, total=len(ran))
    return _("{verdict}: {counted}").format(verdict=verdict, counted=counted) + tail


class CheckReport(VerticalScroll):
    """Set ``report`` to show a verdict, ``checking`` while a check runs."""

    DEFAULT_CSS = """
    CheckReport { height: auto; }
    CheckReport LoadingIndicator { height: 1; }
    CheckReport InfoTable { margin-left: 2; }
    CheckReport .detail { padding-left: 2; }
    """

    report: reactive[ExerciseReport | None] = reactive(None, recompose=True)
    hints_left: reactive[bool] = reactive(True, recompose=True)
    """Whether ctrl+g has a hint not shown yet; the screen keeps this up to date."""
    checking: reactive[bool] = reactive(False, recompose=True)

    def compose(self) -> ComposeResult:
        if self.checking:
            yield LoadingIndicator()
            return
        report = self.report
        if report is None:
            yield Static(_("Press ctrl+r to check your solution."), classes="note")
            return
        yield Static(headline(report), markup=False, classes=f"headline -{report.status}")
        if report.message and report.checks and report.status == "error":
            # A pass or a fail message only summarises the checks listed below.
            yield Static(Text(fmt.judge_words(report.message)), classes="detail")
        for check in report.checks:
            yield from self._check(check)
        if report.output:
            yield Static(_("your code printed:"), classes="section")
            yield Static(Text(report.output.rstrip("\n")), classes="stdout detail")
        if report.status == "pass":
            yield Static(_("ctrl+l compares yours with the reference solution."), classes="note detail")
        elif self.hints_left:
            # The grader's hint names the CLI command; here the key is the way.
            yield Static(Text(_("Stuck? ctrl+g shows the next hint.")), classes="hint detail")

    def _check(self, check: CheckResult) -> ComposeResult:
        label = fmt.judge_words(check.name) + (_(" (hidden: runs only in `tutor grade`)") if check.status == "hidden"
                              else _(" (hidden)") if check.hidden else "")
        yield Static(Text(f"{fmt.narrow(MARKS.get(check.status, '?'))} {label}"), classes=f"check -{check.status}")
        if check.status not in ("fail", "error"):
            return
        seed = check.seed if check.seed is not None else check.details.get("seed")
        message = fmt.check_summary(check.message, check.details) + (_(" (seed {seed})").format(seed=seed) if seed is not None else "")
        if message.strip():
            yield Static(Text(message), classes="detail")
        rows = fmt.difference_rows(check.details)
        if not rows and (check.expected or check.got):
            rows = [(_("value"), check.expected or fmt.NONE, check.got or fmt.NONE)]
        if rows:
            yield InfoTable(("", N_("expected"), N_("got")), rows, wrap=("expected", "got"), classes="difference")
        previews = fmt.preview_rows(check.details)
        if previews:
            # A table of its own, without the label column: a 3x4 preview fits 80 columns.
            yield InfoTable(("expected", "got"), previews, wrap=("expected", "got"), classes="previews")
        notes = fmt.difference_notes(check.details)
        if notes:
            yield Static(Text(notes), classes="detail")
