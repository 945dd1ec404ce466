"""The no-mutation kind (``no_mutation = ["x"]``): the solution leaves named ``setup``
tensors unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tutor.checks.base import CheckKind, Common, Fail, Probe, Sides, Spec, Table, names_list

if TYPE_CHECKING:
    from tutor.values.compare import Difference


@dataclass(frozen=True)
class NoMutationSpec(Spec):
    names: tuple[str, ...] = ()


class NoMutation(CheckKind):
    name = "no_mutation"
    keys = ("no_mutation",)
    spec_type = NoMutationSpec

    def parse(self, table: Table, common: Common, fail: Fail) -> NoMutationSpec | None:
        names = table.get("no_mutation", [])
        if not names_list(names):
            raise fail(f"check '{common.name}': 'no_mutation' must be a list of variable names from 'setup'", "no_mutation")
        return NoMutationSpec(tuple(names)) if names else None

    def before(self, spec: NoMutationSpec, probe: Probe) -> Any:
        import torch

        ns = probe.namespace
        return {name: ns[name].detach().clone() for name in spec.names if isinstance(ns.get(name), torch.Tensor)}

    def collect(self, spec: NoMutationSpec, probe: Probe, state: Any) -> Any:
        import torch

        def same(before: torch.Tensor, after: Any) -> bool:
            return (isinstance(after, torch.Tensor) and after.shape == before.shape and after.dtype == before.dtype
                    and bool(torch.equal(after.detach(), before)))

        return [name for name, before in state.items() if not same(before, probe.namespace[name])]

    def judge(self, spec: NoMutationSpec, sides: Sides) -> Difference | None:
        from tutor.values.compare import Difference

        mutated = sides.got or []
        if not isinstance(mutated, list) or mutated:
            many = isinstance(mutated, list) and len(mutated) > 1
            names = ", ".join(str(m) for m in mutated) if isinstance(mutated, list) else "an input"
            inputs, them = ("inputs", "them") if many else ("input", "it")
            return Difference("input", f"your code modified its {inputs} {names} in place; it must leave {them} unchanged",
                              "input unchanged", f"{names} changed", {"what": "input"})
        return None


KIND = NoMutation()
