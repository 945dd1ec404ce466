"""Compare what a snippet printed with its lesson's ``output`` fence as a reader would.

A number matches when it is equal within a small tolerance, whatever its printed form
(``1.``, ``1.0000``, ``1.0000e+00``): torch's portable kernels, the AVX2 and AVX-512
ones and a GPU sum in different orders, so a float's last digits (and with them how
torch chooses to print it) differ from machine to machine. Everything else in the text
must match exactly. A fence written ``output exact`` compares character for character.

Headless and torch-free: the front, ``check-lessons`` and the tests all use it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: Relative and absolute tolerance between a lesson's number and the run's, on top of
#: the rounding of the printed digits (see :func:`numbers_match`). On the CPU, kernels
#: differ by a few float32 ulps (about 1e-7 relative) that a training loop may grow to
#: 1e-5 over its steps; 1e-4 leaves room for that and still fails any real change.
CPU_RTOL, CPU_ATOL = 1e-4, 1e-6
#: On a GPU, convolutions run in TF32 by default (10 bits of mantissa, about 5e-4
#: relative) and reductions add in another order: a wider tolerance, for CUDA runs only.
GPU_RTOL, GPU_ATOL = 2e-3, 1e-4
#: The most that a last printed digit's rounding may add, relative to the number: a
#: kernel's few ulps move a printed digit of a value of 0.1 or more (four decimals) often
#: enough to matter, one of 0.01 rarely; beyond that a digit is the value itself.
ROUNDING_CAP = 1e-3

# A number: an optional sign, digits with an optional fraction (``1.``, ``.5``, ``0.25``)
# and exponent, or inf/nan. Not part of a word (``float32``, ``conv1``, ``MulBackward0``
# are text) and not followed by a letter or digit.
_NUMBER = re.compile(
    r"(?<![\w.])(?P<num>[-+]?(?:(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|inf|nan))(?![\w])"
)
# The suffix torch adds to a tensor's repr off the CPU, and the keywords of the suffixes
# it may move to a line of their own when the repr grows too long for one.
_DEVICE_SUFFIX = re.compile(r",\s*device='cuda(?::\d+)?'")
_SUFFIX_LINE = re.compile(r"^\s+(?:device|dtype|grad_fn|requires_grad|size|layout|names)=")


@dataclass(frozen=True)
class Mismatch:
    """Where a run's output first differs: the 1-based line of the fence, what the lesson
    shows there and what the run printed (``<end>`` past either's last line)."""

    line: int
    want: str
    got: str

    def describe(self) -> str:
        return f"output differs at its line {self.line}: the lesson shows {self.want!r}, the run printed {self.got!r}"


@dataclass(frozen=True)
class _Number:
    value: float
    integer: bool  # written without a point or exponent: counts, shapes, indices
    resolution: float  # the value of one unit of the last printed digit; 0 for an exact value

    @classmethod
    def read(cls, text: str) -> _Number:
        body = text.lstrip("+-")
        if body in ("inf", "nan"):
            return cls(float(text), False, 0.0)
        mantissa, _, exponent = body.lower().partition("e")
        integer = "." not in mantissa and not exponent
        digits = len(mantissa.partition(".")[2])
        # torch prints ``1.`` only when every value of the tensor is a whole number: no
        # fraction digits means an exact value. ``0.0106`` stands for anything that
        # rounds to it: one unit of 1e-4.
        resolution = 0.0 if integer or digits == 0 else 10.0 ** (int(exponent or 0) - digits)
        return cls(float(text), integer, resolution)


def numbers_match(want: str, got: str, rtol: float = CPU_RTOL, atol: float = CPU_ATOL) -> bool:
    """Whether two printed numbers are the same for a reader.

    Integers (no point, no exponent) compare exactly, and only with integers: a count,
    an index or a shape is the same on every machine, and ``1`` against ``1.`` is an
    integer tensor against a float one. Floats match when
    ``|a - b| <= min((u_a + u_b) / 2, ROUNDING_CAP * m) + rtol * m + atol``, where
    ``m = max(|a|, |b|)`` and ``u`` is one unit of the last printed digit: a value a hair
    above a rounding boundary on one machine and a hair below on another prints one
    digit apart (``0.7071`` against ``0.7072``), and that is no difference. The cap keeps
    a short float honest: ``0.1`` is not ``0.2``, nor ``2.5`` ``2.52``.
    """
    a, b = _Number.read(want), _Number.read(got)
    if a.integer or b.integer:
        return a.integer and b.integer and a.value == b.value
    if math.isnan(a.value) or math.isnan(b.value):
        return math.isnan(a.value) and math.isnan(b.value)
    if math.isinf(a.value) or math.isinf(b.value):
        return a.value == b.value
    largest = max(abs(a.value), abs(b.value))
    rounding = min((a.resolution + b.resolution) / 2, ROUNDING_CAP * largest)
    return abs(a.value - b.value) <= rounding + rtol * largest + atol


def _parts(line: str) -> tuple[list[str], list[str]]:
    """A line split into text around its numbers: ``texts`` has one more item than
    ``numbers``. The spaces beside a number are dropped: torch pads numbers to align a
    tensor's columns (and a sign's place), so their width follows the values."""
    texts, numbers, start = [], [], 0
    for match in _NUMBER.finditer(line):
        texts.append(line[start:match.start()])
        numbers.append(match.group("num"))
        start = match.end()
    texts.append(line[start:])
    last = len(texts) - 1
    texts = [t.rstrip(" ") if i < last else t for i, t in enumerate(texts)]
    texts = [t.lstrip(" ") if i > 0 else t for i, t in enumerate(texts)]
    return texts, numbers


def lines_match(want: str, got: str, rtol: float = CPU_RTOL, atol: float = CPU_ATOL) -> bool:
    """Whether one line of the lesson and one of the run read the same: the same text
    around the same count of numbers, each pair within tolerance."""
    if want == got:
        return True
    want_texts, want_numbers = _parts(want)
    got_texts, got_numbers = _parts(got)
    return (want_texts == got_texts and len(want_numbers) == len(got_numbers)
            and all(numbers_match(a, b, rtol, atol) for a, b in zip(want_numbers, got_numbers)))


def _lines(text: str, ignore_device: bool) -> list[tuple[int, str]]:
    """The lines that count, each with its 1-based number: trailing spaces and blank
    lines at either end never count. Ignoring the device, a tensor's ``device='cuda:0'``
    is dropped and a suffix that the longer repr pushed onto a line of its own is joined
    back (a lesson written on the CPU shows it on one line)."""
    numbered: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.rstrip()
        if ignore_device and numbered and _SUFFIX_LINE.match(line) and numbered[-1][1].endswith(","):
            numbered[-1] = (numbered[-1][0], f"{numbered[-1][1]} {line.strip()}")
        else:
            numbered.append((number, line))
    if ignore_device:
        numbered = [(n, _DEVICE_SUFFIX.sub("", line)) for n, line in numbered]
    while numbered and not numbered[-1][1]:
        numbered.pop()
    while numbered and not numbered[0][1]:
        numbered.pop(0)
    return numbered


def output_mismatch(want: str, got: str, *, exact: bool = False, device: str = "cpu") -> Mismatch | None:
    """The first line where ``got`` (what a run on ``device`` printed) differs from
    ``want`` (the lesson's fence, written on the CPU), or ``None`` when they read the same.

    ``exact``: every character counts (trailing spaces and blank lines at the ends
    aside). Off the CPU, a tensor's device suffix is ignored and numbers get the GPU's
    tolerance.
    """
    ignore_device = device != "cpu"
    rtol, atol = (GPU_RTOL, GPU_ATOL) if ignore_device else (CPU_RTOL, CPU_ATOL)
    want_lines, got_lines = _lines(want, ignore_device), _lines(got, ignore_device)
    for index in range(max(len(want_lines), len(got_lines))):
        if index >= len(want_lines):  # the run printed more: name the line after the lesson's last
            return Mismatch(want_lines[-1][0] + 1 if want_lines else 1, "<end>", got_lines[index][1])
        line, shown = want_lines[index]
        if index >= len(got_lines):
            return Mismatch(line, shown, "<end>")
        printed = got_lines[index][1]
        if not (shown == printed if exact else lines_match(shown, printed, rtol, atol)):
            return Mismatch(line, shown, printed)
    return None
