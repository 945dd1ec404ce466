"""The Textual app: a small App that routes between screens over one learner session.

Imports neither torch nor the sandbox server. The learner's session
(``tutor.session.Session``, over the core) starts the sandbox in a worker thread after
the lesson list is painted, so the first screen never waits for torch, and tells the app
when the sandbox's state changes. Screens get the session in their constructor and post
``OpenEntry`` and ``ShowError`` messages here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import cast

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.content import Content
from textual.message_pump import MessagePump
from textual.reactive import reactive
from textual.worker import Worker, WorkerState

from tutor import present as fmt
from tutor.app.messages import OpenEntry, SessionEvent, ShowError
from tutor.app.palette import LessonSearch
from tutor.app.screens.lesson_list import LessonListScreen
from tutor.core import GradeFunction, Tutor
from tutor.errors import LessonError, TutorError
from tutor.i18n import _, is_english
from tutor.lessons import Exercise, Lesson, LessonSet, Snippet
from tutor.sandbox.api import SandboxClientProtocol
from tutor.session import LessonPlace, SandboxChanged, Session
from tutor.workspace import Workspace


class TutorApp(App[None]):
    """Lessons, cells and exercises over one learner session."""

    CSS_PATH = "tutor.tcss"
    TITLE = "tutor"
    COMMANDS = App.COMMANDS | {LessonSearch}
    BINDINGS = [
        Binding("question_mark", "help", "Help", show=False),
        Binding("slash", "search", "Search", show=False),
    ]

    sandbox_state: reactive[str] = reactive("starting")
    """"starting", "ready", "dead" or "unavailable"; shown in the header."""
    device: reactive[str] = reactive("cpu")
    """Where code runs, once known ("auto" resolves when the sandbox is up)."""

    def __init__(self, session: Session, *, watch_interval: float = 0.5) -> None:
        super().__init__()
        from textual.drivers.linux_driver import LinuxDriver

        if self.driver_class is LinuxDriver:  # a real terminal: quitting gives it back at once
            from tutor.app.driver import QuickExitDriver

            self.driver_class = QuickExitDriver
        if not is_english():
            fmt.wrap_chinese_by_character()  # lines of Chinese filled to the edge, not cut at spaces
        self.session = session
        self.core: Tutor = session.core
        #: Seconds between two looks at an exercise file for changes made in another editor.
        self.watch_interval = watch_interval
        self.set_reactive(TutorApp.device, session.core.requested_device)

    # -- lifecycle ------------------------------------------------------------------

    def on_mount(self) -> None:
        # The session tells of a sandbox that comes up, dies later (killed, out of
        # memory) or restarts; post_message hands the event to this thread.
        self._unsubscribe = self.session.subscribe(lambda event: self.post_message(SessionEvent(event)))
        self.push_screen(LessonListScreen(self.session))
        self.resume()
        self._show_state()
        # After the first paint: the lesson list must not wait for the sandbox.
        self.call_after_refresh(self.start_sandbox)

    @work(thread=True, group="sandbox-start", exit_on_error=False)
    def start_sandbox(self) -> None:
        """Start the sandbox and resolve the device (blocking, hence a thread)."""
        self.session.start_sandbox()
        # Shown before this worker ends (the event of the start may still be queued), so
        # whoever waits for the start sees its outcome in the header.
        self.call_from_thread(self._show_sandbox, self.session.sandbox_state, self.core.device)

    @on(SessionEvent)
    def _session_event(self, message: SessionEvent) -> None:
        event = message.event
        if isinstance(event, SandboxChanged):
            self._show_sandbox(event.state, event.device)

    def _show_sandbox(self, state: str, device: str) -> None:
        if state != "starting":
            self.device = device
        self.sandbox_state = state

    def watch_sandbox_state(self) -> None:
        self._show_state()

    def watch_device(self) -> None:
        self._show_state()

    def _show_state(self) -> None:
        state = self.sandbox_state
        label = {"starting": _("sandbox starting…"), "ready": _("sandbox ready"), "dead": _("sandbox dead"),
                 "unavailable": _("sandbox unavailable")}.get(state, f"sandbox {state}")
        self.sub_title = self.device + fmt.sep() + label

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header's line; outside English without Textual's em dash, whose width
        terminals disagree on (East-Asian ambiguous)."""
        if is_english() or not sub_title:
            return super().format_title(title, sub_title)
        return Content.assemble(Content(title), (fmt.sep(), "dim"), Content(sub_title).stylize("dim"))

    def on_unmount(self) -> None:
        self._unsubscribe()
        # The server is told to stop and finishes on its own: the learner's terminal
        # never waits for it (benchmarks/bench_quit.py).
        with contextlib.suppress(Exception):  # closing on exit is best effort
            self.core.close()

    # -- routing --------------------------------------------------------------------------

    @on(OpenEntry)
    def _open_entry(self, message: OpenEntry) -> None:
        self.open_entry(message.entry, snippet=message.snippet)

    @on(ShowError)
    def _show_error(self, message: ShowError) -> None:
        self.show_error(message.title, message.message)

    def resume(self) -> None:
        """Open the lesson (on its cell) or exercise the learner was on last time, over
        the lesson list, which stays one Esc away."""
        place = self.session.resume()
        if isinstance(place, LessonPlace):
            self.open_entry(place.lesson, snippet=place.snippet)
        elif place is not None:
            self.open_entry(place)

    def open_entry(self, entry: Lesson | Exercise | LessonError | None, *, snippet: Snippet | None = None) -> None:
        """Open a lesson (on ``snippet``'s cell if given), an exercise, or explain a
        broken lesson file. What is already open is shown again, not opened twice:
        a second copy would hide the first one's results. The lesson or exercise is
        remembered as the last visited."""
        # The lesson and exercise screens (editor, Markdown, plots) are imported when
        # first opened: the first paint needs only the lesson list.
        from tutor.app.screens.exercise import ExerciseScreen
        from tutor.app.screens.lesson import LessonScreen

        if isinstance(entry, (Lesson, Exercise)):
            self.session.visit(entry, snippet.index if isinstance(entry, Lesson) and snippet is not None else None)
        if isinstance(entry, Lesson):
            current = self.screen
            if isinstance(current, LessonScreen) and current.lesson.id == entry.id:
                screen = current
            else:
                screen = LessonScreen(entry, self.session)
                self.push_screen(screen)
            if snippet is not None:
                screen.focus_snippet(snippet)
        elif isinstance(entry, Exercise):
            if not (isinstance(self.screen, ExerciseScreen) and self.screen.exercise.id == entry.id):
                self.push_screen(ExerciseScreen(entry, self.session, watch_interval=self.watch_interval))
        elif isinstance(entry, LessonError):
            self.show_error(_("broken lesson"), entry.msg)

    def show_error(self, title: str, message: str) -> None:
        from tutor.app.screens.dialogs import ErrorDialog

        self.push_screen(ErrorDialog(title, message))

    def action_help(self) -> None:
        from tutor.app.screens.dialogs import HelpDialog

        if not isinstance(self.screen, HelpDialog):
            self.push_screen(HelpDialog())

    def action_search(self) -> None:
        from textual.command import CommandPalette

        if not CommandPalette.is_open(self):  # type: ignore[arg-type]  # is_open is typed for App[object]
            self.push_screen(CommandPalette(providers=[LessonSearch], placeholder=_("Search lessons: titles, prose, code…")))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that failed unexpectedly becomes an error dialog, never a crash."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            message = error.msg if isinstance(error, TutorError) else f"{type(error).__name__}: {error}"
            self.show_error(_("something went wrong"), message)


def tutor_app(node: MessagePump) -> TutorApp:
    """``node.app``, typed, for the app's own helpers (the palette)."""
    return cast(TutorApp, node.app)


def make_app(
    lessons: LessonSet,
    workspace: Workspace,
    client: SandboxClientProtocol | None = None,
    *,
    client_factory: Callable[[], SandboxClientProtocol] | None = None,
    grade: GradeFunction | None = None,
    device: str = "auto",
    watch_interval: float = 0.5,
) -> TutorApp:
    """The one factory shared by the CLI, the tests and the benchmarks: a core over
    ``lessons`` and ``workspace`` (with an injected sandbox or grader, for tests), and
    the app over it."""
    factory = (lambda hide, requested: client_factory()) if client_factory is not None else None
    core = Tutor(lessons, workspace, device=device, client=client, client_factory=factory, grade=grade)
    return TutorApp(Session(core), watch_interval=watch_interval)
