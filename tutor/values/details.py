"""What differed between two values, as data: the ``details`` of a check's verdict.

Built by the comparisons in the judge's child (``tutor.values.compare`` and the check
kinds), sent to the front as JSON and checked there (``tutor.grading.grade``), then
laid out by the fronts (``tutor.present`` reads the same keys). No torch here.
"""

from __future__ import annotations

from typing import TypedDict, get_origin, get_type_hints


class Details(TypedDict, total=False):
    """Every key is optional: each comparison fills the ones it knows."""

    #: What was compared: ``result``, ``grad of x``, ``stdout``...
    what: str
    expected_shape: list[int]
    got_shape: list[int]
    expected_dtype: str
    got_dtype: str
    expected_preview: str
    got_preview: str
    #: The first differing element's value on each side, as text.
    expected_value: str
    got_value: str
    #: Where the first difference is: an element's index, a step or a line (from 1).
    first_index: list[int]
    mismatched: int
    numel: int
    max_abs_diff: float
    max_rel_diff: float
    rtol: float
    atol: float
    #: What the wrong value resembles: "the right values transposed (yours.T matches)".
    looks_like: str
    #: The seed under which the check differed (added by the judge).
    seed: int


def _json_types(hint: object) -> tuple[type, ...]:
    """The JSON types that can carry a value of ``hint`` (an int is a valid float)."""
    origin = get_origin(hint) or hint
    return (int, float) if origin is float else (origin,) if isinstance(origin, type) else ()


#: Each key's JSON types, for checking details that arrive from another process.
DETAIL_TYPES: dict[str, tuple[type, ...]] = {key: _json_types(hint) for key, hint in get_type_hints(Details).items()}
