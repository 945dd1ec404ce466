"""The shape of a child's report, checked field by field before the front sees it.

A child's report is data that learner code may have written itself (the nonce is in its
memory), so the server checks every field the fronts read against the shapes that
``child.py`` and ``inspection.py`` produce (the ``tutor run --json`` contract): a field
of the wrong type makes the whole run an error (:class:`Malformed`), never an exception
in the server, the client's reader thread, ``tutor run`` or the app. Fields nobody reads
are dropped at the top level and passed through inside the inspection lists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from tutor.sandbox.api import STATUSES, ErrorJson
from tutor.sandbox.messages import ResultJson
from tutor.sandbox.protocol import JsonObject

Spec = Callable[[Any, str], None]
MAX_NAME = 200  # an error type, a package name, an isolation layer
NONFINITE = ("nan", "inf", "-inf")  # how inspection writes a float JSON cannot hold


class Malformed(Exception):
    """A field of a child's report has the wrong type; the message names it."""


def _typed(*types: type, what: str) -> Spec:
    def spec(value: Any, where: str) -> None:
        if type(value) not in types:
            raise Malformed(f"{where} is not {what}")

    return spec


TEXT = _typed(str, what="a string")
INT = _typed(int, what="an integer")
BOOL = _typed(bool, what="true or false")
NUMBER = _typed(int, float, what="a number")


def ANY(value: Any, where: str) -> None:  # noqa: N802 - reads as a type in the tables below
    """Any JSON value: shown only through ``str``, never taken apart."""


def LOOSE_NUMBER(value: Any, where: str) -> None:  # noqa: N802
    """A number, or the text inspection writes for a non-finite one."""
    if type(value) not in (int, float) and value not in NONFINITE:
        raise Malformed(f"{where} is not a number")


def optional(spec: Spec) -> Spec:
    def check(value: Any, where: str) -> None:
        if value is not None:
            spec(value, where)

    return check


def list_of(spec: Spec) -> Spec:
    def check(value: Any, where: str) -> None:
        if type(value) is not list:
            raise Malformed(f"{where} is not a list")
        for index, item in enumerate(value):
            spec(item, f"{where}[{index}]")

    return check


def pair(first: Spec, second: Spec) -> Spec:
    def check(value: Any, where: str) -> None:
        if type(value) is not list or len(value) != 2:
            raise Malformed(f"{where} is not a pair")
        first(value[0], f"{where}[0]")
        second(value[1], f"{where}[1]")

    return check


def obj(**fields: Spec) -> Spec:
    """A JSON object whose named fields, where present, have these shapes."""

    def check(value: Any, where: str) -> None:
        if type(value) is not dict:
            raise Malformed(f"{where} is not an object")
        for key, spec in fields.items():
            if key in value:
                spec(value[key], f"{where}.{key}")

    return check


SHAPE = list_of(INT)
GRAPH = obj(
    nodes=list_of(obj(op=optional(TEXT), next=list_of(INT),
                      leaf=obj(name=optional(TEXT), shape=optional(SHAPE), requires_grad=BOOL))),
    truncated=BOOL,
)
VARIABLE = obj(
    name=TEXT, type=TEXT, shape=SHAPE, dtype=TEXT, device=TEXT, requires_grad=BOOL, is_leaf=BOOL,
    grad_fn=optional(TEXT), grad=optional(obj(shape=SHAPE, values=ANY, preview=TEXT)), values=ANY,
    value=ANY, preview=TEXT, length=INT, graph=GRAPH,
)
MODULE = obj(
    name=TEXT, type=TEXT, parameters=INT, trainable=INT,
    named_parameters=list_of(obj(name=TEXT, shape=SHAPE, requires_grad=BOOL)),
    buffers=list_of(obj(name=TEXT, shape=SHAPE)), preview=TEXT,
)
OPTIMIZER = obj(name=TEXT, type=TEXT, param_groups=list_of(obj()))
SCHEDULE = obj(name=TEXT, type=TEXT, steps=list_of(pair(INT, list_of(NUMBER))))
SERIES = obj(name=TEXT, values=list_of(LOOSE_NUMBER))
INSPECTION = {"variables": VARIABLE, "modules": MODULE, "optimizers": OPTIMIZER, "schedules": SCHEDULE,
              "series": SERIES}


def report_fields(header: JsonObject) -> ResultJson:
    """The fields of a child's report that the front reads, each checked by type and in
    the shape ``RunResult`` expects; :class:`Malformed` names the first that is not.
    Unknown top-level fields are dropped: a forged report cannot add any."""
    status = header.get("status")
    # A child ends "ok" or "error"; "timeout" and "killed" are the server's to say.
    if status not in ("ok", "error"):
        raise Malformed("unknown status")
    out = ResultJson(status=STATUSES[STATUSES.index(status)], error=None)
    err = header.get("error")
    if err is not None:
        obj(type=TEXT, message=TEXT, traceback=TEXT, line=optional(INT))(err, "error")
        fields = cast(ErrorJson, err)  # checked just above: each field present has its type
        out["error"] = ErrorJson(
            type=fields.get("type", "Error")[:MAX_NAME],
            message=fields.get("message", ""),
            traceback=fields.get("traceback", ""),
            line=fields.get("line") if type(fields.get("line")) is int else None,
        )
    isolation = header.get("isolation", [])
    list_of(TEXT)(isolation, "isolation")
    out["isolation"] = [layer[:MAX_NAME] for layer in cast(list[str], isolation)]
    truncated = header.get("truncated", False)
    BOOL(truncated, "truncated")
    out["truncated"] = truncated is True
    package = header.get("missing_package")
    optional(TEXT)(package, "missing_package")
    out["missing_package"] = None if not isinstance(package, str) else package[:MAX_NAME]
    # Each list is checked against its spec above; the cast records that.
    for name, spec in INSPECTION.items():
        if name in header:
            list_of(spec)(header[name], name)
    checked = cast(ResultJson, header)
    if "variables" in checked:
        out["variables"] = checked["variables"]
    if "modules" in checked:
        out["modules"] = checked["modules"]
    if "optimizers" in checked:
        out["optimizers"] = checked["optimizers"]
    if "schedules" in checked:
        out["schedules"] = checked["schedules"]
    if "series" in checked:
        out["series"] = checked["series"]
    if "data" in header:
        obj()(header["data"], "data")
        out["data"] = cast(JsonObject, header["data"])
    return out
