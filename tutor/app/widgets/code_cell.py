"""A runnable code cell: a snippet, highlighted, with its result panel underneath.

A cell can also be *tried*: ``e`` turns it into an editable copy (the code editor,
with highlighting) that runs like the original and is kept in the workspace, and
ctrl+t puts the lesson's code back. When its result has a series (a loss history),
``p`` shows or hides the series' plots. The scratch cell at the end of every lesson is a
copy from the start, of nothing.
"""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import TextArea

from tutor.app.widgets.code_editor import CodeEditor
from tutor.app.widgets.code_view import CodeView
from tutor.app.widgets.result_panel import ResultPanel
from tutor.i18n import _
from tutor.lessons import Snippet
from tutor.sandbox.api import RunResult


class CellEditor(CodeEditor):
    """The editor of a tried cell. ctrl+r runs the cell, Esc goes back to the cell (the
    edit stays), ctrl+t restores the lesson's code. Keys that type text type it.

    It takes the focus only when the learner enters it (``e``, a click): Tab moves
    from cell to cell and would otherwise be caught in the first copy it met, where Tab
    indents."""

    can_focus = False

    BINDINGS = [
        Binding("ctrl+r", "run_cell", "Run cell", priority=True),
        Binding("escape", "leave", "Back to cell", priority=True),
        Binding("ctrl+t", "restore", "Restore", priority=True),
    ]

    DEFAULT_CSS = """
    CellEditor { height: auto; max-height: 24; border: none; padding: 0; background: $surface; }
    CellEditor:focus { border: none; }
    """

    @property
    def cell(self) -> CodeCell:
        parent = self.parent
        assert isinstance(parent, CodeCell)
        return parent

    def action_run_cell(self) -> None:
        self.cell.action_run()

    def enter(self) -> None:
        self.can_focus = True
        self.focus()

    def action_leave(self) -> None:
        self.cell.focus(scroll_visible=False)

    def _on_blur(self, event: events.Blur) -> None:
        super()._on_blur(event)
        if self.screen.focused is not self:  # focus went elsewhere (not the terminal losing it)
            self.can_focus = False

    async def action_restore(self) -> None:
        await self.cell.action_restore()


class CodeCell(Vertical, can_focus=True):
    """A focusable snippet. Enter (or a click) asks to run it; the screen owns the
    sandbox worker and answers with :class:`CodeCell.RunFinished`. ``e`` makes an
    editable copy, ctrl+t restores the lesson's code; each change is announced with
    :class:`CodeCell.Edited` so the screen can keep it."""

    DEFAULT_CSS = """
    CodeCell.-edited { border: round $secondary; border-subtitle-color: $text-muted; }
    CodeCell.-edited:focus, CodeCell.-edited.-editing { border: round $accent; }
    CodeCell .code.-placeholder { color: $text-muted; }
    """

    BINDINGS = [
        Binding("enter", "run", "Run"),
        Binding("e", "edit", "Try it"),
        Binding("ctrl+t", "restore", "Restore", show=False),
        Binding("p", "toggle_plots", "Plots"),
    ]

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

    class Edited(Message):
        """The learner's copy of this cell changed; ``code`` is ``None`` once the
        lesson's code is back."""

        def __init__(self, cell: CodeCell, code: str | None) -> None:
            super().__init__()
            self.cell = cell
            self.code = code

        @property
        def control(self) -> CodeCell:
            return self.cell

    def __init__(self, snippet: Snippet, *, edited: str | None = None, scratch: bool = False,
                 stale: bool = False) -> None:
        super().__init__(classes="" if snippet.run or scratch else "-norun")
        self.snippet = snippet
        #: The scratch cell at the end of a lesson: the learner's own code only.
        self.scratch = scratch
        #: The learner's copy of the code, or ``None`` while the cell shows the lesson's.
        self.edited: str | None = (edited or "") if scratch else edited
        #: The lesson's cell changed since the copy was made.
        self.stale = stale
        self._show_titles()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Inside the editor Enter, ``e`` and ``p`` type; ctrl+t restores only a copy;
        ``p`` is offered (and in the footer) only when the result has a series to plot."""
        editor = self.editor
        if action in ("run", "edit", "toggle_plots") and editor is not None and editor.has_focus:
            return False
        if action == "restore" and editor is None:
            return False
        if action == "toggle_plots":
            panels = self.query(ResultPanel)
            return bool(panels) and panels.first().has_plots
        return True

    def _show_titles(self) -> None:
        snippet = self.snippet
        if self.scratch:
            self.border_title = _("scratch · your own code")
            self.border_subtitle = _("ctrl+r runs · esc leaves the editor") if self.has_class("-editing") else _("e edits")
            return
        title = _("cell {n}").format(n=snippet.index + 1)
        if self.edited is not None:
            title += _(" · your copy") + (_(" (the lesson's cell has changed since)") if self.stale else "")
            self.border_subtitle = _("ctrl+t restores the lesson's code")
        else:
            if not snippet.run:
                title += _(" · not runnable")
            self.border_subtitle = _("needs {packages}").format(packages=", ".join(snippet.requires)) if snippet.requires else ""
        self.border_title = title
        self.set_class(self.edited is not None, "-edited")
        self.set_class(not snippet.run and self.edited is None, "-norun")

    @property
    def code(self) -> str:
        """What runs: the learner's copy if there is one, else the lesson's code."""
        return self.edited if self.edited is not None else self.snippet.code

    @property
    def runnable(self) -> bool:
        """A cell shown only to illustrate a mistake runs once the learner edits it."""
        return self.snippet.run or self.edited is not None

    def compose(self) -> ComposeResult:
        if self.edited is not None:
            yield self._editor(self.edited)
        else:
            yield CodeView(self.snippet.code, classes="code")
        yield ResultPanel()

    def _editor(self, text: str) -> CellEditor:
        # Line numbers: a wrapped line's continuation is marked in their gutter.
        editor = CellEditor.code_editor(text, language="python", soft_wrap=True, theme="css", classes="code")
        assert isinstance(editor, CellEditor)
        return editor

    @property
    def panel(self) -> ResultPanel:
        return self.query_one(ResultPanel)

    @property
    def editor(self) -> CellEditor | None:
        found = self.query(CellEditor)
        return found.first() if found else None

    @property
    def result(self) -> RunResult | None:
        return self.panel.result

    def action_run(self) -> None:
        if self.runnable:
            self.post_message(self.RunRequested(self))
        else:
            self.notify(_("This cell is shown, not run: it illustrates a mistake. Press e to try your own copy."),
                        title=_("not runnable"))

    async def action_edit(self) -> None:
        """Edit the learner's copy, making it from the lesson's code the first time."""
        editor = self.editor
        if editor is None:
            self.edited = self.snippet.code
            self.stale = False
            await self.query_one(".code").remove()
            editor = self._editor(self.edited)
            await self.mount(editor, before=self.panel)
            self._show_titles()
            self.post_message(self.Edited(self, self.edited))
        editor.enter()

    async def action_restore(self) -> None:
        """Put the lesson's code back (the scratch cell empties); the copy's result,
        an error about code no longer there, goes with it."""
        editor = self.editor
        if editor is None:
            return
        self.set_class(False, "-failed")
        self.panel.result = None
        if self.scratch:
            editor.text = ""
            self.edited = ""
        else:
            self.edited = None
            self.stale = False
            had_focus = editor.has_focus
            await editor.remove()
            await self.mount(CodeView(self.snippet.code, classes="code"), before=self.panel)
            if had_focus:
                self.focus(scroll_visible=False)
        self._show_titles()
        self.post_message(self.Edited(self, self.edited if self.scratch else None))
        self.notify(_("The scratch cell is empty again.") if self.scratch else _("The lesson's code is back."))

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self.edited is not None and event.text_area.text != self.edited:
            self.edited = event.text_area.text
            self.post_message(self.Edited(self, self.edited))

    def on_descendant_focus(self) -> None:
        self.set_class(True, "-editing")
        self._show_titles()

    def on_descendant_blur(self) -> None:
        self.set_class(False, "-editing")
        self._show_titles()

    async def on_click(self, event: events.Click) -> None:
        editor = self.editor
        if editor is not None and event.widget is editor:
            await self.action_edit()  # a click in the copy is a way into it, as e is
        elif editor is None or not editor.has_focus:
            self.focus()

    def action_toggle_plots(self) -> None:
        """Show (or hide) a full plot under every series of this cell's result."""
        if self.panel.toggle_plots():
            plots = self.panel.query(".series-plot")
            if plots:
                self.call_after_refresh(plots.first().scroll_visible, animate=False)

    def set_running(self, running: bool) -> None:
        self.set_class(running, "-running")
        self.panel.running = running
        self.refresh_bindings()

    async def show_result(self, result: RunResult) -> None:
        """Show ``result`` under the code; if this cell (or its editor) has focus, the
        learner is waiting for this answer, so scroll it on screen once it is laid out."""
        self.set_class(False, "-running")
        self.set_class(not result.ok, "-failed")
        await self.panel.show(result)
        self.refresh_bindings()  # p (plots) comes and goes with the result's series
        if self.has_focus or self.has_focus_within:
            self.call_after_refresh(self.panel.scroll_visible, animate=False)
