"""The placement kind (``same_device = true``): every tensor in ``expr``'s value (a
tensor, a module's parameters and buffers, the items of a list, tuple or dict) lives on
the device the reference put it on. On a GPU run it catches the ``.to(DEVICE)`` that a
CPU run cannot tell from its absence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tutor.checks.base import CheckKind, Common, Fail, Probe, Sides, Spec, Table

if TYPE_CHECKING:
    from tutor.values.compare import Difference

MAX_TENSORS = 1000


@dataclass(frozen=True)
class PlacementSpec(Spec):
    pass


class Placement(CheckKind):
    name = "placement"
    keys = ("same_device",)
    spec_type = PlacementSpec

    def parse(self, table: Table, common: Common, fail: Fail) -> PlacementSpec | None:
        wanted = table.get("same_device", False)
        if not isinstance(wanted, bool):
            raise fail(f"check '{common.name}': 'same_device' must be true or false", "same_device")
        return PlacementSpec() if wanted else None

    def collect(self, spec: PlacementSpec, probe: Probe, state: Any) -> Any:
        return tensors_in(probe.value)

    def judge(self, spec: PlacementSpec, sides: Sides) -> Difference | None:
        from tutor.values.compare import Difference
        from tutor.values.encode import BadData

        def places(data: Any) -> dict[str, str]:
            if not isinstance(data, list) or len(data) > MAX_TENSORS or not all(
                    isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in data):
                raise BadData("malformed placement data")
            return {where: device for where, device in data}

        expected, got = places(sides.expected), places(sides.got)
        for where, device in expected.items():
            if where not in got:
                return Difference(where, f"{where}: expected a tensor on {device}, found none there", device, "missing",
                                  {"what": where})
            if got[where] != device:
                return Difference(where, f"{where} is on {got[where]}, expected {device} (was .to(DEVICE) forgotten, "
                                  "or its result not kept? tensor.to() returns a new tensor)", device, got[where],
                                  {"what": where})
        return None


KIND = Placement()


def tensors_in(value: Any, with_layout: bool = False) -> list[list[Any]]:
    """``[where, device]`` (and the shape and dtype, ``with_layout``) of every tensor in
    ``value``: a tensor, a module's parameters and buffers, the items of a list, tuple
    or dict."""
    import torch

    found: list[list[Any]] = []

    def walk(item: Any, where: str, depth: int) -> None:
        if len(found) >= MAX_TENSORS or depth > 8:
            return
        if isinstance(item, torch.Tensor):
            found.append([where, item.device.type, [int(s) for s in item.shape], str(item.dtype)] if with_layout
                         else [where, item.device.type])
        elif isinstance(item, torch.nn.Module):
            for name, tensor in [*item.named_parameters(), *item.named_buffers()]:
                walk(tensor, f"{where}.{name}", depth + 1)
        elif isinstance(item, (list, tuple)):
            for i, part in enumerate(item):
                walk(part, f"{where}[{i}]", depth + 1)
        elif isinstance(item, dict):
            for key, part in item.items():
                walk(part, f"{where}[{key!r}]", depth + 1)

    walk(value, "result", 0)
    return found
