"""Where the learner left off: the last lesson (and its cell) or exercise visited.

Kept in ``<workspace>/.tutor/last-visited.json``; ``tutor`` opens there and ``tutor list``
marks it. The record is advisory: it is written without an fsync (quitting must not
wait for the disk) but atomically (a reader sees the old record or the new one), and a
missing, damaged or unknown record reads as "nowhere", never as an error.

No torch, no Textual here.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict

from tutor.errors import WorkspaceError
from tutor.workspace.store import STATE_DIR, now_iso

VISIT_NAME = "last-visited.json"
VISIT_VERSION = 1

Kind = Literal["lesson", "exercise"]


class VisitJson(TypedDict):
    """``last-visited.json``, read back by :meth:`Visit.from_json` (leniently: any
    process of the learner's, or their editor, may have written it)."""

    version: int
    kind: Kind
    id: str
    cell: int | None
    at: str | None


@dataclass(frozen=True)
class Visit:
    """A lesson (``cell``: the index of the cell last focused, if any) or an exercise."""

    kind: Kind
    id: str
    cell: int | None = None
    at: str | None = None

    def to_json(self) -> VisitJson:
        return VisitJson(version=VISIT_VERSION, kind=self.kind, id=self.id, cell=self.cell, at=self.at)

    @classmethod
    def from_json(cls, data: Any) -> Visit | None:
        if not isinstance(data, dict) or data.get("version") != VISIT_VERSION:
            return None
        kind, ident, cell, at = data.get("kind"), data.get("id"), data.get("cell"), data.get("at")
        if kind not in ("lesson", "exercise") or not isinstance(ident, str) or not ident:
            return None
        if not (isinstance(cell, int) and not isinstance(cell, bool) and cell >= 0):
            cell = None
        return cls(kind, ident, cell, at if isinstance(at, str) else None)


def visit_path(root: Path) -> Path:
    return Path(root).expanduser() / STATE_DIR / VISIT_NAME


def read_visit(root: Path | None) -> Visit | None:
    """The last visit recorded in the workspace at ``root``; ``None`` when there is none
    or it cannot be read."""
    if root is None:
        return None
    try:
        return Visit.from_json(json.loads(visit_path(root).read_bytes().decode("utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def write_visit(root: Path, visit: Visit) -> None:
    """Record ``visit`` atomically (no fsync); a :class:`WorkspaceError` if it cannot be."""
    path = visit_path(root)
    data = json.dumps(visit.to_json()).encode("utf-8") + b"\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise WorkspaceError(f"{path}: cannot record the last visit ({exc.strerror})") from None


def new_visit(kind: Kind, ident: str, cell: int | None = None) -> Visit:
    return Visit(kind, ident, cell, now_iso())
