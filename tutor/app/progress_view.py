"""Exercise statuses as the app shows them, read from the workspace once per redraw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tutor.lessons import Exercise, Lesson
from tutor.workspace import Workspace

NOT_STARTED = "not started"
#: A pass of the visible checks while hidden ones have not run (tutor.workspace's word).
VISIBLE_PASS = "visible checks pass"


@dataclass(frozen=True)
class ExerciseState:
    """What the screens need to know about one exercise, whatever the workspace keeps."""

    status: str = NOT_STARTED
    hints_shown: int = 0
    #: Passed at least once (a reset does not take the reference solution away).
    passed_once: bool = False
    #: Hidden checks the last verdict did not run (the app's check runs none of them).
    hidden_unrun: int = 0

    @property
    def label(self) -> str:
        """The status in honest words: a pass that left hidden checks unrun is
        "visible checks pass" until `tutor grade` has run them."""
        return VISIBLE_PASS if self.status == "passed" and self.hidden_unrun else self.status

    @property
    def fully_passed(self) -> bool:
        return self.status == "passed" and not self.hidden_unrun

    @classmethod
    def of(cls, progress: Any) -> ExerciseState:
        """Read a workspace entry leniently: a missing one is a fresh exercise."""
        if progress is None:
            return cls()
        status = getattr(progress, "status", NOT_STARTED)
        if status not in ("passed", "failed"):
            status = NOT_STARTED
        hints = getattr(progress, "hints_shown", 0)
        passed_once = status == "passed" or bool(getattr(progress, "passed_at", None))
        hidden = getattr(progress, "hidden_unrun", 0)
        return cls(status, hints if isinstance(hints, int) else 0, passed_once, hidden if isinstance(hidden, int) else 0)


class StatusBoard:
    """A snapshot of the workspace's progress; an unreadable one shows as not started
    (the workspace itself sets a corrupt file aside; the browser must never crash)."""

    def __init__(self, workspace: Workspace | None) -> None:
        self._cache: dict[str, ExerciseState] = {}
        # One locked read for the whole board; without a workspace nothing has started.
        if workspace is not None:
            try:
                self._cache = {key: ExerciseState.of(value) for key, value in workspace.all_progress().items()}
            except Exception:  # noqa: BLE001 - progress is advisory; the lessons still open
                self._cache = {}

    def state(self, exercise: Exercise) -> ExerciseState:
        """The exercise's state; never ``None``, so callers can read fields directly."""
        return self._cache.get(exercise.id) or ExerciseState()

    def status(self, exercise: Exercise) -> str:
        return self.state(exercise).status

    def label(self, exercise: Exercise) -> str:
        """The status in honest words (see :attr:`ExerciseState.label`)."""
        return self.state(exercise).label

    def lesson_progress(self, lesson: Lesson) -> tuple[int, int]:
        """(passed, total) exercises of the lesson; a pass of the visible checks only
        (hidden checks not run yet) does not count: see :meth:`visible_only`."""
        exercises = lesson.exercises
        return sum(1 for e in exercises if self.state(e).fully_passed), len(exercises)

    def visible_only(self, lesson: Lesson) -> int:
        """Exercises of the lesson whose visible checks pass, hidden checks not run yet."""
        return sum(1 for e in lesson.exercises if self.state(e).label == VISIBLE_PASS)
