"""Learners' sign-in tokens, kept as hashes in the server's data directory.

A token is 32 random bytes (``secrets.token_urlsafe``), shown once when issued. The
file keeps only its SHA-256: a token has 256 bits of entropy, so a slow hash (scrypt)
would add nothing against guessing, and a leaked ``tokens.json`` gives no one a way
in. The learner's name, not anything the browser sends, picks their workspace:
names are checked against a narrow pattern so that a name is always one plain
directory under ``learners/``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from tutor.atomic import atomic_write
from tutor.errors import UsageError

#: A learner's name: a directory name on every system, never ``.`` or ``..``.
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
TOKENS_NAME = "tokens.json"
LEARNERS_DIR = "learners"


def check_name(name: str) -> str:
    """``name`` if it is a valid learner name, else a :class:`UsageError`."""
    if not NAME_PATTERN.fullmatch(name) or ".." in name:
        raise UsageError(f"{name!r}: a learner's name is lowercase letters, digits, '.', '_' and '-' (64 at most)")
    return name


def make_private(directory: Path) -> None:
    """Create ``directory`` if needed and make it its owner's alone (mode 700). Where a
    run gets no filesystem view of its own (in some containers) it still runs as
    another uid without the capability to read past permissions: this mode is then
    what keeps learners' code out of every workspace and the token file."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.chmod(0o700)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def read_roster(path: Path) -> list[str]:
    """The learners' names in a roster file: one a line (a CSV's first column); blank
    lines and ``#`` comments are skipped, and a header line ``name`` too."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the roster ({exc.strerror})") from None
    names: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        first = line.split(",", 1)[0].strip().lower()
        if not first or first.startswith("#") or (number == 1 and first == "name"):
            continue
        try:
            names.append(check_name(first))
        except UsageError as exc:
            raise UsageError(f"{path}:{number}: {exc.msg}") from None
    return sorted(set(names))


@dataclass(frozen=True)
class Issued:
    """A token just issued: the only moment its plain text exists."""

    name: str
    token: str


class TokenStore:
    """``DATA/tokens.json``: learner name -> SHA-256 of their token (and when issued)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / TOKENS_NAME

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise UsageError(f"{self.path}: cannot read the tokens ({exc})") from None
        return raw if isinstance(raw, dict) else {}

    def _write(self, entries: dict[str, dict[str, object]]) -> None:
        make_private(self.data_dir)
        atomic_write(self.path, json.dumps(entries, indent=1, sort_keys=True).encode(), mode=0o600)

    def names(self) -> list[str]:
        return sorted(self._read())

    def issue(self, name: str) -> Issued:
        """A new token for ``name`` (replacing any older one, which stops working)."""
        check_name(name)
        token = secrets.token_urlsafe(32)
        entries = self._read()
        entries[name] = {"sha256": token_hash(token), "issued": int(time.time())}
        self._write(entries)
        return Issued(name, token)

    def revoke(self, name: str) -> bool:
        """Forget ``name``'s token; False if there was none. Their workspace stays."""
        entries = self._read()
        if entries.pop(name, None) is None:
            return False
        self._write(entries)
        return True

    def learner_for(self, token: str) -> str | None:
        """The learner whose token this is, else None. Every entry is compared, in
        constant time, so the answer's timing says nothing about near misses."""
        wanted = token_hash(token)
        found = None
        for name, entry in self._read().items():
            stored = entry.get("sha256")
            if isinstance(stored, str) and hmac.compare_digest(stored, wanted):
                found = name
        return found

    def holds(self, name: str, digest: str) -> bool:
        """Whether ``name``'s current token still hashes to ``digest`` (not revoked or
        reissued since the learner signed in)."""
        stored = self._read().get(name, {}).get("sha256")
        return isinstance(stored, str) and hmac.compare_digest(stored, digest)

    def workspace_for(self, name: str) -> Path:
        """The learner's own workspace, from their name alone."""
        return self.data_dir / LEARNERS_DIR / check_name(name)
