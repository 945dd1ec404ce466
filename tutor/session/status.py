"""Exercise statuses as every front shows them, read from the workspace in one locked read."""

from __future__ import annotations

from dataclasses import dataclass

from tutor.lessons import Exercise, Lesson
from tutor.workspace import ExerciseProgress, Workspace
from tutor.workspace.store import FAILED, NOT_STARTED, PASSED, VISIBLE_PASS, ProgressStatus, StatusLabel, status_label

#: The mark beside each status, in every front and `tutor list`.
MARKS: dict[StatusLabel, str] = {PASSED: "✓", VISIBLE_PASS: "✓", FAILED: "✗", NOT_STARTED: "·"}


@dataclass(frozen=True)
class ExerciseState:
    """What a front needs to know about one exercise, whatever the workspace keeps."""

    status: ProgressStatus = NOT_STARTED
    hints_shown: int = 0
    #: Passed at least once (a reset, or a later failed attempt, does not take the
    #: reference solution away again): the one rule for showing the solution.
    passed_once: bool = False
    #: Hidden checks the last verdict did not run (the app's check runs none of them).
    hidden_unrun: int = 0

    @property
    def label(self) -> StatusLabel:
        """The status in honest words: a pass that left hidden checks unrun is
        "visible checks pass" until `tutor grade` has run them."""
        return status_label(self.status, self.hidden_unrun)

    @property
    def fully_passed(self) -> bool:
        return self.status == PASSED and not self.hidden_unrun

    @classmethod
    def of(cls, progress: ExerciseProgress | None) -> ExerciseState:
        """The state of a workspace entry (already validated when read); a missing one
        is a fresh exercise."""
        if progress is None:
            return cls()
        passed_once = progress.status == PASSED or progress.passed_at is not None
        return cls(progress.status, progress.hints_shown, passed_once, progress.hidden_unrun)


class StatusBoard:
    """A snapshot of the workspace's progress; an unreadable one shows as not started
    (the workspace itself sets a corrupt file aside; a front must never crash on it)."""

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

    def status(self, exercise: Exercise) -> ProgressStatus:
        return self.state(exercise).status

    def label(self, exercise: Exercise) -> StatusLabel:
        """The status in honest words (see :attr:`ExerciseState.label`)."""
        return self.state(exercise).label

    def passed(self, exercise: Exercise) -> bool:
        """Whether the exercise's last verdict was a pass (of the visible checks at least):
        what "the next exercise not yet passed" skips."""
        return self.status(exercise) == PASSED

    def count_passed(self, exercises: list[Exercise]) -> int:
        return sum(1 for e in exercises if self.passed(e))

    def lesson_progress(self, lesson: Lesson) -> tuple[int, int]:
        """(passed, total) exercises of the lesson; a pass of the visible checks only
        (hidden checks not run yet) does not count: see :meth:`visible_only`."""
        exercises = lesson.exercises
        return sum(1 for e in exercises if self.state(e).fully_passed), len(exercises)

    def visible_only(self, lesson: Lesson) -> int:
        """Exercises of the lesson whose visible checks pass, hidden checks not run yet."""
        return sum(1 for e in lesson.exercises if self.state(e).label == VISIBLE_PASS)
