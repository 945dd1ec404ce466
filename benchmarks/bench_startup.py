"""How fast the TUI answers: launch to the first painted lesson list, and the run
key to the result of a trivial snippet once the sandbox is warm.

    .venv/bin/python benchmarks/bench_startup.py [--runs N]

Targets (DESIGN.md, issue 6): launch <= 0.5 s; run key to result <= 100 ms warm.
The launch figure is measured from outside, like a learner sees it: ``tutor`` is
spawned on a pseudo-terminal and the clock stops when the first lesson's title
reaches the terminal. The run figure drives the real app (real sandbox) headless
and stops the clock when the result panel has been recomposed.
"""

from __future__ import annotations

import argparse
import asyncio
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

TRIVIAL_LESSON = '''+++
id = "bench"
title = "Benchmark lesson"
order = 1
topics = ["tensor-attributes"]
+++

# Bench

```python
t = torch.ones(2, 3)
```
'''


def launch_once(title: str, workspace: str, timeout: float = 20.0) -> float:
    """Seconds from spawning ``tutor`` on a 100x30 pty to ``title`` on its screen."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: become tutor
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, "-m", "tutor", "--workspace", workspace])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    seen = b""
    elapsed = float("nan")
    needle = title.encode()
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    break
                if needle in seen:
                    elapsed = time.perf_counter() - start
                    break
        os.write(fd, b"q")
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline:  # drain so tutor can exit cleanly
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    if not os.read(fd, 65536):
                        break
                except OSError:
                    break
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                pid = 0
                break
    finally:
        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    return elapsed


def bench_launch(runs: int) -> list[float]:
    from tutor.lessons import load_lessons

    title = load_lessons().lessons[0].title
    with tempfile.TemporaryDirectory() as workspace:
        return [launch_once(title, workspace) for _ in range(runs)]


async def bench_run_key(runs: int) -> list[float]:
    from textual import events
    from textual.widgets import Static

    from tutor.app.app import make_app
    from tutor.app.screens.lesson import LessonScreen
    from tutor.lessons import load_lessons
    from tutor.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        lessons_dir = Path(tmp) / "lessons"
        lessons_dir.mkdir()
        (lessons_dir / "01-bench.md").write_text(TRIVIAL_LESSON)
        lessons = load_lessons([lessons_dir])
        app = make_app(lessons, Workspace(Path(tmp) / "ws", lessons), device="cpu")
        painted: list[float] = []

        def hook(message: object) -> None:
            # The clock stops when the new result's status line is mounted and the
            # refresh that paints it has run; the pilot's own settling is not counted.
            if isinstance(message, events.Mount) and message._sender is not None:
                sender = message._sender
                if isinstance(sender, Static) and sender.has_class("status"):
                    app.call_after_refresh(lambda: painted.append(time.perf_counter()))

        times = []
        async with app.run_test(size=(100, 30), message_hook=hook) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            assert app.sandbox_state == "ready", app.sandbox_state
            await pilot.press("enter")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, LessonScreen)
            cell = screen.cells[0]
            for _ in range(runs + 1):  # the first run warms the path; it is not counted
                before = cell.result
                painted.clear()
                start = time.perf_counter()
                await pilot.press("enter")
                await screen.workers.wait_for_complete()
                while not painted:
                    await pilot.pause()
                assert cell.result is not before and cell.result.ok, cell.result
                times.append(painted[0] - start)
        return times[1:]


def report(name: str, times: list[float], target: float) -> None:
    ms = [t * 1000 for t in times]
    median = statistics.median(ms)
    verdict = "meets" if median <= target * 1000 else "MISSES"
    print(f"{name}: median {median:.0f} ms, min {min(ms):.0f} ms, max {max(ms):.0f} ms over {len(ms)} runs "
          f"({verdict} the {target * 1000:.0f} ms target)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    report("launch to first painted lesson list", bench_launch(args.runs), 0.5)
    report("run key to result (warm sandbox)", asyncio.run(bench_run_key(args.runs * 4)), 0.1)


if __name__ == "__main__":
    main()
