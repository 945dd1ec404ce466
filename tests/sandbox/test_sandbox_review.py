"""A hostile learner's second attempt: the routes an adversarial review found around the
first line of defences. Each test is one attack; it must end without leaking a hidden
file, another run's data, or anything left behind on the machine."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

import pytest
from sandbox_helpers import assert_recovered, signal_fifo, visible_dir

from tutor.sandbox.api import RunRequest
from tutor.sandbox.client import SandboxClient

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]

# Reads every readable mapping of the child's own memory: a forked child starts as a
# copy of whatever process forked it.
SCAN_OWN_MEMORY = r'''
import re
def region(mem, line):
    span, perms = line.split()[:2]
    start, end = (int(x, 16) for x in span.split("-"))
    if "r" not in perms or "[v" in line or end - start > 256 << 20:
        return b""
    try:
        mem.seek(start)
        return mem.read(end - start)
    except (OSError, ValueError, OverflowError):
        return b""
mem = open("/proc/self/mem", "rb", buffering=0)
found = set()
for line in open("/proc/self/maps").read().splitlines():
    found.update(m.group(0).decode() for m in re.finditer(rb"SECRET_[0-9a-f]{32}", region(mem, line)))
print(sorted(found))
'''


def test_a_child_cannot_read_another_runs_code_or_data_from_its_own_memory(sandbox: SandboxClient) -> None:
    """The reference solution runs beside the learner's: the learner's child must not
    be forked from a process that ever held the reference's code or blobs."""
    secret = "SECRET_" + secrets.token_hex(16)
    fifo = signal_fifo(visible_dir(sandbox))
    other: list[object] = []
    reference = RunRequest(
        code=f"hidden = {secret!r}\nopen({str(fifo)!r}, 'w').write('go')\nimport time\ntime.sleep(0.2)\n",
        params={"answer": secret}, blobs={"expected": secret.encode() * 64}, inspect=False, timeout=10)
    thread = threading.Thread(target=lambda: other.append(sandbox.run(reference)))
    thread.start()
    assert fifo.read_text() == "go"  # the reference's child is running: its request is in
    thief = sandbox.run(RunRequest(code=SCAN_OWN_MEMORY, inspect=False, timeout=20))
    thread.join()
    assert other[0].status == "ok", other[0].error
    # A root server's run (another uid, no capability) may not even open its own memory.
    unreadable = thief.error is not None and thief.error.type == "PermissionError" and "/proc/self/mem" in thief.error.message
    assert thief.status == "ok" or unreadable, thief.error
    assert secret not in thief.stdout and thief.stdout.strip() in ("[]", "")
    assert_recovered(sandbox)


def test_the_git_history_of_a_hidden_directory_is_hidden_too(sandbox: SandboxClient) -> None:
    """The lessons live in a git checkout: every committed version of every reference
    solution is in .git/objects."""
    git_dir = REPO / ".git"
    if not git_dir.is_dir():
        pytest.skip("not a git checkout")
    code = (
        "import os\n"
        f"try:\n    found = os.listdir({str(git_dir)!r})\nexcept OSError as exc:\n    found = type(exc).__name__\n"
        "print(found)\n"
    )
    result = sandbox.run(RunRequest(code=code, inspect=False))
    assert result.status == "ok", result.error
    assert "objects" not in result.stdout and "HEAD" not in result.stdout


def test_nothing_is_left_in_shared_temporary_directories(sandbox: SandboxClient) -> None:
    """/tmp, /var/tmp and /dev/shm are writable by every uid on the host; a run must not
    be able to leave files there (or read them back in the next run)."""
    name = "tutor-leftover-" + secrets.token_hex(8)
    targets = [Path(d) / name for d in ("/tmp", "/var/tmp", "/dev/shm") if Path(d).is_dir()]
    code = "".join(
        f"try:\n    open({str(t)!r}, 'w').write('x')\nexcept OSError:\n    pass\n" for t in targets
    )
    try:
        result = sandbox.run(RunRequest(code=code, inspect=False))
        assert result.status == "ok", result.error
        assert [t for t in targets if t.exists()] == []
    finally:
        for target in targets:
            target.unlink(missing_ok=True)
    assert_recovered(sandbox)


def sysv_keys() -> set[str]:
    keys: set[str] = set()
    for kind in ("shm", "msg", "sem"):
        table = Path("/proc/sysvipc") / kind
        if table.exists():
            keys |= {line.split()[0] for line in table.read_text().splitlines()[1:] if line.strip()}
    return keys


def test_sysv_ipc_objects_die_with_the_run(sandbox: SandboxClient) -> None:
    """A shared memory segment, queue or semaphore set outlives its process unless the
    run has its own IPC namespace."""
    before = sysv_keys()
    code = (
        "import ctypes\nlibc = ctypes.CDLL(None)\n"
        "made = [libc.shmget(0x7e57, 4096, 0o1666), libc.msgget(0x7e58, 0o1666), libc.semget(0x7e59, 1, 0o1666)]\n"
        "print(made)\n"
    )
    result = sandbox.run(RunRequest(code=code, inspect=False))
    assert result.status == "ok", result.error
    assert sysv_keys() - before == set()
    assert_recovered(sandbox)


def test_many_small_files_cannot_fill_the_disk(sandbox: SandboxClient) -> None:
    """The file-size limit holds per file; the working directory needs a cap of its own."""
    code = (
        "import errno\nwritten = 0\nchunk = b'0' * (16 << 20)\n"
        "try:\n    for i in range(256):\n        with open(f'part{i}', 'wb') as f:\n            f.write(chunk)\n"
        "        written += len(chunk)\nexcept OSError as exc:\n    print(errno.errorcode[exc.errno], written >> 20)\n"
    )
    result = sandbox.run(RunRequest(code=code, inspect=False, timeout=20))
    assert result.status == "ok", result.error
    reason, megabytes = result.stdout.split()
    assert reason in ("ENOSPC", "EDQUOT") and int(megabytes) <= 1024
    assert_recovered(sandbox)
