"""Record every learning-rate scheduler step without the snippet printing anything.

``install()`` wraps ``step`` (and ``__init__``) on ``LRScheduler`` and on every
subclass that overrides them, including ones the learner defines later (through
``__init_subclass__``). After each outermost ``step()`` call on a scheduler we note
the lr of every param group of its optimizer. The step a scheduler makes inside its
own constructor is not a learner's step and is not recorded. The server installs the
hook once before forking; each child starts with an empty record.
"""

from __future__ import annotations

import functools
from typing import Any

from torch.optim import lr_scheduler

MAX_STEPS = 10_000

# id(scheduler) -> (scheduler, [[step, [lr, ...]], ...]), in creation order.
_records: dict[int, tuple[Any, list[list[Any]]]] = {}
_active: set[int] = set()  # schedulers inside a wrapped call (nested super() calls)
_constructing: set[int] = set()


def _lrs(scheduler: Any) -> list[float]:
    groups = getattr(getattr(scheduler, "optimizer", None), "param_groups", [])
    return [float(g["lr"]) for g in groups]


def _wrap_step(step: Any) -> Any:
    @functools.wraps(step)
    def recorded_step(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = id(self)
        if key in _active:
            return step(self, *args, **kwargs)
        _active.add(key)
        try:
            result = step(self, *args, **kwargs)
        finally:
            _active.discard(key)
        if key not in _constructing:
            _, steps = _records.setdefault(key, (self, []))
            if len(steps) < MAX_STEPS:
                steps.append([len(steps) + 1, _lrs(self)])
        return result

    recorded_step.__tutor_hooked__ = True  # type: ignore[attr-defined]
    return recorded_step


def _wrap_init(init: Any) -> Any:
    @functools.wraps(init)
    def recorded_init(self: Any, *args: Any, **kwargs: Any) -> None:
        key = id(self)
        outer = key not in _constructing
        _constructing.add(key)
        try:
            init(self, *args, **kwargs)
        finally:
            if outer:
                _constructing.discard(key)
        _records.setdefault(key, (self, []))

    recorded_init.__tutor_hooked__ = True  # type: ignore[attr-defined]
    return recorded_init


def _hook_class(cls: type) -> None:
    for name, wrap in (("step", _wrap_step), ("__init__", _wrap_init)):
        method = cls.__dict__.get(name)
        if method is not None and not getattr(method, "__tutor_hooked__", False):
            setattr(cls, name, wrap(method))


def _all_subclasses(cls: type) -> list[type]:
    out, todo = [], [cls]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(current.__subclasses__())
    return out


def install() -> None:
    """Hook the scheduler classes (idempotent)."""
    base = lr_scheduler.LRScheduler
    if getattr(base, "__tutor_hooked__", False):
        return
    for cls in _all_subclasses(base):
        _hook_class(cls)
    # ReduceLROnPlateau derives from LRScheduler in current torch, but not in old ones.
    _hook_class(lr_scheduler.ReduceLROnPlateau)
    previous = base.__dict__.get("__init_subclass__")

    def __init_subclass__(cls: type, **kwargs: Any) -> None:
        if previous is not None:
            previous.__func__(cls, **kwargs)
        else:
            super(base, cls).__init_subclass__(**kwargs)  # type: ignore[misc]
        _hook_class(cls)

    base.__init_subclass__ = classmethod(__init_subclass__)  # type: ignore[assignment]
    base.__tutor_hooked__ = True  # type: ignore[attr-defined]


def is_scheduler(value: Any) -> bool:
    """Whether ``value`` is a learning-rate scheduler (ReduceLROnPlateau included)."""
    return isinstance(value, (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau))


def lrs_of(scheduler: Any) -> list[list[float]]:
    """The lr of every param group after each step ``scheduler`` made."""
    entry = _records.get(id(scheduler))
    if entry is None or entry[0] is not scheduler:
        return []
    return [list(lrs) for _, lrs in entry[1]]


def recorded() -> list[tuple[Any, list[list[Any]]]]:
    """Every scheduler created so far with the lr after each of its steps."""
    return list(_records.values())


def forget() -> None:
    """Drop what was recorded so far (the server's own warm-up)."""
    _records.clear()
