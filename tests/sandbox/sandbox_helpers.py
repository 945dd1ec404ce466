"""Checks shared by the sandbox tests: is the server clean and still answering?"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from tutor.sandbox.api import RunRequest
from tutor.sandbox.client import SandboxClient
from tutor.sandbox.isolation import SANDBOX_UID_BASE
from tutor.sandbox.server import ALIVE


def _children(pid: int | None) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(child) for child in (task / "children").read_text().split()]
    return children


def _parent(pid: int | None) -> int:
    return int(Path(f"/proc/{pid}/status").read_text().split("\nPPid:")[1].split()[0])


def server_children(sandbox: SandboxClient) -> list[int]:
    """Every run's process still around (zombies included): the children of the forker,
    and any child of the server besides the forker itself (and, for a normal user, the
    outer forker that waits on the inner one, which forks the runs)."""
    forkers = {sandbox.forker_pid, _parent(sandbox.forker_pid)}
    return [pid for pid in _children(sandbox.server_pid) if pid not in forkers] + _children(sandbox.forker_pid)


def sandbox_uid_processes() -> list[int]:
    """Processes running as one of the sandbox's uids (root servers only use them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            uid = int((entry / "status").read_text().split("\nUid:")[1].split()[0])
        except (OSError, IndexError):
            continue
        if uid >= SANDBOX_UID_BASE:
            found.append(int(entry.name))
    return found


# Inherited by the session's sandbox server and every run's child: tells this test
# run's leftovers from those of other test runs on the machine (root sees them all).
os.environ.setdefault("TUTOR_SANDBOX_TEST_SESSION", secrets.token_hex(8))
SESSION_MARK = f"TUTOR_SANDBOX_TEST_SESSION={os.environ['TUTOR_SANDBOX_TEST_SESSION']}".encode()


def _namespace(pid: int | str, kind: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/{kind}")
    except OSError:
        return None  # gone, a zombie, or not ours to look at


def _ours(pid: int | str) -> bool:
    try:
        return SESSION_MARK in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def stray_run_processes() -> list[int]:
    """Processes of this session's runs that outlived them. Root's runs have uids of
    their own; a normal user's share ours, but only a run lives in a network namespace
    of its own."""
    if os.geteuid() == 0:
        return [pid for pid in sandbox_uid_processes() if _ours(pid)]
    ours = _namespace("self", "net")
    found = []
    for entry in Path("/proc").iterdir():
        namespace = _namespace(entry.name, "net") if entry.name.isdigit() else None
        if namespace is not None and namespace != ours and _ours(entry.name):
            found.append(int(entry.name))
    return found


def visible_dir(sandbox: SandboxClient) -> Path:
    """A fresh directory that runs can see. A run sees the machine through the server's
    filesystem view, which holds nothing from the test's temporary directories; the
    server's work root is there (read-only, but a FIFO in it still opens for writing)."""
    sandbox.wait_ready()
    assert sandbox.workroot is not None
    path = sandbox.workroot / f"{SHARED_PREFIX}{secrets.token_hex(4)}"
    path.mkdir(mode=0o755)
    path.chmod(0o755)
    return path


SHARED_PREFIX = "shared-"


def signal_fifo(directory: Path) -> Path:
    """A FIFO that a sandboxed snippet (any uid) can open to say "I am running";
    ``directory`` must be one runs can see (:func:`visible_dir`)."""
    fifo = directory / "started"
    os.mkfifo(fifo, 0o666)
    fifo.chmod(0o666)
    return fifo


def assert_recovered(sandbox: SandboxClient) -> None:
    """The server answers the next run normally and left nothing behind."""
    after = sandbox.run(RunRequest(code="print(2 + 2)"))
    assert after.status == "ok" and after.stdout == "4\n", after.error
    assert server_children(sandbox) == []
    assert sandbox.workroot is not None
    assert [p for p in sandbox.workroot.iterdir() if not p.name.startswith(SHARED_PREFIX) and p.name != ALIVE] == []
    assert stray_run_processes() == []
