"""A runnable code cell: a snippet, highlighted, with its result panel underneath."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.highlight import highlight
from textual.message import Message
from textual.widgets import Static

from tutor.app.widgets.result_panel import ResultPanel
from tutor.lessons import Snippet
from tutor.sandbox.api import RunResult


class CodeCell(Vertical, can_focus=True):
    """A focusable snippet. Enter (or a click) asks to run it; the screen owns the
    sandbox worker and answers with :class:`CodeCell.RunFinished`."""

    BINDINGS = [Binding("enter", "run", "Run cell")]

    class RunRequested(Message):
        """The learner asked to run this cell."""

        def __init__(self, cell: CodeCell) -> None:
            super().__init__()
            self.cell = cell

        @property
        def control(self) -> CodeCell:
            return self.cell

    class RunFinished(Message):
        """The sandbox answered for this cell."""

        def __init__(self, cell: CodeCell, result: RunResult) -> None:
            super().__init__()
            self.cell = cell
            self.result = result

        @property
        def control(self) -> CodeCell:
            return self.cell

    def __init__(self, snippet: Snippet) -> None:
        super().__init__(classes="" if snippet.run else "-norun")
        self.snippet = snippet
        self.border_title = f"cell {snippet.index + 1}" + ("" if snippet.run else " · not runnable")
        if snippet.requires:
            self.border_subtitle = "needs " + ", ".join(snippet.requires)

    def compose(self) -> ComposeResult:
        yield Static(highlight(self.snippet.code.rstrip("\n"), language="python"), classes="code")
        yield ResultPanel()

    @property
    def panel(self) -> ResultPanel:
        return self.query_one(ResultPanel)

    @property
    def result(self) -> RunResult | None:
        return self.panel.result

    def action_run(self) -> None:
        if self.snippet.run:
            self.post_message(self.RunRequested(self))
        else:
            self.notify("This cell is shown, not run: it illustrates a mistake.", title="not runnable")

    def on_click(self) -> None:
        self.focus()

    def set_running(self, running: bool) -> None:
        self.set_class(running, "-running")
        self.panel.running = running

    async def show_result(self, result: RunResult) -> None:
        """Show ``result`` under the code; if this cell has focus, the learner is
        waiting for this answer, so scroll it on screen once it is laid out."""
        self.set_class(False, "-running")
        self.set_class(not result.ok, "-failed")
        await self.panel.show(result)
        if self.has_focus:
            self.call_after_refresh(self.panel.scroll_visible, animate=False)
