"""The learner's workspace files: one editable ``.py`` file per exercise, and their progress.

Layout (what ``tutor init`` writes)::

    <root>/
      <lesson-id>/<exercise-id>.py     the learner's solution, starting as the starter
      .tutor/progress.json             status, attempts, hints shown, timestamps
      .tutor/progress.lock             taken (flock) around every read-modify-write

Two promises are kept here, because a learner's solutions are their work:

* nothing tutor does loses a solution: writes are atomic (temp file, fsync, rename,
  fsync of the directory), ``init`` never overwrites a file the learner changed, and
  ``reset`` keeps the old file as a backup first;
* progress never becomes a crash: a corrupt ``progress.json`` is moved aside with a
  warning and rebuilt from the files on disk.

No torch here: the CLI and the TUI import this module.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tutor.atomic import atomic_write, fsync_dir
from tutor.errors import UsageError, WorkspaceError
from tutor.i18n import _
from tutor.lessons import Exercise, LessonSet
from tutor.workspace.starters import starter_text
from tutor.workspace.store import (
    LOCK_NAME,
    NOT_STARTED,
    PASSED,
    PROGRESS_NAME,
    RESULT_TO_STATUS,
    STATE_DIR,
    CorruptProgress,
    ExerciseProgress,
    dump_progress,
    free_path,
    now_iso,
    parse_progress,
    read_progress_bytes,
    sha256,
    stamp,
)
from tutor.workspace.tryit import TryIt, read_try_it, write_try_it
from tutor.workspace.visits import Kind, Visit, new_visit, read_visit, write_visit

#: A solution file larger than this is not read (a data dump, a link to /dev/zero).
MAX_SOLUTION_BYTES = 1024 * 1024


def read_solution(path: Path, *, follow_symlinks: bool = True) -> str:
    """A solution file's text, or a :class:`WorkspaceError` naming it: missing, not a
    regular file (a FIFO would block the read forever, a device never end), larger than
    :data:`MAX_SOLUTION_BYTES`, or not UTF-8. Never blocks."""
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow_symlinks else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise WorkspaceError(f"{path}: no such file; run `tutor init` to write the starters") from None
    except OSError as exc:
        raise WorkspaceError(f"{path}: cannot read ({exc.strerror or exc})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise WorkspaceError(f"{path}: cannot read (it is a directory)" if stat.S_ISDIR(mode) else f"{path}: not a regular file")
    with os.fdopen(fd, "rb") as handle:
        raw = handle.read(MAX_SOLUTION_BYTES + 1)
    if len(raw) > MAX_SOLUTION_BYTES:
        raise WorkspaceError(f"{path}: larger than {MAX_SOLUTION_BYTES // 1024} KB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WorkspaceError(f"{path}: not UTF-8 text (byte {exc.start})") from None


@dataclass
class InitReport:
    """What ``Workspace.init`` did, path by path.

    ``written``: starters written where no file was; ``updated``: untouched starters
    refreshed because the lesson's starter changed; ``kept``: files left as they were.
    """

    root: Path
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)



class Workspace:
    """The learner's solution files and progress under ``root``."""

    def __init__(self, root: Path, lessons: LessonSet) -> None:
        self.root = Path(root).expanduser()
        self.lessons = lessons
        #: Things the learner should know that are not errors, e.g. a repaired file.
        self.warnings: list[str] = []

    # -- paths ----------------------------------------------------------------

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def progress_path(self) -> Path:
        return self.state_dir / PROGRESS_NAME

    def path_for(self, exercise: Exercise) -> Path:
        return self.root / exercise.lesson_id / f"{exercise.short_id}.py"

    def _makedirs(self, directory: Path) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise WorkspaceError(_("{path}: exists and is not a directory").format(path=directory)) from None
        except OSError as exc:
            raise WorkspaceError(_("{path}: cannot create the workspace ({error})").format(path=directory, error=exc.strerror)) from None

    # -- solution files -------------------------------------------------------

    def init(self) -> InitReport:
        """Write every missing starter; refresh starters the learner never touched when
        the lesson's starter changed; keep everything else exactly as it is."""
        report = InitReport(root=self.root)
        with self._progress() as entries:
            for exercise in self.lessons.exercises():
                path = self.path_for(exercise)
                entry = entries.setdefault(exercise.id, ExerciseProgress())
                entry.touch()
                current = self._read_optional(path)
                fresh = starter_text(exercise)
                if current is None:
                    self._write_starter(path, fresh, entry)
                    report.written.append(path)
                elif current != fresh and entry.starter_sha256 == sha256(current):
                    self._write_starter(path, fresh, entry)
                    report.updated.append(path)
                else:
                    if current == fresh:
                        entry.starter_sha256 = sha256(fresh)
                    report.kept.append(path)
        return report

    def ensure(self, exercise: Exercise) -> Path:
        """The exercise's file, written from the starter first if it is missing."""
        path = self.path_for(exercise)
        if path.exists():
            return path
        with self._progress() as entries:
            entry = entries.setdefault(exercise.id, ExerciseProgress())
            entry.touch()
            if not path.exists():  # another process may have written it meanwhile
                self._write_starter(path, starter_text(exercise), entry)
        return path

    def read(self, exercise: Exercise) -> str:
        """The learner's solution text; a :class:`WorkspaceError` naming the file when
        it is missing or unreadable."""
        return read_solution(self.path_for(exercise))

    def save(self, exercise: Exercise, text: str) -> None:
        """Replace the learner's file atomically (the TUI's editor saves through this)."""
        path = self.path_for(exercise)
        self._makedirs(path.parent)
        try:
            atomic_write(path, text.encode("utf-8"))
        except OSError as exc:
            raise WorkspaceError(f"{path}: cannot write ({exc.strerror})") from None

    def reset(self, exercise: Exercise) -> Path | None:
        """Put the starter back. The old file is first copied to
        ``<name>.py.bak-<timestamp>``, whose path is returned; ``None`` when there was
        nothing to keep (no file, or the file already was the starter)."""
        path = self.path_for(exercise)
        fresh = starter_text(exercise)
        backup: Path | None = None
        # Under the lock, so two resets in the same second cannot pick the same name.
        with self._progress() as entries:
            try:
                old = path.read_bytes()
            except FileNotFoundError:
                old = None
            except OSError as exc:
                raise WorkspaceError(f"{path}: cannot read ({exc.strerror})") from None
            if old is not None and old != fresh.encode("utf-8"):
                backup = free_path(path.with_name(f"{path.name}.bak-{stamp()}"))
                try:
                    atomic_write(backup, old)
                except OSError as exc:
                    raise WorkspaceError(_("{path}: cannot write the backup ({error})").format(path=backup, error=exc.strerror)) from None
            entry = entries.setdefault(exercise.id, ExerciseProgress())
            entry.touch()
            self._write_starter(path, fresh, entry)
            # passed_at stays: a learner who solved it once keeps access to the solution.
            entry.status = NOT_STARTED
        return backup

    def _read_optional(self, path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            return ""  # not the starter, so it is kept untouched
        except OSError as exc:
            raise WorkspaceError(f"{path}: cannot read ({exc.strerror})") from None

    def _write_starter(self, path: Path, text: str, entry: ExerciseProgress) -> None:
        self._makedirs(path.parent)
        try:
            atomic_write(path, text.encode("utf-8"))
        except OSError as exc:
            raise WorkspaceError(f"{path}: cannot write ({exc.strerror})") from None
        entry.starter_sha256 = sha256(text)

    # -- try-it edits of lesson cells -------------------------------------------

    def try_it(self, lesson_id: str) -> TryIt:
        """The learner's copies of ``lesson_id``'s cells and its scratch cell."""
        return read_try_it(self.root, lesson_id)

    def save_try_it(self, lesson_id: str, edits: TryIt) -> None:
        """Keep the lesson's try-it edits (never the lesson file itself)."""
        write_try_it(self.root, lesson_id, edits)

    # -- where the learner left off ---------------------------------------------

    def record_visit(self, kind: Kind, ident: str, cell: int | None = None) -> None:
        """Remember the lesson (and its focused cell) or exercise the learner is on."""
        write_visit(self.root, new_visit(kind, ident, cell))

    def last_visit(self) -> Visit | None:
        """The last lesson or exercise visited; ``None`` when nothing is recorded."""
        return read_visit(self.root)

    # -- progress -------------------------------------------------------------

    def progress(self, exercise_id: str) -> ExerciseProgress:
        """What is recorded for ``exercise_id`` (a fresh entry if nothing is)."""
        with self._progress(write=False) as entries:
            return entries.get(exercise_id, ExerciseProgress())

    def all_progress(self) -> dict[str, ExerciseProgress]:
        with self._progress(write=False) as entries:
            return dict(entries)

    def record_result(self, exercise_id: str, status: str, hidden_unrun: int = 0) -> None:
        """Record one grading of ``exercise_id``: ``"pass"``, ``"fail"`` or ``"error"``,
        with the number of hidden checks it did not run (the app's local check runs the
        visible ones only: its pass reads "visible checks pass" until ``tutor grade``)."""
        if status not in RESULT_TO_STATUS:
            raise ValueError(f"unknown result {status!r}; expected pass, fail or error")
        with self._progress() as entries:
            entry = entries.setdefault(exercise_id, ExerciseProgress())
            entry.touch()
            stamp = now_iso()
            entry.attempts += 1
            entry.last_attempt = stamp
            # A pass of every check is not demoted by a later pass that checked less
            # (a public copy without the hidden checks, `tutor grade` then the app).
            full_pass_before = entry.status == PASSED and entry.hidden_unrun == 0 and entry.passed_at is not None
            entry.status = RESULT_TO_STATUS[status]
            entry.hidden_unrun = hidden_unrun if entry.status == PASSED and not full_pass_before else 0
            if entry.status == PASSED and entry.passed_at is None:
                entry.passed_at = stamp

    def next_hint(self, exercise: Exercise) -> tuple[int, str]:
        """The next hint as ``(number, text)``, numbered from 1, and record it. After
        the last hint, the last one again."""
        if not exercise.hints:
            raise UsageError(_("{id} has no hints").format(id=exercise.id))
        with self._progress() as entries:
            entry = entries.setdefault(exercise.id, ExerciseProgress())
            entry.touch()
            number = min(entry.hints_shown + 1, len(exercise.hints))
            entry.hints_shown = max(entry.hints_shown, number)
        return number, exercise.hints[number - 1]

    @contextlib.contextmanager
    def _progress(self, *, write: bool = True) -> Iterator[dict[str, ExerciseProgress]]:
        """The progress entries, under the lock; written back atomically on exit.

        Reads take the lock too, so that a corrupt file is repaired by one process only.
        """
        if not write and not self.progress_path.exists():
            yield {}
            return
        self._makedirs(self.state_dir)
        lock_path = self.state_dir / LOCK_NAME
        try:
            lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise WorkspaceError(f"{lock_path}: cannot open ({exc.strerror})") from None
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            entries = self._load_locked()
            before = dump_progress(entries)
            yield entries
            after = dump_progress(entries)
            if write and after != before:
                try:
                    atomic_write(self.progress_path, after)
                except OSError as exc:
                    raise WorkspaceError(f"{self.progress_path}: cannot write ({exc.strerror})") from None
        finally:
            os.close(lock_fd)  # closing the descriptor releases the flock

    def _load_locked(self) -> dict[str, ExerciseProgress]:
        self._remove_stale_temp_files()
        try:
            return parse_progress(read_progress_bytes(self.progress_path))
        except FileNotFoundError:
            return self._rebuild()
        except OSError as exc:
            raise WorkspaceError(f"{self.progress_path}: cannot read ({exc.strerror})") from None
        except CorruptProgress as exc:
            aside = free_path(self.progress_path.with_name(f"{PROGRESS_NAME}.corrupt-{stamp()}"))
            os.replace(self.progress_path, aside)
            fsync_dir(self.state_dir)
            self.warnings.append(
                f"progress file was corrupt ({exc}); moved aside to {aside} and rebuilt "
                "from your solution files (statuses and hint counts start over)"
            )
            entries = self._rebuild()
            atomic_write(self.progress_path, dump_progress(entries))
            return entries

    def _remove_stale_temp_files(self) -> None:
        # Only the lock holder writes progress, so any temp file left here is from a
        # process that died mid-write.
        for tmp in self.state_dir.glob(f".{PROGRESS_NAME}.*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _rebuild(self) -> dict[str, ExerciseProgress]:
        """Progress recovered from the files on disk: every file that is still exactly
        its starter is recorded as such; changed files are simply kept."""
        entries: dict[str, ExerciseProgress] = {}
        for exercise in self.lessons.exercises():
            text = self._read_optional(self.path_for(exercise))
            if text is None:
                continue
            entry = entries[exercise.id] = ExerciseProgress()
            entry.touch()
            if text == starter_text(exercise):
                entry.starter_sha256 = sha256(text)
        return entries
