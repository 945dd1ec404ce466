"""The gradient-flow kind (``grad_flow = "net"`` or a list of tensor names, ``params``):
after ``expr`` is back-propagated, every parameter receives a finite, non-zero gradient.

The harness sends the gradients themselves; the judge decides, so the verdict is made
where no learner code ran."""

from __future__ import annotations

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
    names_list,
    strings_list,
)

if TYPE_CHECKING:
    from tutor.values.compare import Difference


@dataclass(frozen=True)
class GradFlowSpec(Spec):
    module: str = ""
    tensors: tuple[str, ...] = ()
    params: tuple[str, ...] = ()


class GradFlow(CheckKind):
    name = "grad_flow"
    keys = ("grad_flow", "params")
    spec_type = GradFlowSpec
    claims_value = True
    needs_backward = True

    def parse(self, table: Table, common: Common, fail: Fail) -> GradFlowSpec | None:
        target = table.get("grad_flow")
        where = f"check '{common.name}'"
        if target is None:
            if "params" in table:
                raise fail(f"{where}: 'params' belongs to a 'grad_flow' check", "params")
            return None
        params = table.get("params", [])
        if not strings_list(params):
            raise fail(f"{where}: 'params' must be a list of parameter names such as \"weight\"", "params")
        if isinstance(target, str) and target.isidentifier():
            return GradFlowSpec(module=target, params=tuple(params))
        if names_list(target) and target and not params:
            return GradFlowSpec(tensors=tuple(target))
        raise fail(f"{where}: 'grad_flow' must name a module from 'setup' (or list tensor names, without 'params')", "grad_flow")

    def before(self, spec: GradFlowSpec, probe: Probe) -> Any:
        """Hooks on each leaf that see the gradient backward brings to it: what is
        judged is that, not ``.grad``, which code can write by hand (a ``forward`` that
        sets ``p.grad = torch.ones_like(p)`` shows a gradient where none flows)."""
        import torch

        received: dict[str, Any] = {}
        handles = []

        def keep(grad: Any, name: str) -> None:
            received[name] = grad.detach().clone() if name not in received else received[name] + grad.detach()

        for name, leaf in self._leaves(spec, probe).items():
            if isinstance(leaf, torch.Tensor) and leaf.is_leaf and leaf.requires_grad:
                handles.append(leaf.register_hook(lambda grad, n=name: keep(grad, n)))
        return received, handles

    def collect(self, spec: GradFlowSpec, probe: Probe, state: Any) -> Any:
        import torch

        received, handles = state if isinstance(state, tuple) else ({}, [])
        for handle in handles:
            handle.remove()
        encode = probe.encoder.encode

        def grad_of(name: str, leaf: Any) -> Any:
            if not isinstance(leaf, torch.Tensor):
                return {"kind": "missing"}
            if name not in received and leaf.grad is not None:
                return {"kind": "not_from_backward"}
            return encode(received.get(name))

        if spec.module:
            module = probe.namespace.get(spec.module)
            if not isinstance(module, torch.nn.Module):
                return {"not_a_module": type(module).__name__}
            named = dict(module.named_parameters())
            names = spec.params or tuple(named)
            return {"grads": [[n, grad_of(n, named.get(n))] for n in names]}
        return {"grads": [[name, grad_of(name, probe.namespace.get(name))] for name in spec.tensors]}

    @staticmethod
    def _leaves(spec: GradFlowSpec, probe: Probe) -> dict[str, Any]:
        if spec.module:
            import torch

            module = probe.namespace.get(spec.module)
            named = dict(module.named_parameters()) if isinstance(module, torch.nn.Module) else {}
            return {n: named.get(n) for n in (spec.params or tuple(named))}
        return {name: probe.namespace.get(name) for name in spec.tensors}

    def judge(self, spec: GradFlowSpec, sides: Sides) -> Difference | None:
        import torch

        from tutor.values.compare import Difference
        from tutor.values.encode import BadData, TensorData, decode

        data = sides.got
        if not isinstance(data, dict):
            raise BadData("malformed gradient data")
        if "not_a_module" in data:
            got = str(data["not_a_module"])[:80]
            return Difference("gradients", f"{spec.module}: expected an nn.Module, got a {got}", "nn.Module", got,
                              {"what": "gradients"})
        rows = data.get("grads")
        wanted = list(spec.params or spec.tensors)
        if not isinstance(rows, list) or not all(isinstance(r, list) and len(r) == 2 and isinstance(r[0], str) for r in rows):
            raise BadData("malformed gradient data")
        if (spec.tensors or spec.params) and [r[0] for r in rows] != wanted:
            raise BadData("gradient data for other names than asked")
        missing, none, bad, zero, by_hand = [], [], [], [], []
        for name, node in rows:
            if isinstance(node, dict) and node.get("kind") == "missing":
                missing.append(name)
                continue
            if isinstance(node, dict) and node.get("kind") == "not_from_backward":
                by_hand.append(name)
                continue
            grad = decode(node, sides.got_blobs)
            if grad is None:
                none.append(name)
            elif not isinstance(grad, TensorData):
                raise BadData("a gradient that is not a tensor")
            elif not bool(torch.isfinite(grad.tensor).all()):
                bad.append(name)
            elif grad.tensor.numel() and not bool(grad.tensor.ne(0).any()):
                zero.append(name)
        owner = f" of {spec.module}" if spec.module else ""
        if missing:
            return Difference("gradients", f"no parameter{owner} named {', '.join(missing)}", ", ".join(wanted),
                              "missing", {"what": "gradients"})
        if by_hand:
            return Difference("gradients", f"the gradient of {', '.join(by_hand)}{owner} was not written by backward(): "
                              ".grad was set by hand, and no gradient flows back to it", "a gradient from backward",
                              "set by hand", {"what": "gradients"})
        if none:
            return Difference("gradients", f"no gradient reached {', '.join(none)}{owner}: .grad is None after backward "
                              "(was the graph cut by .data or .detach()?)", "a gradient", "None", {"what": "gradients"})
        if bad:
            return Difference("gradients", f"the gradient of {', '.join(bad)}{owner} is not finite (inf or nan)",
                              "finite", "inf/nan", {"what": "gradients"})
        if zero:
            return Difference("gradients", f"the gradient of {', '.join(zero)}{owner} is all zeros: nothing flows back to it",
                              "non-zero", "zeros", {"what": "gradients"})
        return None


KIND = GradFlow()
