"""The learner's workspace: solution files (``files``), the starters they begin as
(``starters``) and the progress store (``store``). No torch here."""

from tutor.workspace.files import InitReport, Workspace
from tutor.workspace.starters import starter_text
from tutor.workspace.store import DEFAULT_WORKSPACE_ENV, ExerciseProgress, default_workspace, statuses_for

__all__ = [
    "DEFAULT_WORKSPACE_ENV", "ExerciseProgress", "InitReport", "Workspace", "default_workspace", "starter_text",
    "statuses_for",
]
