"""A student's folder name as data: the name shown in the gradebook and the name of their
report files, whatever bytes the folder's name holds.

A folder name is the student's to choose (an LMS export keeps what they typed): it may
not be UTF-8, may be longer than a report file name can be once ``.xml`` and a temporary
suffix are added, and may hold line breaks or terminal escapes. Each of those costs only
that student: their report files get a stable short name, and what is shown is made safe
by the one sanitiser, :mod:`tutor.textsafe`.
"""

from __future__ import annotations

import hashlib
import os
import re

from tutor.textsafe import for_terminal_line

#: Longest name (in bytes) kept as is for report files: ``NAME.json`` and the temporary
#: ``.NAME.json.XXXXXXXX.tmp`` of an atomic write stay far below the usual 255-byte limit.
MAX_PLAIN_STEM_BYTES = 100
#: Of a name that cannot be kept, the part kept before its hash.
KEPT_PREFIX_CHARS = 40


def shown_name(name: str) -> str:
    """The folder name as the gradebook and the terminal show it: one line of plain text
    (:func:`tutor.textsafe.for_terminal_line`), bytes that are not UTF-8 shown as
    ``\\xe9`` rather than all alike as U+FFFD, so that two folders never show as one."""
    escaped = "".join(f"\\x{ord(char) - 0xDC00:02x}" if "\udc80" <= char <= "\udcff" else char for char in name)
    return for_terminal_line(escaped)


def report_stems(names: list[str]) -> dict[str, str]:
    """Each student's report stem (:func:`report_stem`), hashed for every name whose stem
    another name of the class shares, even only by case (``Alice`` and ``alice`` on a
    file system that folds case; a folder named like another's hashed stem)."""
    stems = {name: report_stem(name) for name in names}
    seen: dict[str, int] = {}
    for stem in stems.values():
        seen[stem.casefold()] = seen.get(stem.casefold(), 0) + 1
    return {name: report_stem(name, hashed=True) if seen[stem.casefold()] > 1 else stem for name, stem in stems.items()}


def report_stem(name: str, *, hashed: bool = False) -> str:
    """The stem of a student's report files (``STEM.json``, ``STEM.xml``): the folder name
    itself when it is short, UTF-8 and plain text (and not ``hashed``); else a readable
    prefix and a hash of the name's bytes, the same on every run."""
    if not hashed and shown_name(name) == name and "\\" not in name and not name.startswith(".") and len(name.encode()) <= MAX_PLAIN_STEM_BYTES:
        return name
    raw = os.fsencode(name)
    prefix = re.sub(r"[^A-Za-z0-9._-]+", "_", raw.decode("ascii", "replace"))[:KEPT_PREFIX_CHARS].strip("._-")
    return f"{prefix or 'student'}-{hashlib.sha256(raw).hexdigest()[:12]}"

