"""The stdout kind (``compare = ["stdout"]``): the printed output equals the reference's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tutor.checks.base import CheckKind, Common, Fail, Probe, Sides, Spec, Table

if TYPE_CHECKING:
    from tutor.values.compare import Difference


@dataclass(frozen=True)
class StdoutSpec(Spec):
    pass


class Stdout(CheckKind):
    name = "stdout"
    spec_type = StdoutSpec

    def parse(self, table: Table, common: Common, fail: Fail) -> StdoutSpec | None:
        return StdoutSpec() if "stdout" in common.compare else None

    def collect(self, spec: StdoutSpec, probe: Probe, state: Any) -> Any:
        return probe.stdout

    def judge(self, spec: StdoutSpec, sides: Sides) -> Difference | None:
        expected, got = str(sides.expected or ""), str(sides.got or "")
        if _norm(expected) != _norm(got):
            return _stdout_difference(expected, got)
        return None


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def _stdout_difference(expected: str, got: str) -> Difference:
    from tutor.values.compare import Difference

    e, g = _norm(expected).splitlines(), _norm(got).splitlines()
    for i in range(max(len(e), len(g))):
        a = e[i] if i < len(e) else "<end of output>"
        b = g[i] if i < len(g) else "<end of output>"
        if a != b:
            return Difference("printed output", f"printed output differs at line {i + 1}: expected {a!r}, got {b!r}",
                              "\n".join(e[:20]), "\n".join(g[:20]), {"what": "stdout", "first_index": [i + 1]})
    return Difference("printed output", "printed output differs", expected, got, {"what": "stdout"})


KIND = Stdout()
