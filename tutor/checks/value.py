"""The value kind: ``expr``'s value equals the reference's (``compare``, ``strict_types``).

It is the kind every check had first: implied whenever no other kind judges the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tutor.checks.base import CheckKind, Common, Fail, Probe, Sides, Spec, Table

if TYPE_CHECKING:
    from tutor.values.compare import Difference

#: The ``compare`` entries other kinds answer for; they do not ask for a value comparison.
NOT_VALUE = frozenset({"grad", "stdout"})


@dataclass(frozen=True)
class ValueSpec(Spec):
    aspects: tuple[str, ...] = ()
    strict_types: bool = False


class Value(CheckKind):
    name = "value"
    keys = ("strict_types",)
    spec_type = ValueSpec

    def parse(self, table: Table, common: Common, fail: Fail) -> ValueSpec | None:
        strict = table.get("strict_types", False)
        if not isinstance(strict, bool):
            raise fail(f"check '{common.name}': 'strict_types' must be true or false", "strict_types")
        aspects = tuple(c for c in common.compare if c not in NOT_VALUE)
        if aspects or strict:
            return ValueSpec(aspects, strict)
        return None  # implied later, unless another kind judges the value

    def collect(self, spec: ValueSpec, probe: Probe, state: Any) -> Any:
        return probe.encoder.encode(probe.value)

    def judge(self, spec: ValueSpec, sides: Sides) -> Difference | None:
        from tutor.values.compare import compare_values, strict_type_difference
        from tutor.values.encode import decode

        expected, got = decode(sides.expected, sides.expected_blobs), decode(sides.got, sides.got_blobs)
        if spec.strict_types:
            diff = strict_type_difference(expected, got, "result")
            if diff:
                return diff
        return compare_values(expected, got, "result", set(spec.aspects), sides.rtol, sides.atol)


KIND = Value()
