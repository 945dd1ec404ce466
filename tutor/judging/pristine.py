"""Put the harness's process back the way it was before learner code ran.

The learner's file runs in the same process as the check's ``setup``, its ``expr`` and the
code that records what the judge will compare. A file that patches ``torch.Tensor``,
replaces a builtin, pushes a torch function mode, installs a trace hook or rewrites the
harness's own globals must not carry that into the check: :meth:`Pristine.restore` runs
after the file and again after ``expr``, before anything is recorded.

What it cannot undo (a determined learner writing the process's memory through ctypes)
cannot change a value verdict either: values cross to the judge as bytes checked there.
"""

from __future__ import annotations

import builtins
import sys
from operator import is_not
from types import ModuleType
from typing import Any

import torch

from tutor.checks import KINDS

#: Modules whose attributes learner code could patch to change what a check records:
#: the libraries a check touches, grading's own child-side modules, and every check
#: kind of the registry (a new kind is watched the day it is registered).
WATCHED_MODULES = (
    "builtins", "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.autograd", "torch.optim",
    "torch.optim.lr_scheduler", "torch.linalg", "torch.special", "torch.testing", "numpy", "random", "math",
    "copy", "io", "contextlib", "traceback", "json",
    "tutor.judging.harness", "tutor.values.encode", "tutor.judging.pristine", "tutor.sandbox.schedules",
    "tutor.checks", "tutor.checks.base", "tutor.checks.wire",
    *sorted({kind.spec_type.__module__ for kind in KINDS}),
)
#: Classes whose methods learner code could patch (``torch.Tensor.detach = ...``).
WATCHED_CLASSES: tuple[type, ...] = (torch.Tensor, torch.nn.Module, torch.nn.Parameter, torch.optim.Optimizer,
                                     torch.Size, torch.device)


class Pristine:
    """A snapshot of the watched modules, classes and interpreter hooks."""

    def __init__(self) -> None:
        self._modules: dict[str, tuple[ModuleType, dict[str, Any]]] = {}
        for name in WATCHED_MODULES:
            module = sys.modules.get(name)
            if module is not None:
                self._modules[name] = (module, dict(vars(module)))
        self._classes = {cls: dict(vars(cls)) for cls in WATCHED_CLASSES}
        self._sys_modules = {name: module for name, (module, _) in self._modules.items()}
        self._import = builtins.__import__
        # The names and values of each namespace, as tuples for `_unchanged`.
        self._keys = {id(saved): (tuple(saved), tuple(saved.values()))
                      for saved in [*(saved for _, saved in self._modules.values()), *self._classes.values()]}

    def _unchanged(self, current: Any, saved: dict[str, Any]) -> bool:
        """Whether a namespace still holds exactly what was saved: the same names, each
        bound to the same object. Compared in C (a check runs many times; a Python
        loop over the 5,000 watched names cost half of a small check's run)."""
        keys, values = self._keys[id(saved)]
        return len(current) == len(keys) and not any(map(is_not, map(current.get, keys), values))

    def restore(self) -> list[str]:
        """Undo every change since the snapshot; the names of what was changed."""
        changed: list[str] = []
        sys.settrace(None)
        sys.setprofile(None)
        while torch._C._len_torch_function_stack():
            torch._C._pop_torch_function_stack()
            changed.append("a torch function mode")
        while torch._C._len_torch_dispatch_stack():
            torch._C._pop_torch_dispatch_stack()
            changed.append("a torch dispatch mode")
        for name, module in self._sys_modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                changed.append(f"sys.modules[{name!r}]")
        for name, (module, saved) in self._modules.items():
            if not self._unchanged(vars(module), saved):
                changed += _restore_namespace(name, vars(module), saved, lambda k, v, m=module: setattr(m, k, v),
                                              lambda k, m=module: delattr(m, k))
        for cls, saved in self._classes.items():
            if not self._unchanged(vars(cls), saved):
                changed += _restore_namespace(cls.__name__, dict(vars(cls)), saved,
                                              lambda k, v, c=cls: setattr(c, k, v), lambda k, c=cls: delattr(c, k))
        return changed


def _restore_namespace(owner: str, current: Any, saved: dict[str, Any], set_: Any, del_: Any) -> list[str]:
    changed = []
    # A submodule imported on first use (``torch.distributions``) is not a patch: keep it.
    for key in [k for k in list(current) if k not in saved and not isinstance(current[k], ModuleType)]:
        try:
            del_(key)
            changed.append(f"{owner}.{key}")
        except (AttributeError, TypeError):
            pass
    for key, value in saved.items():
        if current.get(key, _MISSING) is not value:
            try:
                set_(key, value)
                changed.append(f"{owner}.{key}")
            except (AttributeError, TypeError):
                pass
    return changed


_MISSING = object()
