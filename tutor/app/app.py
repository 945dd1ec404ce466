"""The Textual app: a small App that pushes the lesson list and owns the sandbox.

Imports neither torch nor the sandbox server. The sandbox client is created in a
worker thread after the lesson list is painted, so the first screen never waits for
torch; the screens ask :meth:`TutorApp.wait_for_client` when they need it.
"""

from __future__ import annotations

import argparse
import contextlib
import threading
from pathlib import Path
from typing import cast

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message_pump import MessagePump
from textual.reactive import reactive
from textual.worker import Worker, WorkerState

from tutor.app.commands import LessonSearch
from tutor.app.services import ClientFactory, GradeFunction, Services, WorkspaceLike
from tutor.errors import LessonError, SandboxError, TutorError
from tutor.lessons import Exercise, Lesson, LessonSet, Snippet
from tutor.sandbox.api import SandboxClientProtocol

#: How long a run waits for the sandbox to finish starting (it imports torch once).
SANDBOX_START_TIMEOUT = 120.0
#: The worker group of every screen's runs and checks, so Esc cancels them together.
SANDBOX_GROUP = "sandbox"


class SandboxUnavailable(SandboxError):
    """No sandbox: its package is missing or the server would not start."""


class TutorApp(App[None]):
    """Lessons, cells and exercises over one sandbox client and one workspace."""

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

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.client: SandboxClientProtocol | None = services.client
        self._sandbox_ready = threading.Event()
        self._unavailable: str | None = None
        self.set_reactive(TutorApp.device, services.device)

    # -- lifecycle ------------------------------------------------------------------

    def on_mount(self) -> None:
        from tutor.app.screens.lesson_list import LessonListScreen

        self.push_screen(LessonListScreen())
        self._show_state()
        # After the first paint: the lesson list must not wait for the sandbox.
        self.call_after_refresh(self.start_sandbox)
        self.set_interval(1.0, self._poll_sandbox_state)

    @work(thread=True, group="sandbox-start", exit_on_error=False)
    def start_sandbox(self) -> None:
        """Create (if needed) and start the client, then resolve the device."""
        try:
            if self.client is None:
                if self.services.client_factory is None:
                    raise SandboxUnavailable("no sandbox client configured")
                self.client = self.services.client_factory()
            self.client.start()
            self.client.wait_ready(SANDBOX_START_TIMEOUT)
            device = self.services.device
            if device in ("auto", "cuda"):
                device = "cuda" if self.client.cuda_available() else "cpu"
            self.call_from_thread(setattr, self, "device", device)
            self.call_from_thread(setattr, self, "sandbox_state", "ready")
        except Exception as exc:  # noqa: BLE001 - any failure means "no sandbox", never a crash
            self._unavailable = str(exc) or type(exc).__name__
            self.call_from_thread(setattr, self, "sandbox_state", "unavailable")
        finally:
            self._sandbox_ready.set()

    def _poll_sandbox_state(self) -> None:
        # The server can die later (killed, out of memory); the header must say so.
        if self.client is not None and self._sandbox_ready.is_set() and self._unavailable is None:
            state = getattr(self.client, "state", "ready")
            if state != self.sandbox_state:
                self.sandbox_state = state

    def watch_sandbox_state(self) -> None:
        self._show_state()

    def watch_device(self) -> None:
        self._show_state()

    def _show_state(self) -> None:
        state = self.sandbox_state
        label = {"starting": "sandbox starting…", "ready": "sandbox ready"}.get(state, f"sandbox {state}")
        self.sub_title = f"{self.device} · {label}"

    def on_unmount(self) -> None:
        if self.client is not None and self.services.client is None:
            with contextlib.suppress(Exception):  # closing on exit is best effort
                self.client.close()

    # -- what the screens use -------------------------------------------------------------

    @property
    def run_device(self) -> str:
        return self.device if self.device in ("cpu", "cuda") else "cpu"

    def wait_for_client(self) -> SandboxClientProtocol:
        """Block (in a worker thread) until the sandbox is up; raise if it never will."""
        if not self._sandbox_ready.wait(SANDBOX_START_TIMEOUT):
            raise SandboxUnavailable("the sandbox is still starting; try again in a moment")
        if self._unavailable is not None or self.client is None:
            raise SandboxUnavailable(f"sandbox unavailable: {self._unavailable}")
        return self.client

    def grader(self) -> GradeFunction:
        """The injected grading function, else the real one (imported on first use)."""
        if self.services.grade is None:
            from tutor.grading.grade import grade_source

            self.services.grade = grade_source
        return self.services.grade

    def cancel_sandbox_work(self, screen: MessagePump) -> bool:
        """Cancel ``screen``'s running sandbox workers; False if none was running.

        Cancelling a thread worker only raises a flag, so the sandbox is also asked to
        kill its children: the blocked ``run()`` then returns at once.
        """
        if not any(w.group == SANDBOX_GROUP and w.is_running for w in screen.workers):
            return False
        screen.workers.cancel_group(screen, SANDBOX_GROUP)
        self._kill_runs()
        return True

    @work(thread=True, group="cancel", exit_on_error=False)
    def _kill_runs(self) -> None:
        # In a thread: asking the server writes to its pipe, which may block.
        if self.client is not None:
            self.client.cancel_all()

    def open_entry(self, entry: Lesson | Exercise | LessonError | None, *, snippet: Snippet | None = None) -> None:
        """Open a lesson (on ``snippet``'s cell if given), an exercise, or explain a
        broken lesson file. What is already open is shown again, not opened twice:
        a second copy would hide the first one's results."""
        if isinstance(entry, Lesson):
            from tutor.app.screens.lesson import LessonScreen

            screen = self.screen
            if not (isinstance(screen, LessonScreen) and screen.lesson.id == entry.id):
                screen = LessonScreen(entry)
                self.push_screen(screen)
            if snippet is not None:
                screen.focus_snippet(snippet)
        elif isinstance(entry, Exercise):
            from tutor.app.screens.exercise import ExerciseScreen

            if not (isinstance(self.screen, ExerciseScreen) and self.screen.exercise.id == entry.id):
                self.push_screen(ExerciseScreen(entry))
        elif isinstance(entry, LessonError):
            self.show_error("broken lesson", entry.msg)

    def show_error(self, title: str, message: str) -> None:
        from tutor.app.screens.dialogs import ErrorDialog

        self.push_screen(ErrorDialog(title, message))

    def action_help(self) -> None:
        from tutor.app.screens.dialogs import HelpDialog

        if not isinstance(self.screen, HelpDialog):
            self.push_screen(HelpDialog())

    def action_search(self) -> None:
        from textual.command import CommandPalette

        if not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(providers=[LessonSearch], placeholder="Search lessons: titles, prose, code…"))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that failed unexpectedly becomes an error dialog, never a crash."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            message = error.msg if isinstance(error, TutorError) else f"{type(error).__name__}: {error}"
            self.show_error("something went wrong", message)


def tutor_app(node: MessagePump) -> TutorApp:
    """``node.app``, typed: the screens and widgets of this package only run in a TutorApp."""
    return cast(TutorApp, node.app)


def make_app(
    lessons: LessonSet,
    workspace: WorkspaceLike,
    client: SandboxClientProtocol | None = None,
    *,
    client_factory: ClientFactory | None = None,
    grade: GradeFunction | None = None,
    device: str = "auto",
    watch_interval: float = 0.5,
) -> TutorApp:
    """The one factory shared by the CLI, the tests and the benchmarks."""
    return TutorApp(Services(
        lessons=lessons, workspace=workspace, client=client, client_factory=client_factory,
        grade=grade, device=device, watch_interval=watch_interval,
    ))


def real_client_factory(lessons_dir: Path, device: str) -> ClientFactory:
    """A factory for the real sandbox client, imported only when called (in a thread)."""

    def factory() -> SandboxClientProtocol:
        try:
            from tutor.sandbox.client import SandboxClient
        except ImportError as exc:
            raise SandboxUnavailable(f"the sandbox package is missing ({exc})") from None
        return SandboxClient(hide_paths=[lessons_dir], device=device)

    return factory


def run_app(args: argparse.Namespace) -> int:
    """``tutor`` with no command: load lessons and the workspace, run the app."""
    from tutor.lessons import default_lessons_dir, load_lessons
    from tutor.workspace import Workspace, default_workspace

    lessons_dir = args.lessons or default_lessons_dir()
    lessons = load_lessons([lessons_dir])
    workspace = Workspace(getattr(args, "workspace", None) or default_workspace(), lessons)
    device = getattr(args, "device", "auto") or "auto"
    app = make_app(lessons, workspace, client_factory=real_client_factory(Path(lessons_dir), device), device=device)
    app.run()
    return 0
