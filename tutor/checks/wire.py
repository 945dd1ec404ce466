"""What grading sends between processes, by name: a check as data, the harness's
parameters and record, and the judge's parameters and verdicts.

The front sends :func:`check_to_wire`'s dict to the harness (which runs ``setup`` and
``expr`` and collects each kind's data) and the very same dict to the judge (which
compares). Each side rebuilds the kinds' specs with :func:`specs_from_wire`. The front
builds the parameters of both tasks with these types, and each task checks them where
they come in (:func:`harness_params`, :func:`judge_params`); the front checks the
judge's verdicts the same way (``tutor.grading.grade``). No torch here.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal, NotRequired, Protocol, TypedDict, cast

from tutor.checks import BY_NAME, CheckKind, Spec, kind_of
from tutor.sandbox.protocol import Json, JsonObject
from tutor.values.details import Details


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


#: A check's verdict, and an exercise's: the one vocabulary grading speaks.
Verdict = Literal["pass", "fail", "error"]
VERDICTS: tuple[Verdict, ...] = ("pass", "fail", "error")


class BadWire(ValueError):
    """Grading data that does not have its shape; the text names the field."""


class WireCheck(TypedDict):
    """A check and the seeds it runs under. ``kinds``: each kind's name and its spec's
    fields (``[name, fields]`` pairs in JSON), in judging order."""

    name: str
    setup: str
    expr: str
    rtol: float | None
    atol: float | None
    seeds: list[int]
    kinds: list[tuple[str, JsonObject]]


class HarnessParams(TypedDict):
    """``tutor.judging.harness:run_checks``'s parameters: the checks, the names for the
    tripwire, and where the solution runs."""

    checks: list[WireCheck]
    banned: list[str]
    required: list[str]
    device: str
    filename: str
    #: The prefix of the blobs this run sends: a learner's hidden checks run in a child
    #: of their own (``h``), beside the visible checks' (``b``), and both records are
    #: read as one.
    blob_prefix: NotRequired[str]


class SeedError(TypedDict):
    """Why one (check, seed) run failed, at the learner's line if known."""

    type: str
    message: str
    line: int | None
    #: What the harness was doing: ``running the file``, ``evaluating expr``...
    stage: NotRequired[str]


class SeedResult(TypedDict):
    """One (check, seed) run: each kind's data under ``parts`` (absent after an error)."""

    check: str
    seed: int
    error: SeedError | None
    parts: NotRequired[dict[str, Json]]
    stdout: str


class HarnessRecord(TypedDict):
    """What the harness sends back. The learner's code ran in the process that wrote it,
    so the judge reads it field by field as untrusted JSON, and the front reads only
    ``tripwire`` and ``called``, by type."""

    results: list[SeedResult]
    #: Banned names called at run time; required names that were called.
    tripwire: list[str]
    called: list[str]
    #: Banned kernels the dispatcher saw run (tutor.judging.recorder), and whether the
    #: code removed the recorder; required names whose results a counterfactual run
    #: could corrupt, and those the first check's value was found to depend on.
    kernels: list[str]
    tampered: bool
    produced: list[str]
    used: list[str]


class JudgeExercise(TypedDict):
    """One exercise to judge: its checks and each side's harness record (as sent)."""

    checks: list[WireCheck]
    expected: JsonObject
    got: JsonObject


class JudgeParams(TypedDict):
    """``tutor.judging.judge:judge``'s parameters. Exercise ``i``'s blobs are prefixed
    ``{i}e:`` (the reference's) and ``{i}g:`` (the learner's)."""

    exercises: list[JudgeExercise]


class CheckVerdict(TypedDict):
    """The judge's verdict on one check: the first seed that differed decides it."""

    name: str
    status: Verdict
    message: str
    seed: int | None
    expected: str
    got: str
    details: Details


class JudgeData(TypedDict):
    """What the judge sends back: per exercise, a verdict per check, in order."""

    exercises: list[list[CheckVerdict]]


def check_to_wire(check: Check, seeds: tuple[int, ...]) -> WireCheck:
    """``check`` and the seeds it runs under, as JSON-able data."""
    return WireCheck(
        name=check.name, setup=check.setup, expr=check.expr, rtol=check.rtol, atol=check.atol,
        seeds=list(seeds), kinds=[(kind_of(spec).name, asdict(spec)) for spec in check.specs],
    )


def learner_wire(check: WireCheck) -> WireCheck:
    """``check`` as the learner's process gets it: each kind's private fields emptied
    (the held-out data's code stays with the reference and the judge)."""
    kinds: list[tuple[str, JsonObject]] = []
    for name, fields in check["kinds"]:
        private = BY_NAME[name].private_fields
        kinds.append((name, {k: ("" if k in private else v) for k, v in fields.items()}))
    return WireCheck(**{**check, "kinds": kinds})


def specs_from_wire(data: WireCheck) -> list[tuple[CheckKind, Spec]]:
    """The (kind, spec) pairs of a wire check, in judging order (checked on the way in
    by :func:`wire_check`)."""
    pairs = []
    for name, fields in data["kinds"]:
        kind = BY_NAME[name]
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
        pairs.append((kind, kind.spec_type(**values)))
    return pairs


# --- checks where the data comes in --------------------------------------------------


def _is(value: object, types: tuple[type, ...]) -> bool:
    return type(value) in types


def _require(data: JsonObject, where: str, **fields: tuple[type, ...]) -> None:
    for key, types in fields.items():
        if not _is(data.get(key, _ABSENT), types):
            raise BadWire(f"{where}.{key} is missing or of the wrong type")


_ABSENT = object()
_NUMBER_OR_NONE = (int, float, type(None))


def _objects(value: Json, where: str) -> list[JsonObject]:
    if not isinstance(value, list) or not all(type(item) is dict for item in value):
        raise BadWire(f"{where} is not a list of objects")
    return cast(list[JsonObject], value)


def _strings(value: Json, where: str) -> list[str]:
    if not isinstance(value, list) or not all(type(item) is str for item in value):
        raise BadWire(f"{where} is not a list of strings")
    return cast(list[str], value)


def wire_check(data: JsonObject, where: str = "check") -> WireCheck:
    """A wire check as a task reads it: every field typed, every kind known and its
    spec's fields named as that kind's spec names them."""
    _require(data, where, name=(str,), setup=(str,), expr=(str,), rtol=_NUMBER_OR_NONE, atol=_NUMBER_OR_NONE,
             seeds=(list,), kinds=(list,))
    if not all(type(seed) is int for seed in cast(list[Json], data["seeds"])):
        raise BadWire(f"{where}.seeds is not a list of integers")
    for entry in cast(list[Json], data["kinds"]):
        if not isinstance(entry, (list, tuple)) or len(entry) != 2 or not isinstance(entry[0], str) \
                or type(entry[1]) is not dict:
            raise BadWire(f"{where}.kinds holds something other than [name, fields] pairs")
        kind = BY_NAME.get(entry[0])
        if kind is None:
            raise BadWire(f"{where}.kinds: unknown kind {entry[0][:40]!r}")
        if set(entry[1]) - set(kind.spec_type.__dataclass_fields__):
            raise BadWire(f"{where}.kinds: unknown fields for kind {entry[0]!r}")
    return cast(WireCheck, data)


def harness_params(data: JsonObject) -> HarnessParams:
    _require(data, "params", checks=(list,), banned=(list,), required=(list,), device=(str,), filename=(str,))
    for index, check in enumerate(_objects(data["checks"], "params.checks")):
        wire_check(check, f"params.checks[{index}]")
    _strings(data["banned"], "params.banned")
    _strings(data["required"], "params.required")
    prefix = data.get("blob_prefix", "b")
    if not isinstance(prefix, str) or not prefix.isalpha():
        raise BadWire("params.blob_prefix is not a word")
    return cast(HarnessParams, data)


def judge_params(data: JsonObject) -> JudgeParams:
    for index, exercise in enumerate(_objects(data.get("exercises"), "params.exercises")):
        where = f"params.exercises[{index}]"
        _require(exercise, where, checks=(list,), expected=(dict,), got=(dict,))
        for number, check in enumerate(_objects(exercise["checks"], f"{where}.checks")):
            wire_check(check, f"{where}.checks[{number}]")
    return cast(JudgeParams, data)
