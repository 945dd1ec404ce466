"""The wire format and the output cleaner, without a server."""

from __future__ import annotations

import pytest

from tutor.sandbox.protocol import MAGIC, FrameDecoder, ProtocolError, encode
from tutor.sandbox.sanitize import clean, clean_text


def test_a_frame_with_blobs_survives_arriving_one_byte_at_a_time() -> None:
    data = encode({"op": "result", "id": 7}, {"x": b"\x00\x01raw", "empty": b""})
    decoder = FrameDecoder()
    frames = [frame for byte in data for frame in decoder.feed(bytes([byte]))]
    assert len(frames) == 1
    assert frames[0].header == {"op": "result", "id": 7}
    assert frames[0].blobs == {"x": b"\x00\x01raw", "empty": b""}
    assert decoder.pending == 0


def test_two_frames_in_one_read_are_both_decoded() -> None:
    data = encode({"n": 1}) + encode({"n": 2}, {"b": b"12"})
    assert [f.header["n"] for f in FrameDecoder().feed(data)] == [1, 2]


@pytest.mark.parametrize(
    "garbage",
    [
        b"garbage!",
        MAGIC + b"\x00\x00\x00\x05" + b"nope!",
        MAGIC + b"\x00\x00\x00\x02" + b"[]",
        MAGIC + b"\xff\xff\xff\xff",
        MAGIC + b"\x00\x00\x00\x14" + b'{"blobs": [["a",-1]]}'[:20],
    ],
    ids=["no-magic", "not-json", "not-an-object", "huge-header", "negative-blob"],
)
def test_garbage_is_refused_not_misread(garbage: bytes) -> None:
    with pytest.raises(ProtocolError):
        FrameDecoder().feed(garbage)


def test_a_blob_list_must_name_sizes_exactly() -> None:
    header = b'{"blobs": [["a", 1.5]]}'
    with pytest.raises(ProtocolError, match="blob entry"):
        FrameDecoder().feed(MAGIC + len(header).to_bytes(4, "big") + header)


def test_infinite_differences_cross_the_wire_as_floats() -> None:
    (frame,) = FrameDecoder().feed(encode({"diff": float("inf"), "bad": float("-inf")}))
    assert frame.header == {"diff": float("inf"), "bad": float("-inf")}


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text\n", "plain text\n"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b]0;pwned title\x07after", "after"),
        ("\x1b[2J\x1b[Hclear", "clear"),
        ("bell\x07 and null\x00", "bell and null"),
        ("progress 10%\rprogress 20%", "progress 10%\nprogress 20%"),
        ("tab\tkept", "tab\tkept"),
        ("c1 \x9b31m csi", "c1  csi"),
    ],
)
def test_terminal_control_sequences_are_stripped(raw: str, shown: str) -> None:
    assert clean_text(raw) == shown


def test_cleaning_reaches_inside_nested_data() -> None:
    assert clean({"a\x1b[1m": ["\x1b[31mx", 1, None]}) == {"a": ["x", 1, None]}
