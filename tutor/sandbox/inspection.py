"""Describe what a snippet left behind, as JSON data (runs in the child).

Tensors, numbers, strings and containers of those become ``variables``; modules,
optimizers and schedulers get their own lists. A module lists its parameters, each
with the L2 norm of its ``.grad`` (``None`` before a backward). A curve is also kept as
a ``series`` for plotting: a list or tuple of two or more numbers, or a 1-D
floating-point tensor of two or more values whose name ends in one of
:data:`SERIES_SUFFIXES` (``losses``, ``val_loss``, ``lr_curve``, ``loss_history``).
Every description is bounded in size, and a value that fails to describe itself is
skipped rather than failing the run.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from tutor.sandbox import schedules
from tutor.sandbox.api import (
    BufferJson,
    GradNorm,
    ModuleJson,
    OptimizerJson,
    ParameterJson,
    ScheduleJson,
    SeriesJson,
    ValuesJson,
    VariableJson,
)
from tutor.sandbox.protocol import JsonObject

MAX_VALUES = 1_000
MAX_PREVIEW = 2_000
MAX_STRING = 1_000
MAX_ITEMS = 100
MAX_VARIABLES = 200
MAX_PARAMETERS = 200
MAX_SERIES = 10_000  # values; a longer list or tensor is not plotted
#: A 1-D float tensor is a curve when its name (any case) ends in one of these.
SERIES_SUFFIXES = ("loss", "losses", "curve", "history")
PREDEFINED = frozenset({"torch", "nn", "F", "DEVICE"})


@dataclass
class Inspection:
    variables: list[VariableJson] = field(default_factory=list)
    modules: list[ModuleJson] = field(default_factory=list)
    optimizers: list[OptimizerJson] = field(default_factory=list)
    schedules: list[ScheduleJson] = field(default_factory=list)
    series: list[SeriesJson] = field(default_factory=list)


def _number(value: Any) -> Any:
    """A JSON-safe number: non-finite floats and complex numbers become strings."""
    if isinstance(value, int):  # bool included
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def _json_values(values: Any) -> Any:
    if isinstance(values, list):
        return [_json_values(v) for v in values]
    return _number(values)


def _clip(text: str, limit: int = MAX_PREVIEW) -> str:
    return text if len(text) <= limit else text[:limit] + " …"


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def describe_values(tensor: torch.Tensor) -> ValuesJson:
    """Shape, values (when small) and a preview of a tensor's data."""
    data = tensor.detach()
    out = ValuesJson(shape=list(data.shape), values=None, preview=_clip(str(data)))
    if data.numel() <= MAX_VALUES and data.layout == torch.strided and data.device.type != "meta":
        out["values"] = _json_values(data.cpu().tolist())
    return out


def describe_tensor(name: str, tensor: torch.Tensor) -> VariableJson:
    values = describe_values(tensor)
    grad = tensor.grad if tensor.is_leaf else None
    return VariableJson(
        name=name,
        type="Tensor" if type(tensor) is torch.Tensor or type(tensor) is nn.Parameter else type(tensor).__name__,
        shape=values["shape"],
        dtype=_dtype(tensor.dtype),
        device=str(tensor.device),
        requires_grad=tensor.requires_grad,
        is_leaf=tensor.is_leaf,
        grad_fn=type(tensor.grad_fn).__name__ if tensor.grad_fn is not None else None,
        grad=describe_values(grad) if grad is not None else None,
        values=values["values"],
        preview=values["preview"],
    )


def _plain(value: Any, depth: int = 0) -> Any:
    """A JSON version of a number, string, tensor or container of those; None if not."""
    if isinstance(value, (bool, int, float, complex)):
        return _number(value)
    if isinstance(value, str):
        return _clip(value, MAX_STRING)
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return {"type": "Tensor", "shape": list(value.shape), "dtype": _dtype(value.dtype),
                "preview": _clip(str(value.detach()), 200)}
    if depth >= 3:
        raise TypeError("nested too deeply")
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value[:MAX_ITEMS]]
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in list(value.items())[:MAX_ITEMS]}
    raise TypeError(type(value).__name__)


def grad_norm(grad: torch.Tensor | None) -> GradNorm:
    """The L2 norm of a gradient as a JSON value: ``None`` without one, a float, the
    text ``"nan"``/``"inf"`` when it is not finite, ``"?"`` when it has no number
    (a grad on the meta device). Half-precision grads are summed in float32 so that a
    norm above 65504 is not reported as ``inf``; a complex grad's norm is real."""
    if grad is None:
        return None
    try:
        data = grad.detach()
        if data.layout == torch.sparse_coo:
            data = data.coalesce().values()
        elif data.layout != torch.strided:
            data = data.values()
        if data.dtype in (torch.float16, torch.bfloat16) or not (data.is_floating_point() or data.is_complex()):
            norm = torch.linalg.vector_norm(data, dtype=torch.float32)
        else:
            norm = torch.linalg.vector_norm(data)
        return _number(float(norm.item()))
    except Exception:  # noqa: BLE001 - a grad without a number still says it exists
        return "?"


def _tensor_series(name: str, tensor: torch.Tensor) -> list[Any] | None:
    """A 1-D float tensor named like a curve (``losses``), as a list of numbers."""
    if (tensor.dim() != 1 or not tensor.is_floating_point() or not 2 <= tensor.numel() <= MAX_SERIES
            or tensor.layout != torch.strided or tensor.device.type == "meta"
            or not name.lower().endswith(SERIES_SUFFIXES)):
        return None
    return [_number(float(v)) for v in tensor.detach().cpu().tolist()]


def _as_series(name: str, value: Any) -> list[Any] | None:
    if isinstance(value, torch.Tensor):
        return _tensor_series(name, value)
    if not isinstance(value, (list, tuple)) or not 2 <= len(value) <= MAX_SERIES:
        return None
    out: list[Any] = []
    for item in value:
        if isinstance(item, torch.Tensor) and item.numel() == 1:
            item = item.item()
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            return None
        out.append(_number(float(item)))
    return out


def describe_variable(name: str, value: Any) -> VariableJson | None:
    if isinstance(value, torch.Tensor):
        return describe_tensor(name, value)
    if isinstance(value, (bool, int, float, complex, str, list, tuple, dict)):
        try:
            plain = _plain(value)
        except TypeError:
            return None
        out = VariableJson(name=name, type=type(value).__name__, value=plain, preview=_clip(repr(value), 200))
        if isinstance(value, (list, tuple, dict, str)):
            out["length"] = len(value)
        return out
    return None


def describe_module(name: str, module: nn.Module) -> ModuleJson:
    """Sizes, the first :data:`MAX_PARAMETERS` parameters (with their grad's norm) and
    how many parameter tensors there are in all, and how many of them have a grad."""
    params = list(module.named_parameters())
    return ModuleJson(
        name=name,
        type=type(module).__name__,
        parameters=sum(p.numel() for _, p in params),
        trainable=sum(p.numel() for _, p in params if p.requires_grad),
        parameter_tensors=len(params),
        with_grad=sum(1 for _, p in params if p.grad is not None),
        named_parameters=[
            ParameterJson(name=n, shape=list(p.shape), requires_grad=p.requires_grad, grad=grad_norm(p.grad))
            for n, p in params[:MAX_PARAMETERS]
        ],
        buffers=[BufferJson(name=n, shape=list(b.shape)) for n, b in list(module.named_buffers())[:MAX_PARAMETERS]],
        preview=_clip(repr(module)),
    )


def _group_value(value: Any) -> Any:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return _number(value.item())
    try:
        return _plain(value)
    except TypeError:
        return _clip(repr(value), 200)


def describe_optimizer(name: str, optimizer: torch.optim.Optimizer) -> OptimizerJson:
    groups = []
    for group in optimizer.param_groups:
        described: JsonObject = {k: _group_value(v) for k, v in group.items() if k != "params"}
        described["params"] = len(group["params"])
        groups.append(described)
    return OptimizerJson(name=name, type=type(optimizer).__name__, param_groups=groups)


def inspect_namespace(namespace: dict[str, Any]) -> Inspection:
    """Describe the top-level names a snippet defined (the predefined ones excluded)."""
    found = Inspection()
    names: dict[int, str] = {}
    for name, value in list(namespace.items()):
        if name.startswith("_") or name in PREDEFINED:
            continue
        if isinstance(value, (types.ModuleType, types.FunctionType, type)):
            continue
        names.setdefault(id(value), name)
        try:
            if isinstance(value, nn.Module):
                found.modules.append(describe_module(name, value))
            elif isinstance(value, torch.optim.Optimizer):
                found.optimizers.append(describe_optimizer(name, value))
            elif schedules.is_scheduler(value):
                pass  # listed below, from the hook's record
            elif len(found.variables) < MAX_VARIABLES:
                described = describe_variable(name, value)
                if described is not None:
                    found.variables.append(described)
                series = _as_series(name, value)
                if series is not None:
                    found.series.append(SeriesJson(name=name, values=series))
        except Exception:  # noqa: BLE001 - a strange object must not sink the run
            continue
    for index, (scheduler, steps) in enumerate(schedules.recorded(), start=1):
        name = names.get(id(scheduler), f"<{type(scheduler).__name__} #{index}>")
        found.schedules.append(ScheduleJson(name=name, type=type(scheduler).__name__, steps=steps))
    return found
