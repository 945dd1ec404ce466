"""Make learner-produced text safe to show in a terminal.

Escape sequences from a snippet could move the cursor, retitle the window or paint
over the TUI, so every string that came out of a child loses them before the front
sees it: CSI/OSC/other ESC sequences, C0 controls except newline and tab, DEL and the
C1 range. Carriage returns become newlines so progress bars stay readable. Surrogate
code points (a lone ``\\udc80`` arrives through JSON's escapes) cannot be encoded to
UTF-8 for a terminal or a report file: each becomes U+FFFD.
"""

from __future__ import annotations

import re
from typing import TypeVar, cast

T = TypeVar("T")

_ESCAPES = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]            # CSI ... final byte
    | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)? # OSC ... BEL or ST
    | \x1b[PX^_][^\x1b]*(?:\x1b\\)?      # DCS, SOS, PM, APC ... ST
    | \x1b[ -/]*[0-~]?                   # other two-byte escapes, or a lone ESC
    | \x9b[0-?]*[ -/]*[@-~]              # 8-bit CSI
    """,
    re.VERBOSE,
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` without terminal control sequences (``\\n`` and ``\\t`` kept)."""
    if text.isprintable():
        return text
    text = _SURROGATES.sub("\ufffd", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def clean(value: T) -> T:
    """Apply :func:`clean_text` to every string (keys included) inside JSON data; the
    data keeps its shape."""
    if isinstance(value, str):
        return cast(T, clean_text(value))
    if isinstance(value, list):
        return cast(T, [clean(v) for v in value])
    if isinstance(value, dict):
        return cast(T, {clean_text(k) if isinstance(k, str) else k: clean(v) for k, v in value.items()})
    return value
