"""What a :class:`~tutor.session.Session` tells its fronts. Each event is plain data; a
front draws it. Listeners are called on the thread where the change happened (a
grading worker, the sandbox's reader thread): a front with a UI thread hands the event
over to it (Textual's ``post_message`` is thread-safe)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tutor.core import SandboxState


@dataclass(frozen=True)
class ProgressChanged:
    """Recorded progress changed: ``exercise_id``'s verdict, or (``None``) anything,
    written by another process (``tutor hint`` or ``tutor grade`` in another terminal)."""

    exercise_id: str | None


@dataclass(frozen=True)
class HintShown:
    """A hint was taken: hint ``number`` of ``total`` is now recorded as shown."""

    exercise_id: str
    number: int
    total: int
    text: str


@dataclass(frozen=True)
class SandboxChanged:
    """The sandbox started, became unavailable, or died later; ``device`` is where code
    runs (resolved once the sandbox is up)."""

    state: SandboxState
    device: str


@dataclass(frozen=True)
class Notice:
    """Something the learner should read that is not a verdict (progress that could not
    be saved). ``severity`` picks how loud a front says it."""

    message: str
    severity: Literal["warning", "error"] = "warning"


Event = ProgressChanged | HintShown | SandboxChanged | Notice
Listener = Callable[[Event], object]
