"""One learner's day over the core: every rule of it, for every front.

A front (the TUI, ``tutor watch``, the CLI's ``hint`` and ``solution``, a browser) draws
and forwards keys; what a check records, which hint comes next, which exercise comes
next, when the solution may be shown, where the learner resumes, their try-it copies,
the status board and search are decided here, once. Fronts hear of changes through
:meth:`Session.subscribe`, never by polling the core.

No Textual and no torch here.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tutor.core import Tutor
from tutor.errors import TutorError, UsageError, WorkspaceError
from tutor.grading.results import CheckResult, ExerciseReport
from tutor.i18n import _
from tutor.lessons import Exercise, Lesson, Snippet
from tutor.sandbox.api import RunResult
from tutor.session.events import Event, HintShown, Listener, Notice, ProgressChanged, SandboxChanged, SandboxState
from tutor.session.search import SearchHit, search_lessons
from tutor.session.status import ExerciseState, StatusBoard
from tutor.stamps import FileStamp, file_stamp
from tutor.workspace import TryIt, Visit, Workspace

#: What a failed hidden check says in a front: never its inputs or expected values.
HIDDEN_FAILURE = "a hidden check: its inputs and expected values are not shown"


def redact_hidden(report: ExerciseReport) -> ExerciseReport:
    """``report`` as a learner may see it: each hidden check that ran keeps its name,
    verdict and points, nothing of what it tried; the summary names it no further."""
    hidden = [c for c in report.checks if c.hidden and c.status != "hidden"]
    if not hidden:
        return report
    checks = [CheckResult(name=c.name, status=c.status, message=HIDDEN_FAILURE if c.status != "pass" else "",
                          seed=c.seed, hidden=True, max_score=c.max_score) if c in hidden else c
              for c in report.checks]
    message = report.message
    failed = [c for c in report.checks if c.status in ("fail", "error")]
    if failed and failed[0].hidden:
        message = f"{len(failed)} of {len(checks)} checks failed; first: {failed[0].name}: {HIDDEN_FAILURE}"
    return replace(report, checks=checks, message=message)


@dataclass(frozen=True)
class LessonPlace:
    """A lesson to open, on one of its cells when ``snippet`` is given."""

    lesson: Lesson
    snippet: Snippet | None = None


class Session:
    """The learner's session over ``core`` (which must have a workspace)."""

    def __init__(self, core: Tutor) -> None:
        if core.workspace is None:
            raise UsageError(_("a learner session needs a workspace"))
        self.core = core
        self.lessons = core.lessons
        self.workspace: Workspace = core.workspace
        self._listeners: list[Listener] = []
        self._listeners_lock = threading.Lock()
        self._progress_stamp: FileStamp | None = file_stamp(self.workspace.progress_path)
        core.on_state_change(self._sandbox_changed)

    # -- telling the fronts ---------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every event from now on; returns the unsubscribe."""
        with self._listeners_lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._listeners_lock, contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, event: Event) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event)

    # -- the sandbox ----------------------------------------------------------------

    def start_sandbox(self) -> None:
        """Start the sandbox (blocking); how it went arrives as a :class:`SandboxChanged`."""
        with contextlib.suppress(Exception):  # the core records why; the event says so
            self.core.start()

    @property
    def sandbox_state(self) -> SandboxState:
        return self.core.state

    def run(self, code: str, filename: str) -> RunResult:
        """Run a lesson cell (or the learner's copy of one) in a fresh sandbox child."""
        return self.core.run(code, filename)

    def cancel_all(self) -> None:
        """Stop every run and check in flight (Esc)."""
        self.core.cancel_all()

    def _sandbox_changed(self, state: SandboxState) -> None:
        self._emit(SandboxChanged(state, self.core.device))

    # -- progress -------------------------------------------------------------------

    def board(self) -> StatusBoard:
        """Every exercise's state, in one read of the workspace."""
        return StatusBoard(self.workspace)

    def state(self, exercise: Exercise) -> ExerciseState:
        return self.board().state(exercise)

    def notice_changes(self) -> None:
        """Tell the fronts if another process (``tutor hint``, ``tutor grade``) changed
        the recorded progress since the last look: one ``stat``, so a front may call it
        on every tick of its file watch."""
        stamp = file_stamp(self.workspace.progress_path)
        if stamp != self._progress_stamp:
            self._progress_stamp = stamp
            self._emit(ProgressChanged(None))

    # -- exercise files -------------------------------------------------------------

    def path_for(self, exercise: Exercise) -> Path:
        return self.workspace.path_for(exercise)

    def open_exercise(self, exercise: Exercise) -> str:
        """The learner's file of ``exercise`` (the starter, written first, if there is
        none); raises :class:`TutorError` when it cannot be read."""
        self.workspace.ensure(exercise)
        return self.workspace.read(exercise)

    def read(self, exercise: Exercise) -> str:
        return self.workspace.read(exercise)

    def save(self, exercise: Exercise, text: str) -> None:
        self.workspace.save(exercise, text)

    def reset(self, exercise: Exercise) -> Path | None:
        """The starter back; the learner's old file kept as the returned backup."""
        return self.workspace.reset(exercise)

    # -- checking -------------------------------------------------------------------

    def check(self, exercise: Exercise, source: str, *, record: bool = True) -> ExerciseReport:
        """Check ``source`` against every check the learner's copy of the lesson holds,
        so a pass in a front is a pass (a public copy without hidden checks still counts
        them as unrun), and, with ``record``, remember the verdict. A hidden check tells
        only its name and whether it passed (:func:`redact_hidden`). A failure of the
        sandbox or the grader is the returned report's error and is not recorded: it says
        nothing of the learner's code."""
        try:
            report = self.core.grade(exercise, source, include_hidden=True, filename=str(self.path_for(exercise)))
        except Exception as exc:  # noqa: BLE001 - shown to the learner, the front goes on
            return ExerciseReport(id=exercise.id, status="error", message=str(exc) or type(exc).__name__)
        report = redact_hidden(report)
        if record:
            self.record(report)
        return report

    def record(self, report: ExerciseReport) -> None:
        """Remember a verdict in the workspace; one that cannot be written is a
        :class:`Notice`, never a lost grade or a crash. A pass of every check is never
        demoted by a later pass that checked less (the workspace keeps that rule under
        its lock)."""
        try:
            self.workspace.record_result(report.id, report.status, report.hidden_unrun)
        except WorkspaceError as exc:
            self._emit(Notice(_("progress not saved: {error}").format(error=exc.msg)))
            return
        self._progress_stamp = file_stamp(self.workspace.progress_path)
        self._emit(ProgressChanged(report.id))

    def grade(self, exercises: Sequence[Exercise], *, jobs: int | None = None,
              on_done: Callable[[ExerciseReport], None] | None = None, seed: int | None = None) -> list[ExerciseReport]:
        """Grade the workspace files of ``exercises`` with every check (``tutor grade``)
        and record each verdict. An exercise without a file is reported as an error
        (nothing was handed in) but not recorded: it stays "not started"."""
        started = {e.id for e in exercises if self.path_for(e).exists()}

        def done(report: ExerciseReport) -> None:
            if report.id in started:
                self.record(report)
            if on_done is not None:
                on_done(report)

        return self.core.grade_many(exercises, jobs=jobs, on_done=done, seed=seed)

    # -- hints and the solution -------------------------------------------------------

    def next_hint(self, exercise: Exercise) -> HintShown:
        """The next hint, recorded as shown (after the last one, the last one again);
        raises :class:`UsageError` when the exercise has none."""
        number, text = self.workspace.next_hint(exercise)
        self._progress_stamp = file_stamp(self.workspace.progress_path)
        event = HintShown(exercise.id, number, len(exercise.hints), text)
        self._emit(event)
        return event

    def hints_shown(self, exercise: Exercise) -> int:
        return self.state(exercise).hints_shown

    def solution_unlocked(self, exercise: Exercise) -> bool:
        """The reference solution opens once the learner's solution has passed, and
        stays open (a reset or a later failure does not take it away)."""
        return self.state(exercise).passed_once

    # -- where next -------------------------------------------------------------------

    def next_exercise(self, after: Exercise) -> Exercise | None:
        """After ``after``: the next exercise not passed, in course order, wrapping round;
        ``None`` when every exercise passes."""
        exercises = self.lessons.exercises()
        start = exercises.index(after) if after in exercises else -1
        board = self.board()
        return next((e for e in exercises[start + 1:] + exercises[:start + 1] if not board.passed(e)), None)

    def first_open(self, exercises: Sequence[Exercise]) -> Exercise | None:
        """The first of ``exercises`` not passed yet, else the first; ``None`` for none."""
        board = self.board()
        return next((e for e in exercises if not board.passed(e)), exercises[0] if exercises else None)

    def exercise_to_work_on(self, ident: str | None = None) -> Exercise:
        """``ident`` if given; else where the learner is: the exercise visited last if it
        is not passed yet, or the first open exercise of the lesson visited last; else
        the first one not passed; else the first one."""
        exercises = self.lessons.exercises()
        if not exercises:
            raise UsageError(_("no exercises to watch"))
        if ident:
            return self.lessons.resolve(ident)
        resumed = self.resume()
        board = self.board()
        if isinstance(resumed, LessonPlace):
            resumed = next((e for e in resumed.lesson.exercises if not board.passed(e)), None)
        if isinstance(resumed, Exercise) and not board.passed(resumed):
            return resumed
        found = self.first_open(exercises)
        assert found is not None
        return found

    # -- where the learner left off ----------------------------------------------------

    def last_visit(self) -> Visit | None:
        return self.workspace.last_visit()

    def resume(self) -> LessonPlace | Exercise | None:
        """The lesson (on its cell) or exercise the learner was on last; ``None`` when
        nothing is recorded or it no longer exists."""
        visit = self.last_visit()
        if visit is None:
            return None
        if visit.kind == "lesson":
            lesson = next((lesson for lesson in self.lessons.lessons if lesson.id == visit.id), None)
            if lesson is None:
                return None
            return LessonPlace(lesson, next((s for s in lesson.snippets if s.index == visit.cell), None))
        return next((e for e in self.lessons.exercises() if e.id == visit.id), None)

    def visit(self, entry: Lesson | Exercise, cell: int | None = None) -> None:
        """Remember where the learner is, for the next start; never an error."""
        with contextlib.suppress(TutorError, OSError):
            if isinstance(entry, Lesson):
                self.workspace.record_visit("lesson", entry.id, cell)
            else:
                self.workspace.record_visit("exercise", entry.id)

    def stay_in_lesson(self, lesson: Lesson, cell: int | None, *, returning: bool = False) -> None:
        """Keep ``lesson`` and its focused ``cell`` as the last visit. Unless the learner
        is ``returning`` to the lesson, only while the last visit is still this lesson:
        an exercise opened from it is where they went on to."""
        with contextlib.suppress(TutorError, OSError):
            last = self.workspace.last_visit()
            here = last is not None and last.kind == "lesson" and last.id == lesson.id
            if returning or (here and last is not None and last.cell != cell):
                self.workspace.record_visit("lesson", lesson.id, cell)

    # -- try-it copies and search ---------------------------------------------------------

    def try_it(self, lesson: Lesson) -> TryIt:
        """The learner's copies of ``lesson``'s cells and its scratch cell."""
        return self.workspace.try_it(lesson.id)

    def save_try_it(self, lesson: Lesson, edits: TryIt) -> None:
        """Keep the try-it edits (never the lesson file); raises :class:`TutorError`."""
        self.workspace.save_try_it(lesson.id, edits)

    def search(self, query: str) -> list[SearchHit]:
        return search_lessons(self.lessons, query)
