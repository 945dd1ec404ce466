"""The headless core every front works through: the CLI commands, the TUI, batch grading
and, later, a browser front.

One :class:`Tutor` owns the lesson set, the workspace, one sandbox client, the paths the
sandbox hides and the device, each resolved once, and offers :meth:`Tutor.run`,
:meth:`Tutor.grade` and :meth:`Tutor.grade_many`. No Textual and no torch here: the
sandbox client talks to a server process that imports torch.
"""

from __future__ import annotations

import functools
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Protocol, cast

from tutor.errors import LessonsExposed, SandboxError, TutorError, WorkspaceError
from tutor.grading.results import ExerciseReport
from tutor.i18n import _
from tutor.lessons import Exercise, LessonSet, default_lessons_dir
from tutor.sandbox.api import HIDING_LAYERS, RunRequest, RunResult, SandboxClientProtocol, resolve_device

if TYPE_CHECKING:
    from tutor.workspace import Workspace

#: How long a run waits for the sandbox to finish starting (it imports torch once).
SANDBOX_START_TIMEOUT = 120.0
#: Modules the sandbox server imports before forking, so no graded run imports them.
GRADING_TASK_MODULES = ("tutor.judging.harness", "tutor.judging.judge", "tutor.judging.heldout")


class SandboxUnavailable(SandboxError):
    """No sandbox: its package is missing or the server would not start."""


class GradeFunction(Protocol):
    """``tutor.grading.grade.grade_source``'s signature; blocking, so call it from a thread."""

    def __call__(
        self, exercise: Exercise, source: str, client: SandboxClientProtocol, *,
        include_hidden: bool = False, device: str = "cpu", filename: str = "solution.py",
        seeds: tuple[int, ...] | None = None,
    ) -> ExerciseReport: ...


ClientFactory = Callable[[Sequence[Path], str], SandboxClientProtocol]
"""Makes the sandbox client from the paths to hide and the requested device."""

ProgressCallback = Callable[[ExerciseReport], None]

SandboxState = Literal["starting", "ready", "dead", "unavailable"]
StateListener = Callable[[SandboxState], None]


def draw_seed() -> int:
    """A grading run's seed: every exercise's seeds derive from it, so a grade can be
    reproduced (``tutor grade --seed``) but not predicted."""
    return secrets.randbelow(2**31 - 1)


def hidden_paths(lessons: LessonSet) -> list[Path]:
    """What the sandbox hides from learner code: every directory the lessons came from
    and the lessons that ship with tutor (both hold reference solutions)."""
    shipped = default_lessons_dir()
    paths = [*lessons.directories(), *([shipped.resolve()] if shipped.is_dir() else [])]
    return sorted(set(paths))


def open_to_others(path: Path) -> bool:
    """Whether a uid that neither owns ``path`` nor shares its group could read it: every
    folder on the way searchable by others, and the path itself readable by them."""
    try:
        if not path.exists():
            return False
        for folder in path.parents:
            if not folder.stat().st_mode & 0o001:
                return False
        return bool(path.stat().st_mode & 0o004)
    except OSError:
        return False


def exposure(isolation: Sequence[str], hidden: Sequence[Path]) -> str:
    """What stops the sandbox hiding the lessons here, and what would fix it, in one line."""
    if "mountns" in isolation:
        how = "mounts could not cover them"
    elif os.geteuid() == 0:
        how = "the kernel refused a mount namespace (a container without CAP_SYS_ADMIN)"
    else:
        how = "the kernel refused a user namespace, and the runs share your uid"
    open_paths = [str(p) for p in hidden if open_to_others(p)]
    where = f"; readable by other users: {', '.join(open_paths)}" if open_paths else ""
    fix = ("make them private to root (chmod 700) and run as root" if os.geteuid() == 0 or open_paths
           else "run as root, or where user namespaces are allowed")
    return (f"student code could read the lessons and their solutions here: {how}{where}; {fix}, "
            f"or pass --allow-unhidden to grade anyway")


#: Where a learner's sandbox server writes its stderr, in the workspace's state folder:
#: when it dies, the message names this file.
SANDBOX_LOG = "sandbox.log"


def _real_client(hide: Sequence[Path], device: str, log_path: Path | None = None) -> SandboxClientProtocol:
    try:
        from tutor.sandbox.client import SandboxClient
    except ImportError as exc:
        raise SandboxUnavailable(_("the sandbox package is missing ({error})").format(error=exc)) from None
    return SandboxClient(hide_paths=hide, device=device, warm_modules=GRADING_TASK_MODULES, log_path=log_path)


class Tutor:
    """Lessons, a workspace, one sandbox and the device, for any front.

    The sandbox starts on :meth:`start` (blocking: the TUI calls it from a worker thread
    after its first paint; the CLI calls it at once). Every method that needs the sandbox
    waits for it.
    """

    def __init__(self, lessons: LessonSet, workspace: Workspace | None = None, *, device: str = "auto",
                 client: SandboxClientProtocol | None = None, client_factory: ClientFactory | None = None,
                 grade: GradeFunction | None = None) -> None:
        self.lessons = lessons
        self.workspace = workspace
        self.requested_device = device
        self.hidden_paths = hidden_paths(lessons)
        self._client = client
        self._owns_client = client is None
        log = workspace.state_dir / SANDBOX_LOG if workspace is not None else None
        self._client_factory = client_factory or functools.partial(_real_client, log_path=log)
        self._grade = grade
        self._device: str | None = "cpu" if device == "cpu" else None
        self._ready = threading.Event()
        self._start_lock = threading.Lock()
        self._unavailable: str | None = None
        self._state_listeners: list[StateListener] = []

    # --- the sandbox -----------------------------------------------------------------

    def on_state_change(self, listener: StateListener) -> None:
        """Call ``listener`` with the new :attr:`state` when the sandbox comes up, turns
        out unavailable, or dies later (from the thread that saw it happen)."""
        self._state_listeners.append(listener)

    def _tell_state(self) -> None:
        state = self.state
        for listener in list(self._state_listeners):
            listener(state)

    def _client_state_changed(self) -> None:
        if self._ready.is_set():  # before that, start() tells how it went
            self._tell_state()

    def start(self) -> None:
        """Create and start the sandbox, then resolve the device; blocking, idempotent.

        A device the machine lacks (``cuda`` without CUDA) raises its ``UsageError``;
        any other failure leaves the core without a sandbox, said by :attr:`state`.
        Listeners (:meth:`on_state_change`) hear how it went."""
        first = not self._ready.is_set()
        try:
            self._start()
        finally:
            if first and self._ready.is_set():
                self._tell_state()

    def _start(self) -> None:
        with self._start_lock:
            if self._ready.is_set():
                if self._unavailable is not None:
                    raise SandboxUnavailable(_("sandbox unavailable: {reason}").format(reason=self._unavailable))
                return
            try:
                if self._client is None:
                    self._client = self._client_factory(self.hidden_paths, self.requested_device)
                watch = getattr(self._client, "on_state_change", None)
                if callable(watch):  # the real client tells of a server that dies, or restarts, later
                    watch(self._client_state_changed)
                self._client.start()
                self._client.wait_ready(SANDBOX_START_TIMEOUT)
                self._device = resolve_device(self.requested_device, self._client.cuda_available)
            except TutorError as exc:
                self._unavailable = exc.msg
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means "no sandbox", never a crash
                self._unavailable = str(exc) or type(exc).__name__
                raise SandboxUnavailable(_("sandbox unavailable: {reason}").format(reason=self._unavailable)) from None
            finally:
                self._ready.set()

    def require_hidden_lessons(self) -> None:
        """Refuse to grade (:class:`LessonsExposed`) unless a run reports the lessons
        hidden from it: a grade is only worth something where learner code cannot read
        the reference solutions. One trivial run asks; it costs a fork."""
        result = self.client().run(RunRequest(code="pass", inspect=False, timeout=30.0))
        if result.status == "ok" and HIDING_LAYERS & set(result.isolation):
            return
        if result.status != "ok":
            reason = result.error.message if result.error else result.status
            raise SandboxUnavailable(_("sandbox unavailable: {reason}").format(reason=reason))
        raise LessonsExposed(exposure(result.isolation, self.hidden_paths), title="tutor grade")

    @property
    def state(self) -> SandboxState:
        """``starting``, ``ready``, ``dead`` (the server died later) or ``unavailable``."""
        if not self._ready.is_set():
            return "starting"
        if self._unavailable is not None or self._client is None:
            return "unavailable"
        state = getattr(self._client, "state", "ready")
        return cast(SandboxState, state) if state in ("starting", "ready", "dead") else "ready"

    @property
    def unavailable_reason(self) -> str | None:
        return self._unavailable

    @property
    def device(self) -> str:
        """Where code runs: ``cpu`` or ``cuda``, resolved once the sandbox is up (``cpu``
        until then)."""
        return self._device or "cpu"

    def client(self) -> SandboxClientProtocol:
        """The started sandbox client; waits for :meth:`start` (run by another thread)."""
        if not self._ready.wait(SANDBOX_START_TIMEOUT):
            raise SandboxUnavailable(_("the sandbox is still starting; try again in a moment"))
        if self._unavailable is not None or self._client is None:
            raise SandboxUnavailable(_("sandbox unavailable: {reason}").format(reason=self._unavailable))
        return self._client

    def cancel_all(self) -> None:
        """Kill every run in flight (their ``run`` returns ``killed``)."""
        if self._client is not None:
            self._client.cancel_all()

    def close(self, *, wait: bool = False) -> None:
        """Stop the sandbox this core started (an injected client stays its owner's).

        By default this returns at once: the server is told to shut down from a daemon
        thread and finishes on its own (it also stops when this process exits and its
        pipe closes), so quitting never waits for it. ``wait=True`` returns once the
        server is gone."""
        client = self._client
        if client is None or not self._owns_client:
            return
        if wait:
            client.close()
        else:
            threading.Thread(target=self._close_quietly, args=(client,), name="sandbox-close", daemon=True).start()

    @staticmethod
    def _close_quietly(client: SandboxClientProtocol) -> None:
        try:
            client.close()
        except Exception:  # noqa: BLE001 - nobody is waiting for this any more
            pass

    def __enter__(self) -> Tutor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # --- running and grading -----------------------------------------------------------

    def run(self, code: str, filename: str, *, timeout: float = 10.0) -> RunResult:
        """Run ``code`` in a fresh sandbox child on the core's device."""
        client = self.client()
        return client.run(RunRequest(code=code, filename=filename, device=self.device, timeout=timeout))

    def grader(self) -> GradeFunction:
        """The injected grading function, else the real one (imported on first use)."""
        if self._grade is None:
            from tutor.grading.grade import grade_source

            self._grade = grade_source
        return self._grade

    def grade(self, exercise: Exercise, source: str, *, include_hidden: bool = False,
              filename: str = "solution.py", seed: int | None = None) -> ExerciseReport:
        """Grade ``source`` as a solution of ``exercise``. Locally (the default) hidden
        checks are counted but not run and the lesson's seeds are used; instructors pass
        ``include_hidden`` and a ``seed`` drawn for the run (:func:`draw_seed`)."""
        if seed is None:
            return self.grader()(exercise, source, self.client(), include_hidden=include_hidden, device=self.device,
                                 filename=filename)
        from tutor.grading.grade import draw_seeds

        return self.grader()(exercise, source, self.client(), include_hidden=include_hidden, device=self.device,
                             filename=filename, seeds=draw_seeds(seed, exercise))

    def grade_together(self, sources: Sequence[tuple[Exercise, str, str]], *, include_hidden: bool = True,
                       seed: int | None = None, keep_going: Callable[[], str | None] | None = None) -> list[ExerciseReport]:
        """Grade several ``(exercise, source, filename)`` as one job, such as a student's
        hand-in: each source runs in a child of its own, one after the other, and one
        judge decides them all. ``keep_going`` is asked before each source; a reason
        (a spent time budget) marks the rest as not graded."""
        if self._grade is None:
            from tutor.grading.grade import Submission, draw_seeds, grade_sources

            submissions = [Submission(e, source, filename, None if seed is None else draw_seeds(seed, e))
                           for e, source, filename in sources]
            return grade_sources(submissions, self.client(), include_hidden=include_hidden, device=self.device,
                                 keep_going=keep_going)
        reports = []  # an injected grader (the tests' fakes) grades one at a time
        for exercise, source, filename in sources:
            reason = keep_going() if keep_going else None
            reports.append(ExerciseReport(id=exercise.id, status="error", message=reason, points=exercise.points) if reason
                           else self.grade(exercise, source, include_hidden=include_hidden, filename=filename, seed=seed))
        return reports

    def grade_file(self, exercise: Exercise, *, include_hidden: bool = True, seed: int | None = None) -> ExerciseReport:
        """Grade the learner's workspace file of ``exercise``; a missing or unreadable file,
        or a failure of grading itself, is that exercise's error, never the caller's."""
        if self.workspace is None:
            raise WorkspaceError("no workspace to grade")
        path = self.workspace.path_for(exercise)
        if not path.exists():
            return ExerciseReport(id=exercise.id, status="error", message=f"no solution file at {path} (run `tutor init`)",
                                  points=exercise.points)
        try:
            source = self.workspace.read(exercise)
        except WorkspaceError as exc:
            return ExerciseReport(id=exercise.id, status="error", message=exc.msg, points=exercise.points)
        try:
            return self.grade(exercise, source, include_hidden=include_hidden, filename=str(path), seed=seed)
        except Exception as exc:  # noqa: BLE001 - one exercise's failure must not cost the others
            return ExerciseReport(id=exercise.id, status="error", message=f"grading failed: {type(exc).__name__}: {exc}",
                                  points=exercise.points)

    def grade_many(self, exercises: Iterable[Exercise], *, include_hidden: bool = True, jobs: int | None = None,
                   on_done: ProgressCallback | None = None, seed: int | None = None) -> list[ExerciseReport]:
        """Grade the workspace files of ``exercises`` in parallel on the one sandbox;
        ``on_done`` hears of each report as it finishes. The result keeps the order of
        ``exercises``. References are computed once per process (the grader's cache).
        Recording the verdicts is the learner session's (:meth:`tutor.session.Session.grade`)."""
        todo = list(dict.fromkeys(exercises))
        self.client()  # fail once, here, if there is no sandbox
        reports: dict[str, ExerciseReport] = {}
        with ThreadPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 1)) as pool:
            futures = {pool.submit(self.grade_file, e, include_hidden=include_hidden, seed=seed): e for e in todo}
            for future in as_completed(futures):
                report = future.result()
                reports[report.id] = report
                if on_done:
                    on_done(report)
        return [reports[e.id] for e in todo]
