"""A filesystem view by allowlist: what a run can see of the machine, built once.

Hiding by listing paths misses every copy of the course that the list does not name
(another checkout, a copy under a mode-700 directory, a worktree's common git
directory). So the forker, once, before any request, moves itself into a mount
namespace whose root is an empty tmpfs holding only, read-only:

* the Python installation and its packages: the directories on ``sys.path`` and
  sysconfig's stdlib and site-packages, the interpreter's ``bin`` directories, and the
  ``tutor`` package directory alone (never the checkout around it, which holds the
  lessons);
* the system's shared libraries and programs (``/lib*``, ``/usr/lib*``, ``/bin``,
  ``/usr/bin``...), the loader cache and a few files of ``/etc`` (users, groups,
  time zone);
* ``/dev`` with ``null``, ``zero``, ``full``, ``random``, ``urandom`` (and the NVIDIA
  devices where present), ``/proc``, ``/sys``;
* the server's work root, where each run's directory is made (a run mounts a private
  tmpfs over its own).

Nothing else of the machine exists there, whatever its path or permissions, and the
old root is detached (``pivot_root``), so no ``..`` or ``chroot`` leads back. Every
child the forker forks starts in this view: a run pays nothing for it. Because the
interpreter is now reachable without reading past permissions (``/root/.pyenv`` is
mode 700 on the host, but the view's ``/root`` is a plain directory), a root server's
runs drop every capability, ``CAP_DAC_READ_SEARCH`` included.

A normal user's forker makes a user namespace for this (its runs nest their own inside
it); where the kernel refuses, the forker stays where it is and runs report no
``fs-view``.
"""

from __future__ import annotations

import os
import site
import stat
import sys
import sysconfig
from pathlib import Path

from tutor.sandbox import isolation

LAYER = "fs-view"
MNT_DETACH = 2
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
# Shared libraries and programs: what a subprocess, an extension module or the dynamic
# loader may need. System software only, never a user's files.
SYSTEM_DIRS = ("/lib", "/lib32", "/lib64", "/libx32", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32",
               "/usr/local/lib", "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin")
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf")
DEVICES = ("null", "zero", "full", "random", "urandom")
# The kernel's own views. /proc whole and writable (a normal user's run writes its uid
# map there; every run mounts a fresh one when it can). /sys without what is mounted
# under it (the cgroup hierarchies): every mount here is copied into each run's
# mount namespace, so fewer is faster.
KERNEL_DIRS = {"/proc": True, "/sys": False}


def python_paths(package: Path) -> list[Path]:
    """Where the interpreter and its packages live, as this process sees them: the
    directories on ``sys.path`` that belong to the installation (under its prefixes, or
    a site-packages directory), sysconfig's stdlib and package directories, the
    interpreter's ``bin`` directories, and the ``tutor`` package directory. Never a
    directory holding the package's checkout (its lessons, tests and git history sit
    beside the package), and never a directory ``PYTHONPATH`` adds (it may hold anything)."""
    site_dirs = {os.path.abspath(p) for p in (*site.getsitepackages(), site.getusersitepackages(),
                                              *(sysconfig.get_paths().get(k) or "" for k in ("purelib", "platlib"))) if p}
    prefixes = {os.path.abspath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    checkout = os.path.abspath(package.parent)

    def lendable(path: str) -> bool:
        if path in site_dirs:
            return True
        holds_checkout = checkout == path or checkout.startswith(path.rstrip("/") + "/")
        return not holds_checkout and any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)

    found = [entry for entry in sys.path if entry and os.path.isabs(entry)]
    found += [path for key in ("stdlib", "platstdlib", "purelib", "platlib") if (path := sysconfig.get_paths().get(key))]
    found += [os.path.dirname(sys.executable), os.path.dirname(getattr(sys, "_base_executable", sys.executable))]
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and sysconfig.get_config_var("LIBDIR"):
        found.append(str(sysconfig.get_config_var("LIBDIR")))  # libpython, which extension modules link
    kept = [path for path in dict.fromkeys(os.path.abspath(p) for p in found) if os.path.isdir(path) and lendable(path)]
    return [Path(p) for p in kept] + [package]


def allowlist(package: Path, workroot: Path) -> list[Path]:
    """Every path a run may see (besides /dev, /proc and /sys), outermost first, with
    paths inside another one left out."""
    paths = [*python_paths(package), *map(Path, SYSTEM_DIRS), *map(Path, ETC_FILES), workroot]
    kept: list[Path] = []
    for path in sorted(dict.fromkeys(Path(os.path.abspath(p)) for p in paths if os.path.lexists(p)),
                       key=lambda p: len(p.parts)):
        if not any(path != outer and path.is_relative_to(outer) and outer.is_dir() and not outer.is_symlink()
                   for outer in kept):
            kept.append(path)
    return kept


def _bind(source: Path, target: Path, *, recursive: bool) -> None:
    flags = isolation.MS_BIND | (isolation.MS_REC if recursive else 0)
    isolation.mount(str(source), str(target), None, flags)


def _target(root: Path, path: Path) -> Path:
    return root / path.relative_to("/")


def _mkdirs(path: Path) -> None:
    missing = []
    while not path.exists() and not path.is_symlink():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir()
        folder.chmod(0o755)  # whatever the umask: a run of any uid passes through


class _View:
    """The view being built on the tmpfs at ``root``; ``mounts`` are what to make
    read-only at the end (target, recursively?)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.mounts: list[tuple[Path, bool]] = []

    def place(self, path: Path, *, recursive: bool = True) -> list[Path]:
        """Make ``path`` appear as it is on the host: a symlink as the same symlink, a
        directory or file as a bind mount of it. Returns a symlink's target, to place too."""
        target = _target(self.root, path)
        if path.is_symlink():
            _mkdirs(target.parent)
            if not target.is_symlink():
                os.symlink(os.readlink(path), target)
            return [Path(os.path.realpath(path))]
        if target.exists() or target.is_symlink():
            return []  # already there, inside a directory placed before
        directory = stat.S_ISDIR(path.stat().st_mode)
        if directory:
            _mkdirs(target)
        else:
            _mkdirs(target.parent)
            target.touch(0o644)
        _bind(path, target, recursive=recursive and directory)
        self.mounts.append((target, recursive and directory))
        return []

    def devices(self) -> None:
        dev = self.root / "dev"
        _mkdirs(dev / "shm")
        names = [*DEVICES, *sorted(name for name in os.listdir("/dev") if name.startswith("nvidia"))]
        for name in names:
            source = Path("/dev") / name
            if source.exists() and not source.is_symlink():
                try:
                    self.place(source)
                except OSError:
                    pass  # a device this kernel or container will not lend
        for name, where in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                            ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
            os.symlink(where, dev / name)

    def kernel_dirs(self) -> None:
        for name, recursive in KERNEL_DIRS.items():
            target = _target(self.root, Path(name))
            try:
                _mkdirs(target)
                _bind(Path(name), target, recursive=recursive)
            except OSError:
                continue
            if name != "/proc":
                self.mounts.append((target, recursive))

    def seal(self) -> None:
        """Everything read-only but /proc: binds keep their source's other flags."""
        for target, recursive in self.mounts:
            try:
                isolation.set_read_only(target, recursive=recursive)
            except OSError:
                pass  # each run makes its whole view read-only again anyway
        isolation.set_read_only(self.root, recursive=False)


def build(root: Path, paths: list[Path], *, required: list[Path], alone: list[Path]) -> None:
    """Fill the empty tmpfs at ``root`` with ``paths``, devices, /proc and /sys, all
    read-only but /proc. ``alone``: paths bound without what is mounted under them.
    :class:`OSError` if one of ``required`` cannot be placed."""
    view = _View(root)
    queue = list(paths)
    while queue:
        path = queue.pop(0)
        try:
            queue += view.place(path, recursive=path not in alone)
        except OSError:
            if path in required:
                raise
    _mkdirs(root / "tmp")
    view.devices()
    view.kernel_dirs()
    view.seal()


def enter(root: Path) -> None:
    """Make ``root`` this process's ``/`` and detach the old one: no path leads back."""
    number = _PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError(0, f"pivot_root: unknown on {os.uname().machine}")
    os.chdir(root)
    isolation.check(isolation._libc.syscall(number, b".", b"."), "pivot_root")
    isolation.check(isolation._libc.umount2(b".", MNT_DETACH), "umount the old root")
    os.chdir("/")


def make(staging: Path, package: Path, workroot: Path) -> bool:
    """In a mount namespace of this process's own, build the view on an empty tmpfs at
    ``staging`` and move into it. The caller may make mount namespaces: root, or a
    normal user inside a user namespace of their own. False where the kernel refuses a
    step; the process then still sees the host's files (in namespaces of its own, which
    changes nothing for its runs)."""
    try:
        isolation.unshare(isolation.CLONE_NEWNS)
        isolation.make_mounts_private()
        isolation.mount("tmpfs", str(staging), "tmpfs", isolation.MS_NOSUID, "size=1m,mode=755")
        python = python_paths(package)
        build(staging, allowlist(package, workroot), required=[*python, workroot], alone=[workroot])
        enter(staging)
    except OSError:
        return False
    return True
