"""A process killed with SIGKILL in the middle of writing never costs the learner a
solution and never leaves progress unreadable."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

from tutor.lessons import LessonSet
from tutor.workspace import Workspace, starter_text, statuses_for

KILLS = 60
# Big enough that a kill often lands while the bytes are being written.
PADDING = "# " + "x" * 78 + "\n"


def attempt(n: int) -> str:
    return f"def double(x):\n    return 2 * x  # attempt {n}\n" + PADDING * 2000 + "# end\n"


def busy_learner(root: Path, lessons: LessonSet, report_fd: int) -> None:
    """Everything that writes: grading results, hints, saves, resets, init. One byte
    goes to the parent after each step, so it can kill us between or during steps."""
    ws = Workspace(root, lessons)
    double = lessons.exercise("alpha/double")
    n = 0
    while True:
        n += 1
        for step in (
            lambda: ws.record_result(double.id, random.choice(["pass", "fail", "error"])),
            lambda: ws.next_hint(double),
            lambda: ws.save(double, attempt(n)),
            lambda: ws.reset(double) if n % 5 == 0 else None,
            lambda: ws.init(),
        ):
            step()
            os.write(report_fd, b".")


def run_and_kill(root: Path, lessons: LessonSet, rng: random.Random) -> None:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            busy_learner(root, lessons, write_fd)
        finally:
            os._exit(0)
    os.close(write_fd)
    # Wait for a random number of completed steps (0 = right after fork): the pipe is
    # the synchronisation. The short random pause is not: it moves the kill to a random
    # point inside the next step, where a non-atomic write would be caught half done.
    for _ in range(rng.randrange(0, 12)):
        if not os.read(read_fd, 1):
            break
    time.sleep(rng.uniform(0, 0.002))
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(read_fd)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def test_sigkill_at_random_moments_never_loses_a_solution_or_corrupts_progress(
    ws: Workspace, root: Path, lessons: LessonSet
) -> None:
    ws.init()
    precious = ws.path_for(lessons.exercise("beta/triple"))
    precious.write_text("def triple(x):\n    return x * 3  # the learner's own\n")
    double = lessons.exercise("alpha/double")
    complete = {starter_text(double)} | {attempt(n) for n in range(1, 1000)}
    rng = random.Random(5)

    for kill in range(KILLS):
        run_and_kill(root, lessons, rng)

        raw = (root / ".tutor" / "progress.json").read_text()
        assert json.loads(raw)["version"] == 1, f"kill {kill}: progress unreadable"
        survivor = Workspace(root, lessons)
        assert survivor.progress(double.id).hints_shown >= 0
        assert survivor.warnings == [], f"kill {kill}: {survivor.warnings}"
        assert set(statuses_for(root)) >= {double.id}

        assert ws.read(double) in complete, f"kill {kill}: the solution file is torn"
        for backup in ws.path_for(double).parent.glob("double.py.bak-*"):
            assert backup.read_text() in complete, f"kill {kill}: backup {backup.name} is torn"
        assert precious.read_text() == "def triple(x):\n    return x * 3  # the learner's own\n"
