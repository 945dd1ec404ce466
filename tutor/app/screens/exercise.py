"""An exercise: the prompt, an editor on the learner's file, checks, hints, reset."""

from __future__ import annotations

import ast
import os
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Markdown, TextArea
from textual.widgets.markdown import MarkdownBlock
from textual.widgets.text_area import Selection

from tutor import present as fmt
from tutor.app.messages import SANDBOX_GROUP, SessionEvent, ShowError, cancel_sandbox_work
from tutor.app.screens.dialogs import CompareDialog, ConfirmDialog
from tutor.app.widgets.check_report import CheckReport
from tutor.app.widgets.code_editor import CodeEditor
from tutor.app.widgets.code_view import CodeMarkdown
from tutor.app.widgets.footer import Footer
from tutor.errors import TutorError
from tutor.grading.results import ExerciseReport
from tutor.i18n import _
from tutor.lessons import Exercise
from tutor.session import Notice, ProgressChanged, Session
from tutor.stamps import FileStamp, file_stamp
from tutor.workspace import first_code_line

#: How long a message stays on the editor's border (errors stay until the next one).
SAY_SECONDS = 6.0


def hint_markdown(hint: str, number: int, total: int) -> str:
    """A hint as Markdown after its label. The last rung of a lesson's hints is often
    the answer's code, fenced or bare: a fence starts its own line, and bare Python goes
    in a code block, or Markdown would run its lines together and read ``__name__`` as
    bold."""
    label = "**" + _("Hint {n} of {total}.").format(n=number, total=total) + "**"
    text = hint.strip("\n")
    if text.startswith(("```", "~~~")):
        return f"{label}\n\n{text}"  # a fence must start its own line
    try:
        is_code = "\n" in text and not text.lstrip().startswith(("-", "*", "`")) and bool(ast.parse(text).body)
    except (SyntaxError, ValueError):
        is_code = False
    if is_code:
        return f"{label}\n\n```python\n{text}\n```"
    return f"{label} {text}"


class ExerciseScreen(Screen[None]):
    """Edit, check, get hints. Keys are ctrl-chords with priority, because the editor
    has focus and must keep every printable key for the learner's code."""

    # Esc has priority too: the editor would otherwise take it to mean "focus the
    # next widget", and the footer promises "back". Save (ctrl+s), $EDITOR (ctrl+o)
    # and quit (ctrl+q) are left off the footer so that the rest fits 80 columns; help
    # lists them.
    #
    # The three panes share the height by what the learner is doing: the focused pane
    # (its border and title in the accent colour) gets the room, a failed check's
    # report gets more than a pass while the editor keeps what its code needs, and
    # ctrl+f ("Read") gives the prompt and the report the whole screen. The rules are
    # in tutor.tcss, keyed by the screen's classes -failed, -reading and -on-*.
    BINDINGS = [
        Binding("ctrl+r", "check", "Check", priority=True),
        Binding("ctrl+s", "save", "Save", priority=True, show=False),
        Binding("ctrl+g", "hint", "Hint", priority=True),
        Binding("ctrl+o", "open_editor", "Editor", priority=True, show=False),
        Binding("ctrl+t", "reset", "Reset", priority=True),
        Binding("ctrl+l", "compare", "Solution", priority=True),
        Binding("ctrl+f", "read", "Read", priority=True),
        Binding("escape", "cancel_or_back", "Back", priority=True),
        Binding("f1", "app.help", "Help"),
    ]
    #: Wide terminals put the prompt and the report beside the editor (see tutor.tcss).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    class GradeFinished(Message):
        """The verdict on the learner's file (an error report when grading could not run)."""

        def __init__(self, report: ExerciseReport) -> None:
            super().__init__()
            self.report = report

    def __init__(self, exercise: Exercise, session: Session, *, watch_interval: float = 0.5) -> None:
        super().__init__()
        self.exercise = exercise
        self.session = session
        self.watch_interval = watch_interval
        self.sub_title = _("exercise {id}").format(id=exercise.id)
        self._saved_text = ""
        self._stamp: FileStamp | None = None
        self._say_timer: Timer | None = None
        self._pending_match: tuple[str, int, bool] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def path(self) -> Path:
        return self.session.path_for(self.exercise)

    @property
    def editor(self) -> CodeEditor:
        return self.query_one("#editor", CodeEditor)

    @property
    def report(self) -> CheckReport:
        return self.query_one(CheckReport)

    def compose(self) -> ComposeResult:
        yield Header(icon=fmt.narrow("⭘"))
        with Container(id="exercise-body"):
            with VerticalScroll(id="prompt-pane") as prompt:
                prompt.border_title = self.exercise.title
                yield CodeMarkdown(self.exercise.prompt, id="prompt")
                # One Markdown per hint shown, so the newest can be scrolled to.
                yield Vertical(id="hints")
            # Soft wrap: long comment lines stay readable at 80 columns.
            yield CodeEditor.code_editor("", language="python", soft_wrap=True, theme="css", id="editor")
            report = CheckReport(id="report")
            report.border_title = _("check")
            yield report
        # ctrl+p still opens the palette; its footer label would push "Help" off 80 columns.
        yield Footer(show_command_palette=False)

    async def on_mount(self) -> None:
        try:
            text = self.session.open_exercise(self.exercise)
        except TutorError as exc:
            self.post_message(ShowError(_("cannot open the exercise"), exc.msg))
            text = self.exercise.starter
        self._load(text)
        self._unsubscribe = self.session.subscribe(lambda event: self.post_message(SessionEvent(event)))
        await self._show_hints(self.session.hints_shown(self.exercise))
        self.editor.focus()
        if self._pending_match is not None:
            self._land(*self._pending_match)
            self._pending_match = None
        self.set_interval(self.watch_interval, self.poll_file)

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    @on(SessionEvent)
    async def _session_event(self, message: SessionEvent) -> None:
        event = message.event
        if isinstance(event, Notice):
            self.say(event.message, event.severity)
        elif isinstance(event, ProgressChanged) and event.exercise_id in (None, self.exercise.id):
            await self._sync_hints()  # `tutor hint` in another terminal: the one record of hints shown

    def _load(self, text: str, *, keep_place: bool = False) -> None:
        """Show ``text`` in the editor, opened at the learner's first line of code (the
        header and the imports above it are one scroll away); ``keep_place`` keeps the
        cursor's row instead (a reload of a file the learner is working in)."""
        row = self.editor.cursor_location[0]
        self._saved_text = text
        self.editor.load_text(text)
        if keep_place:
            self.editor.move_cursor((min(row, self.editor.document.line_count - 1), 0), center=True)
        else:
            self.editor.open_at(first_code_line(text))
        self._stamp = file_stamp(self.path)
        self._mark_modified()

    def _mark_modified(self) -> None:
        modified = self.editor.text != self._saved_text
        self.editor.border_title = str(self.path.name) + (fmt.narrow(_(" • modified")) if modified else "")
        self.editor.set_class(modified, "-modified")

    def say(self, message: str, severity: str = "information") -> None:
        """A short message on the editor's bottom border: a toast would sit over the
        check report's right edge, cutting the lines the learner is reading. Errors stay
        until the next message; the others go after a few seconds."""
        editor = self.editor
        editor.border_subtitle = Text(message)
        for name in ("warning", "error"):
            editor.set_class(severity == name, f"-say-{name}")
        if self._say_timer is not None:
            self._say_timer.stop()
            self._say_timer = None
        if severity != "error":
            self._say_timer = self.set_timer(SAY_SECONDS, self._unsay)

    def _unsay(self) -> None:
        self._say_timer = None
        self.editor.border_subtitle = ""
        self.editor.remove_class("-say-warning", "-say-error")

    @on(TextArea.Changed, "#editor")
    def _edited(self) -> None:
        self._mark_modified()

    def show_match(self, query: str, line: int = 0, in_code: bool = False) -> None:
        """Land on a search match: with ``in_code``, the editor's first line holding
        ``query`` (selected); else line ``line`` of the prompt, scrolled to the top of
        its pane. The editor keeps the focus either way."""
        if self.is_mounted:
            self._land(query, line, in_code)
        else:
            self._pending_match = (query, line, in_code)  # on_mount lands once loaded

    def _land(self, query: str, line: int, in_code: bool) -> None:
        needle = query.strip().lower()
        if in_code and needle:
            for row, text in enumerate(self.editor.text.split("\n")):
                column = text.lower().find(needle)
                if column >= 0:
                    self.editor.open_at(row)
                    self.editor.selection = Selection((row, column), (row, column + len(needle)))
                    return
            return  # the learner's file no longer has it: the editor stays at their code
        prompt = self.query_one("#prompt", Markdown)
        for child in prompt.children:
            if isinstance(child, MarkdownBlock) and child.source_range[0] <= line < child.source_range[1]:
                pane = self.query_one("#prompt-pane", VerticalScroll)
                self.call_after_refresh(pane.scroll_to_widget, child, top=True, animate=False)
                return

    # -- saving and watching ------------------------------------------------------

    def action_save(self) -> bool:
        """Write the editor's text (atomically, through the workspace). False on failure."""
        text = self.editor.text
        try:
            self.session.save(self.exercise, text)
        except TutorError as exc:
            self.say(_("not saved: {error}").format(error=exc.msg), "error")
            return False
        self._saved_text = text
        self._stamp = file_stamp(self.path)
        self._mark_modified()
        return True

    def poll_file(self) -> None:
        """Watch mode: another editor saved the file, so show it and check it.

        Polling (one ``stat`` per ``watch_interval``, half a second by default) rather
        than file events, because events do not arrive on WSL mounts, in some
        containers and on network file systems; a stat costs microseconds.
        """
        self.session.notice_changes()  # progress written by another process, told as an event
        stamp = file_stamp(self.path)
        if stamp is None or stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            text = self.session.read(self.exercise)
        except TutorError:
            return
        if text == self.editor.text:
            self._saved_text = text
            self._mark_modified()
            return
        lost = self.editor.text != self._saved_text
        self._load(text, keep_place=True)
        if lost:
            self.say(_("reloaded from disk (edits made here were replaced); checking"), "warning")
        else:
            self.say(_("reloaded from disk; checking"))
        self.run_check(text)

    # -- checking -------------------------------------------------------------------

    def action_check(self) -> None:
        if self.action_save():
            self.run_check(self.editor.text)

    def run_check(self, source: str) -> None:
        self.report.checking = True
        self.grade(source)

    @work(thread=True, exclusive=True, group=SANDBOX_GROUP, exit_on_error=False)
    def grade(self, source: str) -> None:
        """Check ``source`` in the sandbox (the session records the verdict); blocking,
        hence a thread worker."""
        self.post_message(self.GradeFinished(self.session.check(self.exercise, source)))

    @on(GradeFinished)
    def _graded(self, event: GradeFinished) -> None:
        self.report.checking = False
        # In the report's place, where the learner looks for the verdict, even when
        # grading itself could not run.
        self.show_report(event.report)

    def show_report(self, report: ExerciseReport | None) -> None:
        """Show a verdict (``None``: none yet); a failed one gets the room to be read."""
        self.report.report = report
        self.set_class(report is not None and report.status != "pass", "-failed")

    # -- room to read -----------------------------------------------------------------

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._show_focus()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self._show_focus()

    def _show_focus(self) -> None:
        focused = self.focused
        for name in ("prompt-pane", "editor", "report"):
            self.set_class(focused is not None and focused.id == name, f"-on-{name}")

    def action_read(self) -> None:
        """Give the prompt and the report the whole screen (the editor makes way), or
        give the editor back. The report has the focus after a failed check, where the
        learner reads next; the prompt otherwise."""
        if self.has_class("-reading"):
            self.remove_class("-reading")
            self.editor.focus()
            return
        self.add_class("-reading")
        pane = self.report if self.has_class("-failed") else self.query_one("#prompt-pane")
        pane.focus(scroll_visible=False)

    def action_cancel_or_back(self) -> None:
        if cancel_sandbox_work(self, self.session):
            self.report.checking = False
            self.say(_("check cancelled"))
            return
        if self.has_class("-reading"):
            self.action_read()  # out of the reading view first, as a learner expects
            return
        if self.editor.text != self._saved_text and self.action_save():
            self.notify(_("Saved {name}.").format(name=self.path.name), timeout=2)
        self.app.pop_screen()

    # -- hints, reset, solution, $EDITOR -----------------------------------------

    @property
    def hints_shown(self) -> int:
        """How many hints the prompt pane shows."""
        return len(self.query_one("#hints").children)

    async def _show_hints(self, count: int, *, reveal: bool = False) -> None:
        """Show the first ``count`` hints under the prompt; ``reveal`` scrolls the pane
        to the newest one (the one the learner just asked for)."""
        box = self.query_one("#hints", Vertical)
        hints, total = self.exercise.hints, len(self.exercise.hints)
        shown = len(box.children)
        new = [CodeMarkdown(hint_markdown(hint, n, total), classes="hint")
               for n, hint in enumerate(hints[shown:count], start=shown + 1)]
        if new:
            await box.mount_all(new)
        box.display = bool(box.children)  # an empty box would still take a line
        self.report.hints_left = len(box.children) < total
        if reveal and box.children:
            pane = self.query_one("#prompt-pane", VerticalScroll)
            newest = box.children[-1]
            self.call_after_refresh(pane.scroll_to_widget, newest, top=True, animate=False)

    async def _sync_hints(self) -> None:
        """Show the hints recorded elsewhere (`tutor hint`) since the screen opened."""
        count = self.session.hints_shown(self.exercise)
        if count > self.hints_shown:
            await self._show_hints(count, reveal=True)

    async def action_hint(self) -> None:
        try:
            shown = self.session.next_hint(self.exercise)
        except TutorError as exc:
            self.say(exc.msg, "warning")
            return
        # The number comes from the shared record: a hint `tutor hint` showed counts here.
        await self._show_hints(shown.number, reveal=True)

    def action_reset(self) -> None:
        def reset(confirmed: bool | None) -> None:
            if not confirmed:
                return
            try:
                backup = self.session.reset(self.exercise)
                text = self.session.read(self.exercise)
            except TutorError as exc:
                self.say(_("reset failed: {error}").format(error=exc.msg), "error")
                return
            self._load(text)
            self.show_report(None)
            self.say(_("the starter is back") + (_("; yours is kept as {name}").format(name=backup.name) if backup else ""))

        self.app.push_screen(
            ConfirmDialog(_("reset"), _("Put the starter back in {name}? The current file is kept as a backup.").format(name=self.path.name)),
            reset,
        )

    def action_compare(self) -> None:
        if not self.session.solution_unlocked(self.exercise):
            self.say(_("the reference solution opens once your solution passes"))
            return
        self.app.push_screen(CompareDialog(_("{title}: yours and the reference").format(title=self.exercise.title), self.editor.text, self.exercise.solution))

    def action_open_editor(self) -> None:
        command = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not command:
            self.say(_("set $EDITOR (or $VISUAL) to your editor, e.g. export EDITOR=vim"), "warning")
            return
        if not self.action_save():
            return
        try:
            with self.app.suspend():
                subprocess.run([*shlex.split(command), str(self.path)], check=False)
        except Exception as exc:  # noqa: BLE001 - SuspendNotSupported, a missing editor binary
            self.say(_("could not open {command}: {error}").format(command=command, error=exc), "error")
            return
        self.poll_file()
