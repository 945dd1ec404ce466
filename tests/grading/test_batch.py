"""An instructor's story: a class of submissions graded in one command. One student is
right, one handed in nothing, one crashes, one left a FIFO where a file should be, one
tries to fake a pass, one loops forever: every other student is still graded correctly,
the gradebook and each student's reports are written, and a second run resumes."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.lessons import load_lessons

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
LESSONS = load_lessons([DATA])
SOFTMAX, LR = LESSONS.exercise("grading/softmax-rows"), LESSONS.exercise("grading/halve-lr")


def submit(root: Path, student: str, **files: str) -> None:
    folder = root / student / "grading"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / f"{name}.py").write_text(text)


@pytest.fixture
def submissions(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    submit(root, "alice", **{"softmax-rows": SOFTMAX.solution, "halve-lr": LR.solution})
    (root / "bob").mkdir()  # handed in nothing
    submit(root, "carol", **{"softmax-rows": "import ctypes\nctypes.string_at(0)\n", "halve-lr": LR.solution})
    submit(root, "dave", **{"halve-lr": LR.solution})
    os.mkfifo(root / "dave" / "grading" / "softmax-rows.py")  # would block a naive read forever
    submit(root, "eve", **{"softmax-rows": "print('PASSED')\nimport sys\nsys.exit(0)\n", "halve-lr": "import os\nos._exit(0)\n"})
    submit(root, "frank", **{"softmax-rows": "while True:\n    pass\n", "halve-lr": LR.solution})
    return root


def batch(root: Path, *extra: str) -> int:
    return main(["grade", "--lessons", str(DATA), "--batch", str(root), *extra])


def test_a_class_is_graded_and_no_submission_stops_the_others(submissions, tmp_path, capsys):
    gradebook = tmp_path / "book.json"
    assert batch(submissions, "--gradebook", str(gradebook)) == 1  # bob handed in nothing
    out = capsys.readouterr().out
    assert "6 students graded" in out

    students = {s["student"]: s for s in json.loads(gradebook.read_text())["students"]}
    assert list(students) == ["alice", "bob", "carol", "dave", "eve", "frank"]
    assert (students["alice"]["status"], students["alice"]["score"], students["alice"]["max_score"]) == ("graded", 5.0, 5.0)
    assert students["bob"]["status"] == "error" and students["bob"]["score"] == 0
    for name in ("carol", "dave", "frank"):
        assert students[name]["exercises"]["grading/softmax-rows"]["status"] == "error", name
        assert students[name]["exercises"]["grading/halve-lr"] == {"status": "pass", "score": 2.0, "max_score": 2.0}
    assert students["eve"]["score"] == 0.0
    assert all(e["status"] != "pass" for e in students["eve"]["exercises"].values())

    reports = Path(f"{submissions.resolve()}-reports")
    alice = json.loads((reports / "alice.json").read_text())
    assert alice["status"] == "pass" and [e["id"] for e in alice["exercises"]] == [SOFTMAX.id, LR.id]
    assert (reports / "alice.xml").read_text().startswith("<?xml")
    dave = json.loads((reports / "dave.json").read_text())
    assert "not a regular file" in dave["exercises"][0]["message"]
    assert not (submissions / "alice" / ".tutor").exists(), "grading never writes into a student's folder"


def test_a_second_run_resumes_and_regrades_only_what_is_missing(submissions, tmp_path, capsys):
    import shutil

    shutil.rmtree(submissions / "frank")  # his endless loop costs a timeout and proves nothing here
    gradebook = tmp_path / "book.csv"
    batch(submissions, "--gradebook", str(gradebook))
    capsys.readouterr()
    reports = Path(f"{submissions.resolve()}-reports")
    (reports / "carol.json").unlink()  # as if the batch had been killed while grading carol
    batch(submissions, "--gradebook", str(gradebook))
    out = capsys.readouterr().out
    assert "alice  5/5 (graded earlier)" in out
    assert "carol  2/5\n" in out or out.rstrip().endswith("carol  2/5") or "carol  2/5" in out.replace(" (graded earlier)", "X")
    assert "carol  2/5 (graded earlier)" not in out
    rows = list(csv.reader(gradebook.read_text().splitlines()))
    assert rows[0] == ["student", "score", "max_score", SOFTMAX.id, LR.id]
    assert rows[1] == ["alice", "5", "5", "3", "2"]
    assert [r[0] for r in rows[1:]] == ["alice", "bob", "carol", "dave", "eve"]


def test_a_time_budget_stops_grading_a_slow_student(submissions, tmp_path, capsys):
    gradebook = tmp_path / "book.json"
    batch(submissions, "--gradebook", str(gradebook), "--budget", "0.5")
    capsys.readouterr()
    frank = next(s for s in json.loads(gradebook.read_text())["students"] if s["student"] == "frank")
    # frank's endless loop ran out its exercise timeout, which used up his budget.
    assert frank["exercises"]["grading/halve-lr"]["status"] == "error"
    reports = json.loads(Path(f"{submissions.resolve()}-reports", "frank.json").read_text())
    assert "time budget of 0.5 s was used up" in reports["exercises"][1]["message"]


@pytest.mark.parametrize("args, words", [
    (["--batch", "/nonexistent/class"], "not a directory of student folders"),
    (["--gradebook", "book.json"], "--gradebook and --budget go with --batch DIR"),
])
def test_bad_batch_usage_is_one_line_and_exit_2(args, words, capsys):
    assert main(["grade", "--lessons", str(DATA), *args]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
