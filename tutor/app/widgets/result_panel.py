"""What a snippet left behind: its output, its error, and the inspection tables."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Label, LoadingIndicator, Static

from tutor.app import format as fmt
from tutor.app.widgets.plot import Plot
from tutor.sandbox.api import RunResult


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], **kwargs: object) -> DataTable:
    """A read-only table. Cells are ``Text``, never markup: names and previews come
    from learner code, and ``[red]`` in them must show as typed."""
    table: DataTable = DataTable(show_cursor=False, zebra_stripes=True, cursor_type="none", **kwargs)  # type: ignore[arg-type]
    table.add_columns(*headers)
    table.add_rows([[Text(cell) for cell in row] for row in rows])
    return table


class ResultPanel(Vertical):
    """Shows one :class:`RunResult`; set ``result`` (or ``running``) and it redraws."""

    DEFAULT_CSS = """
    ResultPanel { height: auto; display: none; }
    ResultPanel.-shown { display: block; }
    ResultPanel LoadingIndicator { height: 1; }
    ResultPanel DataTable { height: auto; max-height: 14; }
    ResultPanel .lr-schedule { height: auto; }
    ResultPanel .lr-schedule DataTable { width: auto; max-width: 40; margin-right: 1; }
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

    def compose(self) -> ComposeResult:
        if self.running:
            yield LoadingIndicator()
            return
        result = self.result
        if result is None:
            return
        yield Static(fmt.status_line(result), markup=False, classes="status " + ("-ok" if result.ok else "-error"))
        if result.stdout:
            yield Static(Text(result.stdout.rstrip("\n")), classes="stdout")
        if result.truncated:
            yield Label("(output truncated)", classes="note")
        if result.error is not None and result.error.traceback and not result.missing_package:
            yield Static(Text(fmt.traceback_tail(result.error.traceback)), classes="traceback")
        if result.variables:
            yield Label("tensors and values", classes="section")
            yield text_table(fmt.VARIABLE_COLUMNS, fmt.variable_rows(result.variables), classes="variables")
        if result.modules:
            yield Label("modules", classes="section")
            yield text_table(fmt.MODULE_COLUMNS, fmt.module_rows(result.modules), classes="modules")
        if result.optimizers:
            yield Label("optimizers", classes="section")
            yield Static(Text("\n".join(fmt.optimizer_lines(result.optimizers))), classes="optimizers")
        for schedule in result.schedules:
            yield Label(f"lr schedule: {schedule.get('name', '?')} ({schedule.get('type', '?')})", markup=False, classes="section")
            headers, rows = fmt.lr_table(schedule)
            with Horizontal(classes="lr-schedule"):
                yield text_table(headers, rows, classes="lr-table")
                yield Plot(fmt.lr_series(schedule))
        for series in result.series:
            values = [float(v) for v in series.get("values", [])]
            yield Label(f"{series.get('name', '?')} ({len(values)} values)", markup=False, classes="section")
            yield Plot([(list(range(1, len(values) + 1)), values)])
