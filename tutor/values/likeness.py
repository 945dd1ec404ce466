"""What a wrong tensor looks like next to the right one, in words: the right values
transposed, in another order or layout, one position off, times a constant, truncated to
integers... A learner whose shapes are right and values wrong rarely has a typo: they
have a conceptual slip (batch-first data read as time-first, a permutation applied the
other way round, a sum for a mean), and naming its look points at it.

Runs in the judge's child, only after a difference was found, on tensors of at most
:data:`MAX_NUMEL` elements and at most :data:`MAX_DIMS` dimensions. The tests that move
values around (transposes, orders, rolls) are tried only when both tensors hold the same
values once sorted, which a plain wrong answer never does; and the search stops after
:data:`BUDGET_S` seconds. A pass costs nothing and a failure a few milliseconds.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator

import torch

MAX_NUMEL = 20_000
BUDGET_S = 0.05
#: Dimension orders are tried exhaustively: 4 dims are 24 orders.
MAX_DIMS = 4
#: Rows are matched pairwise (a rows x rows distance matrix).
MAX_ROWS = 1_000
#: Names the mapping of rows when it is this short.
MAX_SHOWN_ROWS = 8


def looks_like(expected: torch.Tensor, got: torch.Tensor, rtol: float, atol: float) -> str | None:
    """A phrase for what ``got`` looks like, as in "looks like {phrase}", or ``None``
    when it resembles nothing it was compared for (or is too large to ask)."""
    if expected.is_complex() or got.is_complex() or expected.numel() == 0:
        return None
    if max(expected.numel(), got.numel()) > MAX_NUMEL or max(expected.dim(), got.dim()) > MAX_DIMS:
        return None
    e, g = expected.detach().cpu().to(torch.float64), got.detach().cpu().to(torch.float64)
    rtol, atol = max(rtol, 1e-9), max(atol, 1e-12)  # exact ints compared as floats

    def same(a: torch.Tensor, b: torch.Tensor) -> bool:
        return a.shape == b.shape and bool(torch.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True).all())

    deadline = time.perf_counter() + BUDGET_S
    try:
        # Every reordering keeps the values: unless the sorted values agree, none applies.
        moved = e.numel() == g.numel() and same(e.flatten().sort().values, g.flatten().sort().values)
        tests = (_same_shape(e, g, same, moved, expected.is_floating_point()) if e.shape == g.shape
                 else _other_shape(e, g, same, moved))
        for phrase in tests:
            if phrase:
                return phrase
            if time.perf_counter() > deadline:
                return None
    except (RuntimeError, ValueError, IndexError):  # a hint never fails a check's report
        return None
    return None


Same = Callable[[torch.Tensor, torch.Tensor], bool]


def _orders(ndim: int) -> Iterator[tuple[int, ...]]:
    """Every order of the dimensions but the identity."""
    return (p for p in itertools.permutations(range(ndim)) if p != tuple(range(ndim)))


def _shape(shape: torch.Size | tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _permuted(e: torch.Tensor, g: torch.Tensor, same: Same) -> str | None:
    """``got`` is the right tensor with its dimensions in another order."""
    for order in _orders(g.dim()):
        moved = g.permute(order)
        if moved.shape == e.shape and same(moved, e):
            if g.dim() == 2:
                return "the right values transposed (yours.T matches)"
            return f"the right values with the dimensions in another order (yours.permute{order} matches)"
    return None


def _relaid(e: torch.Tensor, g: torch.Tensor, same: Same) -> str | None:
    """``got`` holds the right values in memory order but laid out by a reshape (or view)
    where a permute or transpose was needed, or the other way round."""
    for order in _orders(e.dim()):
        if same(e.permute(order).reshape(g.shape), g):
            return (f"the right values laid out by a reshape/view where a transpose/permute was needed "
                    f"(the expected tensor .permute{order}.reshape{_shape(g.shape)} is yours)")
    for order in _orders(g.dim()):
        if same(g.permute(order).reshape(e.shape), e):
            return (f"the right values moved by a transpose/permute where a reshape/view was needed "
                    f"(yours .permute{order}.reshape{_shape(e.shape)} matches)")
    return None


SORTED = "the right values in another order (sorted, yours and the expected ones are equal)"


def _other_shape(e: torch.Tensor, g: torch.Tensor, same: Same, moved: bool) -> Iterator[str | None]:
    if moved:
        if e.dim() == g.dim() and sorted(e.shape) == sorted(g.shape):
            yield _permuted(e, g, same)
        if same(g.reshape(e.shape), e):
            if [s for s in e.shape if s != 1] == [s for s in g.shape if s != 1]:
                more = "more" if g.dim() > e.dim() else "fewer"
                yield f"the right values with {more} dimensions of size 1 (a keepdim=True, an unsqueeze or a squeeze?)"
            yield f"the right values in another shape (yours.reshape{_shape(e.shape)} matches)"
        yield _relaid(e, g, same)
        yield SORTED
        return
    if e.dim() != g.dim():
        return
    dims = [d for d in range(e.dim()) if e.shape[d] != g.shape[d]]
    if len(dims) != 1 or abs(e.shape[dims[0]] - g.shape[dims[0]]) != 1:
        return
    d = dims[0]
    row = "row" if d == 0 and e.dim() > 1 else "element" if e.dim() == 1 else f"slice along dim {d}"
    if g.shape[d] > e.shape[d]:
        n = e.shape[d]
        if same(g.narrow(d, 1, n), e):
            yield f"the right values with one extra {row} at the start (yours[1:] along dim {d} matches)"
        if same(g.narrow(d, 0, n), e):
            yield f"the right values with one extra {row} at the end (yours[:-1] along dim {d} matches)"
    else:
        n = g.shape[d]
        if same(e.narrow(d, 1, n), g):
            yield f"the right values without the first {row} (an off-by-one in a slice or range?)"
        if same(e.narrow(d, 0, n), g):
            yield f"the right values without the last {row} (an off-by-one in a slice or range?)"


def _same_shape(e: torch.Tensor, g: torch.Tensor, same: Same, moved: bool, floating: bool) -> Iterator[str | None]:
    yield _truncated(e, g, same)
    if same(g, -e):
        yield "the right values with the opposite sign (a minus sign, or a subtraction the other way round?)"
    if moved and e.dim() >= 2 and len(set(e.shape)) < e.dim():  # two dimensions of one size can swap
        yield _permuted(e, g, same)
    if moved and e.dim() >= 2:
        yield _relaid(e, g, same)
    if moved:
        yield _rolled(e, g, same)
    yield _shifted(e, g, same)
    if moved:
        yield _rows_reordered(e, g, same)
        if e.dim() >= 2 and same(g.sort(dim=-1).values, e.sort(dim=-1).values):
            yield "the right values in another order within each row (along the last dim)"
        yield SORTED
    yield _scaled(e, g, same)
    yield _offset(e, g, same)
    if floating:  # integers a percent apart are simply other integers
        yield _nearly(e, g)


def _truncated(e: torch.Tensor, g: torch.Tensor, same: Same) -> str | None:
    """An integer dtype somewhere on the way: the fractions are gone."""
    if bool((e == e.round()).all()) or not bool((g == g.round()).all()):
        return None
    for name, rounded in (("truncated", e.trunc()), ("rounded down", e.floor()), ("rounded", e.round())):
        if same(g, rounded):
            return f"the right values {name} to integers (an integer dtype, int() or // on the way?)"
    return None


def _rolled(e: torch.Tensor, g: torch.Tensor, same: Same) -> str | None:
    """One position off along a dimension, wrapping round."""
    for d in range(e.dim()):
        if e.shape[d] < 2:
            continue
        for step in (1, -1):
            # A tensor that is its own roll (constant along d) says nothing about one.
            if same(g, e.roll(step, d)) and not same(e, e.roll(step, d)):
                return (f"the right values rolled by {step} position along dim {d} "
                        f"(yours[i] is the expected [i{-step:+d}]: off by one?)")
    return None


def _shifted(e: torch.Tensor, g: torch.Tensor, same: Same) -> str | None:
    """One position off along a dimension, the first or last slice something else."""
    for d in range(e.dim()):
        n = e.shape[d]
        if n < 3 or same(e.narrow(d, 1, n - 1), e.narrow(d, 0, n - 1)):
            continue
        if same(g.narrow(d, 1, n - 1), e.narrow(d, 0, n - 1)):
            return f"the right values shifted by one position along dim {d} (yours[i+1] is the expected [i]: off by one?)"
        if same(g.narrow(d, 0, n - 1), e.narrow(d, 1, n - 1)):
            return f"the right values shifted by one position along dim {d} (yours[i] is the expected [i+1]: off by one?)"
    return None


def _rows_reordered(e: torch.Tensor, g: torch.Tensor, same: Same) -> str | None:
    """The right rows (slices along dim 0) in another order."""
    n = e.shape[0] if e.dim() else 0
    if e.dim() < 2 or not 2 <= n <= MAX_ROWS:
        return None
    er, gr = e.reshape(n, -1), g.reshape(n, -1)
    if not bool(torch.isfinite(er).all() and torch.isfinite(gr).all()):
        return None
    nearest = torch.cdist(gr, er).argmin(dim=1)
    if nearest.unique().numel() != n or not same(gr, er[nearest]):
        return None
    mapping = nearest.tolist()
    shown = f": yours[i] is the expected row {mapping}[i]" if n <= MAX_SHOWN_ROWS else ""
    return f"the right rows in another order{shown} (a permutation applied the other way round, or to the wrong dim?)"


def _scaled(e: torch.Tensor, g: torch.Tensor, same: Same) -> str | None:
    """``got`` is the right values times one constant (a sum for a mean, a missing 1/n)."""
    if e.numel() < 2 or not bool(torch.isfinite(e).all() and torch.isfinite(g).all()):
        return None
    norm = float((e * e).sum())
    if norm == 0.0:
        return None
    c = float((g * e).sum()) / norm
    # A factor within 2% of 1 is a near miss (see _nearly), not a constant left in.
    if not math.isfinite(c) or c == 0.0 or abs(c - 1.0) < 2e-2 or not same(g, e * c):
        return None
    for factor, name in ((c, "times"), (1 / c, "divided by")):
        n = round(factor)
        if n >= 2 and math.isclose(factor, n, rel_tol=1e-6):
            hint = "a sum where a mean was asked?" if name == "times" else "a mean where a sum was asked, or divided twice?"
            return f"the right values {name} {n} ({hint})"
    return f"the right values times {c:.4g} (a constant factor)"


def _offset(e: torch.Tensor, g: torch.Tensor, same: Same) -> str | None:
    if not bool(torch.isfinite(e).all() and torch.isfinite(g).all()) or e.numel() < 2:
        return None
    c = float((g - e).mean())
    if c != 0.0 and same(g, e + c):
        return f"the right values plus a constant {c:.4g} (a term added or left out?)"
    return None


def _nearly(e: torch.Tensor, g: torch.Tensor) -> str | None:
    """Within a percent or two: a lower precision on the way, or a small constant (an
    eps) that differs."""
    if bool(torch.isclose(g, e, rtol=2e-2, atol=1e-5, equal_nan=True).all()):
        return "the right values to about 2 digits (float16/bfloat16 on the way, or a small constant such as an eps that differs?)"
    return None
