"""What the app is built from: lessons, a workspace, a sandbox and a grader.

The App receives these in its constructor (harlequin's adapter pattern), so the CLI
passes the real ones and tests pass fakes. Nothing here imports Textual or torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

from tutor.grading.report import ExerciseReport
from tutor.lessons import Exercise, LessonSet
from tutor.sandbox.api import SandboxClientProtocol


class WorkspaceLike(Protocol):
    """The part of :class:`tutor.workspace.Workspace` the app uses."""

    def path_for(self, exercise: Exercise) -> Path: ...
    def ensure(self, exercise: Exercise) -> Path: ...
    def read(self, exercise: Exercise) -> str: ...
    def save(self, exercise: Exercise, text: str) -> None: ...
    def reset(self, exercise: Exercise) -> Path | None: ...
    def progress(self, exercise_id: str) -> Any: ...
    def record_result(self, exercise_id: str, status: str) -> None: ...
    def next_hint(self, exercise: Exercise) -> tuple[int, str]: ...


class GradeFunction(Protocol):
    """``tutor.grading.grade.grade_source``'s signature; blocking, so call it from a thread."""

    def __call__(
        self, exercise: Exercise, source: str, client: SandboxClientProtocol, *,
        include_hidden: bool = False, device: str = "cpu",
    ) -> ExerciseReport: ...


ClientFactory = Callable[[], SandboxClientProtocol]


@dataclass
class Services:
    """Everything the app talks to.

    ``client`` may be ``None`` with a ``client_factory`` instead: the factory is called
    in a worker thread after the first paint, because starting the sandbox (a process
    that imports torch) must never delay the lesson list.
    """

    lessons: LessonSet
    workspace: WorkspaceLike
    client: SandboxClientProtocol | None = None
    client_factory: ClientFactory | None = None
    grade: GradeFunction | None = None
    device: str = "auto"
    #: Seconds between two looks at an exercise file for changes made in another editor.
    watch_interval: float = 0.5
