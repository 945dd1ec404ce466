"""Exercise statuses as the app shows them, read from the workspace once per redraw."""

from __future__ import annotations

from typing import Any

from tutor.app.services import WorkspaceLike
from tutor.lessons import Exercise, Lesson

NOT_STARTED = "not started"


class StatusBoard:
    """A snapshot of the workspace's progress; an unreadable one shows as not started
    (the workspace itself sets a corrupt file aside; the browser must never crash)."""

    def __init__(self, workspace: WorkspaceLike) -> None:
        self.workspace = workspace
        self._cache: dict[str, Any] = {}
        # One locked read for the whole board when the workspace offers it.
        self._complete = False
        reader = getattr(workspace, "all_progress", None)
        if reader is not None:
            try:
                self._cache = dict(reader())
                self._complete = True
            except Exception:  # noqa: BLE001 - progress is advisory; the lessons still open
                self._cache = {}

    def progress(self, exercise: Exercise) -> Any:
        if exercise.id not in self._cache:
            if self._complete:
                return None
            try:
                self._cache[exercise.id] = self.workspace.progress(exercise.id)
            except Exception:  # noqa: BLE001 - see the class docstring
                self._cache[exercise.id] = None
        return self._cache[exercise.id]

    def status(self, exercise: Exercise) -> str:
        status = getattr(self.progress(exercise), "status", NOT_STARTED)
        return status if status in ("passed", "failed") else NOT_STARTED

    def lesson_progress(self, lesson: Lesson) -> tuple[int, int]:
        """(passed, total) exercises of the lesson."""
        exercises = lesson.exercises
        return sum(1 for e in exercises if self.status(e) == "passed"), len(exercises)
