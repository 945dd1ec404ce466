"""Describe what a snippet left behind, as JSON data (runs in the child).

Tensors, numbers, strings and containers of those become ``variables``; modules,
optimizers and schedulers get their own lists. A module lists its parameters, each
with the L2 norm of its ``.grad`` (``None`` before a backward). A curve is also kept as
a ``series`` for plotting: a list or tuple of two or more numbers, or a 1-D
floating-point tensor of two or more values whose name ends in one of
:data:`SERIES_SUFFIXES` (``losses``, ``val_loss``, ``lr_curve``, ``loss_history``).
A tensor with a ``grad_fn`` also carries its autograd ``graph``: the nodes from its
``grad_fn`` back to the leaves, each leaf named as the snippet names it (``w``,
``model.0.weight``) and marked as requiring grad or not; at most
:data:`MAX_GRAPH_NODES` nodes, for the last :data:`MAX_GRAPHS` such tensors.
Every description is bounded in size, and a value that fails to describe itself is
skipped rather than failing the run.
"""

from __future__ import annotations

import math
import types
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from tutor.sandbox import schedules
from tutor.sandbox.api import (
    BufferJson,
    GradNorm,
    GraphJson,
    GraphLeafJson,
    GraphNodeJson,
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
MAX_GRAPH_NODES = 40
MAX_GRAPHS = 8


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


_SAVED_NAMES: dict[type, tuple[str, ...]] = {}


def _saved_names(node_type: type) -> tuple[str, ...]:
    """A backward node class's saved-tensor attributes (``dir`` is slow: once a class)."""
    names = _SAVED_NAMES.get(node_type)
    if names is None:
        names = _SAVED_NAMES[node_type] = tuple(sorted(a for a in dir(node_type) if a.startswith("_saved_")))
    return names


def _saved_constants(fn: Any) -> list[torch.Tensor]:
    """The tensors a node saved for its backward that do not require grad, in the
    order of their names (``_saved_other`` before ``_saved_self``): the inputs that
    appear as ``None`` among its ``next_functions``. Unreadable after a backward that
    freed them: then none."""
    found = []
    for attr in _saved_names(type(fn)):
        try:
            value = getattr(fn, attr)
        except Exception:  # noqa: BLE001 - freed by a backward, or not a tensor to read
            continue
        if isinstance(value, torch.Tensor) and not value.requires_grad:
            found.append(value)
    return found


def _graph_leaf(tensor: torch.Tensor | None, names: dict[int, str], requires_grad: bool) -> GraphLeafJson:
    if tensor is None:
        return GraphLeafJson(name=None, shape=None, requires_grad=requires_grad)
    name = names.get(id(tensor))
    base = tensor._base
    if name is None and base is not None and id(base) in names:
        name = f"view of {names[id(base)]}"  # x.unsqueeze(0) inside a layer
    return GraphLeafJson(name=name, shape=list(tensor.shape), requires_grad=requires_grad)


def describe_graph(tensor: torch.Tensor, names: dict[int, str]) -> GraphJson | None:
    """The autograd graph behind ``tensor``, breadth first from its ``grad_fn``: a node
    reached twice (a tensor used twice) is one node with two parents. ``names`` maps
    ``id()`` of the snippet's tensors to their names, for the leaves."""
    root = tensor.grad_fn
    if root is None:
        return None
    nodes: list[GraphNodeJson] = []
    index: dict[int, int] = {}
    # Held so that no node object is freed while walking: its id() could come back.
    held: list[Any] = []
    queue: deque[Any] = deque()
    truncated = False

    def add(node: GraphNodeJson) -> int | None:
        nonlocal truncated
        if len(nodes) >= MAX_GRAPH_NODES:
            truncated = True
            return None
        nodes.append(node)
        return len(nodes) - 1

    def visit(fn: Any) -> int | None:
        if id(fn) in index:
            return index[id(fn)]
        variable = getattr(fn, "variable", None)  # AccumulateGrad: the leaf it fills
        node = GraphNodeJson(op=type(fn).__name__, next=[])
        if isinstance(variable, torch.Tensor):
            node["leaf"] = _graph_leaf(variable, names, variable.requires_grad)
        at = add(node)
        if at is not None:
            index[id(fn)] = at
            held.append(fn)
            queue.append(fn)
        return at

    visit(root)
    while queue:
        fn = queue.popleft()
        here = nodes[index[id(fn)]]["next"]
        constants = _saved_constants(fn)
        for child, _ in fn.next_functions:
            if child is None:  # an input that does not require grad
                at = add(GraphNodeJson(op=None, next=[], leaf=_graph_leaf(constants.pop(0) if constants else None,
                                                                              names, False)))
            else:
                at = visit(child)
            if at is not None:
                here.append(at)
    return GraphJson(nodes=nodes, truncated=truncated)


def _tensor_names(namespace: dict[str, Any]) -> dict[int, str]:
    """``id()`` of each tensor the snippet named, and of each module's parameters
    (``model.0.weight``), to its name: how a graph's leaves are called."""
    names: dict[int, str] = {}
    for name, value in namespace.items():
        if name.startswith("_") or name in PREDEFINED:
            continue
        if isinstance(value, torch.Tensor):
            names.setdefault(id(value), name)
        elif isinstance(value, nn.Module):
            try:
                for pname, parameter in list(value.named_parameters())[:MAX_PARAMETERS]:
                    names.setdefault(id(parameter), f"{name}.{pname}")
            except Exception:  # noqa: BLE001 - a module that fails to list itself names nothing
                continue
    return names


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
    with_graph: list[tuple[VariableJson, torch.Tensor]] = []
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
                    if isinstance(value, torch.Tensor) and value.grad_fn is not None:
                        with_graph.append((described, value))
                series = _as_series(name, value)
                if series is not None:
                    found.series.append(SeriesJson(name=name, values=series))
        except Exception:  # noqa: BLE001 - a strange object must not sink the run
            continue
    if with_graph:
        tensor_names = _tensor_names(namespace)
        for described, tensor in with_graph[max(0, len(with_graph) - MAX_GRAPHS):]:  # the last: the loss is made late
            try:
                graph = describe_graph(tensor, tensor_names)
            except Exception:  # noqa: BLE001 - a graph that cannot be walked is left out
                continue
            if graph is not None:
                described["graph"] = graph
    for index, (scheduler, steps) in enumerate(schedules.recorded(), start=1):
        name = names.get(id(scheduler), f"<{type(scheduler).__name__} #{index}>")
        found.schedules.append(ScheduleJson(name=name, type=type(scheduler).__name__, steps=steps))
    return found
