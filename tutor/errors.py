"""The user-facing error family.

Anything raised as a :class:`TutorError` is the user's to fix (a malformed lesson, an
unknown exercise id, a missing file). The CLI prints it as one line on stderr and exits
with status 2; no traceback reaches the user.
"""

from __future__ import annotations

from pathlib import Path


class TutorError(Exception):
    """Base of every error the user can act on."""

    exit_code = 2

    def __init__(self, msg: str, *, title: str = "tutor") -> None:
        super().__init__(msg)
        self.msg = msg
        self.title = title

    def __str__(self) -> str:
        return self.msg


class LessonError(TutorError):
    """A lesson file is malformed. The message starts with ``FILE:LINE:``."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}", title="malformed lesson")


class LessonErrors(TutorError):
    """Several lesson problems found in one pass (``check-lessons`` reports them all)."""

    def __init__(self, errors: list[LessonError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.msg for e in errors), title="malformed lessons")


class UsageError(TutorError):
    """Bad command-line usage: a missing file, an unknown id, an impossible device."""


class WorkspaceError(TutorError):
    """The workspace cannot be read or written."""


class SandboxError(TutorError):
    """The sandbox server could not be started or died."""

    exit_code = 1


class LessonsExposed(TutorError):
    """Grading refused: learner code could read the lessons (and so the references)
    because the sandbox could hide them neither by mounts nor by permissions."""
