"""What a freshly forked sandbox child does: lock itself down, run, report, exit.

The child never returns into the server's code: :func:`run_child` ends in
``os._exit``. Its report is one frame on a result pipe, sent only after the code (or
the task function) finished; it carries a per-run nonce that learner code never sees
on the wire, and the server accepts it only if the child then exits with status 0.
"""

from __future__ import annotations

import builtins
import importlib
import io
import linecache
import os
import random
import re
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, cast

from tutor.sandbox import isolation
from tutor.sandbox.messages import ChildError, ChildReport, RequestJson
from tutor.sandbox.protocol import JsonObject, ProtocolError, encode

OUTPUT_CAP = 1024 * 1024
TASK_PATTERN = re.compile(r"^tutor(\.[A-Za-z_]\w*)+:[A-Za-z_]\w*$")
# Import names whose pip package is called something else.
PIP_NAMES = {"PIL": "pillow", "sklearn": "scikit-learn", "cv2": "opencv-python", "yaml": "pyyaml",
             "tensorboard": "tensorboard", "torch_geometric": "torch-geometric"}


@dataclass
class ChildJob:
    """Everything a child needs, prepared by the server before the fork."""

    request: RequestJson
    blobs: dict[str, bytes]
    out_fd: int
    result_fd: int
    workdir: Path
    nonce: str
    hide_paths: Sequence[Path]
    root: bool
    uid: int | None
    in_pid_namespace: bool
    in_user_namespace: bool = False  # the forker's, shared by every run: we nest our own
    fs_view: bool = False  # forked in the filesystem view by allowlist (fsview)
    protected_pids: Sequence[int] = ()
    limits: isolation.Limits = field(default_factory=isolation.Limits)


class LearnerExit(Exception):
    """The learner's code called ``sys.exit`` inside ``ctx.exec_code``.

    An ``Exception`` (not ``SystemExit``) so a task function that reports the learner's
    errors reports this one too, instead of the child silently ending.
    """

    def __init__(self, code: Any, line: int | None = None) -> None:
        super().__init__(f"the code called sys.exit({code!r})")
        self.code = code
        self.line = line


class _Capture(io.TextIOBase):
    """sys.stdout and sys.stderr of the child: kept here for ``ctx.stdout()`` and
    passed through to the server's output pipe, both up to OUTPUT_CAP."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._parts: list[str] = []
        self._size = 0
        self.truncated = False

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self.truncated:
            return len(text)
        room = OUTPUT_CAP - self._size
        kept = text[:room]
        self._parts.append(kept)
        self._size += len(kept)
        try:
            os.write(self._fd, kept.encode("utf-8", "replace"))
        except OSError:
            pass
        if len(kept) < len(text):
            self.truncated = True
        return len(text)

    def getvalue(self) -> str:
        return "".join(self._parts)


@dataclass
class TaskContext:
    """What a task function gets besides the code: the device, a way to run learner
    code like a snippet, and what was printed so far."""

    device: Any
    device_name: str
    workdir: Path
    exec_code: Callable[..., dict[str, Any]]
    stdout: Callable[[], str]
    LearnerExit: type[LearnerExit] = LearnerExit


def predefined(device: Any) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F
    from torch import nn

    return {"__name__": "__main__", "__builtins__": builtins, "torch": torch, "nn": nn, "F": F, "DEVICE": device}


def _learner_frames(tb: TracebackType | None, filename: str) -> traceback.StackSummary:
    frames = [(f, lineno) for f, lineno in traceback.walk_tb(tb) if f.f_code.co_filename == filename]
    return traceback.StackSummary.extract(frames, lookup_lines=True)


def _exec(code: str, namespace: dict[str, Any], filename: str) -> dict[str, Any]:
    # Tracebacks quote the learner's lines even though the file is not on disk here.
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    compiled = compile(code, filename, "exec")
    try:
        exec(compiled, namespace)
    except SystemExit as exc:
        stack = _learner_frames(exc.__traceback__, filename)
        raise LearnerExit(exc.code, stack[-1].lineno if stack else None) from None
    return namespace


def missing_package(exc: BaseException) -> str | None:
    """The top-level package an import failed to find, if it is not installed at all."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    top = exc.name.split(".")[0]
    if top in sys.modules:
        return None
    import importlib.util

    try:
        return None if importlib.util.find_spec(top) is not None else top
    except (ImportError, ValueError):
        return top


def error_info(exc: BaseException, filename: str) -> ChildError:
    """An ErrorInfo on the wire: the traceback cut to the learner's frames, and their line."""
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        text = "".join(traceback.format_exception_only(type(exc), exc))
        return ChildError(type=type(exc).__name__, message=exc.msg or str(exc), traceback=text, line=exc.lineno)
    package = missing_package(exc)
    if package:
        pip = PIP_NAMES.get(package, package)
        return ChildError(type="MissingPackage", message=f"needs package {package} (pip install {pip})",
                          traceback="", line=None, package=package)
    stack = _learner_frames(exc.__traceback__, filename)
    lines = ["Traceback (most recent call last):\n", *stack.format()] if stack else []
    lines += traceback.format_exception_only(type(exc), exc)
    return ChildError(type=type(exc).__name__, message=str(exc), traceback="".join(lines),
                      line=stack[-1].lineno if stack else None)


def _run_snippet(job: ChildJob, device: Any) -> tuple[ChildReport, dict[str, bytes]]:
    from tutor.sandbox.inspection import inspect_namespace

    request = job.request
    filename = request["filename"] or "<snippet>"
    namespace = predefined(device)
    out = ChildReport(status="ok", error=None)
    try:
        _exec(request["code"], namespace, filename)
    except LearnerExit as exc:
        if exc.code not in (None, 0):
            out["status"], out["error"] = "error", ChildError(type="SystemExit", message=str(exc), traceback="", line=exc.line)
    except BaseException as exc:  # noqa: BLE001 - every failure becomes a result
        out["status"], out["error"] = "error", error_info(exc, filename)
    if request["inspect"]:
        found = inspect_namespace(namespace)
        out.update(ChildReport(variables=found.variables, modules=found.modules, optimizers=found.optimizers,
                               schedules=found.schedules, series=found.series))
    return out, {}


def _run_task(job: ChildJob, device: Any, capture: _Capture) -> tuple[ChildReport, dict[str, bytes]]:
    task = job.request["task"]
    if not TASK_PATTERN.match(task):
        raise ValueError(f"not a task inside the tutor package: {task!r}")
    module_name, function_name = task.split(":")
    function = getattr(importlib.import_module(module_name), function_name)

    def exec_code(code: str, namespace: dict[str, Any] | None = None, filename: str = "<solution>") -> dict[str, Any]:
        ns = predefined(device)
        if namespace:
            ns.update(namespace)
        return _exec(code, ns, filename)

    ctx = TaskContext(device=device, device_name=str(device), workdir=job.workdir,
                      exec_code=exec_code, stdout=capture.getvalue)
    returned = function(job.request["code"], job.request["params"], job.blobs, ctx)
    if not (isinstance(returned, tuple) and len(returned) == 2 and isinstance(returned[0], dict)
            and isinstance(returned[1], dict)
            and all(isinstance(k, str) and isinstance(v, bytes) for k, v in returned[1].items())):
        raise TypeError(f"task {task} must return (dict, dict[str, bytes])")
    data: JsonObject = returned[0]  # JSON-able by the task contract; encode() refuses anything else
    return ChildReport(status="ok", error=None, data=data), dict(returned[1])


def _lock_down(job: ChildJob, lifeline: int) -> list[str]:
    applied = ["pidns"] if job.in_pid_namespace else []
    applied += ["fs-view"] if job.fs_view else []
    applied += isolation.enter_namespaces(job.hide_paths, root=job.root, in_user_namespace=job.in_user_namespace,
                                          in_pid_namespace=job.in_pid_namespace, workdir=job.workdir,
                                          scratch_size=job.limits.scratch_size)
    if job.fs_view and job.hide_paths and "hidden-paths" not in applied and "mountns" in applied \
            and not any(path.exists() for path in job.hide_paths):
        applied.append("hidden-paths")  # not covered: the view never had them
    if job.uid is not None:
        os.chown(job.workdir, job.uid, job.uid)
    # Real root ignores RLIMIT_NPROC; a dropped uid or a user namespace does not.
    applied += isolation.set_limits(job.limits, counted=job.uid is not None or "userns" in applied)
    covered = "hidden-paths" in applied
    if job.uid is not None:
        # Reading past permissions is kept only where covers stand over the lessons: with
        # nothing covering them it would read them, and permissions are all that hide them.
        applied += isolation.drop_privileges(job.uid, keep_read_search=covered and not job.fs_view)
    if job.hide_paths and not covered and isolation.unreachable(job.hide_paths):
        applied.append("hidden-by-permissions")
    isolation.die_with_parent(lifeline)
    applied += isolation.no_new_privs()
    applied += isolation.seccomp_filter(() if job.in_pid_namespace else job.protected_pids)
    return applied


def _move_fds(job: ChildJob) -> int:
    """stdin from /dev/null, stdout and stderr to the output pipe, the result pipe to
    a random high descriptor, every other inherited descriptor closed."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(job.out_fd, 1)
    os.dup2(job.out_fd, 2)
    result_fd = random.SystemRandom().randrange(64, job.limits.open_files)
    os.dup2(job.result_fd, result_fd, inheritable=False)
    os.closerange(3, result_fd)
    os.closerange(result_fd + 1, 65536)
    return result_fd


def _send(fd: int, nonce: str, out: ChildReport, blobs: dict[str, bytes], applied: list[str],
          truncated: bool) -> None:
    error = out.get("error")
    if error and error.get("type") == "MissingPackage":
        out["missing_package"] = cast(ChildError, error).pop("package")
    out.update(ChildReport(nonce=nonce, isolation=applied, truncated=truncated))
    try:
        frame = encode(out, blobs)
    except (ValueError, TypeError, ProtocolError) as exc:
        message = f"the result cannot be sent as data: {exc}"
        frame = encode(ChildReport(status="error", nonce=nonce, isolation=applied, truncated=truncated,
                                   error=ChildError(type="ResultError", message=message, traceback="", line=None)))
    view = memoryview(frame)
    while view:
        view = view[os.write(fd, view):]


def run_child(job: ChildJob) -> NoReturn:
    """The child's whole life after the fork."""
    status = 1
    me = os.getpid()
    try:
        result_fd = _move_fds(job)
        os.setsid()
        capture = _Capture(1)
        sys.stdout = sys.stderr = capture
        out: ChildReport
        blobs: dict[str, bytes] = {}
        request = job.request
        applied: list[str] = []
        try:
            applied = _lock_down(job, result_fd)
            os.chdir(job.workdir)
            # Every cache a run may write goes in its own directory: /tmp is empty and
            # read-only here, and a cache path inherited from the front (torch sets
            # TORCHINDUCTOR_CACHE_DIR in a process that imported its compiler) would
            # point there.
            os.environ.update(HOME=str(job.workdir), TMPDIR=str(job.workdir),
                              TORCHINDUCTOR_CACHE_DIR=str(job.workdir / "torchinductor"),
                              TRITON_CACHE_DIR=str(job.workdir / "triton"))
            # The server already asked tempfile once (it cached /tmp); ask again here.
            tempfile.tempdir = str(job.workdir)
            import torch

            device = torch.device(request["device"])
            if request["task"] == "snippet":
                out, blobs = _run_snippet(job, device)
            else:
                out, blobs = _run_task(job, device, capture)
        except BaseException as exc:  # noqa: BLE001 - the task function's failure is a result
            out, blobs = ChildReport(status="error", error=error_info(exc, request["filename"] or "<solution>")), {}
        if os.getpid() == me:  # not a process the code forked that ran off the end
            _send(result_fd, job.nonce, out, blobs, applied, capture.truncated)
            status = 0
    finally:
        os._exit(status)
