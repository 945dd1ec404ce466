"""Grading results as plain data (no torch): what the judge says, per check and exercise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypedDict

from tutor.checks.wire import Verdict
from tutor.values.details import Details

#: A hidden check that did not run (the learner's local view) is "hidden"; every other
#: check, and every exercise, has the judge's verdict.
CheckStatus = Verdict | Literal["hidden"]
ExerciseStatus = Verdict
#: The check that reports broken source rules (banned calls, loops): failing it scores the
#: whole answer nothing.
RULES_CHECK = "rules"


class CheckJson(TypedDict):
    """A check in ``tutor grade --json`` (DESIGN.md)."""

    name: str
    status: CheckStatus
    expected: str
    got: str
    message: str
    seed: int | None
    hidden: bool
    score: float
    max_score: float


class ExerciseJson(TypedDict):
    """An exercise in ``tutor grade --json`` (DESIGN.md)."""

    id: str
    status: ExerciseStatus
    message: str
    output: str
    score: float
    max_score: float
    seeds: list[int]
    checks: list[CheckJson]


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
    details: Details = field(default_factory=lambda: Details())
    #: The check's points; it scores them only when it passes.
    max_score: float = 1.0

    @property
    def score(self) -> float:
        return self.max_score if self.status == "pass" else 0.0

    def to_json(self) -> CheckJson:
        return CheckJson(name=self.name, status=self.status, expected=self.expected, got=self.got,
                         message=self.message, seed=self.seed, hidden=self.hidden,
                         score=self.score, max_score=self.max_score)


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

    def to_json(self) -> ExerciseJson:
        return ExerciseJson(id=self.id, status=self.status, message=self.message, output=self.output,
                            score=self.score, max_score=self.max_score, seeds=list(self.seeds),
                            checks=[c.to_json() for c in self.checks])
