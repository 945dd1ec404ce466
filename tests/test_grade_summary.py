"""`tutor grade` as a learner reads it: an exercise without a file is "not started" (in
the summary and in `tutor list`), never "failed"; one exercise is "1 exercise"; more
than one on a terminal gets a progress bar from the sandbox's start."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tutor.cli import main

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "grading" / "data"
SOFTMAX, LR = "grading/softmax-rows", "grading/halve-lr"


@pytest.fixture
def workspace(tmp_path, capsys) -> Path:
    root = tmp_path / "ws"
    assert main(["init", str(root), "--lessons", str(DATA)]) == 0
    (root / "grading" / "halve-lr.py").unlink()  # never started
    capsys.readouterr()
    return root


def test_a_missing_file_is_not_started_and_one_exercise_is_singular(workspace, capsys) -> None:
    assert main(["grade", "--lessons", str(DATA), "--workspace", str(workspace)]) == 1
    out = capsys.readouterr().out
    assert f"NOT STARTED {LR}" in out and "run `tutor init`" in out
    assert "0 passed, 1 failed, 0 errored, 1 not started (2 exercises in" in out
    assert main(["list", "--json", "--lessons", str(DATA), "--workspace", str(workspace)]) == 0
    listed = json.loads(capsys.readouterr().out)
    status = {e["id"]: e["status"] for lesson in listed["lessons"] for e in lesson["exercises"]}
    assert status == {SOFTMAX: "failed", LR: "not started"}

    assert main(["grade", SOFTMAX, "--lessons", str(DATA), "--workspace", str(workspace)]) == 1
    out = capsys.readouterr().out
    assert "0 passed, 1 failed, 0 errored (1 exercise in" in out and "not started" not in out


def test_more_than_one_exercise_on_a_terminal_shows_a_progress_bar(workspace) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tutor", "grade", "--lessons", str(DATA), "--workspace",
                             str(workspace)], stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(leader)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen.decode("utf-8", "replace"))  # colours and moves
    assert "starting the sandbox" in text and "0/2" in text  # the bar, from the start
    assert "━" in text
    assert f"NOT STARTED {LR}" in text  # verdicts are printed above the bar
    assert b"1 not started (2 exercises in" in out
