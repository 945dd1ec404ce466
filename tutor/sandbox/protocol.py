"""The wire format between front, server and child: JSON headers plus raw bytes.

A frame is ``MAGIC | u32 header length | header JSON | blob bytes...``. The header is
a JSON object; its ``"blobs"`` entry lists ``[name, size]`` pairs, and that many bytes
follow in that order. Nothing is ever unpickled: a peer can send us only JSON values
and byte strings, and every frame is validated before anyone looks at it, because the
child's side of the channel is reachable by learner code.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

#: A JSON value as ``json.loads`` returns it: what a header holds before anyone checks
#: it against the shape of a message (``tutor.sandbox.messages``).
Json: TypeAlias = "None | bool | int | float | str | list[Json] | dict[str, Json]"
JsonObject: TypeAlias = "dict[str, Json]"

MAGIC = b"TUT1"
_PREFIX = struct.Struct(">4sI")
MAX_HEADER = 32 * 1024 * 1024
MAX_BLOBS_TOTAL = 2 * 1024 * 1024 * 1024
MAX_BLOB_COUNT = 4096
# JSON nesting a header may have. Legitimate headers stay far below (a tensor's values
# nest once per dimension); Python's parser would raise RecursionError near 1000.
MAX_DEPTH = 256


class ProtocolError(Exception):
    """A frame broke the format: the peer is buggy or hostile."""


@dataclass
class Frame:
    """One decoded message: its JSON header and its named byte strings."""

    header: JsonObject
    blobs: dict[str, bytes] = field(default_factory=dict)


def encode(header: Mapping[str, object], blobs: dict[str, bytes] | None = None) -> bytes:
    """Serialise one frame. ``header`` must not use the key ``"blobs"`` itself."""
    blobs = blobs or {}
    # The peer refuses a frame past these, and a front that sent one would lose its
    # server: so the sender refuses first, and only this request fails.
    if len(blobs) > MAX_BLOB_COUNT:
        raise ProtocolError(f"{len(blobs)} blobs, more than {MAX_BLOB_COUNT}")
    total = sum(len(data) for data in blobs.values())
    if total > MAX_BLOBS_TOTAL:
        raise ProtocolError(f"{total / 2**20:.0f} MiB of values, more than {MAX_BLOBS_TOTAL / 2**20:.0f} MiB")
    body = dict(header)
    body["blobs"] = [[name, len(data)] for name, data in blobs.items()]
    # NaN and infinities are allowed: a comparison may well report an infinite
    # difference, and Python's json reads them back as floats (still data, not code).
    try:
        text = json.dumps(body, separators=(",", ":")).encode("utf-8")
    except RecursionError:
        raise ProtocolError("header nested too deeply") from None
    if nesting_depth(body, MAX_DEPTH) > MAX_DEPTH:
        raise ProtocolError(f"header nested more than {MAX_DEPTH} deep")
    if len(text) > MAX_HEADER:
        raise ProtocolError(f"header too large ({len(text)} bytes)")
    return b"".join([_PREFIX.pack(MAGIC, len(text)), text, *blobs.values()])


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply ``value`` (JSON data) nests lists and objects, counted without
    recursion; stops counting once past ``limit``."""
    containers = (dict, list, tuple)
    if type(value) not in containers:
        return 0
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
        children = item.values() if type(item) is dict else item
        if set(map(type, children)).isdisjoint(containers):
            continue  # all scalars (a tensor's last dimension): no Python loop over them
        stack.extend((child, depth + 1) for child in children if type(child) in containers)
    return deepest


def _parse_header(raw: bytes, max_depth: int = MAX_DEPTH) -> tuple[JsonObject, list[tuple[str, int]]]:
    try:
        header = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ProtocolError("header nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"header is not JSON: {str(exc)[:200]}") from None
    if not isinstance(header, dict):
        raise ProtocolError("header is not a JSON object")
    if nesting_depth(header, max_depth) > max_depth:
        raise ProtocolError(f"header nested more than {max_depth} deep")
    spec = header.pop("blobs", [])
    if not isinstance(spec, list) or len(spec) > MAX_BLOB_COUNT:
        raise ProtocolError("bad blob list")
    sizes: list[tuple[str, int]] = []
    total = 0
    for entry in spec:
        if (
            not isinstance(entry, list) or len(entry) != 2
            or not isinstance(entry[0], str) or type(entry[1]) is not int or entry[1] < 0
        ):
            raise ProtocolError(f"bad blob entry {entry!r:.80}")
        total += entry[1]
        if total > MAX_BLOBS_TOTAL:
            raise ProtocolError("blobs too large")
        sizes.append((entry[0], entry[1]))
    if len({name for name, _ in sizes}) != len(sizes):
        raise ProtocolError("duplicate blob names")
    return header, sizes


class FrameDecoder:
    """Incremental decoder: feed it bytes as they arrive, collect whole frames.

    After a :class:`ProtocolError` the stream is unusable; callers drop the peer.
    ``max_header`` and ``max_depth`` bound a header's size and JSON nesting (a peer we
    trust less gets tighter bounds).
    """

    def __init__(self, *, max_header: int = MAX_HEADER, max_depth: int = MAX_DEPTH) -> None:
        self.max_header = max_header
        self.max_depth = max_depth
        self._buf = bytearray()
        self._header: JsonObject | None = None
        self._sizes: list[tuple[str, int]] = []

    @property
    def pending(self) -> int:
        """Bytes received that do not yet form a whole frame."""
        return len(self._buf) + (1 if self._header is not None else 0)

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        while True:
            frame = self._next()
            if frame is None:
                return frames
            frames.append(frame)

    def _next(self) -> Frame | None:
        if self._header is None:
            if len(self._buf) < _PREFIX.size:
                if self._buf and not MAGIC.startswith(bytes(self._buf[:4])):
                    raise ProtocolError("bad magic")
                return None
            magic, length = _PREFIX.unpack_from(self._buf)
            if magic != MAGIC:
                raise ProtocolError("bad magic")
            if length > self.max_header:
                raise ProtocolError(f"header length {length} too large")
            if len(self._buf) < _PREFIX.size + length:
                return None
            raw = bytes(self._buf[_PREFIX.size:_PREFIX.size + length])
            del self._buf[:_PREFIX.size + length]
            self._header, self._sizes = _parse_header(raw, self.max_depth)
        need = sum(size for _, size in self._sizes)
        if len(self._buf) < need:
            return None
        blobs: dict[str, bytes] = {}
        offset = 0
        for name, size in self._sizes:
            blobs[name] = bytes(self._buf[offset:offset + size])
            offset += size
        del self._buf[:need]
        frame = Frame(self._header, blobs)
        self._header, self._sizes = None, []
        return frame


def write_frame(fd: int, header: Mapping[str, object], blobs: dict[str, bytes] | None = None) -> None:
    """Write a whole frame to a blocking file descriptor."""
    data = memoryview(encode(header, blobs))
    while data:
        written = os.write(fd, data)
        data = data[written:]
