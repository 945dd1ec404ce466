"""The sandbox's public data types: what the front sends and what comes back.

No torch here; the front (CLI, TUI, grading orchestration) imports only this module and
``tutor.sandbox.client``. The server and the child import torch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, NotRequired, TypedDict

from tutor.errors import UsageError
from tutor.sandbox.protocol import Json, JsonObject

Status = Literal["ok", "error", "timeout", "killed"]
STATUSES: tuple[Status, ...] = ("ok", "error", "timeout", "killed")


# The inspection lists of a run (the ``tutor run --json`` contract). A child writes
# every key; the server checks the type of each key present (``sandbox.report``) but a
# report forged by learner code may leave any out, so every key is optional and the
# fronts read them with ``.get``.


class ValuesJson(TypedDict, total=False):
    """A tensor's data: its values as nested lists (up to 1,000 elements, else None)."""

    shape: list[int]
    values: Json
    preview: str


class GraphLeafJson(TypedDict, total=False):
    """A tensor where the graph ends: a leaf that requires grad (reached through its
    ``AccumulateGrad``), or an input that does not (a constant to autograd). ``name``
    is the snippet's name for it where it has one (``w``, ``model.0.weight``)."""

    name: str | None
    shape: list[int] | None
    requires_grad: bool


class GraphNodeJson(TypedDict, total=False):
    """One node of the graph: ``op`` is the ``grad_fn``'s class (``MulBackward0``,
    ``AccumulateGrad``), ``None`` for an input that does not require grad; ``next`` are
    the indices of the nodes its gradient flows on to."""

    op: str | None
    next: list[int]
    leaf: GraphLeafJson


class GraphJson(TypedDict, total=False):
    """A tensor's autograd graph, from its ``grad_fn`` (``nodes[0]``) back to its
    leaves; ``truncated`` when it had more nodes than were kept."""

    nodes: list[GraphNodeJson]
    truncated: bool


class VariableJson(TypedDict, total=False):
    """A top-level name: a tensor (``shape`` ... ``values``, and ``graph`` when it has a
    ``grad_fn``) or a plain value (``value``, ``length``)."""

    name: str
    type: str
    shape: list[int]
    dtype: str
    device: str
    requires_grad: bool
    is_leaf: bool
    grad_fn: str | None
    grad: ValuesJson | None
    values: Json
    value: Json
    length: int
    preview: str
    graph: GraphJson


#: A gradient's L2 norm: None before a backward, "nan"/"inf"/"-inf" or "?" without a number.
GradNorm = int | float | str | None


class ParameterJson(TypedDict, total=False):
    name: str
    shape: list[int]
    requires_grad: bool
    grad: GradNorm


class BufferJson(TypedDict, total=False):
    name: str
    shape: list[int]


class ModuleJson(TypedDict, total=False):
    name: str
    type: str
    parameters: int
    trainable: int
    parameter_tensors: int
    with_grad: int
    named_parameters: list[ParameterJson]
    buffers: list[BufferJson]
    preview: str


class OptimizerJson(TypedDict, total=False):
    """``param_groups``: each group's settings by name (whatever the optimizer keeps),
    ``params`` replaced by their count."""

    name: str
    type: str
    param_groups: list[JsonObject]


#: One ``scheduler.step()``: ``[step, [lr of each param group]]``.
LrStep = list[Json]


class ScheduleJson(TypedDict, total=False):
    name: str
    type: str
    steps: list[LrStep]


class SeriesJson(TypedDict, total=False):
    """A curve: numbers, or the text inspection writes for a non-finite one."""

    name: str
    values: list[int | float | str]


class ErrorJson(TypedDict):
    """:class:`ErrorInfo` on the wire."""

    type: str
    message: str
    traceback: str
    line: int | None


class RunJson(TypedDict):
    """One line of ``tutor run --json`` (:meth:`RunResult.to_json`)."""

    file: NotRequired[str]
    status: Status
    stdout: str
    error: ErrorJson | None
    duration_ms: float
    device: str
    isolation: list[str]
    resources: dict[str, float]
    variables: list[VariableJson]
    modules: list[ModuleJson]
    optimizers: list[OptimizerJson]
    schedules: list[ScheduleJson]
    series: list[SeriesJson]
    truncated: bool
    missing_package: str | None


#: The layers that hide the lessons from a run: covered by empty mounts (or left out of
#: its filesystem view), or out of its uid's reach by their permissions alone.
HIDING_LAYERS = frozenset({"hidden-paths", "hidden-by-permissions"})


@dataclass
class RunRequest:
    """One unit of work for a fresh sandbox child.

    ``task`` picks what the child does with ``code``:

    * ``"snippet"``: run ``code`` as a script, then inspect its top-level names.
    * ``"module:function"`` (a dotted path inside the ``tutor`` package, e.g.
      ``"tutor.judging.harness:run_checks"``): the child calls
      ``function(code, params, blobs, ctx)`` after the limits are applied; it returns
      ``(data, blobs)``: JSON-able data and raw bytes, both sent back as they are.
    """

    code: str = ""
    filename: str = "<snippet>"
    task: str = "snippet"
    device: str = "cpu"
    timeout: float = 10.0
    #: The task's parameters, as JSON (each task names their shape and checks it).
    params: Mapping[str, object] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    inspect: bool = True
    #: The most bytes the run's result may take (its values, encoded); past it the run
    #: fails with ``ResultTooLarge``. None: the server's own cap.
    max_result_bytes: int | None = None
    #: Runs that share a group are cancelled together (``SandboxClient.cancel``): one
    #: learner's runs on a server shared by a class, without touching the others'.
    group: str | None = None


@dataclass
class ErrorInfo:
    """Why a run did not end well. ``line`` is the line in the learner's code, if known."""

    type: str
    message: str
    traceback: str = ""
    line: int | None = None

    def to_json(self) -> ErrorJson:
        return ErrorJson(type=self.type, message=self.message, traceback=self.traceback, line=self.line)


@dataclass
class RunResult:
    """The outcome of one run; ``to_json()`` is the ``tutor run --json`` contract."""

    status: Status
    stdout: str = ""
    error: ErrorInfo | None = None
    duration_ms: float = 0.0
    device: str = "cpu"
    isolation: list[str] = field(default_factory=list)
    resources: dict[str, float] = field(default_factory=dict)
    variables: list[VariableJson] = field(default_factory=list)
    modules: list[ModuleJson] = field(default_factory=list)
    optimizers: list[OptimizerJson] = field(default_factory=list)
    schedules: list[ScheduleJson] = field(default_factory=list)
    series: list[SeriesJson] = field(default_factory=list)
    truncated: bool = False
    missing_package: str | None = None
    #: What a task function returned: JSON its caller checks before reading.
    data: JsonObject = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self, file: str | None = None) -> RunJson:
        out = RunJson(
            status=self.status,
            stdout=self.stdout,
            error=self.error.to_json() if self.error else None,
            duration_ms=round(self.duration_ms, 3),
            device=self.device,
            isolation=list(self.isolation),
            resources=dict(self.resources),
            variables=self.variables,
            modules=self.modules,
            optimizers=self.optimizers,
            schedules=self.schedules,
            series=self.series,
            truncated=self.truncated,
            missing_package=self.missing_package,
        )
        # "file" leads the line when there is one (dicts keep insertion order).
        return RunJson(file=file, **out) if file is not None else out


class SandboxClientProtocol:
    """What the front needs from a sandbox (the App takes one; tests pass a fake).

    ``run`` is blocking and thread-safe: call it from worker threads; several runs may be
    in flight at once (the grader uses that for parallel grading). ``cancel_all`` kills
    every running child (its run then returns ``status="killed"``); ``cancel`` only those
    of the runs whose request names that ``group``.
    """

    state: str  # "starting" | "ready" | "dead"

    def start(self) -> None: ...
    def wait_ready(self, timeout: float | None = None) -> None: ...

    def run(self, request: RunRequest) -> RunResult:
        raise NotImplementedError

    def cancel_all(self) -> None: ...
    def cancel(self, group: str) -> None: ...
    def close(self) -> None: ...

    def cuda_available(self) -> bool:
        raise NotImplementedError


def resolve_device(device: str, cuda_available: Callable[[], bool]) -> str:
    """Where code runs, decided in this one place: ``auto`` -> ``cuda`` where available,
    else ``cpu``; ``cuda`` where there is none is the user's mistake. ``cuda_available``
    (the server's probe) is asked only when it matters."""
    if device == "cpu":
        return "cpu"
    if device not in ("auto", "cuda"):
        raise UsageError(f"unknown device {device!r} (choose auto, cpu or cuda)")
    if cuda_available():
        return "cuda"
    if device == "cuda":
        raise UsageError("--device cuda: no CUDA device is available on this machine")
    return "cpu"
