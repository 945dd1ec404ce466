"""The learner's day over the core, for every front: :class:`Session` owns its rules
(check and record, hints, the next exercise, when the solution may be shown, resume,
try-it copies, the status board, search) and tells its fronts of changes as
:mod:`events <tutor.session.events>`. No Textual and no torch here."""

from tutor.session.events import Event, HintShown, Listener, Notice, ProgressChanged, SandboxChanged
from tutor.session.search import SearchHit, search_lessons
from tutor.session.session import LessonPlace, Session
from tutor.session.status import ExerciseState, StatusBoard

__all__ = [
    "Event", "ExerciseState", "HintShown", "LessonPlace", "Listener", "Notice", "ProgressChanged", "SandboxChanged",
    "SearchHit", "Session", "StatusBoard", "search_lessons",
]
