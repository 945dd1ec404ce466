"""The server process's start: descriptors, imports and warm-up, then the event loop.

``python -m tutor.sandbox.server CONFIG_JSON`` ends up in :func:`main`. Everything
imported or initialised here, before the forker is forked, is inherited by every
child, so no child pays for it again. The config comes from the front
(:class:`~tutor.sandbox.client.SandboxClient`): ``hide_paths``, ``front_pid`` and
``warm_modules``, the modules the front's tasks will import (the sandbox itself knows
nothing of what they are).
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import signal
import sys
from typing import TYPE_CHECKING, Any

from tutor.sandbox.messages import server_config

if TYPE_CHECKING:
    from tutor.sandbox.server import Server


def warm_up(torch: Any) -> None:
    """Pay once for the lazy imports that a first backward, optimizer step and
    scheduler step trigger, so no child pays them. The biggest, torch's compiler, which
    a first optimizer would import (1.2 s), is deferred until something compiles
    (:mod:`tutor.sandbox.lazy_dynamo`).

    Tiny ops only: a parallel op here would start OpenMP threads that a forked child
    cannot use (it would hang on its first parallel op).
    """
    layer = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    layer(torch.ones(1, 2)).sum().backward()
    # A backward with an explicit gradient (y.backward(v), autograd.grad with
    # grad_outputs) imports torch's symbolic shapes and sympy: 0.37 s a child otherwise.
    layer(torch.ones(1, 2)).backward(torch.ones(1, 1))
    optimizer.step()
    scheduler.step()
    str(torch.ones(2, 2))
    from tutor.sandbox import schedules

    schedules.forget()


def warm_modules(names: Any) -> list[str]:
    """Import the modules the front asked for (its task modules), once, here instead of
    in each child (about 4 ms a child). A module that fails to import is skipped: the
    run that needs it reports the failure. Returns the names imported."""
    imported = []
    for name in names if isinstance(names, list) else []:
        if not isinstance(name, str):
            continue
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a broken task module is that task's error, later
            continue
        imported.append(name)
    return imported


def probe_cuda() -> bool:
    """Ask a throwaway child whether CUDA works, keeping this process CUDA-free."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            import torch

            os.write(write_end, b"1" if torch.cuda.is_available() else b"0")
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        return os.read(read_end, 1) == b"1"
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)


def exit_with_front(front_pid: int) -> None:
    """Die as soon as the front does, even in the middle of importing torch.

    End-of-file on our stdin says the same thing, but only once the event loop runs;
    a front killed during our second of imports would leave us running that long, and
    many such fronts add up. Children die with us (PR_SET_PDEATHSIG), and the next
    server removes the working directories we leave.
    """
    import select
    import threading

    try:
        pidfd = os.pidfd_open(front_pid)
    except ProcessLookupError:
        os._exit(0)

    def watch() -> None:
        select.select([pidfd], [], [])
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="front-watch").start()


def main(server_class: type[Server] | None = None) -> None:
    config = server_config(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
    exit_with_front(config.get("front_pid", os.getppid()))
    # Keep the protocol on private descriptors; stray prints go to stderr.
    front_in, front_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the front decides when we stop
    import torch  # noqa: F401 - the whole point: children inherit it imported
    import torch.nn.functional  # noqa: F401
    import torch.optim  # noqa: F401

    try:
        import numpy.random  # noqa: F401 - every graded run seeds it: about 6 ms a child otherwise
    except ImportError:
        pass

    from tutor.sandbox import inspection, lazy_dynamo, schedules, warning_paths  # noqa: F401 - warm for children

    lazy_dynamo.install()
    schedules.install()
    warning_paths.install()
    warm_modules(config.get("warm_modules", []))
    warm_up(torch)
    try:
        import pyseccomp  # noqa: F401
    except (ImportError, RuntimeError):
        pass
    # Before the forker builds its filesystem view: a first CUDA use may create device
    # nodes (/dev/nvidia-uvm) that the view must lend.
    cuda = probe_cuda()
    # Everything made so far lives as long as the server: out of the collector's sight,
    # a child's garbage collection never walks (and so copies) the pages holding torch's
    # objects. A full collection in a child took 121 ms, now 11.
    gc.freeze()
    if server_class is None:
        from tutor.sandbox.server import Server

        server_class = Server
    server = server_class(config, front_in, front_out)
    server.cuda = cuda
    server.serve()
