"""Compare a learner's values with the reference's and say exactly what differed.

Runs in the judge's child (imports torch). Pure functions: decoded data in, a
:class:`Difference` (or ``None`` when equal) out.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from tutor.values.details import Details
from tutor.values.encode import ModuleValue, NumpyFloat, NumpyInt, OptimizerValue, SchedulerValue, Tagged, TensorData
from tutor.values.likeness import looks_like

# torch.testing.assert_close's default tolerances per dtype (its documented table); kept
# here because the table itself is private API.
DEFAULT_TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
    torch.complex64: (1.3e-6, 1e-5),
    torch.complex128: (1e-7, 1e-7),
}
PY_FLOAT_TOL = (1e-7, 1e-7)


@dataclass
class Difference:
    """What differed, where, with both sides."""

    what: str
    message: str
    expected: str = ""
    got: str = ""
    details: Details = field(default_factory=lambda: Details())


def preview(t: torch.Tensor) -> str:
    """A short printout of ``t`` for a failure report: 4 decimals, long dimensions elided."""
    with _print_options():
        return str(t.detach()).replace("tensor(", "").rstrip(")").replace("\n       ", "\n")[:400]


@contextlib.contextmanager
def _print_options() -> Iterator[None]:
    # torch has no public getter for its print options, so they are saved and restored
    # wholesale: the judge must not change how anything else prints.
    saved = torch._tensor_str.PRINT_OPTS.__dict__.copy()
    torch.set_printoptions(precision=4, threshold=24, edgeitems=2, linewidth=60, sci_mode=False)
    try:
        yield
    finally:
        torch._tensor_str.PRINT_OPTS.__dict__.update(saved)


def _fmt_shape(shape: Any) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _wide(t: torch.Tensor) -> torch.Tensor:
    """``t`` in the widest dtype of its kind, so that differences are exact enough to report."""
    return t.to(torch.complex128 if t.is_complex() else torch.float64)


def _scalar(x: torch.Tensor) -> str:
    v = x.item()
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def compare_tensors(expected: TensorData, got: TensorData, what: str, aspects: set[str],
                    rtol: float | None, atol: float | None) -> Difference | None:
    """The first of ``aspects`` (shape, dtype, requires_grad, values) that differs, with
    ``torch.testing.assert_close`` tolerances unless ``rtol``/``atol`` are given."""
    e, g = expected.tensor, got.tensor
    base = Details(what=what, expected_shape=list(e.shape), got_shape=list(g.shape),
                   expected_dtype=str(e.dtype), got_dtype=str(g.dtype))
    if ("shape" in aspects or "values" in aspects) and list(e.shape) != list(g.shape):
        details: Details = {**base, "expected_preview": preview(e), "got_preview": preview(g)}
        like = _looks_like(e, g, rtol, atol, details) if "values" in aspects else ""
        return Difference(what, f"{what}: shape differs: expected {_fmt_shape(e.shape)}, got {_fmt_shape(g.shape)}{like}",
                          _fmt_shape(e.shape), _fmt_shape(g.shape), details)
    if "dtype" in aspects and e.dtype != g.dtype:
        return Difference(what, f"{what}: dtype differs: expected {e.dtype}, got {g.dtype}", str(e.dtype), str(g.dtype), base)
    if "requires_grad" in aspects and expected.requires_grad and not got.requires_grad:
        return Difference(what, f"{what}: does not require grad, but the reference's does (was the graph cut by .detach(), .data or torch.no_grad()?)",
                          "requires_grad=True", "requires_grad=False", base)
    if "requires_grad" in aspects and got.requires_grad and not expected.requires_grad:
        return Difference(what, f"{what}: requires grad, but the reference's does not (should it be detached, or made under torch.no_grad()?)",
                          "requires_grad=False", "requires_grad=True", base)
    if "values" not in aspects or e.numel() == 0:
        return None
    if rtol is None or atol is None:
        rtol, atol = DEFAULT_TOLERANCES.get(e.dtype, (0.0, 0.0))
    if e.dtype.is_floating_point or e.dtype.is_complex or g.dtype.is_floating_point:
        ef, gf = _wide(e), _wide(g)
        close = torch.isclose(gf, ef, rtol=rtol, atol=atol, equal_nan=True)
    else:
        ef, gf = e.to(torch.int64) if e.dtype != torch.bool else e, g.to(torch.int64) if g.dtype != torch.bool else g
        if ef.dtype != gf.dtype:
            ef, gf = ef.to(torch.int64), gf.to(torch.int64)
        close = ef == gf
    if bool(close.all()):
        return None
    bad = (~close).nonzero()
    index = tuple(int(i) for i in bad[0].tolist())
    if ef.dtype == torch.int64 and gf.dtype == torch.int64:
        # Exact: int64 values past 2**53 differ by amounts a float would round to 0.
        exact = (gf - ef).abs()
        diff, max_abs = exact.to(torch.float64), float(int(exact.max()))
    else:
        diff = (_wide(gf) - _wide(ef)).abs()
        finite = diff[torch.isfinite(diff)]
        max_abs = float(finite.max()) if finite.numel() else math.inf
    # Relative to the expected values that are not about zero: against a zero, or a
    # rounding residue such as sin(pi) = -8.7e-8, it means nothing ("max rel diff 1e+12").
    # About zero is within the absolute tolerance, where the check itself goes by atol.
    # Over the elements that differ: a "max rel diff 0" from the ones that agree says nothing.
    nonzero = (_wide(ef).abs() > atol) & ~close
    rel = diff[nonzero] / _wide(ef).abs()[nonzero] if bool(nonzero.any()) else diff.new_empty(0)
    finite_rel = rel[torch.isfinite(rel)]
    max_rel = float(finite_rel.max()) if finite_rel.numel() else math.inf
    ev, gv = _scalar(e[index] if index else e), _scalar(g[index] if index else g)
    where = f" at index {list(index)}" if index else ""
    rel_words = f", max rel diff {max_rel:.3g}" if math.isfinite(max_rel) else ""
    abs_words = f"{int(max_abs)}" if ef.dtype == torch.int64 and gf.dtype == torch.int64 else f"{max_abs:.3g}"
    details = {
        **base, "max_abs_diff": max_abs, "max_rel_diff": max_rel, "first_index": list(index),
        "expected_value": ev, "got_value": gv, "mismatched": int(bad.shape[0]), "numel": e.numel(),
        "expected_preview": preview(e), "got_preview": preview(g), "rtol": rtol, "atol": atol,
    }
    like = _looks_like(e, g, rtol, atol, details)
    message = (f"{what}: values differ{where}: expected {ev}, got {gv} "
               f"({bad.shape[0]} of {e.numel()} elements differ; max abs diff {abs_words}{rel_words}; "
               f"rtol={rtol:g}, atol={atol:g}){like}")
    return Difference(what, message, preview(e), preview(g), details)


def _looks_like(e: torch.Tensor, g: torch.Tensor, rtol: float | None, atol: float | None, details: Details) -> str:
    """``; looks like ...`` for the message (and ``looks_like`` in ``details``) when the
    wrong tensor resembles the right one, else ``""``."""
    if rtol is None or atol is None:
        rtol, atol = DEFAULT_TOLERANCES.get(e.dtype, (0.0, 0.0))
    phrase = looks_like(e, g, rtol, atol)
    if phrase is None:
        if e.dtype != g.dtype:
            phrase = f"another dtype (yours is {g.dtype}, the expected {e.dtype})"
        else:
            return ""
    details["looks_like"] = phrase
    return f"; looks like {phrase}"


def describe(value: Any) -> str:
    """What kind of value this is, in words, for a "expected a ..., got a ..." message."""
    if isinstance(value, TensorData):
        return f"tensor of shape {_fmt_shape(value.tensor.shape)} and dtype {value.tensor.dtype}"
    if isinstance(value, Tagged):
        if value.kind in ("dtype", "device"):
            return value.value
        if value.kind in ("module", "optimizer", "scheduler", "object"):
            return f"{value.kind} {value.value['type']}"
        if value.kind == "dict":
            return f"dict with keys {sorted(value.value)}"
        return f"{value.kind} of length {len(value.value)}"
    if value is None:
        return "None"
    # The type first: "expected a float (0.4991), got a tensor" says what to change.
    return f"{_type_name(value)} ({_short(value)})"


def with_article(value: Any) -> str:
    """:func:`describe` after "a" or "an" (None stays "None")."""
    text = describe(value)
    return text if value is None else ("an " if text[0] in "aeiou" else "a ") + text


def _kind_hint(expected: Any, got: Any) -> str:
    """What usually turns one kind into the other."""
    if _kind(expected) == "number" and isinstance(got, TensorData) and got.tensor.numel() == 1:
        return " (.item() turns a one-element tensor into a Python number)"
    if isinstance(expected, TensorData) and _kind(got) == "number":
        return " (a tensor was expected: did .item(), float() or a Python loop turn it into a number?)"
    return ""


def _kind(value: Any) -> str:
    if isinstance(value, TensorData):
        return "tensor"
    if isinstance(value, Tagged):
        return value.kind
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def compare_values(expected: Any, got: Any, what: str, compare: set[str],
                   rtol: float | None = None, atol: float | None = None) -> Difference | None:
    """Compare two decoded values; ``compare`` is the check's comparison list (empty: pick
    by type)."""
    ek, gk = _kind(expected), _kind(got)
    if ek != gk and not (ek == "number" and gk == "number"):
        return Difference(what, f"{what}: expected {with_article(expected)}, got {with_article(got)}{_kind_hint(expected, got)}",
                          describe(expected), describe(got), {"what": what})
    if ek == "tensor":
        aspects = set(compare) & {"shape", "dtype", "values"}
        if not aspects or "value" in compare:
            aspects = {"shape", "dtype", "values", "requires_grad"}
        return compare_tensors(expected, got, what, aspects, rtol, atol)
    if ek == "number":
        if isinstance(expected, float) or isinstance(got, float):
            r, a = (rtol, atol) if rtol is not None and atol is not None else PY_FLOAT_TOL
            if _close(expected, got, r, a) or (expected != expected and got != got):
                return None
        elif expected == got:  # two ints: exact, however many digits
            return None
        e_text, g_text = _number_text(expected), _number_text(got)
        return Difference(what, f"{what}: expected {e_text}, got {g_text}", e_text, g_text, {"what": what})
    if ek in ("bool", "str", "NoneType"):
        if expected == got:
            return None
        return Difference(what, f"{what}: expected {_short(expected)}, got {_short(got)}", _short(expected), _short(got), {"what": what})
    assert isinstance(expected, Tagged) and isinstance(got, Tagged)
    if ek in ("dtype", "device"):
        if expected.value == got.value:
            return None
        return Difference(what, f"{what}: expected {expected.value}, got {got.value}", expected.value, got.value, {"what": what})
    if ek in ("list", "tuple"):
        if len(expected.value) != len(got.value):
            return Difference(what, f"{what}: expected a {ek} of length {len(expected.value)}, got length {len(got.value)}",
                              str(len(expected.value)), str(len(got.value)), {"what": what})
        for i, (e, g) in enumerate(zip(expected.value, got.value)):
            diff = compare_values(e, g, f"{what}[{i}]", compare, rtol, atol)
            if diff:
                return diff
        return None
    if ek == "dict":
        if sorted(expected.value) != sorted(got.value):
            return Difference(what, f"{what}: keys differ: expected {sorted(expected.value)}, got {sorted(got.value)}",
                              str(sorted(expected.value)), str(sorted(got.value)), {"what": what})
        for key in expected.value:
            diff = compare_values(expected.value[key], got.value[key], f"{what}[{key!r}]", compare, rtol, atol)
            if diff:
                return diff
        return None
    if ek == "module":
        return compare_modules(expected.value, got.value, what, compare, rtol, atol)
    if ek == "optimizer":
        return compare_optimizers(expected.value, got.value, what, rtol, atol)
    if ek == "scheduler":
        return compare_schedules(expected.value, got.value, what, rtol, atol)
    if ek == "object":
        if expected.value["type"] != got.value["type"]:
            return Difference(what, f"{what}: expected a {expected.value['type']}, got a {got.value['type']}",
                              expected.value["type"], got.value["type"], {"what": what})
        # Same type, contents unknown: a pass here would pass anything of that type.
        raise Uncomparable(f"{what} is a {expected.value['type']}, which the grader cannot compare")
    return None


class Uncomparable(Exception):
    """The reference's value is of a kind the grader cannot compare: the check is a lesson
    bug (``check-lessons`` reports it), never a pass."""


def _type_name(value: Any) -> str:
    if isinstance(value, TensorData):
        return "tensor"
    if isinstance(value, Tagged):
        return "torch.Size" if value.pytype == "Size" else value.pytype
    if isinstance(value, (NumpyFloat, NumpyInt)):
        return value.pytype
    return type(value).__name__


def strict_type_difference(expected: Any, got: Any, what: str) -> Difference | None:
    """The first place where the Python types differ (an ``int`` is not a ``float``, a
    ``tuple`` is not a ``torch.Size``), walking containers; ``None`` when they agree."""
    e, g = _type_name(expected), _type_name(got)
    if e != g:
        return Difference(what, f"{what}: expected a {e}, got a {g} ({_short_value(got)})", e, g, {"what": what})
    if isinstance(expected, Tagged) and isinstance(got, Tagged):
        if expected.kind in ("list", "tuple") and len(expected.value) == len(got.value):
            for i, (a, b) in enumerate(zip(expected.value, got.value)):
                diff = strict_type_difference(a, b, f"{what}[{i}]")
                if diff:
                    return diff
        if expected.kind == "dict":
            for key in expected.value:
                if key in got.value:
                    diff = strict_type_difference(expected.value[key], got.value[key], f"{what}[{key!r}]")
                    if diff:
                        return diff
    return None


def _short_value(value: Any) -> str:
    if isinstance(value, TensorData):
        return f"shape {_fmt_shape(value.tensor.shape)}"
    if isinstance(value, Tagged):
        return describe(value)
    return _short(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def compare_modules(e: ModuleValue, g: ModuleValue, what: str, compare: set[str], rtol: float | None, atol: float | None) -> Difference | None:
    """Structure (type, parameter names and shapes, layers) and, if asked, state_dict values."""
    check_structure = not compare or "structure" in compare or "value" in compare
    if check_structure:
        if e["type"] != g["type"] and "type" in compare:
            return Difference(what, f"{what}: expected a {e['type']}, got a {g['type']}", e["type"], g["type"], {"what": what})
        ep, gp = dict((n, s) for n, s in e["parameters"]), dict((n, s) for n, s in g["parameters"])
        if list(ep) != list(gp):
            missing = [n for n in ep if n not in gp]
            extra = [n for n in gp if n not in ep]
            return Difference(what, f"{what}: parameters differ: missing {missing or 'none'}, unexpected {extra or 'none'}",
                              ", ".join(ep), ", ".join(gp), {"what": what})
        for name in ep:
            if ep[name] != gp[name]:
                return Difference(what, f"{what}: parameter {name} has shape {_fmt_shape(gp[name])}, expected {_fmt_shape(ep[name])}",
                                  _fmt_shape(ep[name]), _fmt_shape(gp[name]), {"what": f"{what}.{name}"})
        em, gm = [t for _, t in e["modules"]], [t for _, t in g["modules"]]
        if em != gm:
            return Difference(what, f"{what}: layers differ: expected {em}, got {gm}", str(em), str(gm), {"what": what})
    if "state_dict" in compare:
        ek, gk = list(e["state_dict"]), list(g["state_dict"])
        if sorted(ek) != sorted(gk):
            return Difference(what, f"{what}: state_dict keys differ: expected {ek}, got {gk}", str(ek), str(gk), {"what": what})
        for key in ek:
            diff = compare_tensors(TensorData(e["state_dict"][key], False), TensorData(g["state_dict"][key], False),
                                   f"{what}.state_dict()[{key!r}]", {"shape", "dtype", "values"}, rtol, atol)
            if diff:
                return diff
    return None


def compare_optimizers(e: OptimizerValue, g: OptimizerValue, what: str, rtol: float | None, atol: float | None) -> Difference | None:
    """Optimizer type, then every setting of every param group the reference has."""
    if e["type"] != g["type"]:
        return Difference(what, f"{what}: expected a {e['type']} optimizer, got {g['type']}", e["type"], g["type"], {"what": what})
    eg, gg = e["param_groups"], g["param_groups"]
    if len(eg) != len(gg):
        return Difference(what, f"{what}: expected {len(eg)} param groups, got {len(gg)}", str(len(eg)), str(len(gg)), {"what": what})
    for i, (a, b) in enumerate(zip(eg, gg)):
        for key in a:
            if key not in b or not _close(a[key], b[key], rtol, atol):
                return Difference(what, f"{what}: param_groups[{i}][{key!r}]: expected {a.get(key)!r}, got {b.get(key)!r}",
                                  repr(a.get(key)), repr(b.get(key)), {"what": what})
    return None


def compare_schedules(e: SchedulerValue, g: SchedulerValue, what: str, rtol: float | None, atol: float | None) -> Difference | None:
    """The learning rates step by step: the first step that differs, else a different step count."""
    el, gl = e["lrs"], g["lrs"]
    for step, (a, b) in enumerate(zip(el, gl), start=1):
        if not _close(a, b, rtol, atol):
            return Difference(what, f"{what}: learning rate after step {step}: expected {a}, got {b}", str(a), str(b),
                              {"what": what, "first_index": [step]})
    if len(el) != len(gl):
        return Difference(what, f"{what}: expected {len(el)} scheduler steps, got {len(gl)}", str(len(el)), str(len(gl)), {"what": what})
    return None


def _close(a: Any, b: Any, rtol: float | None, atol: float | None) -> bool:
    r, t = (rtol, atol) if rtol is not None and atol is not None else (1e-6, 1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y, rtol, atol) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        try:
            return math.isclose(a, b, rel_tol=r, abs_tol=t)
        except OverflowError:
            # An int past a float's range (10**400) is close to no float: ints alone
            # compare exactly (``==``) before they come here.
            return a == b
    return a == b


def _number_text(value: int | float) -> str:
    """A number for a message: an int of hundreds of digits is named by its length."""
    if isinstance(value, float) or value.bit_length() <= 256:
        return repr(value)
    try:
        digits = str(abs(value))
    except ValueError:  # past Python's int-to-text limit (4300 digits)
        return f"an int of about {int(value.bit_length() * math.log10(2))} digits"
    return f"{'-' if value < 0 else ''}{digits[:10]}...{digits[-10:]} (an int of {len(digits)} digits)"
