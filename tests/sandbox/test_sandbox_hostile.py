"""Hostile and broken code: every case ends as a clear result, the server answers the
next run normally, and no child, zombie or temporary directory is left behind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sandbox_helpers import assert_recovered

from tutor.sandbox.api import RunRequest, RunResult
from tutor.sandbox.client import SandboxClient

pytestmark = pytest.mark.slow

LESSON = Path(__file__).resolve().parents[2] / "lessons" / "01-tensor-attributes.md"


@dataclass
class Case:
    code: str
    status: str | tuple[str, ...]
    check: Callable[[RunResult], bool] = lambda result: True
    timeout: float = 10.0


def error_type(kind: str) -> Callable[[RunResult], bool]:
    return lambda result: result.error is not None and result.error.type == kind


CASES = {
    "infinite-loop": Case("while True:\n    pass\n", "timeout", timeout=1.0),
    "sleep-forever": Case("import time\ntime.sleep(1e6)\n", "timeout", timeout=1.0),
    "fork-bomb": Case(
        "import os\nwhile True:\n    os.fork()\n", "error",
        lambda r: r.error.type == "BlockingIOError" or "killed" in r.error.message, timeout=5.0,
    ),
    # It writes 4 GB before the address-space limit stops it: a few seconds on a quiet
    # machine, past 10 s on a loaded one, so its timeout is well above what the test
    # is about (the limit ends it with an error, never a timeout).
    "memory-bomb": Case(
        "chunks = []\nwhile True:\n    chunks.append(torch.ones(2 ** 27))\n", "error",
        lambda r: r.error.type in ("RuntimeError", "MemoryError") and r.error.line == 3, timeout=60.0,
    ),
    "huge-tensor": Case("x = torch.empty(2 ** 40)\n", "error", error_type("RuntimeError")),
    "100MB-print": Case(
        "for _ in range(100):\n    print('x' * (1 << 20))\n", "ok",
        lambda r: r.truncated and len(r.stdout) < 1_100_000 and r.stdout.endswith("more than 1 MB]\n"),
    ),
    "100MB-raw-write": Case(
        "import os\nfor _ in range(100):\n    os.write(1, b'y' * (1 << 20))\n", "ok",
        lambda r: r.truncated and len(r.stdout) < 1_100_000,
    ),
    "ansi-flood": Case(
        "print('\\x1b[2J\\x1b]0;owned\\x07\\x1b[31m' * 20000 + 'visible\\x1b[0m')\n", "ok",
        lambda r: r.stdout == "visible\n",
    ),
    "os-exit": Case("import os\nprint('bye', flush=True)\nos._exit(0)\n", "error",
                    lambda r: r.error.type == "Exited" and r.stdout == "bye\n"),
    "sys-exit": Case("import sys\nsys.exit(3)\n", "error", lambda r: r.error.type == "SystemExit" and r.error.line == 2),
    "segfault": Case("import ctypes\nctypes.string_at(0)\n", "error",
                     lambda r: r.error.type == "Crash" and "SIGSEGV" in r.error.message),
    # Inside a pid namespace the parent is invisible (getppid() is 0) and the signal
    # is ignored; without one the seccomp filter or the uid refuses it.
    "kill-parent": Case("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n", ("ok", "error")),
    "garbage-on-every-fd": Case(
        "import os\nfor fd in range(1024):\n    try:\n        os.write(fd, b'TUT1\\x00\\x00\\x00\\x02{}garbage')\n"
        "    except OSError:\n        pass\n", "error", error_type("ProtocolError"),
    ),
    "forged-result": Case(
        "import os, json\nbody = json.dumps({'status': 'ok', 'nonce': 'guess', 'blobs': []}).encode()\n"
        "frame = b'TUT1' + len(body).to_bytes(4, 'big') + body\n"
        "for fd in range(3, 1024):\n    try:\n        os.write(fd, frame)\n    except OSError:\n        pass\n"
        "os._exit(0)\n", "error",
    ),
    "file-too-large": Case("open('big.bin', 'wb').write(b'0' * (100 << 20))\n", "error",
                           lambda r: r.error.type == "OSError" and "too large" in r.error.message),
    "read-lessons": Case(f"print(open({str(LESSON)!r}).read())\n", "error",
                         lambda r: r.error.type in ("PermissionError", "FileNotFoundError") and r.stdout == ""),
    "list-lessons": Case(f"import os\nprint(os.listdir({str(LESSON.parent)!r}))\n", ("ok", "error"),
                         lambda r: "tensor-attributes" not in r.stdout),
    "network-socket": Case("import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)\n", "error",
                           lambda r: r.error.type in ("PermissionError", "OSError")),
    "syntax-error": Case("def broken(:\n    pass\n", "error", lambda r: r.error.type == "SyntaxError" and r.error.line == 1),
    "undecodable-output": Case("import os\nos.write(1, b'\\xff\\xfe ok\\n')\n", "ok", lambda r: r.stdout.endswith(" ok\n")),
    # clone() with namespace flags is refused like unshare(); threads and fork still work.
    "namespace-clone": Case(
        "import ctypes, errno, os, threading\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "r = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)\nif r == 0:\n    os._exit(0)\n"
        "print('refused' if r == -1 and ctypes.get_errno() == errno.EPERM else 'allowed')\n"
        "t = threading.Thread(target=print, args=('thread',)); t.start(); t.join()\n"
        "pid = os.fork()\nif pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\nprint('fork')\n",
        "ok", lambda r: r.stdout == "refused\nthread\nfork\n",
    ),
    "escaped-grandchild": Case(
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(1e6)\n", "ok",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_code_ends_cleanly(sandbox: SandboxClient, name: str) -> None:
    case = CASES[name]
    result = sandbox.run(RunRequest(code=case.code, filename="evil.py", timeout=case.timeout))
    expected = case.status if isinstance(case.status, tuple) else (case.status,)
    assert result.status in expected, (result.status, result.error, result.stdout[:300])
    assert case.check(result), (result.error, result.stdout[:300])
    assert result.data == {}
    assert_recovered(sandbox)


def test_the_lesson_file_exists_so_hiding_it_means_something() -> None:
    assert LESSON.is_file() and "tensor" in LESSON.read_text()
