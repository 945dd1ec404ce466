"""A check as data, serialised once for both children and the judge.

The front sends :func:`check_to_wire`'s dict to the harness (which runs ``setup`` and
``expr`` and collects each kind's data) and the very same dict to the judge (which
compares). Each side rebuilds the kinds' specs with :func:`specs_from_wire`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Protocol

from tutor.checks import BY_NAME, CheckKind, Spec, kind_of


class Check(Protocol):
    """What the wire reads of a check (``tutor.lessons.model.Check``, which sits above the
    check kinds: the lessons import the registry, never the other way round)."""

    @property
    def name(self) -> str: ...
    @property
    def setup(self) -> str: ...
    @property
    def expr(self) -> str: ...
    @property
    def rtol(self) -> float | None: ...
    @property
    def atol(self) -> float | None: ...
    @property
    def specs(self) -> tuple[Spec, ...]: ...


def check_to_wire(check: Check, seeds: tuple[int, ...]) -> dict[str, Any]:
    """``check`` and the seeds it runs under, as JSON-able data."""
    return {
        "name": check.name, "setup": check.setup, "expr": check.expr, "rtol": check.rtol, "atol": check.atol,
        "seeds": list(seeds), "kinds": [[kind_of(spec).name, asdict(spec)] for spec in check.specs],
    }


def specs_from_wire(data: dict[str, Any]) -> list[tuple[CheckKind, Spec]]:
    """The (kind, spec) pairs of a wire check, in judging order. Only our own front
    writes this data, so a malformed entry is a bug: it raises."""
    pairs = []
    for name, fields in data["kinds"]:
        kind = BY_NAME[name]
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
        pairs.append((kind, kind.spec_type(**values)))
    return pairs
