"""The learner's workspace: one editable ``.py`` file per exercise, and their progress.

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
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tutor.atomic import atomic_write, fsync_dir
from tutor.errors import UsageError, WorkspaceError
from tutor.lessons import Exercise, LessonSet

DEFAULT_WORKSPACE_ENV = "TUTOR_WORKSPACE"
PROGRESS_VERSION = 1
STATE_DIR = ".tutor"
PROGRESS_NAME = "progress.json"
LOCK_NAME = "progress.lock"

NOT_STARTED, FAILED, PASSED = "not started", "failed", "passed"
STATUSES = (NOT_STARTED, FAILED, PASSED)
_RESULT_TO_STATUS = {"pass": PASSED, "fail": FAILED, "error": FAILED}


def default_workspace() -> Path:
    """Where solutions live when no ``--workspace`` is given.

    ``$TUTOR_WORKSPACE`` if set, else ``~/tutor-workspace``: a visible folder in the
    home directory rather than a hidden platform data directory, because the learner
    opens these files in their own editor and may commit them to git.
    """
    override = os.environ.get(DEFAULT_WORKSPACE_ENV)
    if override:
        return Path(override).expanduser()
    return Path.home() / "tutor-workspace"


# --------------------------------------------------------------------------- files


def now_iso() -> str:
    """The current time as ISO-8601 UTC with seconds, e.g. ``2026-11-22T22:43:35Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp() -> str:
    """A UTC timestamp for file names; same-second clashes get a counter suffix."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def _free_path(path: Path) -> Path:
    """``path``, or ``path-1``, ``path-2``... : the first name not taken."""
    candidate, n = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}-{n}")
        n += 1
    return candidate


def sha256(text: str) -> str:
    """Hex digest of ``text``: how ``init`` recognises a starter the learner never changed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------ progress


@dataclass
class ExerciseProgress:
    """What tutor remembers about one exercise. Timestamps are ISO-8601 UTC.

    ``starter_sha256`` is the hash of the starter text tutor last wrote to the file, so
    ``init`` can tell a file the learner changed (keep it) from an untouched one.
    """

    status: str = NOT_STARTED
    attempts: int = 0
    hints_shown: int = 0
    first_seen: str | None = None
    last_attempt: str | None = None
    passed_at: str | None = None
    starter_sha256: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> ExerciseProgress:
        """Read an entry leniently: a field of the wrong type falls back to its default
        rather than costing the learner the rest of their progress."""
        entry = cls()
        if not isinstance(data, dict):
            return entry
        for f in fields(cls):
            value = data.get(f.name)
            if f.name == "status":
                ok = value in STATUSES
            elif f.name in ("attempts", "hints_shown"):
                ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            else:
                ok = isinstance(value, str)
            if ok:
                setattr(entry, f.name, value)
        return entry

    def touch(self) -> None:
        if self.first_seen is None:
            self.first_seen = now_iso()


class CorruptProgress(Exception):
    """progress.json exists but is not a progress file this version can read."""


def _parse_progress(raw: bytes) -> dict[str, ExerciseProgress]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptProgress(f"not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("exercises"), dict):
        raise CorruptProgress("not a progress file")
    if data.get("version") != PROGRESS_VERSION:
        raise CorruptProgress(f"unknown version {data.get('version')!r}")
    return {str(k): ExerciseProgress.from_json(v) for k, v in data["exercises"].items()}


def _dump_progress(entries: dict[str, ExerciseProgress]) -> bytes:
    payload = {
        "version": PROGRESS_VERSION,
        "exercises": {k: asdict(entries[k]) for k in sorted(entries)},
    }
    return (json.dumps(payload, indent=2) + "\n").encode("utf-8")


def statuses_for(workspace: Path | None) -> dict[str, str]:
    """Exercise id -> ``"not started"`` | ``"failed"`` | ``"passed"``, for ``tutor list``.

    Read-only and never raises: a missing, unreadable or corrupt workspace gives ``{}``
    (the next write through :class:`Workspace` repairs a corrupt file).
    """
    root = workspace if workspace is not None else default_workspace()
    try:
        raw = (root / STATE_DIR / PROGRESS_NAME).read_bytes()
        entries = _parse_progress(raw)
    except (OSError, CorruptProgress):
        return {}
    return {k: v.status for k, v in entries.items()}


# ----------------------------------------------------------------------- workspace


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


HEADER = """\
# {title}  ({id})
#
{prompt}
#
# Write your solution below, then check it with:   tutor grade {id}
#   (in the tutor app: ctrl+r checks, ctrl+g shows the next hint)
# Stuck? The next hint:                             tutor hint {id}
# When tutor runs this file, torch, nn, F and DEVICE are already defined;
# the imports are here for your editor.

import torch
from torch import nn
import torch.nn.functional as F

"""


def starter_text(exercise: Exercise) -> str:
    """The file a learner starts from: a header that says what to do and how to check
    it, the imports an editor wants, then the lesson's starter code."""
    prompt = "\n".join(f"# {line}".rstrip() for line in exercise.prompt.strip().splitlines())
    header = HEADER.format(title=exercise.title, id=exercise.id, prompt=prompt or "#")
    return header + exercise.starter.rstrip("\n") + "\n"


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
            raise WorkspaceError(f"{directory}: exists and is not a directory") from None
        except OSError as exc:
            raise WorkspaceError(f"{directory}: cannot create the workspace ({exc.strerror})") from None

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
        path = self.path_for(exercise)
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise WorkspaceError(f"{path}: no such file; run `tutor init` to write the starters") from None
        except UnicodeDecodeError as exc:
            raise WorkspaceError(f"{path}: not UTF-8 text (byte {exc.start})") from None
        except OSError as exc:
            raise WorkspaceError(f"{path}: cannot read ({exc.strerror})") from None

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
                backup = _free_path(path.with_name(f"{path.name}.bak-{_stamp()}"))
                try:
                    atomic_write(backup, old)
                except OSError as exc:
                    raise WorkspaceError(f"{backup}: cannot write the backup ({exc.strerror})") from None
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

    # -- progress -------------------------------------------------------------

    def progress(self, exercise_id: str) -> ExerciseProgress:
        """What is recorded for ``exercise_id`` (a fresh entry if nothing is)."""
        with self._progress(write=False) as entries:
            return entries.get(exercise_id, ExerciseProgress())

    def all_progress(self) -> dict[str, ExerciseProgress]:
        with self._progress(write=False) as entries:
            return dict(entries)

    def record_result(self, exercise_id: str, status: str) -> None:
        """Record one grading of ``exercise_id``: ``"pass"``, ``"fail"`` or ``"error"``."""
        if status not in _RESULT_TO_STATUS:
            raise ValueError(f"unknown result {status!r}; expected pass, fail or error")
        with self._progress() as entries:
            entry = entries.setdefault(exercise_id, ExerciseProgress())
            entry.touch()
            stamp = now_iso()
            entry.attempts += 1
            entry.last_attempt = stamp
            entry.status = _RESULT_TO_STATUS[status]
            if entry.status == PASSED and entry.passed_at is None:
                entry.passed_at = stamp

    def next_hint(self, exercise: Exercise) -> tuple[int, str]:
        """The next hint as ``(number, text)``, numbered from 1, and record it. After
        the last hint, the last one again."""
        if not exercise.hints:
            raise UsageError(f"{exercise.id} has no hints")
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
            before = _dump_progress(entries)
            yield entries
            after = _dump_progress(entries)
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
            raw = self.progress_path.read_bytes()
        except FileNotFoundError:
            return self._rebuild()
        except OSError as exc:
            raise WorkspaceError(f"{self.progress_path}: cannot read ({exc.strerror})") from None
        try:
            return _parse_progress(raw)
        except CorruptProgress as exc:
            aside = _free_path(self.progress_path.with_name(f"{PROGRESS_NAME}.corrupt-{_stamp()}"))
            os.replace(self.progress_path, aside)
            fsync_dir(self.state_dir)
            self.warnings.append(
                f"progress file was corrupt ({exc}); moved aside to {aside} and rebuilt "
                "from your solution files (statuses and hint counts start over)"
            )
            entries = self._rebuild()
            atomic_write(self.progress_path, _dump_progress(entries))
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
