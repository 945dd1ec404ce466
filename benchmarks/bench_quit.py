"""How fast quitting gives the terminal back, with a warm sandbox.

    .venv/bin/python benchmarks/bench_quit.py [--runs N] [--key q|ctrl+q] [--shipped]

Target (issue 16): the terminal is back within 0.2 s of the quit key; the sandbox
server finishes its own shutdown afterwards. Measured from outside, like a learner
sees it: ``tutor`` is spawned on an 80x24 pseudo-terminal, the clock starts when the
key is written once the header says "sandbox ready" and a cell has run, and stops when
the app leaves the alternate screen (the terminal is the shell's again) and when the
process has exited (the shell prompt comes back). Also reported: how long the server
took to be gone after that, which the learner never waits for.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_startup import TRIVIAL_LESSON as LESSON  # noqa: E402 - the same one-cell lesson

LEAVE_ALT_SCREEN = b"\x1b[?1049l"
KEYS = {"q": b"q", "ctrl+q": b"\x11"}


def _read_until(fd: int, seen: bytearray, needle: bytes, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.02)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return False
            if not chunk:
                return False
            seen += chunk
            if needle in seen:
                return True
    return False


def _server_pids(parent: int) -> list[int]:
    """The sandbox server: the child of ``tutor`` that runs ``tutor.sandbox.server``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"tutor.sandbox.server" in cmdline:
            pids.append(int(entry.name))
    return pids


def quit_once(lessons: str, workspace: str, key: bytes) -> tuple[float, float, float]:
    """(seconds to leave the alternate screen, to exit, for the server to be gone)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, "-m", "tutor", "--lessons", lessons, "--workspace", workspace,
                                  "--device", "cpu"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    seen = bytearray()
    try:
        if not _read_until(fd, seen, b"sandbox ready", 60):
            raise RuntimeError("the sandbox never became ready")
        servers = _server_pids(pid)
        os.write(fd, b"\r")  # open the lesson
        time.sleep(0.5)
        seen.clear()
        os.write(fd, b"\r")  # run its cell: the sandbox is warm
        if not _read_until(fd, seen, b"ran on", 20):
            raise RuntimeError("the cell never ran")
        time.sleep(0.3)
        seen.clear()
        start = time.perf_counter()
        os.write(fd, key)
        left = float("nan")
        if _read_until(fd, seen, LEAVE_ALT_SCREEN, 10):
            left = time.perf_counter() - start
        while True:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            _read_until(fd, seen, b"\0never", 0.005)
        exited = time.perf_counter() - start
        pid = 0
        while any(Path(f"/proc/{p}").exists() and "Z" not in (Path(f"/proc/{p}/stat").read_text().split()[2:3] or [""])
                  for p in servers) and time.perf_counter() - start < 15:
            time.sleep(0.005)
        gone = time.perf_counter() - start
        return left, exited, gone
    finally:
        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--key", choices=sorted(KEYS), default="q")
    parser.add_argument("--shipped", action="store_true",
                        help="the shipped lessons (a long first lesson) instead of a one-cell lesson")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lessons = Path(tmp) / "lessons"
        lessons.mkdir()
        (lessons / "01-bench.md").write_text(LESSON)
        where = str(ROOT / "lessons") if args.shipped else str(lessons)
        results = [quit_once(where, str(Path(tmp) / f"ws{i}"), KEYS[args.key]) for i in range(args.runs)]
    for name, column, target in (("quit key to terminal back", 0, 0.2), ("quit key to process exit", 1, 0.2),
                                 ("quit key to sandbox server gone", 2, None)):
        ms = [r[column] * 1000 for r in results]
        median = statistics.median(ms)
        verdict = "" if target is None else (" (meets" if median <= target * 1000 else " (MISSES") + \
            f" the {target * 1000:.0f} ms target)"
        print(f"{name} [{args.key}]: median {median:.0f} ms, min {min(ms):.0f} ms, max {max(ms):.0f} ms "
              f"over {len(ms)} runs{verdict}")


if __name__ == "__main__":
    main()
