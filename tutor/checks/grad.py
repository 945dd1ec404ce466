"""The grad kind (``grad = ["x", ...]``): named ``setup`` tensors get the reference's
gradients after ``expr``'s value is back-propagated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tutor.checks.base import CheckKind, Common, Fail, Probe, Sides, Spec, Table, names_list

if TYPE_CHECKING:
    from tutor.values.compare import Difference


@dataclass(frozen=True)
class GradSpec(Spec):
    names: tuple[str, ...] = ()


class Grad(CheckKind):
    name = "grad"
    keys = ("grad",)
    spec_type = GradSpec
    needs_backward = True

    def parse(self, table: Table, common: Common, fail: Fail) -> GradSpec | None:
        names = table.get("grad", [])
        if not names_list(names):
            raise fail(f"check '{common.name}': 'grad' must be a list of variable names from 'setup'", "grad")
        return GradSpec(tuple(names)) if names else None

    def collect(self, spec: GradSpec, probe: Probe, state: Any) -> Any:
        import torch

        grads = {}
        for name in spec.names:
            leaf = probe.namespace.get(name)
            grads[name] = probe.encoder.encode(leaf.grad if isinstance(leaf, torch.Tensor) else None)
        return grads

    def judge(self, spec: GradSpec, sides: Sides) -> Difference | None:
        from tutor.values.compare import Difference, compare_values, preview
        from tutor.values.encode import TensorData, decode

        expected = sides.expected if isinstance(sides.expected, dict) else {}
        got = sides.got if isinstance(sides.got, dict) else {}
        for name in spec.names:
            e = decode(expected.get(name), sides.expected_blobs)
            g = decode(got.get(name), sides.got_blobs)
            what = f"{name}.grad"
            if isinstance(e, TensorData) and g is None:
                return Difference(what, f"{what} is None: no gradient reached {name} (was the graph cut, or backward never called?)",
                                  preview(e.tensor), "None", {"what": what})
            diff = compare_values(e, g, what, {"value"}, sides.rtol, sides.atol)
            if diff:
                return diff
        return None


KIND = Grad()
