"""The isolation layers a sandbox child applies to itself before running code.

Each function applies one layer and returns the names it managed to apply, so every
result can report what protected it. A layer the kernel or our privileges refuse is
skipped, not fatal: the sandbox works as root and as a normal user, applying what each
allows. One exception: a run born in its forker's user namespace, which every run
shares, must leave it for one of its own or not run at all (``enter_namespaces``).
No torch here; the server imports this before forking.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import select
import signal
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
PR_SET_PDEATHSIG, PR_SET_KEEPCAPS, PR_SET_NO_NEW_PRIVS = 1, 8, 38
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
CAP_DAC_READ_SEARCH = 2
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
SYS_MOUNT_SETATTR = 442  # the same number on every architecture
AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = -100, 0x8000, 0x1
# Directories every uid may write on a typical host; a run gets private empty ones.
SHARED_SCRATCH = (Path("/dev/shm"),)

# Children of a root server run as one of these uids, a different one per run, so
# RLIMIT_NPROC (which root ignores) counts only that run's processes and threads.
SANDBOX_UID_BASE = 1_900_000_000
SANDBOX_UID_SPAN = 100_000_000

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class Limits:
    """Per-run resource limits. ``address_space`` is None where it cannot apply (CUDA
    reserves far more virtual memory than any sane cap)."""

    cpu_seconds: int = 30
    address_space: int | None = 4 * 1024**3
    file_size: int = 64 * 1024**2
    processes: int = 256
    open_files: int = 1024
    scratch_size: int = 256 * 1024**2


def check(result: int, what: str) -> None:
    """Raise OSError with errno's story unless a libc call returned 0."""
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")




def unshare(flags: int) -> None:
    check(_libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int) -> None:
    check(_libc.setns(fd, nstype), "setns")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    check(
        _libc.mount(
            source.encode(), target.encode(), fstype.encode() if fstype else None,
            ctypes.c_ulong(flags), data.encode() if data else None,
        ),
        f"mount {target}",
    )


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _mount(source, target, fstype, flags, data)


def make_mounts_private() -> None:
    """No mount made from now on propagates to the namespace we came from."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)


def _hide(paths: Sequence[Path]) -> None:
    for path in paths:
        _mount("tmpfs", str(path), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=000")


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def set_read_only(path: Path | str, *, recursive: bool) -> None:
    """The mount at ``path`` (and, ``recursive``, every mount below it) read-only,
    leaving its other flags as they are (a user namespace may not clear locked ones)."""
    attr = _MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0)
    check(_libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, str(path).encode(), AT_RECURSIVE if recursive else 0,
                         ctypes.byref(attr), ctypes.sizeof(attr)), f"mount_setattr {path}")


def _read_only_everywhere() -> None:
    set_read_only("/", recursive=True)


def _private_scratch(workdir: Path, size: int) -> None:
    """Every mount read-only, then a size-capped empty tmpfs as the working directory
    and as /dev/shm: files written anywhere vanish with the run's mount namespace
    (nothing left in /tmp, /var/tmp or /dev/shm), and many small files cannot fill the
    disk (RLIMIT_FSIZE caps one file, not their number)."""
    _read_only_everywhere()
    _mount("tmpfs", str(workdir), "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=700")
    for path in SHARED_SCRATCH:
        if path.is_dir():
            _mount("tmpfs", str(path), "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def enter_user_namespace(flags: int = 0) -> None:
    """A new user namespace (plus ``flags``) where we keep our own uid and gid, and
    hold every capability over the namespaces it owns. Both ids must be mapped: a file
    created on a tmpfs mounted here needs an owner the mount's namespace can name, or
    the kernel answers EOVERFLOW."""
    uid, gid = os.getuid(), os.getgid()
    unshare(CLONE_NEWUSER | flags)
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")


def enter_namespaces(hide_paths: Sequence[Path], *, root: bool, in_user_namespace: bool = False,
                     in_pid_namespace: bool = False, workdir: Path | None = None,
                     scratch_size: int = Limits.scratch_size) -> list[str]:
    """New mount, network and IPC namespaces; in a pid namespace, a /proc of its own;
    the hidden paths covered by empty tmpfs; with ``workdir``, a read-only view of
    every mount except a private, size-capped working directory and /dev/shm. SysV IPC
    objects die with the IPC namespace.

    A normal user needs a user namespace for all of this, and each run one of its own:
    there RLIMIT_NPROC counts this run's processes alone. ``in_user_namespace``: we
    were born holding every capability in one that every run shares (the forker's,
    which owns our pid namespace), so we make our namespaces there and then nest one of
    our own after the covers; we then hold no capability over the shared one. Otherwise
    a normal user makes one first, and nests a second after covers, if any. Mounts made
    before a nested user namespace are locked in it, so code that is "root" inside
    cannot unmount them. With ``in_user_namespace``, any failure to make the mount
    namespace or the nested user namespace raises OSError: code must never run in the
    shared one.
    """
    hide = [p for p in hide_paths if p.is_dir()]
    applied: list[str] = []
    try:
        if root or in_user_namespace:
            unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC)
        else:
            enter_user_namespace(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC)
            applied.append("userns")
    except OSError:
        if in_user_namespace:
            raise
        return applied
    applied += ["netns", "mountns", "ipcns"]
    try:
        # Private first, so no mount we make here ever propagates to the host.
        _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
    except OSError:
        if in_user_namespace:
            raise
        return applied
    if in_pid_namespace:
        try:
            # Only this run's processes: not the server, the front or anything else
            # on the machine (their command lines, and for a normal user's run, whose
            # uid they share, their /proc/<pid>/root: a way around the covers).
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
            applied.append("private-proc")
        except OSError:
            pass  # a container that masks parts of /proc forbids a fresh one
    covered = False
    if hide:
        try:
            _hide(hide)
            covered = True
        except OSError:
            pass
    if in_user_namespace:
        enter_user_namespace(CLONE_NEWNS)
        applied.insert(0, "userns")
    elif covered and not root:
        try:
            enter_user_namespace(CLONE_NEWNS)
        except OSError:
            covered = False
    if covered:
        applied.append("hidden-paths")
    if workdir is not None:
        try:
            _private_scratch(workdir, scratch_size)
            applied.append("private-scratch")
        except OSError:
            pass
    return applied


def set_limits(limits: Limits, *, counted: bool) -> list[str]:
    """rlimits for CPU, memory, file size and open files; and processes, when
    ``counted``: RLIMIT_NPROC counts every process and thread of our uid in our user
    namespace, so it is a per-run limit only for a per-run uid or user namespace.
    Otherwise (real root ignores it; a normal user without a user namespace shares the
    count with a whole desktop session) it is left alone rather than break the run."""
    pairs = [
        (resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1),
        (resource.RLIMIT_FSIZE, limits.file_size, limits.file_size),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NOFILE, limits.open_files, limits.open_files),
    ]
    if counted:
        pairs.append((resource.RLIMIT_NPROC, limits.processes, limits.processes))
    if limits.address_space is not None:
        pairs.append((resource.RLIMIT_AS, limits.address_space, limits.address_space))
    for which, soft, hard in pairs:
        _, old_hard = resource.getrlimit(which)
        if old_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, old_hard), min(hard, old_hard)
        resource.setrlimit(which, (soft, hard))
    # A file grown past the limit should fail as an OSError, not kill the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return ["rlimits", "nproc"] if counted else ["rlimits"]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _keep_only_capability(cap: int) -> None:
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    data[cap // 32].effective = data[cap // 32].permitted = 1 << (cap % 32)
    check(_libc.capset(ctypes.byref(header), data), "capset")


def holds_capability(cap: int) -> bool:
    """Whether ``cap`` is in our permitted set. A container's root lacks many: Docker's
    default set has no ``CAP_DAC_READ_SEARCH``, and asking to keep it fails (EPERM)."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if _libc.capget(ctypes.byref(header), data) != 0:
        return False
    return bool(data[cap // 32].permitted & (1 << (cap % 32)))


def drop_privileges(uid: int, *, keep_read_search: bool = False) -> list[str]:
    """Become an unprivileged uid (root only), with no capability left: no writes to the
    system, no signals to the server, no reading past permissions, and an RLIMIT_NPROC
    that holds.

    ``keep_read_search``: keep one capability, reading and searching any directory, for
    a run outside the filesystem view (``fsview``), where Python itself may live where
    only root can look (e.g. ``/root/.pyenv``) and a child must still import the
    standard library from there. The hidden paths are then empty tmpfs, and the seccomp
    filter refuses ``open_by_handle_at``, the one way that capability could reach under
    them. In the view the interpreter's directories are reachable without it.
    """
    # Where we never held it (a container's root), the run goes on without it: the
    # interpreter then has to be readable by any uid, which it is in the usual images.
    keep = keep_read_search and holds_capability(CAP_DAC_READ_SEARCH)
    if keep:
        _libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # without KEEPCAPS this clears every capability
    if keep:
        _keep_only_capability(CAP_DAC_READ_SEARCH)
    return ["uid"]


def unreachable(paths: Sequence[Path]) -> bool:
    """Whether none of ``paths`` can be entered or read by us, as we are now. Asked by a
    run after it dropped its uid and capabilities, where no mount covers the paths (a
    container refuses mount namespaces): a lessons folder that only root may enter is
    then hidden by its permissions alone."""
    # A path we cannot even stat (an ancestor we may not search) is not a directory to
    # us, and not readable either.
    return not any(os.access(path, os.R_OK) or (os.path.isdir(path) and os.access(path, os.X_OK))
                   for path in paths)


def die_with_parent_pid(parent: int) -> None:
    """SIGKILL us when ``parent`` dies, even if it died just before we asked."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def die_with_parent_pipe(guard: int) -> None:
    """SIGKILL us when our parent dies. Inside a new pid namespace the parent has no
    pid we can see, so ``guard`` tells instead: the read end of a pipe whose only
    writer is the parent; a hang-up means it is already gone."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    poller = select.poll()
    poller.register(guard, select.POLLIN)
    if any(events & select.POLLHUP for _, events in poller.poll(0)):
        os._exit(1)


def die_with_parent(lifeline: int) -> None:
    """SIGKILL us when the server dies. Set after the uid change (which clears it), so
    the server may already be gone: ``lifeline``, a pipe the server reads, says so."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    poller = select.poll()
    poller.register(lifeline, select.POLLOUT)
    if any(events & select.POLLERR for _, events in poller.poll(0)):
        os._exit(1)  # no reader left: the server died before the signal was armed


def no_new_privs() -> list[str]:
    check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")
    return ["no_new_privs"]


_DENIED_SYSCALLS = (
    "open_by_handle_at", "name_to_handle_at", "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_send_signal", "pidfd_getfd",
    "mount", "umount2", "pivot_root", "unshare", "setns", "bpf", "perf_event_open",
    # The newer mount API: a normal user's run owns its innermost mount namespace and
    # could otherwise make a read-only mount writable again or mount a filesystem.
    "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "keyctl", "add_key", "request_key", "userfaultfd", "kexec_load", "init_module",
    "finit_module", "delete_module", "reboot", "swapon", "swapoff",
)
_DENIED_FAMILIES = (socket.AF_INET, socket.AF_INET6, socket.AF_PACKET)
# clone() flags that make namespaces: refused like unshare(), so the kernel's namespace
# code stays out of reach. clone3() passes its flags in memory, where a filter cannot
# look, so it answers ENOSYS and glibc falls back to clone() for threads and fork.
_CLONE_NAMESPACE_FLAGS = (
    0x00000080,  # CLONE_NEWTIME
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)


def _build_filter(protected_pids: Sequence[int]) -> object | None:
    """The filter as libseccomp builds it, or ``None`` without pyseccomp."""
    try:
        import pyseccomp as sc
    except (ImportError, RuntimeError):
        return None
    denied = sc.ERRNO(errno.EPERM)
    flt = sc.SyscallFilter(sc.ALLOW)
    for name in _DENIED_SYSCALLS:
        try:
            flt.add_rule(denied, name)
        except (OSError, ValueError):
            continue  # a syscall this architecture does not have
    for family in _DENIED_FAMILIES:
        flt.add_rule(denied, "socket", sc.Arg(0, sc.EQ, family))
    for flag in _CLONE_NAMESPACE_FLAGS:
        flt.add_rule(denied, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    for pid in protected_pids:
        for target in (pid, -pid):
            value = target & 0xFFFFFFFF  # pid_t compared as 32 bits, sign included
            flt.add_rule(denied, "kill", sc.Arg(0, sc.MASKED_EQ, 0xFFFFFFFF, value))
            flt.add_rule(denied, "tgkill", sc.Arg(0, sc.MASKED_EQ, 0xFFFFFFFF, value))
            flt.add_rule(denied, "pidfd_open", sc.Arg(0, sc.MASKED_EQ, 0xFFFFFFFF, value))
    return flt


#: Filters compiled to BPF by the forker, before it forks, keyed by the protected pids.
#: Building one with libseccomp took 2.2 ms of each child's 3.4 ms lock-down.
_compiled: dict[tuple[int, ...], bytes] = {}


def compile_seccomp(protected_pids: Sequence[int] = ()) -> bool:
    """Compile the filter for ``protected_pids`` now, so that children forked from this
    process only load it (:func:`seccomp_filter`); ``False`` without pyseccomp."""
    key = tuple(protected_pids)
    if key in _compiled:
        return True
    flt = _build_filter(key)
    if flt is None:
        return False
    fd = os.memfd_create("seccomp-bpf")
    try:
        with os.fdopen(os.dup(fd), "rb") as reader:
            flt.export_bpf(reader)  # type: ignore[attr-defined]
        os.lseek(fd, 0, os.SEEK_SET)
        program = b""
        while chunk := os.read(fd, 1 << 16):
            program += chunk
    finally:
        os.close(fd)
    if not program or len(program) % 8:
        return False
    _compiled[key] = program
    return True


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _load_bpf(program: bytes) -> None:
    """Install a compiled filter (``no_new_privs`` first, as libseccomp's own load)."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "prctl(PR_SET_SECCOMP)")


def seccomp_filter(protected_pids: Sequence[int] = ()) -> list[str]:
    """Deny network sockets, debugging other processes and namespace games; and, where
    no pid namespace hides them, signals to the server and the front."""
    program = _compiled.get(tuple(protected_pids))
    if program is not None:
        _load_bpf(program)
        return ["seccomp"]
    flt = _build_filter(protected_pids)
    if flt is None:
        return []
    flt.load()  # type: ignore[attr-defined]
    return ["seccomp"]
