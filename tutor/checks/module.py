"""The module kind (``module = [...]``, ``input``): an ``nn.Module``'s parameters
(trainable or frozen), buffers, ``state_dict`` keys, outputs and train/eval behaviour
equal the reference's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

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
    from tutor.values.encode import Node

ASPECTS = ("parameters", "buffers", "state_dict", "output", "modes")
NEEDS_INPUT = ("output", "modes")


class ModuleRecord(TypedDict, total=False):
    """What the harness sends for a module check: the aspects asked for, each name with
    its shape and flag (``[name, shape, requires_grad or in state_dict]``), and
    the encoded outputs; ``not_a_module`` names what ``expr`` gave instead. The judge
    reads it as untrusted JSON (the learner's code ran where it was made)."""

    not_a_module: str
    parameters: list[list[str | list[int] | bool]]
    buffers: list[list[str | list[int] | bool]]
    state_dict: list[list[str | list[int]]]
    output: Node
    train: Node
    eval: Node


@dataclass(frozen=True)
class ModuleSpec(Spec):
    aspects: tuple[str, ...] = ()
    input: str = ""


class Module(CheckKind):
    name = "module"
    keys = ("module", "input")
    spec_type = ModuleSpec
    claims_value = True

    def parse(self, table: Table, common: Common, fail: Fail) -> ModuleSpec | None:
        aspects = table.get("module")
        where = f"check '{common.name}'"
        if aspects is None:
            if "input" in table:
                raise fail(f"{where}: 'input' belongs to a 'module' check", "input")
            return None
        if isinstance(aspects, str):
            aspects = [aspects]
        if not strings_list(aspects) or not aspects:
            raise fail(f"{where}: 'module' must be a list of {', '.join(ASPECTS)}", "module")
        for aspect in aspects:
            if aspect not in ASPECTS:
                raise fail(f"{where}: unknown module aspect '{aspect}' (known: {', '.join(ASPECTS)})", "module")
        given = table.get("input", "")
        if not isinstance(given, str):
            raise fail(f"{where}: 'input' must be a Python expression", "input")
        if any(a in NEEDS_INPUT for a in aspects) and not given.strip():
            raise fail(f"{where}: 'output' and 'modes' need an 'input' expression to call the module with", "module")
        if given.strip() and (problem := compiles(given, "eval")):
            raise fail(f"{where}: 'input' is not a Python expression: {problem}", "input")
        return ModuleSpec(tuple(aspects), given.strip())

    def collect(self, spec: ModuleSpec, probe: Probe, state: Any) -> ModuleRecord:
        import torch

        module = probe.value
        if not isinstance(module, torch.nn.Module):
            return ModuleRecord(not_a_module=type(module).__name__)
        out: ModuleRecord = {}
        sd = module.state_dict()
        if "parameters" in spec.aspects:
            out["parameters"] = [[n, list(p.shape), p.requires_grad] for n, p in module.named_parameters()]
        if "buffers" in spec.aspects:
            out["buffers"] = [[n, list(b.shape), n in sd] for n, b in module.named_buffers()]
        if "state_dict" in spec.aspects:
            out["state_dict"] = [[k, list(v.shape) if isinstance(v, torch.Tensor) else []] for k, v in sd.items()]

        def forward() -> Any:
            probe.reseed()
            return probe.encoder.encode(module(probe.evaluate(spec.input)))

        if "output" in spec.aspects:
            out["output"] = forward()
        if "modes" in spec.aspects:
            module.train()
            out["train"] = forward()
            module.eval()
            out["eval"] = forward()
        return out

    def judge(self, spec: ModuleSpec, sides: Sides) -> Difference | None:
        from tutor.values.compare import Difference, compare_values
        from tutor.values.encode import BadData, decode

        e, g = sides.expected, sides.got
        if not isinstance(e, dict) or not isinstance(g, dict):
            raise BadData("malformed module data")
        if "not_a_module" in g:
            got = str(g["not_a_module"])[:80]
            return Difference("result", f"result: expected an nn.Module, got a {got}", "nn.Module", got, {"what": "result"})
        for aspect, label in (("parameters", "parameter"), ("buffers", "buffer"), ("state_dict", "state_dict key")):
            # The flag: a parameter's requires_grad, a buffer's persistence.
            if aspect in spec.aspects:
                diff = _entries(_rows(e.get(aspect)), _rows(g.get(aspect)), label)
                if diff:
                    return diff
        for key, what in (("output", "output"), ("train", "output in train mode"), ("eval", "output in eval mode")):
            if key in e:
                diff = compare_values(decode(e[key], sides.expected_blobs), decode(g.get(key), sides.got_blobs),
                                      what, set(), sides.rtol, sides.atol)
                if diff:
                    return diff
        return None


def _rows(value: Any) -> list[tuple[str, tuple[int, ...], Any]]:
    from tutor.values.encode import BadData

    if not isinstance(value, list) or len(value) > 10_000:
        raise BadData("malformed module data")
    rows = []
    for row in value:
        if not (isinstance(row, list) and len(row) in (2, 3) and isinstance(row[0], str) and isinstance(row[1], list)
                and all(type(s) is int for s in row[1])):
            raise BadData("malformed module data")
        rows.append((row[0], tuple(row[1]), row[2] if len(row) == 3 else None))
    return rows


def _entries(expected: list[tuple[str, tuple[int, ...], Any]], got: list[tuple[str, tuple[int, ...], Any]],
             label: str) -> Difference | None:
    from tutor.values.compare import Difference

    e = {name: (shape, flag) for name, shape, flag in expected}
    g = {name: (shape, flag) for name, shape, flag in got}
    what = f"{label}s"
    if set(e) != set(g):
        missing = [n for n in e if n not in g]
        extra = [n for n in g if n not in e]
        return Difference(what, f"{what} differ: missing {missing or 'none'}, unexpected {extra or 'none'} "
                          f"(expected {len(e)}, got {len(g)})", ", ".join(e), ", ".join(g), {"what": what})
    for name, (shape, flag) in e.items():
        got_shape, got_flag = g[name]
        if shape != got_shape:
            return Difference(what, f"{label} {name} has shape {list(got_shape)}, expected {list(shape)}",
                              str(list(shape)), str(list(got_shape)), {"what": f"{label} {name}"})
        if flag is not None and flag != got_flag:
            if label == "parameter":
                expected_kind = "trainable (requires_grad=True)" if flag else "frozen (requires_grad=False)"
                got_kind = "trainable" if got_flag else "frozen"
            else:
                expected_kind = "persistent (saved in state_dict)" if flag else "non-persistent (persistent=False)"
                got_kind = "persistent" if got_flag else "non-persistent"
            return Difference(what, f"{label} {name}: expected {expected_kind}, got {got_kind}",
                              expected_kind, got_kind, {"what": f"{label} {name}"})
    return None


KIND = Module()
