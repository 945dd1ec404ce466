"""The sandbox server's event loop: requests in, one forked child per run, results out.

Run as ``python -m tutor.sandbox.server CONFIG_JSON`` by :class:`SandboxClient`,
talking frames over its stdin/stdout; :mod:`tutor.sandbox.boot` imports and warms
torch first. One single-threaded event loop watches the front's requests, every
child's output pipe and result pipe, the forker's exit reports, and the deadlines;
:mod:`tutor.sandbox.verdict` decides what each finished run reports. The server never
initialises CUDA (a process cannot fork after that); children that run on the GPU
initialise it themselves.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import selectors
import shutil
import signal
import stat
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import cast

from tutor.sandbox import isolation, messages, verdict
from tutor.sandbox.child import OUTPUT_CAP
from tutor.sandbox.forker import Forker
from tutor.sandbox.messages import ForkMeta, Job, LimitsJson, ReadyOp, ResultJson, ResultOp, RunOp, ServerConfig
from tutor.sandbox.protocol import MAX_DEPTH, MAX_HEADER, Frame, FrameDecoder, ProtocolError, encode

MAX_RESULT_BYTES = 512 * 1024 * 1024
# A child's report gets tighter bounds than the wire allows: the answer to the front
# wraps it and adds up to 1 MB of output (up to 6 MB once JSON escapes it).
CHILD_MAX_HEADER = MAX_HEADER - 8 * 1024 * 1024
CHILD_MAX_DEPTH = MAX_DEPTH - 8


def _child_decoder() -> FrameDecoder:
    return FrameDecoder(max_header=CHILD_MAX_HEADER, max_depth=CHILD_MAX_DEPTH)


@dataclass
class Run:
    """One child in flight and what it has sent so far."""

    id: int
    pid: int
    out_fd: int | None
    result_fd: int | None
    workdir: Path
    nonce: str
    device: str
    deadline: float
    started: float
    output: bytearray = field(default_factory=bytearray)
    output_dropped: bool = False
    decoder: FrameDecoder = field(default_factory=_child_decoder)
    result_bytes: int = 0
    max_result_bytes: int = MAX_RESULT_BYTES
    frames: list[Frame] = field(default_factory=list)
    bad_result: str | None = None
    too_large: bool = False
    ending: str | None = None  # "timeout" | "killed" | "too-large" once we decided to end it


class Server:
    """The event loop. ``serve()`` returns when the front closes the channel."""

    def __init__(self, config: ServerConfig, front_in: int, front_out: int) -> None:
        self.hide_paths = [Path(p) for p in config.get("hide_paths", [])]
        self.front_pid = int(config.get("front_pid", os.getppid()))
        self.front_in, self.front_out = front_in, front_out
        self.root = os.geteuid() == 0
        self.selector = selectors.DefaultSelector()
        self.runs: dict[int, Run] = {}
        self.decoder = FrameDecoder()
        # A random start keeps the per-run uids of two root servers (the app and a
        # `tutor grade` at once) from colliding: runs with one uid could signal each other.
        self.sequence = secrets.randbelow(isolation.SANDBOX_UID_SPAN)
        self.workroot = self._make_workroot()
        self.pidns_fd = self._pid_namespace_fd()
        self.cuda = False
        # Before the first request: every child is forked from this pristine copy, which
        # lives in a filesystem view by allowlist (fsview) built here, once.
        staging = Path(tempfile.mkdtemp(prefix="tutor-view-"))
        try:
            self.forker = Forker.start(self.pidns_fd, close_fds=(front_in, front_out), view={
                "staging": str(staging), "package": str(Path(__file__).absolute().parent.parent),
                "workroot": str(self.workroot),
            })
        finally:
            staging.rmdir()  # the forker's view is mounted there in its own namespace only

    # --- setup -------------------------------------------------------------------

    def _make_workroot(self) -> Path:
        shared = _users_work_root()
        if shared is None:
            path = Path(tempfile.mkdtemp(prefix="tutor-sandbox-"))
        else:
            for stale in shared.iterdir():  # left by servers that were killed
                if not _alive(stale):
                    shutil.rmtree(stale, ignore_errors=True)
            path = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=shared))
        self._alive_fd = _hold_alive(path)
        path.chmod(0o711)  # children running as other uids must reach their own dirs
        return path

    def _pid_namespace_fd(self) -> int | None:
        """Our own pid namespace, to return to after each child is born in a new one."""
        if not self.root:
            return None
        try:
            fd = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
            isolation.unshare(isolation.CLONE_NEWPID)
            isolation.setns(fd, isolation.CLONE_NEWPID)
            return fd
        except OSError:
            return None

    # --- the loop ----------------------------------------------------------------

    def serve(self) -> None:
        os.set_blocking(self.front_in, False)
        self.selector.register(self.front_in, selectors.EVENT_READ, ("front", None))
        self.selector.register(self.forker.fileno(), selectors.EVENT_READ, ("forker", None))
        self.send(ReadyOp(op="ready", pid=os.getpid(), forker=self.forker.pid, cuda=self.cuda,
                          workroot=str(self.workroot), fs_view=self.forker.fs_view))
        try:
            while True:
                timeout = None
                if self.runs:
                    timeout = max(0.0, min(r.deadline for r in self.runs.values()) - time.monotonic())
                for key, _ in self.selector.select(timeout):
                    kind, run = key.data
                    if kind == "front":
                        if not self._read_front():
                            return
                    elif kind == "out":
                        self._read_output(run)
                    elif kind == "result":
                        self._read_result(run)
                    elif kind == "forker":
                        self._reap()
                now = time.monotonic()
                for run in list(self.runs.values()):
                    if run.deadline <= now and run.ending is None:
                        self._kill(run, "timeout")
        finally:
            for run in list(self.runs.values()):
                self._kill(run, "killed")
                self._finish(run, 0, {}, notify=False)
            shutil.rmtree(self.workroot, ignore_errors=True)

    def send(self, header: ReadyOp | ResultOp, blobs: dict[str, bytes] | None = None) -> None:
        self._write(encode(header, blobs))

    def _write(self, frame: bytes) -> None:
        os.set_blocking(self.front_out, True)
        _write_all(self.front_out, frame)

    def _read_front(self) -> bool:
        try:
            data = os.read(self.front_in, 1 << 20)
        except BlockingIOError:
            return True
        if not data:
            return False
        try:
            frames = self.decoder.feed(data)
        except ProtocolError:
            return False  # the front is our own code; a broken channel means it is gone
        for frame in frames:
            op = frame.header.get("op")
            if op == "run":
                try:
                    request = messages.run_op(frame.header)
                except messages.BadMessage:
                    return False  # as with a broken frame: the front is not speaking our language
                self._start(request, frame.blobs)
                self._reap()
            elif op == "cancel_all":
                for run in self.runs.values():
                    self._kill(run, "killed")
            elif op == "cancel":
                try:
                    ids = set(messages.cancel_op(frame.header))
                except messages.BadMessage:
                    return False
                for run in self.runs.values():
                    if run.id in ids:
                        self._kill(run, "killed")
            elif op == "shutdown":
                return False
        return True

    # --- one run -----------------------------------------------------------------

    def _start(self, op: RunOp, blobs: dict[str, bytes]) -> None:
        request = op["request"]
        run_id = op["id"]
        self.sequence += 1
        timeout = float(request["timeout"])
        device = request["device"]
        limits = isolation.Limits(
            cpu_seconds=int(timeout * (os.cpu_count() or 1)) + 2,
            address_space=None if device.startswith("cuda") else isolation.Limits.address_space,
        )
        workdir = Path(tempfile.mkdtemp(prefix="run-", dir=self.workroot))
        out_r, out_w = os.pipe()
        res_r, res_w = os.pipe()
        nonce = secrets.token_hex(16)
        job_fd = os.memfd_create("tutor-job")
        try:
            _write_all(job_fd, encode(Job(request=request, nonce=nonce), blobs))
            meta = ForkMeta(
                workdir=str(workdir), hide_paths=[str(p) for p in self.hide_paths], root=self.root,
                uid=isolation.SANDBOX_UID_BASE + self.sequence % isolation.SANDBOX_UID_SPAN if self.root else None,
                protected_pids=[os.getpid(), self.forker.pid, self.front_pid],
                fs_view=self.forker.fs_view,
                limits=cast(LimitsJson, asdict(limits)),
            )
            started = time.monotonic()
            pid = self.forker.fork(meta, [out_w, res_w, job_fd])
        except (OSError, ProtocolError) as exc:
            for fd in (out_r, res_r):
                os.close(fd)
            shutil.rmtree(workdir, ignore_errors=True)
            self.send(ResultOp(op="result", id=run_id, result=ResultJson(
                status="error", stdout="", device=device, isolation=[],
                error=verdict.error("SandboxError", f"could not start the run: {exc}"))))
            return
        finally:
            for fd in (out_w, res_w, job_fd):
                os.close(fd)
        for fd in (out_r, res_r):
            os.set_blocking(fd, False)
        run = Run(id=run_id, pid=pid, out_fd=out_r, result_fd=res_r,
                  workdir=workdir, nonce=nonce, device=device, deadline=started + timeout, started=started,
                  max_result_bytes=min(MAX_RESULT_BYTES, max(0, request.get("max_result_bytes", MAX_RESULT_BYTES))))
        self.runs[run_id] = run
        self.selector.register(out_r, selectors.EVENT_READ, ("out", run))
        self.selector.register(res_r, selectors.EVENT_READ, ("result", run))

    def _reap(self) -> None:
        """Finish every run whose child the forker reported as ended."""
        by_pid = {run.pid: run for run in self.runs.values()}
        for message in self.forker.exits():
            run = by_pid.get(message["exited"])
            if run is not None:
                usage = {"cpu_s": float(message["cpu_s"]), "max_rss_kb": float(message["max_rss_kb"])}
                self._finish(run, message["status"], usage)

    def _close(self, run: Run, attr: str) -> None:
        fd = getattr(run, attr)
        if fd is not None:
            self.selector.unregister(fd)
            os.close(fd)
            setattr(run, attr, None)

    def _read_output(self, run: Run) -> None:
        try:
            data = os.read(run.out_fd, 1 << 16) if run.out_fd is not None else b""
        except BlockingIOError:
            return
        if not data:
            self._close(run, "out_fd")
            return
        room = OUTPUT_CAP + 4096 - len(run.output)
        run.output += data[:max(room, 0)]
        run.output_dropped |= len(data) > room

    def _read_result(self, run: Run) -> None:
        try:
            data = os.read(run.result_fd, 1 << 20) if run.result_fd is not None else b""
        except BlockingIOError:
            return
        if not data:
            self._close(run, "result_fd")
            return
        run.result_bytes += len(data)
        try:
            if run.result_bytes > run.max_result_bytes:
                run.too_large = True
                self._kill(run, "too-large")
                raise ProtocolError("result too large")
            run.frames += run.decoder.feed(data)
            if len(run.frames) > 1:
                raise ProtocolError("more than one result")
        except ProtocolError as exc:
            run.bad_result = str(exc)
            self._close(run, "result_fd")
        except Exception as exc:  # noqa: BLE001 - hostile bytes end their run, never the server
            run.bad_result = f"unreadable ({type(exc).__name__})"
            self._close(run, "result_fd")

    def _kill(self, run: Run, why: str) -> None:
        if run.ending is None:
            run.ending = why
        for kill in (os.killpg, os.kill):
            try:
                kill(run.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _drain(self, run: Run) -> None:
        # Without a pid namespace a stray grandchild may still hold the pipes: read
        # what is there now, never wait for an end-of-file that may not come.
        for _ in range(64):
            if run.out_fd is None:
                break
            before = len(run.output)
            self._read_output(run)
            if len(run.output) == before:
                break
        for _ in range(1024):
            if run.result_fd is None:
                break
            before = run.result_bytes
            self._read_result(run)
            if run.result_bytes == before:
                break

    def _finish(self, run: Run, status: int, usage: dict[str, float], *, notify: bool = True) -> None:
        wall = time.monotonic() - run.started
        try:
            os.killpg(run.pid, signal.SIGKILL)  # stragglers that kept our group
        except (ProcessLookupError, PermissionError):
            pass
        self._drain(run)
        self._close(run, "out_fd")
        self._close(run, "result_fd")
        del self.runs[run.id]
        shutil.rmtree(run.workdir, ignore_errors=True)
        if not notify:
            return
        try:
            result, blobs = verdict.decide(run, status)
        except Exception as exc:  # noqa: BLE001 - one run's report must never end the server
            result, blobs = verdict.unreadable(run, f"unreadable: {type(exc).__name__}"), {}
        result["resources"] = verdict.resources(wall, usage)
        result["duration_ms"] = round(wall * 1000, 3)
        try:
            frame = encode(ResultOp(op="result", id=run.id, result=result), blobs)
        except (ProtocolError, ValueError, TypeError) as exc:
            result = ResultJson(**verdict.unreadable(run, f"too large to pass on: {exc}"),
                                resources=result["resources"], duration_ms=result["duration_ms"])
            frame = encode(ResultOp(op="result", id=run.id, result=result))
        self._write(frame)


def _users_work_root() -> Path | None:
    """Where this user's servers keep their runs' directories, one per uid: /tmp is
    shared, and a directory another user made there is neither ours to clean nor safe
    to write in. None when the name is taken by something we do not own."""
    path = Path(tempfile.gettempdir()) / f"tutor-sandbox-{os.getuid()}"
    try:
        path.mkdir(mode=0o711)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return None
    return path


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


#: In a server's work root, a file its server holds locked while it lives.
ALIVE = ".alive"


def _hold_alive(workroot: Path) -> int:
    """Lock the work root's :data:`ALIVE` file for as long as this server (or its forker,
    which inherits the descriptor) lives; the kernel lets go when both are gone."""
    # Locked before it has the name another server looks for: a server starting at the
    # same moment must never find it there unlocked, take it for stale and delete the root.
    staging = workroot / f"{ALIVE}-{secrets.token_hex(8)}"
    fd = os.open(staging, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.rename(staging, workroot / ALIVE)
    return fd


def _alive(workroot: Path) -> bool:
    """Whether another server still uses ``workroot``. Asked by its lock, not its pid:
    /tmp is shared with containers whose pids mean other processes here, so a live
    container's work root once looked stale to the host's server and was deleted under
    its runs. A root without the file is young (its server is about to lock it), or
    not ours: left alone."""
    try:
        fd = os.open(workroot / ALIVE, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        try:  # a day old: a server from before the lock file, long gone
            return time.time() - workroot.stat().st_mtime < 86400
        except OSError:
            return True
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True  # held: its server lives
    finally:
        os.close(fd)
    return False


if __name__ == "__main__":
    from tutor.sandbox.boot import main

    main(Server)

