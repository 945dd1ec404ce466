"""The front's handle on the sandbox server (no torch here).

``SandboxClient`` spawns ``python -m tutor.sandbox.server`` in the background and
talks frames to it over pipes. A reader thread hands each result to the thread that
asked for it, so ``run`` is blocking, thread-safe and may have many runs in flight.
If the server dies, the runs in flight end as errors and the next ``run`` starts a
new server.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from tutor.errors import SandboxError
from tutor.sandbox.api import STATUSES, ErrorInfo, RunRequest, RunResult, SandboxClientProtocol, resolve_device
from tutor.sandbox.messages import CancelOp, ControlOp, RequestJson, RunOp, ServerConfig
from tutor.sandbox.protocol import FrameDecoder, Json, JsonObject, ProtocolError, encode

START_TIMEOUT = 120.0
# Beyond a run's own timeout, how long we wait for the server before giving up on it.
RESULT_GRACE = 30.0


def _objects(value: Json) -> list[Any]:
    """The objects of an inspection list. The server checked each against its shape
    (``tutor.sandbox.report``); the fronts read every field by type all the same, so a
    result that did not pass through the server is kept as it is, not judged here."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _number(value: Any) -> float:
    try:
        return float(value) if type(value) in (int, float) else 0.0
    except OverflowError:  # an int too large for a float
        return 0.0


def result_from_json(data: Json, blobs: dict[str, bytes] | None = None) -> RunResult:
    """Rebuild a RunResult from the server's JSON (already checked and sanitised by the
    server). Every field is read by type all the same: a field of the wrong type
    becomes its empty value, never an exception in the reader thread."""
    if not isinstance(data, dict):
        data = {"status": "error", "error": {"type": "ProtocolError", "message": "the sandbox sent no result"}}
    error = data.get("error")
    status = data.get("status")
    resources = data.get("resources")
    isolation = data.get("isolation")
    package = data.get("missing_package")
    task_data = data.get("data")
    line = error.get("line") if isinstance(error, dict) else None
    return RunResult(
        status=STATUSES[STATUSES.index(status)] if isinstance(status, str) and status in STATUSES else "error",
        stdout=_text(data.get("stdout")),
        error=ErrorInfo(_text(error.get("type"), "Error"), _text(error.get("message")), _text(error.get("traceback")),
                        line if type(line) is int else None)
        if isinstance(error, dict) else None,
        duration_ms=_number(data.get("duration_ms")),
        device=_text(data.get("device"), "cpu"),
        isolation=[layer for layer in isolation if isinstance(layer, str)] if isinstance(isolation, list) else [],
        resources={k: _number(v) for k, v in resources.items() if isinstance(k, str)}
        if isinstance(resources, dict) else {},
        variables=_objects(data.get("variables")),
        modules=_objects(data.get("modules")),
        optimizers=_objects(data.get("optimizers")),
        schedules=_objects(data.get("schedules")),
        series=_objects(data.get("series")),
        truncated=data.get("truncated") is True,
        missing_package=package if isinstance(package, str) else None,
        data=dict(task_data) if isinstance(task_data, dict) else {},
        blobs=dict(blobs or {}),
    )


def _send(proc: subprocess.Popen[bytes], frame: bytes, *, close: bool = False) -> bool:
    """Write one frame to the server; False if it is gone."""
    try:
        assert proc.stdin is not None  # Popen(stdin=PIPE)
        proc.stdin.write(frame)
        if close:
            proc.stdin.close()
        else:
            proc.stdin.flush()
    except (OSError, ValueError):
        return False
    return True


def huge_page_heap(tunables: str | None) -> str:
    """``GLIBC_TUNABLES`` with malloc's heap on transparent huge pages: a fork then
    copies one entry per 2 MB of torch's heap instead of 512, and an exit frees as
    few (a trivial run's CPU 9.0/9.7 -> 6.2/7.4 ms, the forker's 4.7/5.2 -> 2.8/3.3 ms;
    a written page is still copied 4 KB at a time). glibc before 2.35, other C
    libraries and kernels without huge pages ignore it. A value the user set wins."""
    if tunables and "glibc.malloc.hugetlb" in tunables:
        return tunables
    return ":".join(filter(None, [tunables, "glibc.malloc.hugetlb=1"]))


def _failed(kind: str, message: str, device: str) -> RunResult:
    return RunResult(status="error", error=ErrorInfo(kind, message), device=device)


class _Pending:
    """A run waiting for its result."""

    def __init__(self, proc: subprocess.Popen[bytes], group: str | None = None) -> None:
        self.proc = proc
        self.group = group
        self.done = threading.Event()
        self.result: RunResult | None = None


def _git_dir(path: Path) -> Path | None:
    """The git directory holding ``path``'s history, if ``path`` is in a checkout."""
    for folder in (path, *path.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = dot_git.read_text(errors="replace").strip()
            if text.startswith("gitdir:"):
                return (folder / text.removeprefix("gitdir:").strip()).resolve()
    return None


def expand_hidden(paths: Sequence[Path]) -> list[Path]:
    """What must be hidden so that ``paths`` stay secret: the paths themselves, the git
    history of any that live in a checkout (every committed version of every file is
    in its objects), and the copy of the lessons an install puts under ``sys.prefix``."""
    hidden: list[Path] = []
    for path in paths:
        resolved = Path(path).resolve()
        git_dir = _git_dir(resolved)
        hidden += [resolved] if git_dir is None else [resolved, git_dir]
    if paths:
        hidden.append(Path(sys.prefix) / "share" / "tutor" / "lessons")
    return list(dict.fromkeys(hidden))


#: How a run lost to a server death begins its message (a retry looks for it).
SERVER_DIED = "the sandbox server stopped unexpectedly"
#: A log past this size is started afresh: it is for the last deaths, not a history.
MAX_LOG_BYTES = 1 << 20


def _open_log(path: Path | None) -> Any:
    if path is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = "wb" if path.exists() and path.stat().st_size > MAX_LOG_BYTES else "ab"
        return open(path, mode)  # noqa: SIM115 - handed to the server, closed by start()
    except OSError:
        return None  # a log that cannot be written never stops the sandbox


def _exit_words(status: int) -> str:
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = str(-status)
        hint = ", often the system out of memory" if -status == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"exit status {status}"


def _server_died(result: RunResult) -> bool:
    return (result.status == "error" and result.error is not None and result.error.type == "SandboxDied"
            and result.error.message.startswith(SERVER_DIED))


class SandboxClient(SandboxClientProtocol):
    """One warm sandbox server, shared by every run of this front process."""

    def __init__(self, *, hide_paths: Sequence[Path] = (), device: str = "auto",
                 warm_modules: Sequence[str] = (), env: Mapping[str, str] | None = None,
                 log_path: Path | None = None) -> None:
        """``warm_modules``: modules the server imports once before forking, so that a
        task run (e.g. grading's harness and judge) does not import them in every child.
        ``env``: variables set for the server on top of this process's environment, read
        before torch is imported (``ATEN_CPU_CAPABILITY=default``: torch's portable kernels).
        ``log_path``: where the server's stderr goes (appended), so that a server that
        dies says why; without one it is discarded."""
        self.hide_paths = expand_hidden(hide_paths)
        self.warm_modules = list(warm_modules)
        self.env = dict(env or {})
        self.device = device
        self.state = "dead"
        self.server_pid: int | None = None
        self.forker_pid: int | None = None  # the server's child that forks every run's child
        self.workroot: Path | None = None
        self.fs_view = False  # whether runs see the machine through the allowlisted view
        self._cuda = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()  # guards the state, the process and the pending runs
        # Writes to the server are serialised by a lock of their own, never held with
        # the one above: a big request blocks while the server, itself blocked writing
        # results to us, waits for the reader thread, which must never wait for a writer.
        self._write_lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._reader: threading.Thread | None = None
        #: Told when the server starts, answers, or dies on its own (not on close()).
        self._state_listener: Callable[[], None] | None = None
        self.log_path = log_path
        self._closed = False
        #: Servers that died under a run and were started again for it (a retry).
        self.restarts = 0
        #: Why each server this client started has died, oldest first: its exit status or
        #: signal, and what ended the channel where the front ended it.
        self.deaths: list[str] = []

    # --- lifecycle ---------------------------------------------------------------

    def on_state_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (on the thread that saw it) after :attr:`state` changes by
        itself: a server started for a run, ready, or dead; so a front is told, never polls."""
        self._state_listener = listener

    def _tell_state(self) -> None:
        if self._state_listener is not None:
            self._state_listener()

    def start(self) -> None:
        """Spawn the server unless it is starting or running; returns at once."""
        with self._lock:
            if self.state != "dead":
                return
            config = ServerConfig(hide_paths=[str(p) for p in self.hide_paths], front_pid=os.getpid(),
                                  warm_modules=list(self.warm_modules))
            env = {**os.environ, **self.env}
            # The server imports tutor from wherever this process did.
            package_root = str(Path(__file__).resolve().parents[2])
            # A front started with -I or -E (the kits) ignored PYTHONPATH; so does its server.
            inherited = None if sys.flags.isolated or sys.flags.ignore_environment else env.get("PYTHONPATH")
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, inherited]))
            env["GLIBC_TUNABLES"] = huge_page_heap(env.get("GLIBC_TUNABLES"))
            debug = os.environ.get("TUTOR_SANDBOX_DEBUG")
            log = None if debug else _open_log(self.log_path)
            try:
                self._proc = subprocess.Popen(
                    # -P: the current directory stays off sys.path, so a `tutor` package in
                    # it (a learner's own project) is never what the server imports.
                    [sys.executable, "-P", "-m", "tutor.sandbox.server", json.dumps(config)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=None if debug else (log if log is not None else subprocess.DEVNULL),
                    start_new_session=True, env=env, close_fds=True,
                )
            finally:
                if log is not None:
                    log.close()  # the server holds its own descriptor
            self._ready.clear()
            self.state = "starting"
            self._reader = threading.Thread(target=self._read_loop, args=(self._proc,), daemon=True,
                                            name="sandbox-reader")
            self._reader.start()
        self._tell_state()

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until the server answers; raise SandboxError if it cannot start."""
        self.start()
        if not self._ready.wait(START_TIMEOUT if timeout is None else timeout):
            raise SandboxError("the sandbox did not start in time")
        if self.state != "ready":
            raise SandboxError("the sandbox server stopped unexpectedly")

    def close(self) -> None:
        """Stop the server and reap it (its children die with it)."""
        self._closed = True
        with self._lock:
            proc, self._proc = self._proc, None
            self.state = "dead"
        if proc is None:
            return
        with self._write_lock:
            _send(proc, encode(ControlOp(op="shutdown")), close=True)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=10)
        self._fail_pending(proc, "the sandbox was closed")

    def __enter__(self) -> SandboxClient:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- queries -----------------------------------------------------------------

    def cuda_available(self) -> bool:
        self.wait_ready()
        return self._cuda

    def resolve_device(self, device: str = "auto") -> str:
        """:func:`tutor.sandbox.api.resolve_device`, with the server's own probe as the
        answer about CUDA."""
        return resolve_device(device, self.cuda_available)

    # --- runs --------------------------------------------------------------------

    def run(self, request: RunRequest) -> RunResult:
        """Run one request in a fresh child; blocks until its result. A server that dies
        under the run (not one that was closed, nor a run cancelled or timed out) is
        started again and the run retried once: the learner's code runs in a fresh
        child either way, and a death is the machine's trouble, not theirs."""
        result = self._run_once(request)
        if _server_died(result) and not self._closed:
            self.restarts += 1
            retried = self._run_once(request)
            if not _server_died(retried):
                return retried
        return result

    def _run_once(self, request: RunRequest) -> RunResult:
        device = self.resolve_device(self.device if request.device == "auto" else request.device)
        self.wait_ready()
        run_id = next(self._ids)
        header = RunOp(op="run", id=run_id, request=RequestJson(
            code=request.code, filename=request.filename, task=request.task,
            device=device, timeout=request.timeout, params=request.params,
            inspect=request.inspect,
        ))
        if request.max_result_bytes is not None:
            header["request"]["max_result_bytes"] = request.max_result_bytes
        try:
            frame = encode(header, request.blobs)
        except (ValueError, TypeError, ProtocolError) as exc:
            return _failed("RequestError", f"the request cannot be sent: {exc}", device)
        with self._lock:
            proc = self._proc
            if proc is None or self.state != "ready":
                return _failed("SandboxDied", "the sandbox server is not running", device)
            pending = self._pending[run_id] = _Pending(proc, request.group)
        with self._write_lock:
            sent = _send(proc, frame)
        if not sent:
            with self._lock:
                self._pending.pop(run_id, None)
            return _failed("SandboxDied", "the sandbox server stopped unexpectedly", device)
        if not pending.done.wait(request.timeout + RESULT_GRACE):
            with self._lock:
                self._pending.pop(run_id, None)
            return _failed("SandboxDied", "the sandbox server stopped answering", device)
        assert pending.result is not None
        return pending.result

    def cancel(self, group: str) -> None:
        """Kill the children of the runs in flight whose request has this ``group``;
        they return status ``killed``, every other run goes on."""
        with self._lock:
            proc = self._proc
            ids = [run_id for run_id, item in self._pending.items() if item.group == group and item.proc is proc]
            if proc is None or self.state != "ready" or not ids:
                return
        with self._write_lock:
            _send(proc, encode(CancelOp(op="cancel", ids=ids)))

    def cancel_all(self) -> None:
        """Kill every running child; their runs return status ``killed``."""
        with self._lock:
            proc = self._proc
            if proc is None or self.state != "ready":
                return
        with self._write_lock:
            _send(proc, encode(ControlOp(op="cancel_all")))

    # --- the reader thread -------------------------------------------------------

    def _read_loop(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        decoder = FrameDecoder()
        broken = True  # until the server closes the channel itself
        why = ""
        try:
            while True:
                data = os.read(fd, 1 << 20)
                if not data:
                    broken = False
                    break
                for frame in decoder.feed(data):
                    self._dispatch(frame.header, frame.blobs)
        except Exception as exc:  # noqa: BLE001 - a broken channel ends this server, never the front
            why = f"; the front ended it: {type(exc).__name__}: {exc}"
        finally:
            # However the loop ended, no run may wait for an answer that cannot come,
            # and the next run must start a new server.
            with self._lock:
                died = self._proc is proc
                if died:
                    self.state = "dead"
                    self._proc = None
            self._ready.set()
            if died:
                self._tell_state()
            if broken and proc.poll() is None:
                proc.kill()
            status = proc.wait()
            if died and not self._closed:
                self.deaths.append(f"{_exit_words(status)}{why}")
            self._fail_pending(proc, f"{SERVER_DIED} ({_exit_words(status)}{why}{self._log_words()})")

    def _log_words(self) -> str:
        return f"; its log: {self.log_path}" if self.log_path is not None else ""

    def _dispatch(self, header: JsonObject, blobs: dict[str, bytes]) -> None:
        op = header.get("op")
        if op == "ready":
            # Read by type, like a result: the server is ours, but a field it left out
            # must not end the reader thread.
            pid, forker, workroot = header.get("pid"), header.get("forker"), header.get("workroot")
            self.server_pid = pid if type(pid) is int else None
            self.forker_pid = forker if type(forker) is int else None
            self.workroot = Path(workroot) if isinstance(workroot, str) and workroot else None
            self._cuda = bool(header.get("cuda"))
            self.fs_view = header.get("fs_view") is True
            self.state = "ready"
            self._ready.set()
            self._tell_state()
        elif op == "result":
            run_id = header.get("id")
            with self._lock:
                pending = self._pending.pop(run_id, None) if type(run_id) is int else None
            if pending is not None:
                try:
                    pending.result = result_from_json(header.get("result"), blobs)
                except Exception as exc:  # noqa: BLE001 - one bad result fails its run only
                    pending.result = _failed("ProtocolError", f"the sandbox sent an unreadable result ({exc})", self.device)
                pending.done.set()

    def _fail_pending(self, proc: subprocess.Popen[bytes], message: str) -> None:
        with self._lock:
            lost = [key for key, item in self._pending.items() if item.proc is proc]
            failed = [self._pending.pop(key) for key in lost]
        for item in failed:
            item.result = _failed("SandboxDied", message, self.device)
            item.done.set()
