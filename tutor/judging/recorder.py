"""Banned operations recorded at torch's dispatcher, where Python names do not matter:
every alias of a kernel (``torch.softmax``, ``torch._C._VariableFunctions.softmax``,
``torch.ops.aten._softmax``, a module-level ``getattr(torch, "soft" + "max")``) reaches
the same ``aten::_softmax``.

The recorder is a torch dispatch mode, pushed only around the learner's code (its file
and each check's ``expr``), so a check's own setup and backward pass never count, and
only for exercises that ban a kernel: a Python call per operator costs a training loop
about three times its time. Code that pops the mode is caught: the window closes by
checking that the mode it pushed is still where it was (:attr:`Recorder.tampered`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode, _pop_mode, _push_mode

#: How a ``banned`` entry names a kernel rather than a Python callable: ``aten::_softmax``.
KERNEL_PREFIX = "aten::"


class Recorder(TorchDispatchMode):
    """Records which of ``banned_kernels`` ran while :meth:`window` is open."""

    def __init__(self, banned_kernels: frozenset[str]) -> None:
        super().__init__()
        self.banned_kernels = banned_kernels
        self.kernels_hit: list[str] = []
        self.tampered = False
        self._names: dict[Any, str] = {}

    @contextlib.contextmanager
    def window(self) -> Iterator[None]:
        """Record while the learner's code runs; catch code that removed the mode."""
        depth = torch._C._len_torch_dispatch_stack()
        _push_mode(self)
        try:
            yield
        finally:
            if torch._C._len_torch_dispatch_stack() == depth + 1 and torch._C._get_dispatch_stack_at(depth) is self:
                _pop_mode()
            else:
                self.tampered = True
                # What the learner pushed is undone by the pristine restore; ours goes too.
                while torch._C._len_torch_dispatch_stack() > depth:
                    torch._C._pop_torch_dispatch_stack()

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> Any:
        name = self._names.get(func)
        if name is None:  # a schema read builds Python objects: once per operator
            name = self._names[func] = func._schema.name
        if name in self.banned_kernels and name not in self.kernels_hit:
            self.kernels_hit.append(name)
        return func(*args, **kwargs) if kwargs else func(*args)


def recorder_for(banned: list[str]) -> Recorder | None:
    """A recorder when ``banned`` names kernels, else ``None`` (no cost)."""
    kernels = frozenset(name for name in banned if name.startswith(KERNEL_PREFIX))
    return Recorder(kernels) if kernels else None
