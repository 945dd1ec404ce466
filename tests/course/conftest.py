"""The course under each CPU kernel set, run ahead in parallel.

torch picks its CPU kernels once per process from what the CPU offers (AVX-512, AVX2,
...) unless ``ATEN_CPU_CAPABILITY`` names a set; ``default`` is the portable one every
x86 and ARM machine has. Their results differ in a float's last bits, so a lesson's
output or an exercise's verdict that depends on them passes on some machines only. The
course tests run under both sets, each in a server of its own: the machine's best and
the portable one (started with ``ATEN_CPU_CAPABILITY=default``).

Each test still reads one snippet's or one exercise's result, but the results are
computed ahead: the first test of a kind submits every selected test's work to a pool,
so every core stays busy (one run at a time left one of two idle), and each
exercise's answers are graded together with one judge.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from kernel_axis import JOBS, KERNELS

from tutor.core import GRADING_TASK_MODULES
from tutor.sandbox.client import SandboxClient


@pytest.fixture(scope="session")
def kernel_sandboxes(sandbox: SandboxClient) -> Iterator[dict[str, SandboxClient]]:
    """A started sandbox per kernel set, each with grading's modules imported before it
    forks (as ``tutor grade``'s is): a grading child then skips their imports."""
    clients = {name: SandboxClient(hide_paths=sandbox.hide_paths, device="cpu", warm_modules=GRADING_TASK_MODULES, env=env)
               for name, env in KERNELS.items()}
    for client in clients.values():
        client.start()
    try:
        yield clients
    finally:
        for client in clients.values():
            client.close()


@pytest.fixture(scope="session")
def ahead_pool() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=JOBS, thread_name_prefix="course-ahead")
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
