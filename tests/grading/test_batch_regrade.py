"""An instructor's story: grades that hold up when asked about. A seed reproduces the whole
class; a resumed run keeps the class's seed; a resubmission is graded again on resume
while everyone else is kept; ``--regrade`` grades everyone again; and a time budget that
runs out leaves exercises "not graded" for the next run instead of saving a 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.lessons import load_lessons

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
LESSONS = load_lessons([DATA])
SOFTMAX, LR = LESSONS.exercise("grading/softmax-rows"), LESSONS.exercise("grading/halve-lr")
# Right only where the first input is positive: its score depends on the seed's inputs.
COIN = ("def softmax_rows(X):\n    e = (X - X.max(dim=1, keepdim=True).values).exp()\n"
        "    return e / e.sum(dim=1, keepdim=True) if X.flatten()[0] > 0 else X\n")
# Right, but slow to start: it spends a time budget on its first exercise.
SLOW = "import time\ntime.sleep(0.5)\n" + LR.solution


def hand_in(root: Path, student: str, softmax: str, lr: str = LR.solution) -> None:
    folder = root / student / "grading"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "softmax-rows.py").write_text(softmax)
    (folder / "halve-lr.py").write_text(lr)


@pytest.fixture
def klass(tmp_path):
    root = tmp_path / "class"
    hand_in(root, "alice", SOFTMAX.solution)
    hand_in(root, "bob", "def softmax_rows(X):\n    return X\n")
    hand_in(root, "coin", COIN)
    return root


def grade(root: Path, book: Path, *extra: str) -> dict:
    main(["grade", "--lessons", str(DATA), "--batch", str(root), "--gradebook", str(book), *extra])
    return json.loads(book.read_text())


def test_a_seed_reproduces_the_class_and_a_resumed_run_keeps_the_class_seed(klass, tmp_path, capsys, batch_on_shared_sandbox):
    first = grade(klass, tmp_path / "one.json", "--seed", "3")
    again = grade(klass, tmp_path / "two.json", "--seed", "3", "--regrade")
    out = capsys.readouterr().out
    assert "graded earlier" not in out.split("seed 3;")[1]  # --regrade graded everyone again
    assert (tmp_path / "one.json").read_bytes() == (tmp_path / "two.json").read_bytes()
    assert (first["seed"], first["version"]) == (3, 1) and first["lessons_hash"] and first["tutor_version"]
    assert again["students"] == first["students"]

    # No --seed: the run goes on with the seed the class was graded with, and every
    # report says which seed, lessons and version made it.
    resumed = grade(klass, tmp_path / "three.json", "--regrade")
    assert resumed["seed"] == 3 and resumed["students"] == first["students"]
    report = json.loads(Path(f"{klass.resolve()}-reports", "coin.json").read_text())
    assert (report["seed"], report["lessons_hash"], report["tutor_version"]) == (3, first["lessons_hash"], first["tutor_version"])
    assert len(report["grading_key"]) == 64


def test_a_resubmission_is_graded_again_on_resume_and_the_rest_is_kept(klass, tmp_path, capsys, batch_on_shared_sandbox):
    book = tmp_path / "book.json"
    first = {s["student"]: s["score"] for s in grade(klass, book, "--seed", "5")["students"]}
    assert first["bob"] == 2.0
    capsys.readouterr()
    hand_in(klass, "bob", SOFTMAX.solution)  # bob hands in again, after the first run
    second = {s["student"]: s["score"] for s in grade(klass, book)["students"]}
    out = capsys.readouterr().out
    assert second == {**first, "bob": 5.0}
    assert "alice  5/5 (graded earlier)" in out and "bob  5/5\n" in out


def test_a_spent_budget_leaves_the_rest_not_graded_for_the_next_run(tmp_path, capsys, batch_on_shared_sandbox):
    root = tmp_path / "class"
    hand_in(root, "sam", SOFTMAX.solution, lr=SLOW)
    book = tmp_path / "book.json"
    command = ["grade", LR.id, SOFTMAX.id, "--lessons", str(DATA), "--batch", str(root), "--gradebook", str(book), "--budget", "0.2"]
    assert main(command) == 1
    sam = json.loads(book.read_text())["students"][0]
    assert sam["status"] == "incomplete" and "run again" in sam["message"]
    assert sam["exercises"][LR.id] == {"status": "pass", "score": 2.0, "max_score": 2.0}
    assert sam["exercises"][SOFTMAX.id] == {"status": "not_graded", "score": 0.0, "max_score": 3.0}
    report = json.loads(Path(f"{root.resolve()}-reports", "sam.json").read_text())
    assert "time budget of 0.2 s was used up" in report["exercises"][1]["message"]
    assert "run the same command again" in capsys.readouterr().err

    # The next run grades only what was left (halve-lr would spend the budget again).
    assert main(command) == 0
    sam = json.loads(book.read_text())["students"][0]
    assert (sam["status"], sam["score"]) == ("graded", 5.0)
    assert sam["exercises"][SOFTMAX.id]["status"] == "pass"
