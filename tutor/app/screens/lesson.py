"""A lesson: prose, runnable cells with their results, and links to its exercises."""

from __future__ import annotations

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Static
from textual.worker import get_current_worker

from tutor import present as fmt
from tutor.app.messages import SANDBOX_GROUP, OpenEntry, cancel_sandbox_work
from tutor.app.widgets.code_cell import CodeCell
from tutor.app.widgets.code_view import CodeMarkdown
from tutor.app.widgets.footer import Footer
from tutor.app.widgets.graph_view import GraphScreen, TensorGraph, tensor_graphs
from tutor.errors import TutorError
from tutor.i18n import N_, _
from tutor.lessons import Exercise, Lesson, Prose, Snippet
from tutor.session import Session
from tutor.workspace import CellEdit
from tutor.workspace.store import sha256

#: How long a cell opened on stays the scroll target while the lesson lays out.
ANCHOR_SECONDS = 1.5
#: Seconds after the last keystroke in a try-it cell before the edit is written.
SAVE_DELAY = 0.5
SCRATCH_NOTE = N_("**Scratch.** A cell of your own at the end of every lesson: `e` edits it, ctrl+r runs it.")


class ExerciseCard(Static, can_focus=True):
    """A link from the lesson to one of its exercises."""

    BINDINGS = [Binding("enter", "open", "Open exercise")]

    def __init__(self, exercise: Exercise, status: str, label: str | None = None) -> None:
        super().__init__(markup=False)
        self.exercise = exercise
        self.border_title = _("exercise")
        self.show_status(status, label)

    def show_status(self, status: str, label: str | None = None) -> None:
        """``label`` is the status in honest words ("visible checks pass" for a local
        pass with hidden checks unrun); ``status`` picks the colour."""
        words = fmt.status_word(label or status)
        self.update(Text(fmt.sep().join((self.exercise.title, words, _("enter opens it")))))
        for name in ("passed", "failed"):
            self.set_class(status == name, f"-{name}")

    def action_open(self) -> None:
        self.post_message(OpenEntry(self.exercise))

    def on_click(self) -> None:
        self.action_open()


class LessonScreen(Screen[None]):
    """Read a lesson and run its cells. The screen owns the sandbox worker: cells ask,
    the worker runs them one after another, and each result comes back to its cell."""

    BINDINGS = [
        Binding("r", "run_focused", "Run cell", show=False),
        Binding("R", "run_all", "Run all"),
        Binding("escape", "cancel_or_back", "Back"),
        Binding("x", "next_exercise", "Exercise"),
        # Named in the result panel ("g shows the autograd graph"), not the footer: with
        # "p Plots" beside it, a training cell's footer would lose "q Quit" at 80 columns.
        Binding("g", "show_graph", "Graph", show=False),
        Binding("j", "focus_cell(1)", "Next", show=False),
        Binding("k", "focus_cell(-1)", "Previous", show=False),
        Binding("slash", "app.search", "Search", show=False),
        Binding("question_mark", "app.help", "Help"),
        Binding("q", "app.quit", "Quit"),
    ]

    class RunFailed(Message):
        """The sandbox itself failed (not the learner's code): say so, stop the spinner."""

        def __init__(self, cell: CodeCell, message: str) -> None:
            super().__init__()
            self.cell = cell
            self.message = message

    def __init__(self, lesson: Lesson, session: Session) -> None:
        super().__init__()
        self.lesson = lesson
        self.session = session
        self.sub_title = lesson.title
        self._pending_snippet: Snippet | None = None
        #: The index of the cell focused last, remembered as where the learner left off.
        self._cell_index: int | None = None
        self._shown_before = False
        #: A cell opened on (a search hit, a resumed lesson), kept at the top until the
        #: layout settles or the learner moves on.
        self._anchor: CodeCell | None = None
        #: The learner's copies of this lesson's cells and its scratch cell.
        self._edits = session.try_it(lesson)
        self._edits_dirty = False
        self._save_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon=fmt.narrow("⭘"))
        board = self.session.board()
        edits = self._edits
        with VerticalScroll(id="lesson-body"):
            for block in self.lesson.blocks:
                if isinstance(block, Prose):
                    if block.markdown.strip():
                        yield CodeMarkdown(block.markdown)
                elif isinstance(block, Snippet):
                    edit = edits.cells.get(block.index)
                    yield CodeCell(block, edited=edit.code if edit else None,
                                   stale=edit is not None and not edit.made_from(block.code))
                elif isinstance(block, Exercise):
                    yield ExerciseCard(block, board.status(block), board.label(block))
            yield CodeMarkdown(_(SCRATCH_NOTE), classes="scratch-note")
            yield CodeCell(Snippet(index=len(self.lesson.snippets), code="", line=0), scratch=True,
                           edited=edits.scratch)
        # ctrl+p still opens the palette (help lists it); its footer label pushed
        # "q Quit" off 80 columns when a cell offers plots.
        yield Footer(show_command_palette=False)

    # -- try-it edits ------------------------------------------------------------

    @on(CodeCell.Edited)
    def _edited(self, event: CodeCell.Edited) -> None:
        """Keep the learner's copy: saved a moment after typing stops, and at once when
        the screen goes (quit included)."""
        cell = event.cell
        if cell.scratch:
            self._edits.scratch = event.code or ""
        elif event.code is None:
            self._edits.cells.pop(cell.snippet.index, None)
        else:
            old = self._edits.cells.get(cell.snippet.index)
            made_from = old.original_sha256 if old is not None else sha256(cell.snippet.code)
            self._edits.cells[cell.snippet.index] = CellEdit(event.code, made_from)
        self._edits_dirty = True
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(SAVE_DELAY, self.save_edits)

    def save_edits(self) -> None:
        """Write the try-it edits to the workspace if they changed (never the lesson)."""
        if not self._edits_dirty:
            return
        try:
            self.session.save_try_it(self.lesson, self._edits)
            self._edits_dirty = False
        except TutorError as exc:
            self.notify(exc.msg, title=_("try-it edits not kept"), severity="error")

    def on_mount(self) -> None:
        self.watch(self.query_one("#lesson-body"), "virtual_size", self._body_resized, init=False)
        if self._pending_snippet is not None:
            self._focus_snippet(self._pending_snippet)
            return
        cells = self.cells
        if cells:
            # The lesson opens at its title; the first cell is ready for the run key.
            cells[0].focus(scroll_visible=False)

    def focus_snippet(self, snippet: Snippet) -> None:
        """Focus the cell of ``snippet`` and scroll it to the top (a search hit)."""
        if not self.is_mounted:
            self._pending_snippet = snippet
            return
        self._focus_snippet(snippet)

    def _focus_snippet(self, snippet: Snippet) -> None:
        for cell in self.cells:
            if cell.snippet.index == snippet.index:
                cell.focus(scroll_visible=False)
                # The prose above may still be laying out (a lesson just opened): the
                # cell stays the scroll target while the body's height settles.
                self._anchor = cell
                self.call_after_refresh(self._scroll_to_anchor)
                self.set_timer(ANCHOR_SECONDS, self._drop_anchor)
                return

    def _scroll_to_anchor(self) -> None:
        if self._anchor is not None and self._anchor.is_attached:
            self.query_one("#lesson-body").scroll_to_widget(self._anchor, top=True, animate=False)

    def _drop_anchor(self) -> None:
        self._anchor = None

    def _body_resized(self) -> None:
        if self._anchor is not None:
            self.call_after_refresh(self._scroll_to_anchor)

    def on_screen_resume(self) -> None:
        board = self.session.board()
        for card in self.query(ExerciseCard):
            card.show_status(board.status(card.exercise), board.label(card.exercise))
        if self._shown_before:  # back from an exercise: the learner is here again
            self._record_visit(always=True)
        self._shown_before = True

    def on_screen_suspend(self) -> None:
        self.save_edits()
        self._record_visit()

    def on_unmount(self) -> None:
        self.save_edits()
        self._record_visit()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, (CodeCell, ExerciseCard)) and event.widget is not self._anchor:
            self._anchor = None  # the learner moved on
        if isinstance(event.widget, CodeCell):
            self._cell_index = event.widget.snippet.index

    def _record_visit(self, *, always: bool = False) -> None:
        self.session.stay_in_lesson(self.lesson, self._cell_index, returning=always)

    @property
    def cells(self) -> list[CodeCell]:
        return list(self.query(CodeCell))

    # -- running ---------------------------------------------------------------

    def action_run_focused(self) -> None:
        if isinstance(self.focused, CodeCell):
            self.focused.action_run()
        else:
            self.notify(_("Focus a cell first (tab moves between cells)."))

    def action_run_all(self) -> None:
        # The lesson's cells, as the learner has them; the scratch cell runs on its own.
        runnable = [cell for cell in self.cells if cell.runnable and not cell.scratch]
        if runnable:
            self.run_cells(runnable)

    @on(CodeCell.RunRequested)
    def _run_requested(self, event: CodeCell.RunRequested) -> None:
        self.run_cells([event.cell])

    @work(thread=True, exclusive=True, group=SANDBOX_GROUP, exit_on_error=False)
    def run_cells(self, cells: list[CodeCell]) -> None:
        """Run ``cells`` in order in the sandbox; a newer request or Esc stops the loop."""
        worker = get_current_worker()
        for cell in cells:
            if worker.is_cancelled:
                return
            self.app.call_from_thread(cell.set_running, True)
            try:
                name = "scratch" if cell.scratch else f"cell-{cell.snippet.index + 1}"
                result = self.session.run(cell.code, f"{self.lesson.id}/{name}.py")
            except Exception as exc:  # noqa: BLE001 - shown to the learner, the app goes on
                self.post_message(self.RunFailed(cell, str(exc) or type(exc).__name__))
                return
            cell.post_message(CodeCell.RunFinished(cell, result))

    @on(CodeCell.RunFinished)
    async def _run_finished(self, event: CodeCell.RunFinished) -> None:
        await event.cell.show_result(event.result)

    @on(RunFailed)
    def _run_failed(self, event: RunFailed) -> None:
        event.cell.set_running(False)
        self.notify(event.message, title=_("sandbox unavailable"), severity="error")

    def action_cancel_or_back(self) -> None:
        if cancel_sandbox_work(self, self.session):
            self.notify(_("Run cancelled."))
        else:
            self.app.pop_screen()

    # -- the autograd graph ----------------------------------------------------

    def _focused_graphs(self) -> list[TensorGraph]:
        cell = self.focused
        result = cell.result if isinstance(cell, CodeCell) else None
        return tensor_graphs(result.variables) if result is not None else []

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``g`` is offered only on a cell whose result has a graph."""
        if action == "show_graph":
            return bool(self._focused_graphs())
        return True

    def action_show_graph(self) -> None:
        graphs = self._focused_graphs()
        if graphs:
            self.app.push_screen(GraphScreen(graphs))

    # -- moving around ---------------------------------------------------------

    def action_focus_cell(self, step: int) -> None:
        stops = list(self.query("CodeCell, ExerciseCard"))
        if not stops:
            return
        current = stops.index(self.focused) if self.focused in stops else (-1 if step > 0 else len(stops))
        target = stops[max(0, min(len(stops) - 1, current + step))]
        target.focus()

    def action_next_exercise(self) -> None:
        """Open the first exercise not passed yet (the first one when all are)."""
        exercises = self.lesson.exercises
        if not exercises:
            self.notify(_("This lesson has no exercise."))
            return
        self.post_message(OpenEntry(self.session.first_open(exercises)))
