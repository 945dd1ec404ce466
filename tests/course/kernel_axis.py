"""The kernel axis of the course tests: the kernel sets, and work run ahead in parallel
(``tests/course/conftest.py`` says why)."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

#: The kernel sets every course test runs under: name -> the server's environment.
KERNELS = {"best": {}, "portable": {"ATEN_CPU_CAPABILITY": "default"}}
# Runs in flight: one per core. A run is a forked child busy on the CPU, so more in
# flight gain nothing and slow each one down: a training exercise's reference (about 3 s
# alone) then nears its 10 s timeout.
JOBS = os.cpu_count() or 1



class Ahead:
    """Work for the selected tests of one test function, submitted together on first use.

    ``key(item)`` names an item's work (``None``: the item is not one of ours), ``work(key)``
    does it; ``result(key)`` waits for one."""

    def __init__(self, session: pytest.Session, pool: ThreadPoolExecutor, key: Callable[[pytest.Item], Any],
                 work: Callable[[Any], Any]) -> None:
        self.session, self.pool, self.key, self.work = session, pool, key, work
        self.futures: dict[Any, Future[Any]] | None = None

    def result(self, key: Any) -> Any:
        if self.futures is None:
            keys = [k for k in map(self.key, self.session.items) if k is not None]
            self.futures = {k: self.pool.submit(self.work, k) for k in dict.fromkeys(keys)}
        if key not in self.futures:  # not collected (never expected): do it now
            self.futures[key] = self.pool.submit(self.work, key)
        return self.futures[key].result()
