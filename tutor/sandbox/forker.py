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

Each run's child is born in a pid namespace of its own. Root makes one before each
fork and steps back into the forker's own with ``setns``. A normal user may do the same
only in a pid namespace owned by a user namespace of theirs, so their forker enters a
user namespace, makes a pid namespace and forks an inner forker, pid 1 there, which
serves the server from then on; the outer one only waits, so that the inner one dies
with it. Inside, the inner forker knows its children by other numbers than the
server's, and reports the server's (a pidfd's ``NSpid`` lists them all).

Messages are JSON on a SOCK_SEQPACKET socket pair. Server to forker: ``{"meta": ...}``
with the descriptors ``[output, result, job]``. Forker to server: ``{"forked": pid}``
(or ``{"forked": null, "error": ...}``) in answer, and ``{"exited": pid, "status": ...,
"cpu_s": ..., "max_rss_kb": ...}`` whenever a child ends.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from tutor.sandbox import fsview, isolation, messages
from tutor.sandbox.messages import Exited, Forked, ForkerHello, ForkMeta, Job, ViewPaths
from tutor.sandbox.protocol import FrameDecoder

MAX_MESSAGE = 1 << 16


class ForkerDied(Exception):
    """The forker is gone; the server cannot start runs any more."""


class Forker:
    """The server's handle on its forker process."""

    def __init__(self, sock: socket.socket, pid: int, fs_view: bool = False) -> None:
        self.sock = sock
        #: The process that forks the runs (a normal user's inner forker), as the
        #: server numbers it.
        self.pid = pid
        #: Whether the forker (and so every child) lives in the filesystem view.
        self.fs_view = fs_view
        self._exits: deque[Exited] = deque()

    @classmethod
    def start(cls, pidns_fd: int | None, close_fds: tuple[int, ...] = (),
              view: ViewPaths | None = None) -> Forker:
        """Fork the forker from the calling process, which must not yet have seen any
        request. ``close_fds`` are the parent's own channels, closed in the forker.
        ``view`` (``staging``, ``package``, ``workroot``): build the filesystem
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
                _set_up_and_serve(theirs, pidns_fd, view)
            finally:
                os._exit(0)
        theirs.close()
        try:
            hello = json.loads(ours.recv(MAX_MESSAGE))
        except (OSError, ValueError):
            hello = {}
        serving = hello.get("forker") if isinstance(hello, dict) else None
        fs_view = isinstance(hello, dict) and hello.get("fs_view") is True
        return cls(ours, serving if type(serving) is int else pid, fs_view=fs_view)

    def fileno(self) -> int:
        return self.sock.fileno()

    def fork(self, meta: ForkMeta, fds: list[int]) -> int:
        """Start one child; returns its pid. Exits reported meanwhile are kept for
        :meth:`exits`."""
        try:
            socket.send_fds(self.sock, [json.dumps({"meta": meta}).encode()], fds)
            while True:
                message = self._receive(block=True)
                if message is None:
                    continue
                if "forked" in message:
                    if message["forked"] is None:
                        raise OSError(message.get("error") or "the forker could not fork")
                    return message["forked"]
                self._exits.append(message)
        except (BrokenPipeError, ConnectionError) as exc:
            raise ForkerDied(str(exc)) from None

    def exits(self) -> list[Exited]:
        """Every exit reported so far (reads what the socket holds, never blocks)."""
        while (message := self._receive(block=False)) is not None:
            if "exited" in message:
                self._exits.append(message)
        found = list(self._exits)
        self._exits.clear()
        return found

    def _receive(self, *, block: bool) -> Forked | Exited | None:
        try:
            data = self.sock.recv(MAX_MESSAGE, 0 if block else socket.MSG_DONTWAIT)
        except BlockingIOError:
            return None
        if not data:
            raise ForkerDied("the forker exited")
        try:
            return messages.forker_message(json.loads(data))
        except ValueError as exc:  # BadMessage included: a forker that says nonsense is lost
            raise ForkerDied(f"the forker sent a malformed message ({exc})") from None

    def close(self) -> None:
        self.sock.close()


@dataclass(frozen=True)
class _Serving:
    """How a forker forks. ``pidns_fd``: its own pid namespace, to return to after each
    child is born in a new one. ``in_user_namespace``: it holds every capability in a
    user namespace that its children share at birth; each then nests one of its own.
    ``inner``: a normal user's inner forker, pid 1 of a pid namespace below the
    server's, which must give every run a pid namespace (a run left in its own would
    see its siblings, under numbers the server's seccomp rules do not know) and reports
    pids as the server numbers them."""

    pidns_fd: int | None
    in_user_namespace: bool = False
    inner: bool = False


def _set_up_and_serve(sock: socket.socket, pidns_fd: int | None, view: ViewPaths | None) -> None:
    """The forker's life: its filesystem view, then serving, itself or (a normal user's)
    through an inner forker in a pid namespace of its own user namespace."""
    root = os.geteuid() == 0
    in_user_namespace = False
    if not root:
        try:
            isolation.enter_user_namespace()
            in_user_namespace = True
        except OSError:
            pass  # no namespaces at all: runs go without them
    made = view is not None and (root or in_user_namespace) and fsview.make(
        Path(view["staging"]), Path(view["package"]), Path(view["workroot"]))
    inner = _start_inner_forker(sock) if in_user_namespace else None
    sock.send(json.dumps(ForkerHello(fs_view=made, forker=inner or os.getpid())).encode())
    if inner is None:
        # Root; or a normal user without a pid namespace, whose runs still nest a user
        # namespace of their own inside ours.
        _serve(sock, _Serving(pidns_fd, in_user_namespace=in_user_namespace))
        return
    sock.close()
    os.waitpid(inner, 0)


def _start_inner_forker(sock: socket.socket) -> int | None:
    """Fork a forker that is pid 1 of a new pid namespace, owned by our user namespace,
    so that it may make one per run and return to its own, as root does. None where the
    kernel refuses the pid namespace."""
    try:
        isolation.unshare(isolation.CLONE_NEWPID)
    except OSError:
        return None
    guard_r, guard_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(guard_w)
            isolation.die_with_parent_pipe(guard_r)  # our parent has no pid we can see
            os.close(guard_r)
            own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
            _serve(sock, _Serving(own, in_user_namespace=True, inner=True))
        finally:
            os._exit(0)
    os.close(guard_r)  # the write end stays open while we live
    return pid


def _serve(sock: socket.socket, how: _Serving) -> None:
    """Fork a child per request until the server hangs up."""
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ, None)
    while True:
        for key, _ in selector.select():
            if key.data is None:
                message, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 3)
                if not message:
                    return  # the server is gone
                try:
                    request = json.loads(message)
                    meta = messages.fork_meta(request.get("meta") if isinstance(request, dict) else None)
                    pid = _spawn(meta, fds, how, sock.fileno())
                except (OSError, ValueError) as exc:  # BadMessage is a ValueError
                    sock.send(json.dumps(Forked(forked=None, error=str(exc))).encode())
                    continue
                finally:
                    for fd in fds:
                        os.close(fd)
                try:
                    theirs, pidfd = _follow(pid, how)
                except (OSError, ValueError) as exc:  # a child we could not report: end it now
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    sock.send(json.dumps(Forked(forked=None, error=f"could not follow the child: {exc}")).encode())
                    continue
                selector.register(pidfd, selectors.EVENT_READ, (pid, theirs))
                sock.send(json.dumps(Forked(forked=theirs)).encode())
            else:
                pid, theirs = key.data
                _, status, usage = os.wait4(pid, 0)
                selector.unregister(key.fileobj)
                os.close(key.fd)
                sock.send(json.dumps(Exited(exited=theirs, status=status, cpu_s=usage.ru_utime + usage.ru_stime,
                                            max_rss_kb=usage.ru_maxrss)).encode())


def _follow(pid: int, how: _Serving) -> tuple[int, int]:
    """A pidfd for the child ``pid``, to wait on, and its pid as the server numbers it."""
    pidfd = os.pidfd_open(pid)
    try:
        return (_server_pid(pidfd) if how.inner else pid), pidfd
    except BaseException:
        os.close(pidfd)
        raise


def _server_pid(pidfd: int) -> int:
    """The pid of an inner forker's child as the server numbers it. A pidfd's ``NSpid``
    lists the process's pid in every pid namespace from that of the ``/proc`` mount down
    to its own. Counted from the end: the child's own namespace, the inner forker's,
    then the server's (whatever ``/proc`` this is, as long as the server's namespace is
    in it)."""
    with open(f"/proc/self/fdinfo/{pidfd}") as info:
        for line in info:
            if line.startswith("NSpid:"):
                levels = [int(n) for n in line.split()[1:]]
                if len(levels) >= 3 and levels[-3] > 0:
                    return levels[-3]
                break
    raise OSError("the server's number for the child is not in its pidfd's fdinfo")


def _spawn(meta: ForkMeta, fds: list[int], how: _Serving, sock_fd: int) -> int:
    if len(fds) != 3:
        raise ValueError("expected the output, result and job descriptors")
    # Once, here: every child then loads the filter it needs instead of building it.
    isolation.compile_seccomp(())
    isolation.compile_seccomp(meta["protected_pids"])
    in_pid_namespace = False
    if how.pidns_fd is not None:
        try:
            isolation.unshare(isolation.CLONE_NEWPID)
            in_pid_namespace = True
        except OSError:
            if how.inner:
                raise
    try:
        pid = os.fork()
    except OSError:
        if in_pid_namespace:
            _return_to(how.pidns_fd)
        raise
    if pid == 0:
        _become_child(meta, fds, in_pid_namespace=in_pid_namespace, in_user_namespace=how.in_user_namespace,
                      close=(sock_fd,))
    if in_pid_namespace:
        _return_to(how.pidns_fd, child=pid)
    return pid


def _return_to(pidns_fd: int | None, child: int | None = None) -> None:
    """Back into our own pid namespace, for the next child. Where the kernel refuses,
    every later child would be born in this one's namespace: end that child and stop."""
    try:
        isolation.setns(pidns_fd, isolation.CLONE_NEWPID)  # type: ignore[arg-type]
    except OSError:
        if child is not None:
            os.kill(child, signal.SIGKILL)
        os._exit(1)


def _read_job(fd: int) -> tuple[Job, dict[str, bytes]]:
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
    return messages.job(frames[0].header), frames[0].blobs


def _become_child(meta: ForkMeta, fds: list[int], *, in_pid_namespace: bool,
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
            hide_paths=[Path(p) for p in meta["hide_paths"]], root=meta["root"], uid=meta["uid"],
            in_pid_namespace=in_pid_namespace, in_user_namespace=in_user_namespace,
            fs_view=meta["fs_view"],
            protected_pids=meta["protected_pids"],
            limits=isolation.Limits(**meta["limits"]),
        )
    except BaseException:  # noqa: BLE001 - a child that cannot start reports nothing
        os._exit(1)
    run_child(job)
