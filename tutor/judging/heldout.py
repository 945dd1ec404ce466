"""Held-out predictions: a fresh sandbox child that holds the learner's code, each
trained model's ``state_dict`` and the held-out inputs, and nothing else (no labels, no
checks, no expected values). It builds each model, loads its state and sends back its
predictions; the judge scores them against labels only it holds
(``tutor.checks.heldout``).

Task entry point: ``tutor.judging.heldout:predict``.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any, TypedDict, cast

import torch

from tutor.checks.outcome import plain
from tutor.checks.wire import BadWire
from tutor.sandbox.child import predefined
from tutor.sandbox.protocol import Json, JsonObject
from tutor.values.encode import Encoder, decode


class HeldoutItem(TypedDict):
    """One (check, seed): how to build and run the model, its state and the inputs
    (encoded nodes whose blobs are the learner's, ``g:``, and the reference's, ``e:``)."""

    check: str
    seed: int
    build: str
    predict: str
    state: Json
    inputs: Json


class HeldoutParams(TypedDict):
    items: list[HeldoutItem]
    device: str
    filename: str
    #: The prefix of the blobs this run sends (one child per group of checks).
    blob_prefix: str


def heldout_params(data: JsonObject) -> HeldoutParams:
    items = data.get("items")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BadWire("params.items is not a list of objects")
    for item in cast(list[JsonObject], items):
        for key, types in (("check", (str,)), ("seed", (int,)), ("build", (str,)), ("predict", (str,))):
            if type(item.get(key)) not in types:
                raise BadWire(f"params.items[].{key} is missing or of the wrong type")
    for key in ("device", "filename", "blob_prefix"):
        if not isinstance(data.get(key), str):
            raise BadWire(f"params.{key} is missing or of the wrong type")
    return cast(HeldoutParams, data)


def predict(code: str, wire: JsonObject, blobs: dict[str, bytes], ctx: Any) -> tuple[JsonObject, dict[str, bytes]]:
    params = heldout_params(wire)
    torch.set_num_threads(1)
    device = torch.device(params["device"])
    mine = {k[2:]: v for k, v in blobs.items() if k.startswith("g:")}
    reference = {k[2:]: v for k, v in blobs.items() if k.startswith("e:")}
    encoder = Encoder(params["blob_prefix"])
    namespace = predefined(device)
    out: list[JsonObject] = []
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            exec(compile(code, params["filename"], "exec"), namespace)
            failed = None
        except Exception as exc:  # noqa: BLE001 - learner code may raise anything
            failed = f"running your file: {_said(exc)}"
        for item in params["items"]:
            entry: JsonObject = {"check": item["check"], "seed": item["seed"]}
            try:
                if failed:
                    raise RuntimeError(failed)
                entry["predictions"] = cast(Json, encoder.encode(_predictions(item, namespace, mine, reference, device)))
            except Exception as exc:  # noqa: BLE001 - learner code may raise anything
                entry["error"] = str(exc) if failed else _said(exc)
            out.append(entry)
    return {"items": cast(list[Json], out)}, encoder.blobs


def _predictions(item: HeldoutItem, namespace: dict[str, Any], mine: dict[str, bytes], reference: dict[str, bytes],
                 device: torch.device) -> torch.Tensor:
    state = plain(decode(item["state"], mine))
    inputs = plain(decode(item["inputs"], reference))
    if not isinstance(state, dict) or not isinstance(inputs, torch.Tensor):
        raise TypeError("the trained model's state or the held-out inputs could not be read")
    torch.default_generator.manual_seed(item["seed"])
    model = eval(compile(item["build"], "<held-out build>", "eval"), namespace)
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"{item['build']} gave {type(model).__name__}, not an nn.Module")
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise RuntimeError(f"the trained state_dict does not fit {item['build']}: {_said(exc)}") from None
    model.to(device).eval()
    with torch.no_grad():
        value = eval(compile(item["predict"], "<held-out predictions>", "eval"),
                     {**namespace, "model": model, "inputs": inputs.to(device)})
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"the predictions are {type(value).__name__}, not a tensor")
    return value.detach().to("cpu")


def _said(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
