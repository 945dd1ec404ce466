"""The outcome kind (``outcome = ["loss < 0.05", ...]``): bounds on ``expr``'s value,
judged from data. Training exercises use it: any run that learns passes, not only the
reference's trajectory."""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tutor.checks.base import (
    CheckKind,
    Common,
    Fail,
    Probe,
    Sides,
    Spec,
    Table,
    compiles,
    strings_list,
)

if TYPE_CHECKING:
    from tutor.values.compare import Difference

#: What a bound may call besides ``torch`` and ``math``.
SAFE_BUILTINS = {f.__name__: f for f in (abs, min, max, len, sum, all, any, float, int, round, bool)}


@dataclass(frozen=True)
class OutcomeSpec(Spec):
    bounds: tuple[str, ...] = ()


class Outcome(CheckKind):
    name = "outcome"
    keys = ("outcome",)
    spec_type = OutcomeSpec
    claims_value = True

    def parse(self, table: Table, common: Common, fail: Fail) -> OutcomeSpec | None:
        bounds = table.get("outcome")
        if bounds is None:
            return None
        if isinstance(bounds, str):
            bounds = [bounds]
        if not strings_list(bounds) or not bounds:
            raise fail(f"check '{common.name}': 'outcome' must be a list of Python expressions such as \"loss < 0.05\"", "outcome")
        for bound in bounds:
            problem = compiles(bound, "eval")
            if problem:
                raise fail(f"check '{common.name}': outcome {bound!r} is not a Python expression: {problem}", "outcome")
        return OutcomeSpec(tuple(b.strip() for b in bounds))

    def collect(self, spec: OutcomeSpec, probe: Probe, state: Any) -> Any:
        return probe.encoder.encode(probe.value)

    def judge(self, spec: OutcomeSpec, sides: Sides) -> Difference | None:
        from tutor.values.compare import Difference
        from tutor.values.encode import decode

        value = plain(decode(sides.got, sides.got_blobs))
        names = _names(value)
        for bound in spec.bounds:
            shown = _shown(bound, names)
            try:
                met = bool(eval(compile(bound, "<outcome>", "eval"), {"__builtins__": SAFE_BUILTINS, **_modules()}, names))
            except Exception as exc:  # noqa: BLE001 - a learner's value may not fit the bound at all
                first = (str(exc).strip().splitlines() or [""])[0][:200]
                return Difference("outcome", f"outcome {bound!r} could not be evaluated on your result"
                                  f"{' (' + shown + ')' if shown else ''}: {type(exc).__name__}: {first}",
                                  bound, shown or _describe(value), {"what": "outcome"})
            if not met:
                return Difference("outcome", f"outcome {bound!r} is false{' (' + shown + ')' if shown else ''}",
                                  bound, shown or _describe(value), {"what": "outcome"})
        return None


def plain(value: Any) -> Any:
    """A decoded value as plain Python: tensors stay tensors, containers become lists,
    tuples and dicts, anything else its recorded data."""
    from tutor.values.encode import Tagged, TensorData

    if isinstance(value, TensorData):
        return value.tensor
    if isinstance(value, Tagged):
        if value.kind == "list":
            return [plain(v) for v in value.value]
        if value.kind == "tuple":
            return tuple(plain(v) for v in value.value)
        if value.kind == "dict":
            return {k: plain(v) for k, v in value.value.items()}
        return value.value
    return value


def _modules() -> dict[str, Any]:
    import torch

    return {"torch": torch, "math": math}


def _names(value: Any) -> dict[str, Any]:
    names: dict[str, Any] = {"value": value}
    if isinstance(value, dict):
        names.update({k: v for k, v in value.items() if isinstance(k, str) and k.isidentifier() and k != "value"})
    return names


def _shown(bound: str, names: dict[str, Any]) -> str:
    """``w = 2.31, loss = 0.07``: the values of the names a bound reads."""
    used = [n.id for n in ast.walk(ast.parse(bound, mode="eval")) if isinstance(n, ast.Name)]
    return ", ".join(f"{n} = {_describe(names[n])}" for n in dict.fromkeys(used) if n in names)


def _describe(value: Any) -> str:
    import torch

    if isinstance(value, torch.Tensor):
        if value.numel() == 1:
            return f"{value.item():.6g}"
        if value.numel() <= 6 and not value.is_complex():
            return "[" + ", ".join(f"{v:.4g}" for v in value.detach().flatten().tolist()) + "]"
        return f"tensor of shape {tuple(value.shape)}"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


KIND = Outcome()
