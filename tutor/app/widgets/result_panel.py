"""What a snippet left behind: its output, its error, and the inspection tables.

Each module gets a table of its parameters with the norm of each one's gradient, so
after ``loss.backward()`` a learner sees which parameters got one and how large. Each
series (a loss history) is one row of a table: its ends, its extremes and a sparkline;
the cell's ``p`` key (:meth:`ResultPanel.toggle_plots`) shows or hides a full plot of
each under the table.
An lr schedule keeps its plot beside its table, always shown; ``p`` shows it full
width too, so ``p`` works on every result with a series, a schedule's included.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Label, LoadingIndicator, Static

from tutor import present as fmt
from tutor.app.widgets.graph_view import HINT as GRAPH_HINT
from tutor.app.widgets.graph_view import tensor_graphs
from tutor.app.widgets.info_table import InfoTable
from tutor.app.widgets.plot import Plot
from tutor.explain import explain_result
from tutor.i18n import N_, _
from tutor.sandbox.api import RunResult

#: An lr table longer than this shows its first and last steps; the plot shows all.
LR_ROWS = 9
SERIES_HINT = N_("series · p plots them")
SERIES_HINT_SHOWN = N_("series · p hides the plots")


class ResultPanel(Vertical):
    """Shows one :class:`RunResult`; set ``result`` (or ``running``) and it redraws."""

    DEFAULT_CSS = """
    ResultPanel { height: auto; display: none; }
    ResultPanel.-shown { display: block; }
    ResultPanel .running { height: 1; }
    ResultPanel .running LoadingIndicator { width: 8; height: 1; }
    ResultPanel .running Label { width: auto; }
    ResultPanel .lr-schedule { height: auto; }
    ResultPanel .lr-schedule InfoTable { width: auto; margin-right: 2; }
    ResultPanel .explanation { height: auto; margin-top: 1; padding: 0 0 0 1; border-left: wide $warning; }
    ResultPanel .explanation .why { text-style: bold; color: $text-warning; }
    ResultPanel .explanation .where { color: $text-muted; }
    ResultPanel .module-heading { text-style: bold; }
    ResultPanel .module-note, ResultPanel .plot-title { color: $text-muted; }
    ResultPanel .series-plot { height: auto; display: none; }
    ResultPanel.-plots .series-plot { display: block; }
    """

    result: reactive[RunResult | None] = reactive(None, recompose=True)
    running: reactive[bool] = reactive(False, recompose=True)

    def _update_shown(self) -> None:
        self.set_class(self.result is not None or self.running, "-shown")

    def watch_result(self) -> None:
        self._update_shown()

    def watch_running(self, running: bool) -> None:
        self.set_class(running, "-running")
        self._update_shown()

    async def show(self, result: RunResult) -> None:
        """Set ``result`` and return once the panel is rebuilt (so a caller can scroll to it)."""
        self.set_reactive(ResultPanel.running, False)
        self.set_reactive(ResultPanel.result, result)
        self.remove_class("-running")
        self._update_shown()
        await self.recompose()

    @property
    def has_plots(self) -> bool:
        """Whether the result has a series to plot (what ``p`` would show)."""
        return bool(self.query(".series-plot"))

    @property
    def plots_shown(self) -> bool:
        return self.has_class("-plots")

    def toggle_plots(self) -> bool:
        """Show the series' plots, or hide them again; True when they are now shown.
        The choice stays for the next run of the cell."""
        self.toggle_class("-plots")
        if self.has_plots:
            for label in self.query(".series-heading").results(Label):
                label.update(_(SERIES_HINT_SHOWN if self.plots_shown else SERIES_HINT))
        return self.plots_shown

    def compose(self) -> ComposeResult:
        if self.running:
            with Horizontal(classes="running"):
                yield LoadingIndicator()
                yield Label(_("running · esc cancels"), classes="note")
            return
        result = self.result
        if result is None:
            return
        yield Static(fmt.status_line(result), markup=False, classes="status " + ("-ok" if result.ok else "-error"))
        if result.stdout:
            yield Static(Text(result.stdout.rstrip("\n")), classes="stdout")
        if result.truncated:
            yield Label(_("(output truncated)"), classes="note")
        if result.error is not None and result.error.traceback and not result.missing_package:
            tail = fmt.traceback_tail(result.error.traceback)
            if tail:
                yield Static(Text(tail), classes="traceback")
        explanation = explain_result(result)
        if explanation is not None:
            with Vertical(classes="explanation"):
                yield Static(Text(_("why: {title}").format(title=explanation.title)), classes="why")
                yield Static(Text(explanation.text), classes="because")
                yield Static(Text(_("learn more: {section}").format(section=explanation.section)), classes="where")
        tensors = fmt.tensor_rows(result.variables)
        if tensors:
            yield Label(_("tensors") + (fmt.sep() + _(GRAPH_HINT) if tensor_graphs(result.variables) else ""), classes="section")
            yield InfoTable(fmt.TENSOR_COLUMNS, tensors, wrap=("grad",), drop=fmt.TENSOR_DROP, classes="tensors")
        values = fmt.value_rows(result.variables)
        if values:
            yield Label(_("other values"), classes="section")
            yield InfoTable(fmt.VALUE_COLUMNS, values, wrap=("value",), classes="values")
        if result.modules:
            yield Label(_("modules"), classes="section")
            for module in result.modules:
                if not isinstance(module, dict):
                    continue
                yield Label(fmt.module_heading(module), markup=False, classes="module-heading")
                rows, note = fmt.parameter_table(module)
                if rows:
                    yield InfoTable(fmt.PARAMETER_COLUMNS, rows, classes="parameters")
                if note:
                    yield Label(note, markup=False, classes="module-note")
        if result.optimizers:
            yield Label(_("optimizers"), classes="section")
            yield Static(Text("\n".join(fmt.optimizer_lines(result.optimizers))), classes="optimizers")
        for schedule in result.schedules:
            yield Label(_("lr schedule: {name} ({type})").format(name=schedule.get("name", "?"), type=schedule.get("type", "?")),
                        markup=False, classes="section")
            headers, rows = fmt.lr_table(schedule)
            lines = fmt.step_lines(fmt.lr_series(schedule))
            with Horizontal(classes="lr-schedule"):
                yield InfoTable(headers, fmt.elide(rows, LR_ROWS), classes="lr-table")
                yield Plot(lines)
            if any(len(xs) >= 2 for xs, _ in lines):  # p: the lr per step, full width, as for a loss
                with Vertical(classes="series-plot"):
                    yield Label(_("lr per step: {name}").format(name=schedule.get("name", "?")), markup=False, classes="plot-title")
                    yield Plot(lines)
        series = [(item, row) for item in result.series if (row := fmt.series_row(item)) is not None]
        if series:
            plots = [(row[0], fmt.series_points(item)) for item, row in series]
            plots = [(name, (xs, ys)) for name, (xs, ys) in plots if len(xs) >= 2]
            heading = _(SERIES_HINT_SHOWN if self.plots_shown else SERIES_HINT) if plots else _("series")
            yield Label(heading, markup=False, classes="section series-heading")
            yield InfoTable(fmt.SERIES_COLUMNS, [row for _, row in series], classes="series")
            for name, (xs, ys) in plots:
                with Vertical(classes="series-plot"):
                    yield Label(name, markup=False, classes="plot-title")
                    yield Plot([(xs, ys)])
