"""The learner's workspace: solution files (``files``), the starters they begin as
(``starters``), the progress store (``store``), where the learner left off
(``visits``) and their try-it copies of lesson cells (``tryit``). No torch here."""

from tutor.workspace.files import InitReport, Workspace
from tutor.workspace.starters import first_code_line, starter_text
from tutor.workspace.store import (
    DEFAULT_WORKSPACE_ENV,
    ExerciseProgress,
    default_workspace,
    labels_for,
    statuses_for,
)
from tutor.workspace.tryit import CellEdit, TryIt
from tutor.workspace.visits import Visit, read_visit

__all__ = [
    "DEFAULT_WORKSPACE_ENV", "ExerciseProgress", "InitReport", "Workspace", "default_workspace", "first_code_line",
    "labels_for", "starter_text", "statuses_for", "Visit", "read_visit", "CellEdit", "TryIt",
]
