"""The class list: ``--roster CSV`` with the columns ``id``, ``name``, ``email``, ``folder``.

With a roster the gradebook has a row for every student on it, those who handed in
nothing included ("missing"), in the roster's order. ``folder`` is the student's folder
name under the submissions (default: ``id``). Optional columns: ``section`` and
``canvas_id`` (for the Canvas gradebook), ``due`` (this student's due date, ISO 8601).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from tutor.errors import UsageError

REQUIRED = ("id", "name")
#: A roster larger than this is not a class list.
MAX_ROSTER_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class RosterEntry:
    """One student of the roster: their folder name and the roster's columns."""

    folder: str
    columns: dict[str, str]


def read_roster(path: Path) -> list[RosterEntry]:
    """The roster's students in its order; a :class:`UsageError` that names the file
    (and line) if it cannot be read, lacks a column, or names a folder twice."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the roster ({exc.strerror or exc})") from None
    if len(raw) > MAX_ROSTER_BYTES:
        raise UsageError(f"{path}: larger than {MAX_ROSTER_BYTES // (1024 * 1024)} MB; not a roster")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start}); save the roster as CSV UTF-8") from None
    reader = csv.DictReader(text.splitlines())
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise UsageError(f"{path}:1: the roster needs the columns id, name, email, folder (missing: {', '.join(missing)})")
    entries: list[RosterEntry] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        columns = {key.strip().lower(): (value or "").strip() for key, value in row.items() if isinstance(key, str)}
        if not any(columns.values()):
            continue
        folder = columns.get("folder") or columns.get("id", "")
        if not folder:
            raise UsageError(f"{path}:{line}: a student with neither a folder nor an id")
        if "/" in folder or folder in (".", ".."):
            raise UsageError(f"{path}:{line}: {folder!r} is not a folder name")
        if folder in seen:
            raise UsageError(f"{path}:{line}: the folder {folder!r} is already on line {seen[folder]}")
        seen[folder] = line
        entries.append(RosterEntry(folder, columns))
    return entries
