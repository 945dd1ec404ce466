"""Grading results as plain data (no torch): what the judge says, per check and exercise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

CheckStatus = Literal["pass", "fail", "error", "hidden"]
ExerciseStatus = Literal["pass", "fail", "error"]
#: The check that reports broken source rules (banned calls, loops): failing it scores the
#: whole answer nothing.
RULES_CHECK = "rules"


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
    #: The check's points; it scores them only when it passes.
    max_score: float = 1.0

    @property
    def score(self) -> float:
        return self.max_score if self.status == "pass" else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "expected": self.expected, "got": self.got,
                "message": self.message, "seed": self.seed, "hidden": self.hidden,
                "score": self.score, "max_score": self.max_score}


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
    #: The exercise's points when no check could run (a missing file); else the checks' sum.
    points: float | None = None
    #: The seeds the checks ran under (drawn per run by `tutor grade`).
    seeds: tuple[int, ...] = ()

    @property
    def score(self) -> float:
        """The points of the checks that passed; nothing when a rule was broken (a banned
        call, a loop where none is allowed): such an answer does not count."""
        if any(c.name == RULES_CHECK and c.status != "pass" for c in self.checks):
            return 0.0
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> float:
        return self.points if self.points is not None and not self.checks else sum(c.max_score for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "message": self.message, "output": self.output,
                "score": self.score, "max_score": self.max_score, "seeds": list(self.seeds),
                "checks": [c.to_json() for c in self.checks]}
