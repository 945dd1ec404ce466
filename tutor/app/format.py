"""Turn sandbox results (the ``tutor run --json`` shapes) into rows and lines of text.

Pure functions, no Textual: the widgets lay these out, the unit tests read them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tutor.sandbox.api import ErrorInfo, RunResult

VARIABLE_COLUMNS = ("name", "shape", "dtype", "device", "grad?", "grad_fn", "grad")
MODULE_COLUMNS = ("module", "parameter", "shape")
NONE = "-"


def shape_text(shape: Sequence[int] | None) -> str:
    """``[2, 3]`` as ``(2, 3)``, the way ``tuple(t.shape)`` prints; a 0-d tensor is ``()``."""
    if shape is None:
        return NONE
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def one_line(text: Any, limit: int = 40) -> str:
    """A preview squeezed onto one table cell."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def lr_text(value: float) -> str:
    """Learning rates span decades; ``6g`` keeps 0.1, 0.00025 and 1e-07 all readable."""
    return f"{value:.6g}"


def variable_rows(variables: Iterable[dict[str, Any]]) -> list[tuple[str, ...]]:
    """One row per top-level name: tensors get every field, other values a preview."""
    rows = []
    for var in variables:
        if "shape" not in var:
            rows.append((var.get("name", "?"), var.get("type", "?"), NONE, NONE, NONE, NONE, one_line(var.get("preview", ""))))
            continue
        grad = var.get("grad")
        rows.append((
            var.get("name", "?"),
            shape_text(var.get("shape")),
            str(var.get("dtype", NONE)),
            str(var.get("device", NONE)),
            "yes" if var.get("requires_grad") else "no",
            var.get("grad_fn") or NONE,
            one_line(grad.get("preview", "")) if isinstance(grad, dict) else NONE,
        ))
    return rows


def module_rows(modules: Iterable[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """The module's name and size on its first row, then one row per parameter."""
    rows: list[tuple[str, str, str]] = []
    for module in modules:
        params = module.get("named_parameters", [])
        head = f"{module.get('name', '?')}: {module.get('type', '?')} ({module.get('parameters', 0):,} params)"
        if not params:
            rows.append((head, NONE, NONE))
        for i, param in enumerate(params):
            rows.append((head if i == 0 else "", param.get("name", "?"), shape_text(param.get("shape"))))
    return rows


def optimizer_lines(optimizers: Iterable[dict[str, Any]]) -> list[str]:
    """``opt: SGD  group 0: lr=0.1 momentum=0.9``; params lists are left out."""
    lines = []
    for opt in optimizers:
        for i, group in enumerate(opt.get("param_groups", [])):
            settings = " ".join(
                f"{key}={lr_text(value) if isinstance(value, float) else value}"
                for key, value in group.items()
                if key != "params" and not isinstance(value, (list, dict))
            )
            lines.append(f"{opt.get('name', '?')}: {opt.get('type', '?')}  group {i}: {settings}")
    return lines


def lr_table(schedule: dict[str, Any]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Headers and rows of a scheduler's lr per ``step()``, one column per param group."""
    steps = schedule.get("steps", [])
    groups = max((len(lrs) for _, lrs in steps), default=1)
    headers = ("step",) + (("lr",) if groups == 1 else tuple(f"lr[{g}]" for g in range(groups)))
    rows = [(str(step),) + tuple(lr_text(lr) for lr in lrs) for step, lrs in steps]
    return headers, rows


def lr_series(schedule: dict[str, Any]) -> list[tuple[list[float], list[float]]]:
    """The schedule as one (steps, lrs) line per param group, for plotting."""
    steps = schedule.get("steps", [])
    groups = max((len(lrs) for _, lrs in steps), default=0)
    return [
        ([float(step) for step, lrs in steps if g < len(lrs)], [float(lrs[g]) for _, lrs in steps if g < len(lrs)])
        for g in range(groups)
    ]


def error_headline(error: ErrorInfo) -> str:
    """``ZeroDivisionError at line 3: division by zero``: what and where, on one line."""
    where = f" at line {error.line}" if error.line else ""
    return f"{error.type}{where}: {error.message}" if error.message else f"{error.type}{where}"


def traceback_tail(traceback: str, lines: int = 4) -> str:
    """The last frames only: the failing line is what a learner needs, not the runner's stack."""
    kept = [line for line in traceback.rstrip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def status_line(result: RunResult) -> str:
    """The one-line verdict shown at the top of a result panel."""
    took = f" · {result.duration_ms:.0f} ms" if result.duration_ms else ""
    if result.missing_package:
        return f"needs the package '{result.missing_package}': pip install {result.missing_package}"
    if result.status == "ok":
        return f"✓ ran on {result.device}{took}"
    if result.status == "timeout":
        return f"✗ stopped: the time limit ran out{took}"
    if result.status == "killed":
        return "✗ cancelled"
    if result.error is not None:
        return "✗ " + error_headline(result.error)
    return "✗ failed"


def difference_rows(details: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Expected vs got, side by side, for the aspects the judge reported."""
    rows = []
    for aspect in ("shape", "dtype", "value", "preview"):
        expected, got = details.get(f"expected_{aspect}"), details.get(f"got_{aspect}")
        if expected is None and got is None:
            continue
        if aspect == "shape":
            expected, got = (shape_text(v) if isinstance(v, (list, tuple)) else v for v in (expected, got))
        rows.append((aspect, NONE if expected is None else str(expected), NONE if got is None else str(got)))
    return rows


def difference_notes(details: dict[str, Any]) -> str:
    """``max abs diff 0.5 · max rel diff 1 · first difference at (1, 2)``."""
    notes = []
    if details.get("what"):
        notes.append(f"comparing {details['what']}")
    if details.get("max_abs_diff") is not None:
        notes.append(f"max abs diff {details['max_abs_diff']:.4g}")
    if details.get("max_rel_diff") is not None:
        notes.append(f"max rel diff {details['max_rel_diff']:.4g}")
    index = details.get("first_index")
    if index is not None:
        notes.append(f"first difference at {shape_text(index) if isinstance(index, (list, tuple)) else index}")
    return " · ".join(notes)
