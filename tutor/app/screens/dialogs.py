"""Modal dialogs: an error, a yes/no question, the help text, a side-by-side compare."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tutor.app.widgets.code_view import CodeView
from tutor.i18n import N_, _


class Dialog(ModalScreen[bool]):
    """A centred box with a title; Escape closes it. Subclasses differ by content and CSS."""

    BINDINGS = [Binding("escape", "dismiss(False)", "Close")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.dialog_title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self.dialog_title
            yield from self.body()

    def body(self) -> ComposeResult:
        yield from ()


class ErrorDialog(Dialog):
    """Something went wrong that the learner should read; the text is shown as typed."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(title)
        self.message = message

    def body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(self.message), classes="message")
        yield Button(_("OK"), variant="error", id="ok")

    def on_button_pressed(self) -> None:
        self.dismiss(False)


class ConfirmDialog(Dialog):
    """A yes/no question; dismisses with ``True`` for yes."""

    BINDINGS = [Binding("y", "dismiss(True)", "Yes"), Binding("n,escape", "dismiss(False)", "No")]

    def __init__(self, title: str, question: str) -> None:
        super().__init__(title)
        self.question = question

    def body(self) -> ComposeResult:
        yield Static(Text(self.question), classes="message")
        with Horizontal(classes="buttons"):
            yield Button(_("Yes (y)"), variant="warning", id="yes")
            yield Button(_("No (n)"), id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


HELP = N_("""\
Everywhere
  ?  (F1 in the editor)   this help
  /  ctrl+p    search lessons (titles, prose, code); ctrl+p also
               changes the theme
  q            quit (lesson list and lessons)
  ctrl+q       quit from anywhere, the editor included

Lesson list
  enter        open the lesson or exercise
  space        fold or unfold a lesson

Lesson
  tab / j k    next / previous cell
  enter  r     run the focused cell
  R            run every cell of the lesson in order
  x            open the first exercise not passed yet
  e            try it: edit your own copy of the cell (kept in
               the workspace); in it ctrl+r runs, escape leaves
               (tab then moves on to the next cell again)
  ctrl+t       put the lesson's code back in a tried cell
  p            plot the result's series (losses, lr per step),
               or hide the plots
  escape       cancel a run; otherwise go back
  The scratch cell at the end of each lesson is yours.
  Long code lines wrap; ↪ starts the rest of a wrapped line.

Exercise
  ctrl+r       save and check
  ctrl+s       save (atomic)
  ctrl+g       show the next hint
  ctrl+f       read: the prompt and the check report take the
               whole screen; ctrl+f or escape gives the editor back
  ctrl+o       open the file in $EDITOR
  ctrl+t       reset to the starter (asks first, keeps a backup)
  ctrl+l       compare with the reference solution (once passed);
               tab moves between the two sides, arrows scroll
  shift+tab    leave the editor for the prompt or the report (the
               focused pane has a heavy border and grows); arrows,
               page up/down, home and end scroll it
  ctrl+home    the start of the file (ctrl+end: its end)
  escape       cancel a check; otherwise save and go back
The exercise file is watched: save it in any editor and it is
reloaded and checked here.
""")


class HelpDialog(Dialog):
    """The keys, on one page."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss(False)", "Close")]

    def __init__(self) -> None:
        super().__init__(_("help"))

    def body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(_(HELP)), classes="message")


class CompareDialog(Dialog):
    """The learner's solution and the reference one, each in a pane that scrolls (tab
    moves between them), their long lines wrapped with ``↪`` rather than cut: side by
    side on a wide terminal, one above the other on a narrow one."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    def __init__(self, title: str, yours: str, reference: str) -> None:
        super().__init__(title)
        self.yours = yours
        self.reference = reference

    def body(self) -> ComposeResult:
        with Container(classes="compare"):
            for label, text in (("yours", self.yours), ("reference", self.reference)):
                with VerticalScroll(id=f"{label}-pane", classes="code-pane") as pane:
                    pane.border_title = _("yours") if label == "yours" else _("reference")
                    yield CodeView(text, id=label)

    def on_mount(self) -> None:
        # The learner's file opens with the workspace's header comment; start both
        # sides at the reference's first line so the two solutions face each other.
        self.query_one("#yours-pane").focus()
        row = matching_row(self.yours, self.reference)
        if row:
            self.call_after_refresh(self._scroll_to_row, row)

    def _scroll_to_row(self, row: int) -> None:
        # Wrapped lines above make the screen row differ from the line's number.
        view = self.query_one("#yours", CodeView)
        self.query_one("#yours-pane", VerticalScroll).scroll_to(
            y=view.rows_before(row, view.content_size.width), animate=False)


def matching_row(yours: str, reference: str) -> int:
    """The row of ``yours`` where the reference's first code line appears, else 0."""
    first = next((line.strip() for line in reference.splitlines() if line.strip()), "")
    for row, line in enumerate(yours.splitlines()):
        if first and line.strip() == first:
            return row
    return 0
