"""What a check kind is: its TOML keys and their validation (front, no torch), what the
harness collects in each child (torch), and how the judge compares (torch).

A kind module imports torch only inside its harness and judge functions: the front
parses lessons with the same module and must never import torch.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeGuard

if TYPE_CHECKING:
    from tutor.values.compare import Difference
    from tutor.values.encode import Encoder


@dataclass(frozen=True)
class Spec:
    """The parameters of one kind in one check: a frozen dataclass per kind.

    It is serialised once (:func:`tutor.checks.wire.check_to_wire`) and rebuilt from the
    same data in the harness and the judge, so the three sides cannot drift apart.
    """


@dataclass(frozen=True)
class Common:
    """The keys every check has, validated before any kind sees the table."""

    name: str
    compare: tuple[str, ...]
    rtol: float | None
    atol: float | None


#: A ``[[check]]`` table as the author wrote it in TOML: free-form until a kind's
#: :meth:`CheckKind.parse` has checked its own keys.
Table = dict[str, object]


class Fail(Protocol):
    """Builds the author's error for a message, at the line of ``key`` in the table."""

    def __call__(self, message: str, key: str | None = None) -> Exception: ...


class Probe(Protocol):
    """What a kind sees of one (check, seed) run inside the harness child."""

    namespace: dict[str, Any]
    encoder: Encoder
    seed: int
    value: Any
    stdout: str

    def backward(self) -> None: ...
    def evaluate(self, expr: str) -> Any: ...
    def reseed(self) -> None:
        """Seed every random generator with this run's seed again."""


@dataclass(frozen=True)
class Sides:
    """Both sides' data for one kind in one seed, and what the judge needs to read them."""

    expected: Any
    got: Any
    expected_blobs: dict[str, bytes]
    got_blobs: dict[str, bytes]
    rtol: float | None
    atol: float | None


class CheckKind:
    """One kind of check. Subclasses set the class attributes and override the hooks."""

    #: Registry name; also the key of this kind's data in a harness record.
    name: ClassVar[str]
    #: The TOML keys of a ``[[check]]`` table that belong to this kind.
    keys: ClassVar[tuple[str, ...]] = ()
    #: The kind's :class:`Spec` dataclass.
    spec_type: ClassVar[type[Spec]]
    #: True when the kind judges ``expr``'s value itself, so that the plain value
    #: comparison is not implied (outcome, module, gradient flow, artifact).
    claims_value: ClassVar[bool] = False
    #: True when the harness must back-propagate ``expr``'s value before collecting.
    needs_backward: ClassVar[bool] = False
    #: Spec fields left out of the checks a learner's process gets (they stay with the
    #: reference's process and the judge): held-out data the learner must not hold.
    private_fields: ClassVar[tuple[str, ...]] = ()

    def parse(self, table: Table, common: Common, fail: Fail) -> Spec | None:
        """Validate this kind's keys in ``table``; ``None`` when the check does not use it."""
        raise NotImplementedError

    # --- harness (in the learner's and the reference's children) ---------------------

    def prepare(self, spec: Any, probe: Probe) -> None:
        """Before the file runs (e.g. remove a file an earlier seed left behind)."""

    def before(self, spec: Any, probe: Probe) -> Any:
        """After ``setup``, before ``expr``; the return value reaches :meth:`collect`."""
        return None

    def during(self, spec: Any, probe: Probe) -> AbstractContextManager[None]:
        """Around ``expr``'s evaluation (e.g. watch which tensors the answer makes)."""
        return nullcontext()

    def collect(self, spec: Any, probe: Probe, state: Any) -> Any:
        """After ``expr`` (and the backward pass, if asked): this kind's data, JSON-able."""
        return None

    # --- judge (in a child where no learner code ran) ---------------------------------

    def judge(self, spec: Any, sides: Sides) -> Difference | None:
        """The first difference between the sides, or ``None``. Raise ``BadData`` on
        malformed data from either side."""
        raise NotImplementedError

    def explain_error(self, spec: Any, message: str) -> str | None:
        """The learner's error in this check's words (a device clash on the meta device
        reads as a tensor made on the wrong device), or ``None`` to keep torch's."""
        return None


Validator = Callable[[Any], bool]


def names_list(value: object) -> TypeGuard[list[str]]:
    """A list of Python identifiers (names of ``setup`` variables)."""
    return isinstance(value, list) and all(isinstance(v, str) and v.isidentifier() for v in value)


def strings_list(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def compiles(source: str, mode: str) -> str | None:
    """The syntax error's message if ``source`` does not compile in ``mode``, else None."""
    try:
        compile(source, "<check>", mode)
    except SyntaxError as exc:
        return exc.msg
    return None


def part(record: Any, kind: str) -> Any:
    """A kind's data in one side's record for one seed (validated by the kind)."""
    parts = record.get("parts") if isinstance(record, dict) else None
    return parts.get(kind) if isinstance(parts, dict) else None
