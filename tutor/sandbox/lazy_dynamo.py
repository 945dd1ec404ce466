"""Import torch's compiler (``torch._dynamo``) only when something compiles.

An optimizer's constructor and its ``step`` run ``import torch._dynamo`` only to tell
the compiler to keep out (``torch._dynamo.disable(fn)``, ``torch._dynamo.graph_break()``).
That import takes about 1.2 s, as long as ``import torch`` itself: most of a cold
``tutor grade`` of an exercise that trains. While nothing has been compiled there is no
compiler to keep out, so those calls do nothing.

:func:`install` puts a stand-in module at ``torch._dynamo`` that answers exactly those
calls (and ``is_compiling``) without the import. Anything else, an attribute such as
``torch._dynamo.optimize`` (what ``torch.compile`` uses) or a submodule import such as
``import torch._dynamo.config``, imports the real module first, which then replaces
the stand-in for good. A ``disable`` wrapper made by the stand-in checks on each call
whether the real module has arrived, and hands over to it from then on.

Used in the sandbox server only, before it forks: the front never imports torch.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any

NAME = "torch._dynamo"


def _real() -> types.ModuleType | None:
    """The real ``torch._dynamo`` if it has been imported, else ``None``."""
    module = sys.modules.get(NAME)
    return None if module is None or isinstance(module, StandIn) else module


class StandIn(types.ModuleType):
    """``torch._dynamo`` until something needs the real one."""

    def __init__(self, path: list[str]) -> None:
        super().__init__(NAME, __doc__)
        # Where the real package lies, so `import torch._dynamo.x` can find x; the
        # finder below loads the real package before x itself is imported.
        self.__path__ = path

    # The stand-in may outlive the real module's arrival where something kept it (the
    # grading harness puts torch's attributes back as they were before learner code ran),
    # so each answer defers to the real module once there is one.

    @staticmethod
    def graph_break(msg: str = "") -> None:
        """Nothing is being compiled (without the real module), so no graph to break."""
        real = _real()
        if real is not None:
            real.graph_break(msg)

    @staticmethod
    def is_compiling() -> bool:
        real = _real()
        return bool(real.is_compiling()) if real is not None else False

    @staticmethod
    def disable(fn: Callable[..., Any] | None = None, recursive: bool = True, **options: Any) -> Any:
        if fn is None:
            return functools.partial(StandIn.disable, recursive=recursive, **options)
        handed_over: list[Callable[..., Any]] = []

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            if not handed_over:
                real = _real()
                if real is None:
                    return fn(*args, **kwargs)
                handed_over.append(real.disable(fn, recursive, **options))
            return handed_over[0](*args, **kwargs)

        return call

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # copy, pickle and inspect probe these; not a reason to load
        return getattr(load(), name)


class _Existing(importlib.abc.Loader):
    """Loads a module that loading the real package already imported: the same object."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class _SubmoduleFinder(importlib.abc.MetaPathFinder):
    """Loads the real package before any of its submodules is imported."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(NAME + ".") or not isinstance(sys.modules.get(NAME), StandIn):
            return None
        load()
        module = sys.modules.get(fullname)
        if module is None:
            return None  # the real package did not import it: the usual finders will
        spec = getattr(module, "__spec__", None)
        origin = spec.origin if spec is not None else None
        return importlib.util.spec_from_loader(fullname, _Existing(module), origin=origin)


def load() -> types.ModuleType:
    """The real ``torch._dynamo``, imported now if the stand-in is still in its place."""
    real = _real()
    if real is not None:
        return real
    torch = sys.modules["torch"]
    sys.modules.pop(NAME, None)
    if isinstance(torch.__dict__.get("_dynamo"), StandIn):
        delattr(torch, "_dynamo")
    return importlib.import_module(NAME)


def install() -> bool:
    """Put the stand-in in place; ``False`` (and nothing done) if the real module is
    already imported or cannot be found."""
    if NAME in sys.modules:
        return False
    torch: Any = importlib.import_module("torch")
    spec = importlib.util.find_spec(NAME)
    if spec is None or not spec.submodule_search_locations:
        return False
    stand_in = StandIn(list(spec.submodule_search_locations))
    sys.meta_path.insert(0, _SubmoduleFinder())
    sys.modules[NAME] = stand_in
    torch._dynamo = stand_in  # what `import torch._dynamo` binds
    return True
