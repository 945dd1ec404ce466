"""The messages between the front, the server, the forker and a child, by name, and the
check each gets where it comes in.

Every message crosses a process boundary as JSON (``tutor.sandbox.protocol``), so the
receiver checks it against its shape before reading a field: a malformed message is a
:class:`BadMessage` that names the field, never a ``KeyError`` deep in the reader.
Whoever sends a message builds it with these types, so both ends spell it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NotRequired, TypedDict, cast, final

from tutor.sandbox.api import (
    ErrorJson,
    ModuleJson,
    OptimizerJson,
    ScheduleJson,
    SeriesJson,
    Status,
    VariableJson,
)
from tutor.sandbox.protocol import Json, JsonObject


class BadMessage(ValueError):
    """A message does not have its shape; the text names the field."""


# --- front -> server -> child --------------------------------------------------------


class RequestJson(TypedDict):
    """:class:`tutor.sandbox.api.RunRequest` on the wire, its device resolved."""

    code: str
    filename: str
    task: str
    device: str
    timeout: float
    params: Mapping[str, object]
    inspect: bool
    max_result_bytes: NotRequired[int]


class RunOp(TypedDict):
    op: Literal["run"]
    id: int
    request: RequestJson


class ControlOp(TypedDict):
    op: Literal["cancel_all", "shutdown"]


class CancelOp(TypedDict):
    """Kill the children of these runs (the others go on)."""

    op: Literal["cancel"]
    ids: list[int]


def cancel_op(header: JsonObject) -> list[int]:
    """The run ids of a ``cancel`` request from the front."""
    ids = header.get("ids")
    if not isinstance(ids, list) or not all(type(i) is int for i in ids):
        raise BadMessage("cancel.ids is not a list of run ids")
    return cast(list[int], ids)


class Job(TypedDict):
    """What the server hands one child (with the request's blobs)."""

    request: RequestJson
    nonce: str


class ServerConfig(TypedDict, total=False):
    """The server's command-line argument."""

    hide_paths: list[str]
    front_pid: int
    warm_modules: list[str]


# --- child -> server -> front --------------------------------------------------------


class ChildError(ErrorJson):
    #: A missing package's name; the child moves it to ``missing_package`` before sending.
    package: NotRequired[str]


class ResultJson(TypedDict, total=False):
    """One run's result as the server answers it (:func:`tutor.sandbox.client.result_from_json`
    reads it into a ``RunResult``), and the fields of a child's report it passes on."""

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
    data: JsonObject


class ChildReport(ResultJson, total=False):
    """What a child sends on its result pipe: its result and the run's nonce."""

    nonce: str


class ReadyOp(TypedDict):
    op: Literal["ready"]
    pid: int
    forker: int
    cuda: bool
    workroot: str
    fs_view: bool


class ResultOp(TypedDict):
    op: Literal["result"]
    id: int
    result: ResultJson


# --- server <-> forker ---------------------------------------------------------------


class ViewPaths(TypedDict):
    """Where the forker builds its filesystem view (``tutor.sandbox.fsview``)."""

    staging: str
    package: str
    workroot: str


class LimitsJson(TypedDict):
    """``tutor.sandbox.isolation.Limits`` on the wire."""

    cpu_seconds: int
    address_space: int | None
    file_size: int
    processes: int
    open_files: int
    scratch_size: int


class ForkMeta(TypedDict):
    """How the forker starts one child."""

    workdir: str
    hide_paths: list[str]
    root: bool
    uid: int | None
    protected_pids: list[int]
    fs_view: bool
    limits: LimitsJson


class ForkerHello(TypedDict):
    fs_view: bool
    forker: int


# Final, so that ``"forked" in message`` tells the two apart.
@final
class Forked(TypedDict):
    """The answer to a fork: the child's pid as the server numbers it, or why not."""

    forked: int | None
    error: NotRequired[str]


@final
class Exited(TypedDict):
    exited: int
    status: int
    cpu_s: float
    max_rss_kb: float


# --- checks where a message comes in -------------------------------------------------


def _object(value: object, where: str) -> JsonObject:
    if type(value) is not dict:
        raise BadMessage(f"{where} is not an object")
    return cast(JsonObject, value)


def _field(message: JsonObject, key: str, types: tuple[type, ...], where: str) -> Json:
    value = message.get(key)
    if type(value) not in types:
        raise BadMessage(f"{where}.{key} is missing or of the wrong type")
    return value


def run_op(header: JsonObject) -> RunOp:
    """A ``run`` request from the front."""
    _field(header, "id", (int,), "run")
    request = _object(header.get("request"), "run.request")
    for key, types in (("code", (str,)), ("filename", (str,)), ("task", (str,)), ("device", (str,)),
                       ("timeout", (int, float)), ("inspect", (bool,))):
        _field(request, key, types, "run.request")
    _object(request.get("params"), "run.request.params")
    if "max_result_bytes" in request:
        _field(request, "max_result_bytes", (int,), "run.request")
    return cast(RunOp, header)


def job(header: JsonObject) -> Job:
    """The server's job frame, as a freshly forked child reads it."""
    _field(header, "nonce", (str,), "job")
    run_op({"op": "run", "id": 0, "request": header.get("request")})
    return cast(Job, header)


def server_config(value: Json) -> ServerConfig:
    config = _object(value, "config")
    for key, types in (("hide_paths", (list,)), ("front_pid", (int,)), ("warm_modules", (list,))):
        if key in config:
            _field(config, key, types, "config")
    for key in ("hide_paths", "warm_modules"):
        if not all(isinstance(item, str) for item in cast(list[Json], config.get(key, []))):
            raise BadMessage(f"config.{key} is not a list of strings")
    return cast(ServerConfig, config)


def fork_meta(value: Json) -> ForkMeta:
    meta = _object(value, "meta")
    for key, types in (("workdir", (str,)), ("hide_paths", (list,)), ("root", (bool,)), ("uid", (int, type(None))),
                       ("protected_pids", (list,)), ("fs_view", (bool,)), ("limits", (dict,))):
        _field(meta, key, types, "meta")
    if not all(isinstance(p, str) for p in cast(list[Json], meta["hide_paths"])):
        raise BadMessage("meta.hide_paths is not a list of strings")
    if not all(type(p) is int for p in cast(list[Json], meta["protected_pids"])):
        raise BadMessage("meta.protected_pids is not a list of pids")
    limits = cast(JsonObject, meta["limits"])
    for key in LimitsJson.__annotations__:
        _field(limits, key, (int, type(None)) if key == "address_space" else (int,), "meta.limits")
    if set(limits) != set(LimitsJson.__annotations__):
        raise BadMessage("meta.limits has unknown fields")
    return cast(ForkMeta, meta)


def forker_message(value: Json) -> Forked | Exited:
    """A message from the forker: the answer to a fork, or a child's exit."""
    message = _object(value, "forker message")
    if "forked" in message:
        _field(message, "forked", (int, type(None)), "forked")
        if "error" in message:
            _field(message, "error", (str,), "forked")
        return cast(Forked, message)
    for key, types in (("exited", (int,)), ("status", (int,)), ("cpu_s", (int, float)), ("max_rss_kb", (int, float))):
        _field(message, key, types, "exited")
    return cast(Exited, message)
