"""Try-it edits: the learner's own copies of a lesson's cells, and its scratch cell.

One file per lesson, ``<workspace>/.tutor/try-it/<lesson-id>.json``::

    {"version": 1,
     "cells": {"3": {"code": "...", "original_sha256": "..."}},
     "scratch": "..."}

A cell's key is its index in the lesson; ``original_sha256`` is the hash of the lesson's
code the copy was made from, so a lesson that changed since can say so. Lesson files
are never written. Writes are atomic and durable (they are the learner's work); a
damaged file reads as no edits, never as an error.

No torch, no Textual here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from tutor.atomic import atomic_write
from tutor.errors import WorkspaceError
from tutor.workspace.store import STATE_DIR, sha256

TRY_IT_DIR = "try-it"
TRY_IT_VERSION = 1
_SAFE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class CellEditJson(TypedDict):
    code: str
    original_sha256: str


class TryItJson(TypedDict):
    """A lesson's try-it file, read back leniently by :meth:`TryIt.from_json`."""

    version: int
    cells: dict[str, CellEditJson]
    scratch: str


@dataclass(frozen=True)
class CellEdit:
    """The learner's copy of one cell, and the hash of the code it was made from."""

    code: str
    original_sha256: str = ""

    def made_from(self, original: str) -> bool:
        """Whether the lesson's cell is still the code this copy started as."""
        return not self.original_sha256 or self.original_sha256 == sha256(original)


@dataclass
class TryIt:
    """A lesson's try-it edits: copies of cells by index, and the scratch cell."""

    cells: dict[int, CellEdit] = field(default_factory=dict)
    scratch: str = ""

    def is_empty(self) -> bool:
        return not self.cells and not self.scratch

    def to_json(self) -> TryItJson:
        return TryItJson(
            version=TRY_IT_VERSION,
            cells={str(i): CellEditJson(code=e.code, original_sha256=e.original_sha256) for i, e in sorted(self.cells.items())},
            scratch=self.scratch,
        )

    @classmethod
    def from_json(cls, data: Any) -> TryIt:
        """Read leniently: anything malformed is left out, the rest kept."""
        found = cls()
        if not isinstance(data, dict) or data.get("version") != TRY_IT_VERSION:
            return found
        cells = data.get("cells")
        if isinstance(cells, dict):
            for key, entry in cells.items():
                if not (isinstance(key, str) and key.isdigit() and isinstance(entry, dict)):
                    continue
                code, sha = entry.get("code"), entry.get("original_sha256")
                if isinstance(code, str):
                    found.cells[int(key)] = CellEdit(code, sha if isinstance(sha, str) else "")
        scratch = data.get("scratch")
        if isinstance(scratch, str):
            found.scratch = scratch
        return found


def try_it_path(root: Path, lesson_id: str) -> Path:
    if not _SAFE_ID.match(lesson_id):
        raise WorkspaceError(f"{lesson_id!r}: not a lesson id that can name a file")
    return Path(root).expanduser() / STATE_DIR / TRY_IT_DIR / f"{lesson_id}.json"


def read_try_it(root: Path, lesson_id: str) -> TryIt:
    """The lesson's edits; none when there is no file or it cannot be read."""
    try:
        raw = try_it_path(root, lesson_id).read_bytes()
        return TryIt.from_json(json.loads(raw.decode("utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, WorkspaceError):
        return TryIt()


def write_try_it(root: Path, lesson_id: str, edits: TryIt) -> None:
    """Keep the lesson's edits (atomically); no edits left removes the file."""
    path = try_it_path(root, lesson_id)
    try:
        if edits.is_empty():
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, (json.dumps(edits.to_json(), indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise WorkspaceError(f"{path}: cannot keep your try-it edits ({exc.strerror})") from None
