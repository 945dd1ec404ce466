"""The forker: a pristine copy of the server that forks every sandbox child.

A forked child starts as a copy of its parent's memory, and learner code can read its
own memory. Had the server itself forked the children, a learner's child could have
read whatever the server held or had freed: the code, params and blobs of every other
run, among them the reference solution that runs beside the learner's and the
reference data sent to the judge. So the server forks this process once, after torch
is imported and before the first request, and never tells it more than the lock-down
needs (uid, limits, paths) plus descriptors. The job itself (code, params, blobs,
nonce) reaches the child in a memfd that only the server writes and only the child
reads. The forker reaps its children and reports each exit with its resource usage.

Messages are JSON on a SOCK_SEQPACKET socket pair. Server to forker: ``{"meta": ...}``
with the descriptors ``[output, result, job]``. Forker to server: ``{"forked": pid}``
(or ``{"forked": null, "error": ...}``) in answer, and ``{"exited": pid, "status": ...,
"cpu_s": ..., "max_rss_kb": ...}`` whenever a child ends.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import signal
import socket
from collections import deque
from pathlib import Path
from typing import Any, NoReturn

from tutor.sandbox import fsview, isolation
from tutor.sandbox.protocol import FrameDecoder

MAX_MESSAGE = 1 << 16


class ForkerDied(Exception):
    """The forker is gone; the server cannot start runs any more."""


class Forker:
    """The server's handle on its forker process."""

    def __init__(self, sock: socket.socket, pid: int, fs_view: bool = False) -> None:
        self.sock = sock
        self.pid = pid
        #: Whether the forker (and so every child) lives in the filesystem view.
        self.fs_view = fs_view
        self._exits: deque[dict[str, Any]] = deque()

    @classmethod
    def start(cls, pidns_fd: int | None, close_fds: tuple[int, ...] = (),
              view: dict[str, Any] | None = None) -> Forker:
        """Fork the forker from the calling process, which must not yet have seen any
        request. ``close_fds`` are the parent's own channels, closed in the forker.
        ``view`` (``staging``, ``package``, ``workroot``, ``root``): build the filesystem
        view (:mod:`fsview`) and move the forker into it first; returns once it did."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                for fd in close_fds:
                    os.close(fd)
                isolation.die_with_parent_pid(parent)
                made = view is not None and fsview.make(Path(view["staging"]), Path(view["package"]),
                                                         Path(view["workroot"]), root=bool(view["root"]))
                theirs.send(json.dumps({"fs_view": made}).encode())
                _serve(theirs, pidns_fd)
            finally:
                os._exit(0)
        theirs.close()
        try:
            hello = json.loads(ours.recv(MAX_MESSAGE))
        except (OSError, ValueError):
            hello = {}
        return cls(ours, pid, fs_view=hello.get("fs_view") is True)

    def fileno(self) -> int:
        return self.sock.fileno()

    def fork(self, meta: dict[str, Any], fds: list[int]) -> int:
        """Start one child; returns its pid. Exits reported meanwhile are kept for
        :meth:`exits`."""
        try:
            socket.send_fds(self.sock, [json.dumps({"meta": meta}).encode()], fds)
            while True:
                message = self._receive(block=True)
                if message is None:
                    continue
                if "forked" in message:
                    if not isinstance(message["forked"], int):
                        raise OSError(message.get("error") or "the forker could not fork")
                    return message["forked"]
                self._exits.append(message)
        except (BrokenPipeError, ConnectionError) as exc:
            raise ForkerDied(str(exc)) from None

    def exits(self) -> list[dict[str, Any]]:
        """Every exit reported so far (reads what the socket holds, never blocks)."""
        while (message := self._receive(block=False)) is not None:
            self._exits.append(message)
        found = list(self._exits)
        self._exits.clear()
        return found

    def _receive(self, *, block: bool) -> dict[str, Any] | None:
        try:
            data = self.sock.recv(MAX_MESSAGE, 0 if block else socket.MSG_DONTWAIT)
        except BlockingIOError:
            return None
        if not data:
            raise ForkerDied("the forker exited")
        return json.loads(data)

    def close(self) -> None:
        self.sock.close()


def _serve(sock: socket.socket, pidns_fd: int | None) -> None:
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ, None)
    while True:
        for key, _ in selector.select():
            if key.data is None:
                message, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 3)
                if not message:
                    return  # the server is gone
                try:
                    pid = _spawn(json.loads(message)["meta"], fds, pidns_fd, sock.fileno())
                except (OSError, ValueError, KeyError) as exc:
                    sock.send(json.dumps({"forked": None, "error": str(exc)}).encode())
                    continue
                finally:
                    for fd in fds:
                        os.close(fd)
                pidfd = os.pidfd_open(pid)
                selector.register(pidfd, selectors.EVENT_READ, pid)
                sock.send(json.dumps({"forked": pid}).encode())
            else:
                pid = key.data
                _, status, usage = os.wait4(pid, 0)
                selector.unregister(key.fileobj)
                os.close(key.fd)
                sock.send(json.dumps({"exited": pid, "status": status, "cpu_s": usage.ru_utime + usage.ru_stime,
                                      "max_rss_kb": usage.ru_maxrss}).encode())


def _spawn(meta: dict[str, Any], fds: list[int], pidns_fd: int | None, sock_fd: int) -> int:
    if len(fds) != 3:
        raise ValueError("expected the output, result and job descriptors")
    # Once, here: every child then loads the filter it needs instead of building it.
    isolation.compile_seccomp(())
    isolation.compile_seccomp([int(p) for p in meta["protected_pids"]])
    if not meta["root"]:
        pid = os.fork()
        if pid == 0:
            _become_namespace_parent(meta, fds, sock_fd)
        return pid
    in_pid_namespace = False
    if pidns_fd is not None:
        try:
            isolation.unshare(isolation.CLONE_NEWPID)
            in_pid_namespace = True
        except OSError:
            pass
    pid = os.fork()
    if pid == 0:
        _become_child(meta, fds, in_pid_namespace=in_pid_namespace, close=(sock_fd,))
    if in_pid_namespace:
        isolation.setns(pidns_fd, isolation.CLONE_NEWPID)  # type: ignore[arg-type]
    return pid


def _become_namespace_parent(meta: dict[str, Any], fds: list[int], sock_fd: int) -> NoReturn:
    """A normal user's way to a pid namespace per run, in the process the forker forked.

    Only root may make a pid namespace in the forker and step back out after each
    fork. A normal user needs a user namespace first, and joining one cannot be undone,
    so this process makes both, forks the run's child (pid 1 inside), waits for it
    and exits the same way, so the server sees the child's own end. The server's
    SIGKILL reaches us (we lead the process group), and the child dies with us. Where
    the kernel refuses the namespaces, we run the child's code ourselves, without.
    """
    try:
        os.close(sock_fd)
        try:
            forker = os.getppid()
            isolation.enter_user_namespace(isolation.CLONE_NEWPID)
            isolation.die_with_parent_pid(forker)
        except OSError:
            _become_child(meta, fds, in_pid_namespace=False)
        os.setsid()
        guard_r, guard_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(guard_w)
            isolation.die_with_parent_pipe(guard_r)
            os.close(guard_r)
            _become_child(meta, fds, in_pid_namespace=True, in_user_namespace=True)
        for fd in (guard_r, *fds):
            os.close(fd)
        _, status = os.waitpid(pid, 0)
        _exit_like(status)
    finally:
        os._exit(1)  # never return into the forker's loop


def _exit_like(status: int) -> NoReturn:
    """End this process the way a child whose wait status is ``status`` ended."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if number not in (signal.SIGKILL, signal.SIGSTOP):
                signal.signal(number, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [number])
            os.kill(os.getpid(), number)
        except (OSError, ValueError):
            pass
        os._exit(128 + number)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _read_job(fd: int) -> tuple[dict[str, Any], dict[str, bytes]]:
    size = os.fstat(fd).st_size
    chunks, offset = [], 0
    while offset < size:
        chunk = os.pread(fd, min(size - offset, 1 << 24), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    frames = FrameDecoder().feed(b"".join(chunks))
    if len(frames) != 1:
        raise ValueError("the job is not one frame")
    return frames[0].header, frames[0].blobs


def _become_child(meta: dict[str, Any], fds: list[int], *, in_pid_namespace: bool,
                  in_user_namespace: bool = False, close: tuple[int, ...] = ()) -> NoReturn:
    from tutor.sandbox.child import ChildJob, run_child

    try:
        for fd in close:
            os.close(fd)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        out_fd, result_fd, job_fd = fds
        header, blobs = _read_job(job_fd)
        os.close(job_fd)
        job = ChildJob(
            request=header["request"], blobs=blobs, out_fd=out_fd, result_fd=result_fd,
            workdir=Path(meta["workdir"]), nonce=header["nonce"],
            hide_paths=[Path(p) for p in meta["hide_paths"]], root=bool(meta["root"]), uid=meta["uid"],
            in_pid_namespace=in_pid_namespace, in_user_namespace=in_user_namespace,
            fs_view=meta.get("fs_view") is True,
            protected_pids=[int(p) for p in meta["protected_pids"]],
            limits=isolation.Limits(**meta["limits"]),
        )
    except BaseException:  # noqa: BLE001 - a child that cannot start reports nothing
        os._exit(1)
    run_child(job)
