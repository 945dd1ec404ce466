"""Check kinds as a registry.

Each kind lives in one module of this package and declares its TOML keys and their
validation, what the harness collects in the learner's and the reference's children,
how the judge compares and how a failure reads. :data:`KINDS` is the judging order:
the first kind that finds a difference decides a check. Adding a kind is one new
module plus one line here.

Nothing here imports torch at import time: the front parses lessons with it.
"""

from __future__ import annotations

from tutor.checks import (
    artifact,
    grad,
    grad_flow,
    heldout,
    meta,
    module,
    mutation,
    outcome,
    placement,
    stdout,
    value,
    view,
)
from tutor.checks.base import CheckKind, Common, Fail, Spec

KINDS: tuple[CheckKind, ...] = (
    value.KIND,
    outcome.KIND,
    heldout.KIND,
    module.KIND,
    stdout.KIND,
    grad.KIND,
    grad_flow.KIND,
    view.KIND,
    mutation.KIND,
    artifact.KIND,
    placement.KIND,
    meta.KIND,
)
BY_NAME: dict[str, CheckKind] = {kind.name: kind for kind in KINDS}
BY_SPEC: dict[type[Spec], CheckKind] = {kind.spec_type: kind for kind in KINDS}

#: The keys every check has; each kind adds its own.
COMMON_KEYS = ("name", "expr", "setup", "compare", "rtol", "atol", "hidden", "points")
CHECK_KEYS: tuple[str, ...] = COMMON_KEYS + tuple(key for kind in KINDS for key in kind.keys)

#: The entries of ``compare``: aspects of the value kind, plus ``grad`` and ``stdout``.
COMPARE_KINDS = frozenset({
    "value", "shape", "dtype", "values", "grad", "stdout", "structure", "state_dict",
    "param_groups", "lr_schedule", "type",
})


def parse_specs(table: dict[str, object], common: Common, fail: Fail) -> tuple[Spec, ...]:
    """Every kind's spec for one ``[[check]]`` table, in judging order.

    The value comparison is implied when no kind asked for it and no other kind judges
    the value (the behaviour of a check with only ``expr``)."""
    specs = [spec for kind in KINDS if (spec := kind.parse(dict(table), common, fail)) is not None]
    has_value = any(isinstance(s, value.ValueSpec) for s in specs)
    claimed = any(BY_SPEC[type(s)].claims_value for s in specs)
    compared_elsewhere = bool(common.compare) and not has_value  # compare = ["stdout"] or ["grad"]
    if not has_value and not claimed and not compared_elsewhere:
        specs.insert(0, value.ValueSpec())
    return tuple(specs)


def kind_of(spec: Spec) -> CheckKind:
    """The kind that owns ``spec``."""
    return BY_SPEC[type(spec)]


__all__ = ["BY_NAME", "CHECK_KEYS", "COMPARE_KINDS", "KINDS", "CheckKind", "Common", "Fail", "Spec", "kind_of", "parse_specs"]
