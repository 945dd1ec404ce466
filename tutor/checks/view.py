"""The view kind (``view_of = "x"``): the result shares its storage with a ``setup`` tensor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tutor.checks.base import CheckKind, Common, Fail, Probe, Sides, Spec, Table

if TYPE_CHECKING:
    from tutor.values.compare import Difference


@dataclass(frozen=True)
class ViewSpec(Spec):
    of: str = ""


class View(CheckKind):
    name = "view"
    keys = ("view_of",)
    spec_type = ViewSpec

    def parse(self, table: Table, common: Common, fail: Fail) -> ViewSpec | None:
        of = table.get("view_of")
        if of is None:
            return None
        if not (isinstance(of, str) and of.isidentifier()):
            raise fail(f"check '{common.name}': 'view_of' must name a variable from 'setup'", "view_of")
        return ViewSpec(of)

    def collect(self, spec: ViewSpec, probe: Probe, state: Any) -> Any:
        import torch

        value, base = probe.value, probe.namespace.get(spec.of)
        return bool(
            isinstance(value, torch.Tensor) and isinstance(base, torch.Tensor)
            and value.untyped_storage().data_ptr() == base.untyped_storage().data_ptr()
        )

    def judge(self, spec: ViewSpec, sides: Sides) -> Difference | None:
        from tutor.values.compare import Difference

        if sides.got is not True:
            return Difference("result", f"the result is not a view of {spec.of}: it does not share its memory (a copy was made)",
                              f"a view of {spec.of}", "a copy", {"what": "result"})
        return None


KIND = View()
