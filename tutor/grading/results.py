"""Grading results as plain data (no torch): what the judge says, per check and exercise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

CheckStatus = Literal["pass", "fail", "error", "hidden"]
ExerciseStatus = Literal["pass", "fail", "error"]


@dataclass
class CheckResult:
    """The verdict of one check.

    ``details`` carries the structured difference for display: ``expected_shape``,
    ``got_shape``, ``expected_dtype``, ``got_dtype``, ``max_abs_diff``,
    ``max_rel_diff``, ``first_index``, ``expected_value``, ``got_value``,
    ``expected_preview``, ``got_preview``, ``seed``, ``what`` (value, grad of x, ...).
    A hidden check seen locally has status ``"hidden"`` and no details.
    """

    name: str
    status: CheckStatus
    message: str = ""
    expected: str = ""
    got: str = ""
    seed: int | None = None
    hidden: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "expected": self.expected, "got": self.got,
                "message": self.message, "seed": self.seed, "hidden": self.hidden}


@dataclass
class ExerciseReport:
    """The verdict of one exercise: ``pass`` only if every check that ran passed and no
    hidden check was left unrun."""

    id: str
    status: ExerciseStatus
    message: str = ""
    output: str = ""
    checks: list[CheckResult] = field(default_factory=list)
    hidden_unrun: int = 0
    duration_ms: float = 0.0
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "message": self.message, "output": self.output,
                "checks": [c.to_json() for c in self.checks]}
