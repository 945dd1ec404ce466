"""What screens and widgets say to the app, and the worker group of sandbox work.

Screens receive the learner's session (``tutor.session.Session``) in their constructor and post these
messages up; nothing under ``screens/`` or ``widgets/`` imports the app module.
"""

from __future__ import annotations

from textual.message import Message
from textual.screen import Screen

from tutor.errors import LessonError
from tutor.lessons import Exercise, Lesson, Snippet
from tutor.session import Event, Session

#: The worker group of every screen's runs and checks, so Esc cancels them together.
SANDBOX_GROUP = "sandbox"


class OpenEntry(Message):
    """Open a lesson (on ``snippet``'s cell if given), an exercise, or explain a broken
    lesson file."""

    def __init__(self, entry: Lesson | Exercise | LessonError | None, snippet: Snippet | None = None) -> None:
        super().__init__()
        self.entry = entry
        self.snippet = snippet


class SessionEvent(Message):
    """An event of the learner's session, handed to the UI thread (a session tells its
    listeners on the thread where the change happened)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class ShowError(Message):
    """Something went wrong that the learner must read (a dialog, not a toast)."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.title = title
        self.message = message


def cancel_sandbox_work(screen: Screen[None], session: Session) -> bool:
    """Cancel ``screen``'s running sandbox workers; False if none was running.

    Cancelling a thread worker only raises a flag, so the sandbox is also asked to kill
    its children (in a thread: writing to the server's pipe may block), and the blocked
    ``run()`` then returns at once."""
    if not any(w.group == SANDBOX_GROUP and w.is_running for w in screen.workers):
        return False
    screen.workers.cancel_group(screen, SANDBOX_GROUP)
    screen.run_worker(session.cancel_all, thread=True, group="cancel", exit_on_error=False)
    return True
