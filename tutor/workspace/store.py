"""The progress store of a workspace: what tutor remembers per exercise, as data, and
the ``.tutor/progress.json`` file format (read leniently, written whole).

No torch here: the CLI and the TUI import this module.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

DEFAULT_WORKSPACE_ENV = "TUTOR_WORKSPACE"
PROGRESS_VERSION = 1
STATE_DIR = ".tutor"
PROGRESS_NAME = "progress.json"
LOCK_NAME = "progress.lock"

NOT_STARTED: Final = "not started"
FAILED: Final = "failed"
PASSED: Final = "passed"
#: What tutor remembers of an exercise: the one vocabulary of progress statuses.
ProgressStatus = Literal["not started", "failed", "passed"]
STATUSES = (NOT_STARTED, FAILED, PASSED)
RESULT_TO_STATUS: dict[str, ProgressStatus] = {"pass": PASSED, "fail": FAILED, "error": FAILED}
#: How a pass reads while hidden checks have not run (the app checks the visible ones
#: only; ``tutor grade`` runs them all): never simply "passed".
VISIBLE_PASS: Final = "visible checks pass"
#: A status in the words a list shows: a progress status, or a pass of the visible checks only.
StatusLabel = Literal["not started", "failed", "passed", "visible checks pass"]


def status_label(status: ProgressStatus, hidden_unrun: int) -> StatusLabel:
    """``"visible checks pass"`` for a pass that did not run the hidden checks, else the
    status itself: never simply "passed" while hidden checks are still open."""
    return VISIBLE_PASS if status == PASSED and hidden_unrun else status


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


def now_iso() -> str:
    """The current time as ISO-8601 UTC with seconds, e.g. ``2026-11-22T22:43:35Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp() -> str:
    """A UTC timestamp for file names; same-second clashes get a counter suffix."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def free_path(path: Path) -> Path:
    """``path``, or ``path-1``, ``path-2``... : the first name not taken."""
    candidate, n = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}-{n}")
        n += 1
    return candidate


def sha256(text: str) -> str:
    """Hex digest of ``text``: how ``init`` recognises a starter the learner never changed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class ExerciseProgress:
    """What tutor remembers about one exercise. Timestamps are ISO-8601 UTC.

    ``starter_sha256`` is the hash of the starter text tutor last wrote to the file, so
    ``init`` can tell a file the learner changed (keep it) from an untouched one.
    ``hidden_unrun`` counts the hidden checks the last verdict did not run: a pass with
    some is a pass of the visible checks only, until ``tutor grade`` runs them.
    """

    status: ProgressStatus = NOT_STARTED
    attempts: int = 0
    hints_shown: int = 0
    first_seen: str | None = None
    last_attempt: str | None = None
    passed_at: str | None = None
    starter_sha256: str | None = None
    hidden_unrun: int = 0

    @property
    def label(self) -> StatusLabel:
        """The status in words a list can show (see :func:`status_label`)."""
        return status_label(self.status, self.hidden_unrun)

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
            elif f.name in ("attempts", "hints_shown", "hidden_unrun"):
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


def parse_progress(raw: bytes) -> dict[str, ExerciseProgress]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptProgress(f"not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("exercises"), dict):
        raise CorruptProgress("not a progress file")
    if data.get("version") != PROGRESS_VERSION:
        raise CorruptProgress(f"unknown version {data.get('version')!r}")
    return {str(k): ExerciseProgress.from_json(v) for k, v in data["exercises"].items()}


def dump_progress(entries: dict[str, ExerciseProgress]) -> bytes:
    payload = {
        "version": PROGRESS_VERSION,
        "exercises": {k: asdict(entries[k]) for k in sorted(entries)},
    }
    return (json.dumps(payload, indent=2) + "\n").encode("utf-8")


def progress_for(workspace: Path | None) -> dict[str, ExerciseProgress]:
    """Exercise id -> its progress entry, for ``tutor list``.

    Read-only and never raises: a missing, unreadable or corrupt workspace gives ``{}``
    (the next write through :class:`Workspace` repairs a corrupt file).
    """
    root = workspace if workspace is not None else default_workspace()
    try:
        return parse_progress(read_progress_bytes(root / STATE_DIR / PROGRESS_NAME))
    except (OSError, CorruptProgress):
        return {}


def statuses_for(workspace: Path | None) -> dict[str, ProgressStatus]:
    """Exercise id -> ``"not started"`` | ``"failed"`` | ``"passed"`` (see :func:`progress_for`)."""
    return {k: v.status for k, v in progress_for(workspace).items()}


def labels_for(workspace: Path | None) -> dict[str, StatusLabel]:
    """Exercise id -> its status in words, ``"visible checks pass"`` included (see
    :attr:`ExerciseProgress.label`), for what ``tutor list`` prints."""
    return {k: v.label for k, v in progress_for(workspace).items()}


#: A progress file holds a few hundred bytes per exercise; anything past this is not one.
MAX_PROGRESS_BYTES = 4 << 20


def read_progress_bytes(path: Path) -> bytes:
    """The progress file's bytes, read so that a hand-in cannot make it hang or eat the
    memory: a link is not followed, only a regular file is read (never a FIFO or a
    device: ``-> /dev/zero`` once read until memory ran out), and at most
    :data:`MAX_PROGRESS_BYTES`. What is not a progress file is :class:`CorruptProgress`;
    a file that cannot be opened raises its ``OSError``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CorruptProgress("it is a symbolic link") from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CorruptProgress("it is not a regular file")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_PROGRESS_BYTES:
                raise CorruptProgress(f"it is larger than {MAX_PROGRESS_BYTES >> 20} MiB")
        return b"".join(chunks)
    finally:
        os.close(fd)
