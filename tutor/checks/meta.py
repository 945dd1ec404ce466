"""The meta-device kind (``on_meta = ["X", "model"]``): the named ``setup`` variables
are moved to the ``meta`` device before ``expr`` runs, as a GPU run would move them to
the GPU. A tensor the answer makes on the CPU (``torch.zeros(N, K)``,
``torch.tensor(mean)``) then meets the inputs' device and fails, or comes back on the
CPU, where a CPU-only run could never tell. Meta tensors have shapes and dtypes but no
values: the judge compares every result tensor's device, shape and dtype with the
reference's, never values."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tutor.checks.base import CheckKind, Common, Fail, Probe, Sides, Spec, Table, names_list
from tutor.checks.placement import MAX_TENSORS, tensors_in

if TYPE_CHECKING:
    from tutor.values.compare import Difference


#: What torch says when tensors of two devices meet.
_DEVICE_CLASH = ("is not on the expected device", "same device", "Cannot copy out of meta tensor")
#: What torch says when an answer reads a value, which a GPU run allows and the meta
#: device cannot do: such a run proves nothing either way, and is not held against it.
_VALUE_READS = ("cannot be called on meta tensors", "Cannot copy out of meta tensor", "register_meta function",
                "no fake impl or Meta kernel", "meta tensor without", "can't convert meta device")
#: Torch functions that make a tensor from nothing but sizes or data: on the CPU unless
#: told otherwise.
_FACTORIES = frozenset({"tensor", "as_tensor", "zeros", "ones", "empty", "full", "arange", "linspace", "logspace",
                        "eye", "rand", "randn", "randint", "randperm", "from_numpy", "stack", "cat"})


@dataclass(frozen=True)
class OnMetaSpec(Spec):
    names: tuple[str, ...] = ()


class OnMeta(CheckKind):
    name = "meta"
    keys = ("on_meta",)
    spec_type = OnMetaSpec
    #: Meta tensors hold no values: there is nothing for the value comparison to read.
    claims_value = True

    def __init__(self) -> None:
        #: Each run's watch over the tensors ``expr`` makes, by probe, until collected.
        self._watches: dict[int, _Watch] = {}

    def parse(self, table: Table, common: Common, fail: Fail) -> OnMetaSpec | None:
        names = table.get("on_meta")
        if names is None:
            return None
        if not names_list(names) or not names:
            raise fail(f"check '{common.name}': 'on_meta' must list the setup variables to move to the meta device, "
                       "such as [\"x\", \"model\"]", "on_meta")
        return OnMetaSpec(tuple(names))

    def before(self, spec: OnMetaSpec, probe: Probe) -> Any:
        for name in spec.names:
            if name not in probe.namespace:
                raise NameError(f"on_meta names {name!r}, which the check's setup does not define")
            probe.namespace[name] = _to_meta(probe.namespace[name], 0)
        return None

    def during(self, spec: OnMetaSpec, probe: Probe) -> AbstractContextManager[None]:
        watch = _Watch()
        self._watches[id(probe)] = watch
        return watch

    def collect(self, spec: OnMetaSpec, probe: Probe, state: Any) -> Any:
        watch = self._watches.pop(id(probe), None)
        if watch is not None and watch.excused:
            return {"excused": watch.excused}
        return tensors_in(probe.value, with_layout=True)

    def judge(self, spec: OnMetaSpec, sides: Sides) -> Difference | None:
        from tutor.values.compare import Difference

        if isinstance(sides.got, dict) and isinstance(sides.got.get("excused"), str):
            return None  # the answer read a value, as a GPU run may: nothing here to judge
        expected, got = _read(sides.expected), _read(sides.got)
        for where, (device, shape, dtype) in expected.items():
            if where not in got:
                return Difference(where, f"{where}: expected a tensor on the given device, found none there",
                                  device, "missing", {"what": where})
            mine = got[where]
            if mine[0] != device:
                return Difference(where, f"{where} was made on {mine[0]}, expected the given device ({device}: this "
                                  "check moves the inputs there, as a GPU run would); make new tensors on the inputs' "
                                  "device (device=x.device, torch.zeros_like, x.new_zeros)", device, mine[0],
                                  {"what": where})
            if mine[1:] != (shape, dtype):
                return Difference(where, f"{where} on the given device has shape {tuple(mine[1])} and dtype "
                                  f"{mine[2]}, expected {tuple(shape)} and {dtype}", f"{tuple(shape)} {dtype}",
                                  f"{tuple(mine[1])} {mine[2]}", {"what": where})
        return None

    def explain_error(self, spec: OnMetaSpec, message: str) -> str | None:
        if "expected the given device" in message or not any(words in message for words in _DEVICE_CLASH):
            return None
        return ("a tensor made on cpu met the given device (this check moves the inputs "
                f"{', '.join(spec.names)} to the meta device, as a GPU run would): make new tensors on the inputs' "
                f"device (device=x.device, torch.zeros_like, x.new_zeros); torch said: {message}")


class _Watch:
    """While ``expr`` runs: the tensors of at least one dimension that torch's factories
    made on the CPU (a 0-d one meets any device, on a GPU too), and where. On
    the way out, a device clash after such a tensor is said to be about it; an error that
    only reads a value (``.item()``, ``.tolist()``) is excused."""

    def __init__(self) -> None:
        #: The CPU tensors torch's factories made: (not an integer tensor, the call and where).
        self.calls: list[tuple[bool, str]] = []
        self.excused: str | None = None
        self._mode: Any = None

    @property
    def made(self) -> str | None:
        return next((call for values, call in self.calls if values), self.calls[0][1] if self.calls else None)

    def __enter__(self) -> None:
        import torch
        from torch.overrides import TorchFunctionMode

        watch = self

        class CpuFactories(TorchFunctionMode):
            def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
                out = func(*args, **(kwargs or {}))
                name = getattr(func, "__name__", "")
                if name in _FACTORIES and _on_cpu(out) and len(watch.calls) < 100:
                    # An integer tensor on the CPU may be an index, which a GPU tensor
                    # accepts: a clash is laid first at a float or bool tensor's door.
                    watch.calls.append((out.is_floating_point() or out.dtype.is_complex or out.dtype == torch.bool,
                                        f"torch.{name}(...){_where()}"))
                return out

        self._mode = CpuFactories()
        self._mode.__enter__()

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        self._mode.__exit__(None, None, None)
        if exc is None or not isinstance(exc, Exception):
            return False
        message = str(exc)
        clash = any(words in message for words in _DEVICE_CLASH)
        if self.made is not None and clash:
            raise RuntimeError(f"{self.made} made a tensor on cpu, expected the given device (this check moves the "
                               "inputs to the meta device, as a GPU run would): make new tensors on the inputs' device "
                               f"(device=x.device, torch.zeros_like, x.new_zeros); torch then said: "
                               f"{(message.splitlines() or [''])[0][:200]}") from None
        if any(words in message for words in _VALUE_READS) and not any(w in message for w in _DEVICE_CLASH[:2]):
            # A value read (``.item()``, ``.tolist()``; a copy out of a meta tensor with no
            # CPU tensor made before it): fine on a GPU, so nothing is held against it.
            self.excused = (message.splitlines() or [""])[0][:200]
            return True
        return False


def _on_cpu(value: Any) -> bool:
    import torch

    return isinstance(value, torch.Tensor) and value.device.type == "cpu" and value.dim() > 0


def _where() -> str:
    """`` at line N``: the innermost frame of the answer's code (not torch's, not this
    package's) that made the call."""
    import sys

    frame: Any = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not any(part in name for part in ("/torch/", "/tutor/", "<frozen")):
            return f" at line {frame.f_lineno}" if name != "<check>" else ""
        frame = frame.f_back
    return ""


def _to_meta(value: Any, depth: int) -> Any:
    import torch

    if depth > 8:
        return value
    if isinstance(value, torch.Tensor):
        moved = value.detach().to("meta")
        return moved.requires_grad_() if value.requires_grad and value.is_leaf else moved
    if isinstance(value, torch.nn.Module):
        return value.to("meta")
    if isinstance(value, (list, tuple)):
        return type(value)(_to_meta(v, depth + 1) for v in value) if type(value) in (list, tuple) else value
    if type(value) is dict:
        return {k: _to_meta(v, depth + 1) for k, v in value.items()}
    return value


def _read(data: Any) -> dict[str, tuple[str, list[int], str]]:
    from tutor.values.encode import BadData

    if not isinstance(data, list) or len(data) > MAX_TENSORS:
        raise BadData("malformed meta-device data")
    out: dict[str, tuple[str, list[int], str]] = {}
    for entry in data:
        if not (isinstance(entry, list) and len(entry) == 4 and isinstance(entry[0], str) and isinstance(entry[1], str)
                and isinstance(entry[2], list) and all(type(s) is int for s in entry[2]) and isinstance(entry[3], str)):
            raise BadData("malformed meta-device data")
        out[entry[0]] = (entry[1], entry[2], entry[3])
    return out


KIND = OnMeta()
