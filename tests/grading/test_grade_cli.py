"""An instructor's story: `tutor grade` on a class workspace, headless, with reports."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tutor.cli import main

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
SOFTMAX = "grading/softmax-rows"
LR = "grading/halve-lr"
RIGHT_SOFTMAX = """
def softmax_rows(X):
    e = (X - X.max(dim=1, keepdim=True).values).exp()
    return e / e.sum(dim=1, keepdim=True)
"""


@pytest.fixture
def workspace(tmp_path, capsys):
    root = tmp_path / "ws"
    assert main(["init", str(root), "--lessons", str(DATA)]) == 0
    capsys.readouterr()
    return root


def solution_file(root: Path, exercise_id: str) -> Path:
    lesson, name = exercise_id.split("/")
    return root / lesson / f"{name}.py"


def grade(*args: str) -> int:
    return main(["grade", "--lessons", str(DATA), *args])


def test_starters_fail_and_the_reports_say_so(workspace, tmp_path, capsys):
    report, junit, gradescope = tmp_path / "r.json", tmp_path / "junit.xml", tmp_path / "gs.json"
    code = grade("--workspace", str(workspace), "--json", str(report), "--junit", str(junit), "--gradescope", str(gradescope))
    assert code == 1
    out = capsys.readouterr().out
    assert "0 passed, 2 failed, 0 errored" in out

    payload = json.loads(report.read_text())
    assert payload["version"] == 1 and payload["status"] == "fail"
    assert payload["summary"] == {"passed": 0, "failed": 2, "errored": 0}
    assert [e["id"] for e in payload["exercises"]] == [SOFTMAX, LR]
    for exercise in payload["exercises"]:
        assert set(exercise) == {"id", "status", "message", "output", "score", "max_score", "seeds", "checks"}
        assert exercise["status"] == "fail"
        for check in exercise["checks"]:
            assert {"name", "status", "expected", "got"} <= set(check)
    hidden = [c for c in payload["exercises"][0]["checks"] if c["name"] == "large inputs stay finite"]
    assert hidden, "tutor grade runs hidden checks"

    suite = ET.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["softmax-rows", "halve-lr"]
    failure = cases[0].find("failure")
    assert failure is not None and "checks failed" in failure.get("message")
    assert suite.get("failures") == "2"

    gs = json.loads(gradescope.read_text())
    assert gs["score"] == 0.0
    # One test per check, hidden ones included.
    assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in gs["tests"]] == [
        (f"{SOFTMAX}: a 4x5 batch", 0.0, 1.0, "failed"), (f"{SOFTMAX}: gradients flow back to X", 0.0, 1.0, "failed"),
        (f"{SOFTMAX}: large inputs stay finite", 0.0, 1.0, "failed"),
        (f"{LR}: the lr table", 0.0, 1.0, "failed"), (f"{LR}: the optimizer", 0.0, 1.0, "failed")]
    # Students see a hidden check's name, message and values only after the due date.
    [hidden_test] = [t for t in gs["tests"] if t["visibility"] != "visible"]
    assert hidden_test["name"] == f"{SOFTMAX}: large inputs stay finite" and hidden_test["visibility"] == "after_due_date"
    hidden_check = next(c for c in payload["exercises"][0]["checks"] if c["hidden"])
    for test in gs["tests"]:
        assert test["output"]
        if test is not hidden_test:
            assert "large inputs" not in test["name"] + test["output"] and hidden_check["message"] not in test["output"]


def test_the_hidden_checks_visibility_on_gradescope_is_the_instructors(workspace, tmp_path, capsys):
    gradescope = tmp_path / "gs.json"
    grade("--workspace", str(workspace), SOFTMAX, "--gradescope", str(gradescope), "--gradescope-hidden-visibility", "hidden")
    visibility = {t["name"]: t["visibility"] for t in json.loads(gradescope.read_text())["tests"]}
    assert visibility == {f"{SOFTMAX}: a 4x5 batch": "visible", f"{SOFTMAX}: gradients flow back to X": "visible",
                          f"{SOFTMAX}: large inputs stay finite": "hidden"}
    assert grade("--workspace", str(workspace), SOFTMAX, "--gradescope-hidden-visibility", "hidden") == 2
    assert "goes with --gradescope FILE" in capsys.readouterr().err


def test_a_crash_in_one_solution_still_grades_the_others(workspace, tmp_path, capsys):
    solution_file(workspace, SOFTMAX).write_text(RIGHT_SOFTMAX)
    solution_file(workspace, LR).write_text("import ctypes\nctypes.string_at(0)\n")  # segfault
    report = tmp_path / "r.json"
    assert grade("--workspace", str(workspace), "--json", str(report)) == 1
    payload = json.loads(report.read_text())
    statuses = {e["id"]: e["status"] for e in payload["exercises"]}
    assert statuses == {SOFTMAX: "pass", LR: "error"}
    assert payload["summary"] == {"passed": 1, "failed": 0, "errored": 1}
    capsys.readouterr()
    assert main(["list", "--json", "--lessons", str(DATA), "--workspace", str(workspace)]) == 0
    listed = json.loads(capsys.readouterr().out)
    status = {e["id"]: e["status"] for l in listed["lessons"] for e in l["exercises"]}
    assert status[SOFTMAX] == "passed" and status[LR] == "failed"


def test_grading_one_id_that_passes_exits_zero(workspace, capsys):
    solution_file(workspace, SOFTMAX).write_text(RIGHT_SOFTMAX)
    assert grade("--workspace", str(workspace), SOFTMAX) == 0
    assert "1 passed, 0 failed, 0 errored" in capsys.readouterr().out


def test_a_lesson_id_grades_every_exercise_of_the_lesson(workspace, capsys):
    solution_file(workspace, SOFTMAX).write_text(RIGHT_SOFTMAX)
    assert grade("--workspace", str(workspace), "grading") == 1  # the other one is still its starter
    out = capsys.readouterr().out
    assert "1 passed, 1 failed, 0 errored (2 exercises" in out
    assert f"PASS  {SOFTMAX}" in out and f"FAIL  {LR}" in out


@pytest.mark.parametrize("args, message", [
    (["grading/softmax-row"], "did you mean grading/softmax-rows"),
    (["nothing-like-it"], "unknown exercise 'nothing-like-it'"),
])
def test_unknown_ids_are_bad_input(workspace, capsys, args, message):
    assert grade("--workspace", str(workspace), *args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_missing_workspace_is_bad_input(tmp_path, capsys):
    assert grade("--workspace", str(tmp_path / "nope")) == 2
    assert "no workspace here" in capsys.readouterr().err


def _processes_marked(marker: bytes) -> set[int]:
    """Processes whose environment carries ``marker``: the fronts this test started and
    everything they spawned (sandbox servers and their children inherit the environment).
    Matching on the command line instead would also count other test runs on this machine."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if marker in environ.split(b"\0"):
                found.add(int(entry.name))
    return found


def test_sigkill_at_random_moments_never_loses_a_solution_or_progress(workspace):
    solution_file(workspace, SOFTMAX).write_text(RIGHT_SOFTMAX)
    before = {p: p.read_bytes() for p in workspace.rglob("*.py")}
    token = f"sigkill-{os.getpid()}-{time.monotonic_ns()}"
    marker = f"TUTOR_TEST_RUN={token}".encode()
    rng = random.Random(1234)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TUTOR_TEST_RUN": token}
    for _ in range(50):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tutor", "grade", "--lessons", str(DATA), "--workspace", str(workspace)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )
        time.sleep(rng.uniform(0.0, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        progress = workspace / ".tutor" / "progress.json"
        if progress.exists():
            json.loads(progress.read_text())
    after = {p: p.read_bytes() for p in workspace.rglob("*.py")}
    assert after == before
    # Orphans are reparented away from us, so there is no exit to wait on: poll.
    deadline = time.monotonic() + 10
    while _processes_marked(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _processes_marked(marker), "a sandbox server outlived its killed front"


def test_each_run_draws_its_seeds_and_a_seed_grades_again_alike(workspace, tmp_path, capsys):
    """A table of answers keyed by the lesson's own seeds must not pass `tutor grade`: the
    run draws its seeds, says which, and `--seed` reproduces them."""
    first, second, again = tmp_path / "1.json", tmp_path / "2.json", tmp_path / "3.json"
    grade("--workspace", str(workspace), SOFTMAX, "--json", str(first))
    grade("--workspace", str(workspace), SOFTMAX, "--json", str(second))
    one, two = json.loads(first.read_text()), json.loads(second.read_text())
    assert one["seed"] != two["seed"]
    [ex1], [ex2] = one["exercises"], two["exercises"]
    assert ex1["seeds"] != ex2["seeds"] and ex1["seeds"] != [0, 1, 2]
    grade("--workspace", str(workspace), SOFTMAX, "--json", str(again), "--seed", str(one["seed"]))
    assert json.loads(again.read_text())["exercises"][0]["seeds"] == ex1["seeds"]
    assert f"--seed {one['seed']}" in capsys.readouterr().out


def test_a_fifo_or_a_link_to_dev_zero_as_a_solution_is_that_exercise_s_error(workspace, tmp_path, capsys):
    """Neither blocks `tutor grade` nor fills its memory: each is reported by name."""
    softmax, lr = solution_file(workspace, SOFTMAX), solution_file(workspace, LR)
    softmax.unlink()
    os.mkfifo(softmax)
    lr.unlink()
    lr.symlink_to("/dev/zero")
    report = tmp_path / "r.json"
    assert grade("--workspace", str(workspace), "--json", str(report)) == 1
    messages = {e["id"]: e["message"] for e in json.loads(report.read_text())["exercises"]}
    assert messages[SOFTMAX].endswith("not a regular file") and messages[LR].endswith("not a regular file")
    capsys.readouterr()
