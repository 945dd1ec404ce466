"""Turn sandbox results (the ``tutor run --json`` shapes) into rows and lines of text.

Pure functions, no Textual: every front (the app's widgets, `tutor run`) lays these out,
and the unit tests read them. The inspection data comes from a learner's process, so
every field is read by type: a forged one (``"parameters": "lots"``) reads as ``?`` or
``-``, never as an exception.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any, TypedDict, TypeVar, cast

from tutor.i18n import N_, _, is_english, ngettext
from tutor.sandbox.api import ErrorInfo, ModuleJson, OptimizerJson, RunResult, ScheduleJson, SeriesJson, VariableJson

# "req_grad" rather than "requires_grad": five columns saved leave the grad preview
# room to be read at 80 columns.
# The headers a translation may change are marked (the others are API names).
TENSOR_COLUMNS = (N_("name"), "shape", "dtype", N_("device"), "req_grad", "grad_fn", "grad")
#: The tensor columns a narrow screen leaves out, first to last, so that a name and a
#: ``grad_fn`` (``BinaryCrossEntropyBackward0``) are never cut.
TENSOR_DROP = ("grad", "req_grad", "device")
VALUE_COLUMNS = (N_("name"), N_("type"), N_("value"))
#: A module's own table: one row per parameter, with the norm of its gradient.
PARAMETER_COLUMNS = (N_("parameter"), "shape", "req_grad", N_("grad norm"))
#: Parameter rows a front shows per module; a bigger model shows its first and last
#: ones and says how many it left out.
PARAMETER_ROWS = 12
NONE = "-"
#: How inspection writes a float that JSON cannot hold.
NONFINITE = ("nan", "inf", "-inf")
#: A series (a loss history) in one row: the ends, the extremes and a sparkline.
SERIES_COLUMNS = (N_("name"), N_("values"), N_("first"), N_("last"), N_("min"), N_("max"), N_("trend"))
SPARKS = "▁▂▃▄▅▆▇█"
#: A value of a series that is not a finite number, in a sparkline.
GAP = "×"


class DifferenceView(TypedDict, total=False):
    """The keys of a check's details (``tutor.values.details.Details``) that the
    difference table reads; a type checker holds the two to the same types."""

    expected_shape: list[int]
    got_shape: list[int]
    expected_dtype: str
    got_dtype: str
    expected_value: str
    got_value: str
    expected_preview: str
    got_preview: str
    first_index: list[int]
    mismatched: int
    numel: int
    max_abs_diff: float
    max_rel_diff: float
    looks_like: str


T = TypeVar("T")


def _dicts(items: Iterable[T] | None) -> list[T]:
    """The objects of a list that should hold only objects; anything else is skipped."""
    if not isinstance(items, (list, tuple)):
        return []
    return cast(list[T], [item for item in items if isinstance(item, dict)])


def _name(value: Any, default: str = "?") -> str:
    return value if isinstance(value, str) else default


def _is_number(value: Any) -> bool:
    return finite(value) is not None


def finite(value: Any) -> float | None:
    """``value`` as a finite float, or None when it is not a number that has one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def count(n: int, noun: str) -> str:
    """``1 check``, ``2 checks`` (in the learner's language for the nouns the fronts count)."""
    if noun == "check":
        return ngettext("{n} check", "{n} checks", n).format(n=n)
    if noun == "exercise":
        return ngettext("{n} exercise", "{n} exercises", n).format(n=n)
    if noun == "cell":
        return ngettext("{n} cell", "{n} cells", n).format(n=n)
    if noun == "parameter":
        return ngettext("{n} parameter", "{n} parameters", n).format(n=n)
    return f"{n} {noun}{'' if n == 1 else 's'}"


def sep() -> str:
    """What goes between two parts of a line: ``" · "``, whose dot a CJK terminal may draw
    two cells wide, hence another in Chinese."""
    return _(" · ")


#: The words of a status (its English is the workspace's value, kept in JSON).
STATUS_WORDS = {"not started": N_("not started"), "failed": N_("failed"), "passed": N_("passed"),
                "visible checks pass": N_("visible checks pass")}


def status_word(label: str) -> str:
    """A status label (``"not started"``) in the learner's language."""
    return _(STATUS_WORDS.get(label, label))


# Symbols of East-Asian ambiguous width, which a CJK terminal (or xterm.js set so) draws
# two cells wide, and what a non-English UI shows instead; tests/app/test_chinese.py
# checks that the catalogue's words use none.
_NARROW = str.maketrans({"·": "-", "•": "-", "…": "...", "◀": "◂", "—": "-", "–": "-", "“": '"', "”": '"',
                         "‘": "'", "’": "'", "×": "x", "●": "▪", "○": "▫", "⭘": "◉", "↑": "^", "↓": "v", "→": "->", "←": "<-"})


def narrow(text: str) -> str:
    """``text`` (a mark, a line composed in code) with its ambiguous-width symbols
    replaced outside English; English keeps them."""
    return text if is_english() else text.translate(_NARROW)


def shape_text(shape: Sequence[int] | None) -> str:
    """``[2, 3]`` as ``(2, 3)``, the way ``tuple(t.shape)`` prints; a 0-d tensor is ``()``."""
    if not isinstance(shape, (list, tuple)):
        return NONE if shape is None else one_line(shape, 20)
    return "(" + ", ".join(one_line(n, 20) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def one_line(text: Any, limit: int = 40) -> str:
    """A preview squeezed onto one table cell, at most ``limit`` cells wide (a CJK
    character in a string value takes two)."""
    flat = " ".join(str(text).split())
    mark = narrow("…")  # "..." in Chinese: the ellipsis is of ambiguous width
    if flat.isascii():
        return flat if len(flat) <= limit else flat[: limit - len(mark)] + mark
    if chars_within(flat, 0, limit) >= len(flat):
        return flat
    return flat[: chars_within(flat, 0, limit - len(mark))] + mark


def tensor_values(preview: str, limit: int = 60) -> str:
    """``tensor([[ 0., 2.],\n [ 4., 6.]])`` as ``[[0., 2.], [4., 6.]]``: the column
    already says it is a tensor, and a table cell has no room for the padding."""
    flat = " ".join(str(preview).split())
    if flat.startswith("tensor(") and flat.endswith(")"):
        flat = flat[len("tensor("):-1]
    return one_line(flat.replace("[ ", "["), limit)


def lr_text(value: float) -> str:
    """Learning rates span decades; ``6g`` keeps 0.1, 0.00025 and 1e-07 all readable."""
    return f"{value:.6g}" if _is_number(value) or isinstance(value, float) else one_line(value, 20)


def is_tensor(var: VariableJson) -> bool:
    """Tensors (and parameters) carry a shape; every other value only a preview."""
    return "shape" in var


def tensor_rows(variables: Iterable[VariableJson]) -> list[tuple[str, ...]]:
    """One row per top-level tensor, with the fields a learner checks first."""
    rows: list[tuple[str, ...]] = []
    for var in _dicts(variables):
        if not is_tensor(var):
            continue
        grad = var.get("grad")
        rows.append((
            _name(var.get("name")),
            shape_text(var.get("shape")),
            _name(var.get("dtype"), NONE),
            _name(var.get("device"), NONE),
            "True" if var.get("requires_grad") is True else "False",
            _name(var.get("grad_fn"), NONE) or NONE,
            tensor_values(grad.get("preview", "")) if isinstance(grad, dict) else NONE,
        ))
    return rows


def value_rows(variables: Iterable[VariableJson]) -> list[tuple[str, str, str]]:
    """One row per top-level value that is not a tensor: its type and a preview."""
    return [
        (_name(var.get("name")), _name(var.get("type")), one_line(var.get("preview", ""), 60))
        for var in _dicts(variables)
        if not is_tensor(var)
    ]


def _count(value: Any) -> int | None:
    """A count from the wire: a non-negative int (not a bool), else None."""
    return value if type(value) is int and value >= 0 else None


def grad_text(norm: Any) -> str:
    """A parameter's grad norm as a learner reads it: ``none`` before any backward,
    ``0`` for a zeroed grad, ``nan``/``inf`` when it blew up, ``?`` for anything else."""
    return "none" if norm is None else _number_text(norm)


def module_heading(module: ModuleJson) -> str:
    """``net: Sequential (17 params) · grad on 3 of 4 parameters``; ``· no grads yet``
    before a backward. The grad part is left out when the counts are missing."""
    size = module.get("parameters", 0)
    size_text = f"{size:,}" if _is_number(size) else "?"
    head = f"{_name(module.get('name'))}: {_name(module.get('type'))} " + _("({size} params)").format(size=size_text)
    tensors, with_grad = _count(module.get("parameter_tensors")), _count(module.get("with_grad"))
    if tensors and with_grad is not None and with_grad <= tensors:
        head += sep() + (_("no grads yet") if with_grad == 0 else _("grad on {n} of {total}").format(n=with_grad, total=count(tensors, "parameter")))
    return head


def parameter_rows(module: ModuleJson) -> list[tuple[str, str, str, str]]:
    """One row per listed parameter: name, shape, requires_grad and its grad's norm."""
    rows = []
    for param in _dicts(module.get("named_parameters")):
        requires_grad = param.get("requires_grad")
        rows.append((
            _name(param.get("name")),
            shape_text(param.get("shape")),
            str(requires_grad) if isinstance(requires_grad, bool) else NONE,
            grad_text(param.get("grad")),
        ))
    return rows


def parameter_table(module: ModuleJson, limit: int = PARAMETER_ROWS) -> tuple[list[tuple[str, ...]], str]:
    """A module's parameter rows, at most ``limit`` of them (the first and last ones
    around a row of "…"), and a note saying how many are not shown, or ``""``. The
    sandbox lists at most 200 parameters; the note counts the ones it left out too."""
    rows = parameter_rows(module)
    shown = elide(rows, limit)
    seen = len(rows) if len(rows) <= limit else limit - 1
    total = max(_count(module.get("parameter_tensors")) or 0, len(rows))
    note = _("showing {n} of {total}").format(n=seen, total=count(total, "parameter")) if seen < total else ""
    return shown, note


def series_values(series: SeriesJson) -> list[float | None] | None:
    """A series' values, ``None`` for each that is not a finite number; ``None`` when
    the series has no list of values."""
    raw = series.get("values") if isinstance(series, dict) else None
    return [finite(value) for value in raw] if isinstance(raw, list) else None


def series_points(series: SeriesJson) -> tuple[list[float], list[float]]:
    """The finite points of a series as (steps counted from 1, values), for a plot."""
    values = series_values(series) or []
    points = [(float(step), value) for step, value in enumerate(values, start=1) if value is not None]
    return [x for x, _ in points], [y for _, y in points]


def _number_text(raw: Any) -> str:
    """A number from the wire in 4 significant digits; ``nan``/``inf`` as inspection
    wrote them; ``?`` for anything else."""
    if isinstance(raw, str) and raw in NONFINITE:
        return raw
    number = finite(raw)
    return "?" if number is None else f"{number:.4g}"


def series_row(series: SeriesJson, width: int = 16) -> tuple[str, ...] | None:
    """A series on one row of :data:`SERIES_COLUMNS`: its name, how many values (and
    how many are not finite), its first and last values as recorded (``nan``
    included), its extremes over the finite values, and a sparkline at most ``width``
    cells wide. None for fewer than two values."""
    values = series_values(series)
    if values is None or len(values) < 2:
        return None
    raw = series["values"]
    numbers = [v for v in values if v is not None]
    size = str(len(values)) + (f" ({len(values) - len(numbers)} not finite)" if len(numbers) < len(values) else "")
    return (
        _name(series.get("name")), size, _number_text(raw[0]), _number_text(raw[-1]),
        f"{min(numbers):.4g}" if numbers else NONE, f"{max(numbers):.4g}" if numbers else NONE,
        sparkline(values, width),
    )


def series_rows(series: Iterable[SeriesJson], width: int = 16) -> list[tuple[str, ...]]:
    """A row per series that has two values or more (see :func:`series_row`)."""
    return [row for item in _dicts(series) if (row := series_row(item, width)) is not None]


def sparkline(values: Sequence[float | None], width: int = 40) -> str:
    """Block characters, low to high; a long series is sampled evenly to ``width``
    cells, and a value that is not finite shows as ``×``."""
    if len(values) > width > 1:  # keep the shape of a long history
        values = [values[round(i * (len(values) - 1) / (width - 1))] for i in range(width)]
    numbers = [v for v in values if v is not None]
    if not numbers:
        return GAP * len(values)
    # Halved, so that the span of -1e308 and 1e308 is still a finite number.
    low, high = min(numbers) / 2, max(numbers) / 2
    span = (high - low) or 1.0
    top = len(SPARKS) - 1
    return "".join(GAP if v is None else SPARKS[min(top, round((v / 2 - low) / span * top))] for v in values)


def optimizer_lines(optimizers: Iterable[OptimizerJson]) -> list[str]:
    """``opt: SGD  group 0: lr=0.1 momentum=0.9``; params lists are left out."""
    lines = []
    for opt in _dicts(optimizers):
        for i, group in enumerate(_dicts(opt.get("param_groups"))):
            settings = " ".join(
                f"{key}={lr_text(value) if isinstance(value, float) else one_line(value)}"
                for key, value in group.items()
                if key != "params" and not isinstance(value, (list, dict)) and not _switched_off(key, value)
            )
            lines.append(f"{_name(opt.get('name'))}: {_name(opt.get('type'))}  group {i}: {settings}")
    return lines


#: Implementation switches every optimizer carries; they say nothing about learning.
_IMPLEMENTATION_FLAGS = frozenset({"foreach", "fused", "differentiable", "capturable", "maximize", "decoupled_weight_decay"})


def _switched_off(key: str, value: Any) -> bool:
    """``fused=None``, ``maximize=False``: defaults that would crowd out ``lr=0.1``."""
    return key in _IMPLEMENTATION_FLAGS and (value is None or value is False)


def _steps(schedule: Any) -> list[tuple[Any, list[Any]]]:
    """A schedule's ``[step, [lr, ...]]`` entries; malformed ones are skipped."""
    steps = schedule.get("steps") if isinstance(schedule, dict) else None
    if not isinstance(steps, list):
        return []
    return [(entry[0], entry[1]) for entry in steps
            if isinstance(entry, (list, tuple)) and len(entry) == 2 and isinstance(entry[1], list)]


def lr_table(schedule: ScheduleJson) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Headers and rows of a scheduler's lr per ``step()``, one column per param group."""
    steps = _steps(schedule)
    groups = max((len(lrs) for _, lrs in steps), default=1)
    headers = (N_("step"),) + (("lr",) if groups == 1 else tuple(f"lr[{g}]" for g in range(groups)))
    rows = [(one_line(step, 20),) + tuple(lr_text(lr) for lr in lrs) for step, lrs in steps]
    return headers, rows


def elide(rows: Sequence[tuple[str, ...]], limit: int) -> list[tuple[str, ...]]:
    """At most ``limit`` rows: the first ones, a row of "…", and the last ones."""
    if len(rows) <= limit:
        return list(rows)
    head = (limit - 1) // 2 + (limit - 1) % 2
    tail = limit - 1 - head
    width = len(rows[0])
    return [*rows[:head], ("…",) * width, *rows[len(rows) - tail:]]


def lr_series(schedule: ScheduleJson) -> list[tuple[list[float], list[float]]]:
    """The schedule as one (steps, lrs) line per param group, for plotting."""
    steps = [(step, lrs) for step, lrs in _steps(schedule) if _is_number(step) and all(_is_number(lr) for lr in lrs)]
    groups = max((len(lrs) for _, lrs in steps), default=0)
    return [
        ([float(step) for step, lrs in steps if g < len(lrs)], [float(lrs[g]) for _, lrs in steps if g < len(lrs)])
        for g in range(groups)
    ]


def step_lines(lines: Sequence[tuple[list[float], list[float]]]) -> list[tuple[list[float], list[float]]]:
    """Lines drawn as the steps they are: a learning rate holds from one scheduler step
    to the next, so a StepLR is flat, then drops, never a slope between two steps."""
    out = []
    for xs, ys in lines:
        sx, sy = xs[:1], ys[:1]
        for x, y, prev in zip(xs[1:], ys[1:], ys):
            sx += [x, x]
            sy += [prev, y]
        out.append((sx, sy))
    return out


def error_headline(error: ErrorInfo) -> str:
    """``ZeroDivisionError at line 3: division by zero``: what and where, on one line."""
    where = _(" at line {line}").format(line=error.line) if error.line else ""
    return f"{error.type}{where}: {error.message}" if error.message else f"{error.type}{where}"


def traceback_tail(traceback: str, lines: int = 4) -> str:
    """The last frames only: the failing line is what a learner needs, not the runner's
    stack. The "Traceback" banner and the final ``Type: message`` line are left out,
    because the status line above already says what was raised."""
    kept = [line for line in traceback.rstrip().splitlines() if line.strip()]
    if kept and kept[0].startswith("Traceback"):
        kept = kept[1:]
    if kept and not kept[-1].startswith(" "):
        kept = kept[:-1]
    return "\n".join(kept[-lines:])


def status_line(result: RunResult) -> str:
    """The one-line verdict shown at the top of a result panel."""
    took = f"{sep()}{result.duration_ms:.0f} ms" if result.duration_ms else ""
    if result.missing_package:
        return _("needs the package '{name}': pip install {name}").format(name=result.missing_package)
    if result.status == "ok":
        return "✓ " + _("ran on {device}").format(device=result.device) + took
    if result.status == "timeout":
        return "✗ " + _("stopped: the time limit ran out") + took
    if result.status == "killed":
        return "✗ " + _("cancelled")
    if result.error is not None:
        return "✗ " + error_headline(result.error)
    return "✗ " + _("failed")


def _index_text(index: Any) -> str:
    return shape_text(index) if isinstance(index, (list, tuple)) else str(index)


def difference_rows(details: DifferenceView) -> list[tuple[str, str, str]]:
    """Expected vs got, side by side. Shape and dtype get a row only when they differ
    (a match is one note instead), so the values and previews fit an 80x24 screen."""
    rows = []
    sides: tuple[tuple[str, object, object], ...] = (
        ("shape", details.get("expected_shape"), details.get("got_shape")),
        ("dtype", details.get("expected_dtype"), details.get("got_dtype")),
        ("value", details.get("expected_value"), details.get("got_value")),
    )
    for aspect, expected, got in sides:
        if expected is None and got is None:
            continue
        if aspect == "shape":
            expected, got = (shape_text(v) if isinstance(v, (list, tuple)) else v for v in (expected, got))
        if aspect in ("shape", "dtype") and expected == got and "expected_value" in details:
            continue
        label = _(aspect) if aspect == "value" else aspect
        if aspect == "value" and details.get("first_index"):
            label = _("value at {index}").format(index=_index_text(details["first_index"]))
        rows.append((label, NONE if expected is None else str(expected), NONE if got is None else str(got)))
    return rows


def compact_preview(preview: str) -> str:
    """A tensor's printout without its alignment padding, line breaks kept:
    ``[[ 0.6843,  0.8072]`` becomes ``[[0.6843, 0.8072]``."""
    lines = [re.sub(r" {2,}", " ", line.strip()).replace("[ ", "[") for line in preview.splitlines()]
    return "\n".join(line for line in lines if line)


def preview_rows(details: DifferenceView) -> list[tuple[str, str]]:
    """Expected and got previews side by side, one row."""
    expected, got = details.get("expected_preview"), details.get("got_preview")
    if expected is None and got is None:
        return []
    return [(compact_preview(str(expected)) if expected is not None else NONE,
             compact_preview(str(got)) if got is not None else NONE)]


def difference_notes(details: DifferenceView) -> str:
    """``12 of 12 elements differ · max abs diff 0.5 · first difference at (1, 2)``."""
    notes = []
    if details.get("mismatched") is not None and details.get("numel"):
        notes.append(_("{n} of {total} elements differ").format(n=details["mismatched"], total=details["numel"]))
    if details.get("max_abs_diff") is not None:
        notes.append(_("max abs diff {value}").format(value=f"{details['max_abs_diff']:.4g}"))
    rel = details.get("max_rel_diff")
    if rel is not None and math.isfinite(rel):  # inf: every expected value was 0
        notes.append(_("max rel diff {value}").format(value=f"{rel:.4g}"))
    index = details.get("first_index")
    if index is not None and "expected_value" not in details:
        notes.append(_("first difference at {index}").format(index=_index_text(index)))
    shape, dtype = details.get("expected_shape"), details.get("expected_dtype")
    if "expected_value" in details and shape == details.get("got_shape") and dtype == details.get("got_dtype"):
        notes.append(_("same shape {shape} and dtype {dtype}").format(shape=_index_text(shape), dtype=dtype))
    return sep().join(notes)


def check_summary(message: str, details: DifferenceView) -> str:
    """The judge's one-line message, shortened when the table below repeats it:
    ``result: values differ at index [0, 0]: expected 0.68, got 1.5 (...)`` becomes
    ``result: values differ``; what the value looks like stays (``; looks like the right
    values transposed``)."""
    if "expected_value" in details or "expected_preview" in details:
        like = details.get("looks_like")
        like_text = _("; looks like {like}").format(like=judge_words(like)) if like else ""
        head, cut, _rest = message.partition(" at index ")
        if cut:
            return judge_words(head) + like_text
        head, cut, _rest = message.partition(": expected ")
        if cut:
            return judge_words(head) + like_text
    return judge_words(message)


# The judge's messages are composed in the sandbox's child, in English (the JSON reports
# and gradebooks keep them so); a front shows the commonest ones in the learner's language
# by matching them here. A message that matches none is shown as the judge wrote it.
_JUDGE_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern, re.DOTALL), template) for pattern, template in (
    (r"(?P<what>.+?): values differ", N_("{what}: values differ")),
    (r"(?P<what>.+?): values differ at index (?P<where>.+?): expected (?P<a>.+?), got (?P<b>.+?) \((?P<n>\d+) of (?P<total>\d+) "
     r"elements differ; (?P<rest>.*?)\)(?P<like>; looks like .*)?",
     N_("{what}: values differ at index {where}: expected {a}, got {b} ({n} of {total} elements differ; {rest}){like}")),
    (r"(?P<what>.+?): shape differs", N_("{what}: shape differs")),
    (r"(?P<what>.+?): shape differs: expected (?P<a>\S+), got (?P<b>\S+?)(?P<like>; looks like .*)?",
     N_("{what}: shape differs: expected {a}, got {b}{like}")),
    (r"(?P<what>.+?): dtype differs", N_("{what}: dtype differs")),
    (r"(?P<what>.+?): dtype differs: expected (?P<a>\S+), got (?P<b>\S+)", N_("{what}: dtype differs: expected {a}, got {b}")),
    (r"(?P<what>.+?): does not require grad, but the reference's does \(was the graph cut by \.detach\(\), \.data or torch\.no_grad\(\)\?\)",
     N_("{what}: does not require grad, but the reference's does (was the graph cut by .detach(), .data or torch.no_grad()?)")),
    (r"(?P<what>.+?): requires grad, but the reference's does not \(should it be detached, or made under torch\.no_grad\(\)\?\)",
     N_("{what}: requires grad, but the reference's does not (should it be detached, or made under torch.no_grad()?)")),
    (r"(?P<what>[^:]+?): expected (?P<a>[^,]+), got (?P<b>[^,]+)", N_("{what}: expected {a}, got {b}")),
    # A verdict's summary (tutor.grading.grade, tutor.core).
    (r"no solution file at (?P<path>.+) \(run `tutor init`\)", N_("no solution file at {path} (run `tutor init`)")),
    (r"all (?P<n>\d+) checks passed", N_("all {n} checks passed")),
    (r"(?P<n>\d+) of (?P<total>\d+) checks failed; first: (?P<name>[^:]+): (?P<what>.+)",
     N_("{n} of {total} checks failed; first: {name}: {what}")),
    (r"visible checks pass; (?P<n>\d+) hidden checks? at grading", N_("visible checks pass; {n} hidden checks at grading")),
    (r"(?P<n>\d+) of (?P<total>\d+) checks passed; (?P<hidden>\d+) hidden checks? \((?P<points>\S+) points?\) runs? only when "
     r"graded \(tutor grade\)", N_("{n} of {total} checks passed; {hidden} hidden checks ({points} points) run only when graded (tutor grade)")),
    (r"grading failed: (?P<error>.+)", N_("grading failed: {error}")),
    (r"timed out after (?P<s>\S+) s \(an endless loop, or too much work\?\)",
     N_("timed out after {s} s (an endless loop, or too much work?)")),
    (r"timed out after (?P<s>\S+) s", N_("timed out after {s} s")),
    (r"your code exited early with sys\.exit\((?P<code>.*)\) before the checks could run",
     N_("your code exited early with sys.exit({code}) before the checks could run")),
    (r"hidden check (?P<n>\d+)", N_("hidden check {n}")),
    (r"the right values transposed \(yours\.T matches\)", N_("the right values transposed (yours.T matches)")),
    (r"the right values with the opposite sign \(a minus sign, or a subtraction the other way round\?\)",
     N_("the right values with the opposite sign (a minus sign, or a subtraction the other way round?)")),
    (r"the right values in another shape \(yours\.reshape(?P<shape>\S+) matches\)",
     N_("the right values in another shape (yours.reshape{shape} matches)")),
    (r"the right values times (?P<c>\S+) \(a constant factor\)", N_("the right values times {c} (a constant factor)")),
    (r"the right values plus a constant (?P<c>\S+) \(a term added or left out\?\)",
     N_("the right values plus a constant {c} (a term added or left out?)")),
    (r"the right values in another order \(sorted, yours and the expected ones are equal\)",
     N_("the right values in another order (sorted, yours and the expected ones are equal)")),
))


def judge_words(message: str) -> str:
    """A message of the judge's (a check's failure) in the learner's language where it is
    one of the commonest ones, else as written (always so in English)."""
    if not message or is_english():
        return message
    for pattern, template in _JUDGE_WORDS:
        found = pattern.fullmatch(message)
        if found:
            parts = {key: judge_words(value) if key in ("like", "what") and value else (value or "")
                     for key, value in found.groupdict().items()}
            return _(template).format(**parts)
    head, cut, like = message.partition("; looks like ")
    if cut:
        return judge_words(head) + _("; looks like {like}").format(like=judge_words(like))
    return message


_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
#: Strong and emphasis with asterisks; underscores are left alone (they are in names).
_MARKDOWN_EMPHASIS = re.compile(r"(?<![\w*])(\*\*|\*)(?=\S)(.+?)(?<=\S)\1(?![\w*])")


def plain_text(markdown: str) -> str:
    """Markdown as a terminal without a Markdown renderer shows it: code spans, emphasis
    and links reduced to their words (``tutor watch``, search results). Fenced code keeps
    its lines; only the fences go. Text inside a code span is never touched."""
    out = []
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            continue
        parts = re.split(r"(`+[^`]*`+)", line)  # odd parts are code spans
        out.append("".join(part.strip("`") if n % 2 else _MARKDOWN_EMPHASIS.sub(r"\2", _MARKDOWN_LINK.sub(r"\1", part))
                           for n, part in enumerate(parts)))
    return "\n".join(out)


#: Starts a code line's continuation when it had to be wrapped to fit the screen.
CONTINUATION = "↪ "


def chars_within(line: str, start: int, cells: int) -> int:
    """How many characters of ``line`` from ``start`` fit in ``cells`` columns (at least
    one): a CJK character (a translated comment) takes two."""
    if line.isascii():
        return max(1, min(cells, len(line) - start))
    from rich.cells import get_character_cell_size

    used = 0
    for n, char in enumerate(line[start:]):
        used += get_character_cell_size(char)
        if used > cells:
            return max(1, n)
    return len(line) - start


def code_pieces(line: str, width: int) -> list[tuple[int, int]]:
    """Where :func:`wrap_code` breaks one ``line``: the ``(start, end)`` offsets of each
    piece shown on a row of its own. The first piece is at most ``width`` cells wide;
    each later one follows the line's indentation and :data:`CONTINUATION`. A piece ends
    after the last space, comma, bracket or dot that fits (mid-token only when there is
    none); the spaces at a break are left out of both pieces."""
    indent = len(line) - len(line.lstrip())
    room = max(8, width - indent - len(CONTINUATION))
    pieces: list[tuple[int, int]] = []
    start, limit, floor = 0, width, indent  # the first piece keeps the indentation itself
    while (fits := chars_within(line, start, limit)) < len(line) - start:
        rest = line[start:start + fits]
        cut = max(rest.rfind(" "), *(rest.rfind(mark, 0, fits - 1) + 1 for mark in ",(."))
        if cut <= floor:
            cut = fits  # one long token: break it where the screen ends
        end = start + len(rest[:cut].rstrip())
        pieces.append((start, end))
        start += cut
        start += len(line[start:]) - len(line[start:].lstrip())
        limit, floor = room, 0
    pieces.append((start, len(line)))
    return pieces


def wrap_code(code: str, width: int) -> str:
    """``code`` with every line wider than ``width`` broken, never cropped (see
    :func:`code_pieces`), each continuation indented as its line and marked with
    :data:`CONTINUATION`, so no character is lost and no wrapped piece reads as a line
    of its own."""
    out: list[str] = []
    for line in code.splitlines():
        lead = line[: len(line) - len(line.lstrip())] + CONTINUATION
        for n, (start, end) in enumerate(code_pieces(line, width)):
            out.append(line[start:end] if n == 0 else lead + line[start:end])
    return "\n".join(out)


# --- Chinese text in Rich and Textual ---------------------------------------------------

# Rich (and Textual's Content, which wraps with it) breaks lines only at spaces, so a run
# of Chinese, which has none, goes to the next line whole and leaves the row above half
# empty. Chinese may break between any two characters, except before closing punctuation
# or after opening punctuation: so each wide character is a word of its own, with the
# punctuation that must stay beside it.
_WIDE = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3200-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_OPENING = "（「『【《〈〔"
_CLOSING = "，。、；：！？）」』】》〉〕"
CJK_WORD = re.compile(rf"\s*[{_OPENING}]*(?:[{_WIDE}]|[^\s{_WIDE}]+)[{_CLOSING}]*\s*")


def wrap_chinese_by_character() -> None:
    """Let Rich's line wrapping break Chinese text between characters (see above). Text
    without wide characters is divided exactly as before. Done only where Rich divides
    words as this expects (its private ``rich._wrap.re_word``); otherwise left alone."""
    try:
        from rich import _wrap
    except ImportError:
        return
    if getattr(_wrap, "re_word", None) is not None and _wrap.re_word.pattern in (r"\s*\S+\s*", CJK_WORD.pattern):
        _wrap.re_word = CJK_WORD
