"""An instructor's story: partial credit. A check carries `points` (default 1); an
exercise scores the points of the checks it passes; reports carry score and max score per
check, per exercise and in total; a broken rule scores nothing; the learner's local view
counts hidden points without pretending they were earned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.grading.grade import grade_source
from tutor.lessons import load_lessons, parse_lesson_text

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
SOFTMAX = load_lessons([DATA]).exercise("grading/softmax-rows")
# Right on ordinary inputs, overflows on the hidden check's large ones.
NAIVE = "def softmax_rows(X):\n    e = X.exp()\n    return e / e.sum(dim=1, keepdim=True)\n"
BANNED = "def softmax_rows(X):\n    return torch.softmax(X, dim=1)\n"


def test_the_instructor_sees_two_of_three_points_for_a_naive_softmax(tmp_path, capsys):
    root = tmp_path / "ws"
    assert main(["init", str(root), "--lessons", str(DATA)]) == 0
    (root / "grading" / "softmax-rows.py").write_text(NAIVE)
    report = tmp_path / "r.json"
    gradescope = tmp_path / "gs.json"
    assert main(["grade", "--lessons", str(DATA), "--workspace", str(root), "grading/softmax-rows",
                 "--json", str(report), "--gradescope", str(gradescope)]) == 1
    capsys.readouterr()
    [exercise] = json.loads(report.read_text())["exercises"]
    assert (exercise["score"], exercise["max_score"]) == (2.0, 3.0)
    by_name = {c["name"]: (c["status"], c["score"], c["max_score"]) for c in exercise["checks"]}
    assert by_name["large inputs stay finite"] == ("fail", 0.0, 1.0)
    assert by_name["a 4x5 batch"] == ("pass", 1.0, 1.0)
    payload = json.loads(report.read_text())
    assert (payload["score"], payload["max_score"]) == (2.0, 3.0)
    tests = json.loads(gradescope.read_text())["tests"]
    assert [(t["name"], t["score"], t["max_score"], t["visibility"]) for t in tests] == [
        (f"{SOFTMAX.id}: a 4x5 batch", 1.0, 1.0, "visible"), (f"{SOFTMAX.id}: gradients flow back to X", 1.0, 1.0, "visible"),
        (f"{SOFTMAX.id}: large inputs stay finite", 0.0, 1.0, "after_due_date")]
    assert all("large inputs" not in t["output"] for t in tests if t["visibility"] == "visible")


def test_locally_hidden_points_are_counted_never_earned(sandbox):
    report = grade_source(SOFTMAX, NAIVE, sandbox, include_hidden=False)
    assert report.status == "pass"  # every visible check passes
    assert (report.score, report.max_score) == (2.0, 3.0)
    hidden = [c for c in report.checks if c.status == "hidden"]
    assert [(c.score, c.max_score) for c in hidden] == [(0.0, 1.0)]


def test_a_broken_rule_scores_nothing(sandbox):
    report = grade_source(SOFTMAX, BANNED, sandbox, include_hidden=True)
    assert report.status == "fail"
    assert report.score == 0.0 and report.max_score == 3.0


def test_points_weigh_checks():
    text = (
        '+++\nid = "p"\ntitle = "P"\norder = 1\ntopics = ["norms"]\n+++\n\n'
        "## Exercise: F {#f}\n\nWrite `f`.\n\n"
        "```python starter\ndef f(x):\n    return x\n```\n\n```python solution\ndef f(x):\n    return x + 1\n```\n\n"
        "```hint\nAdd one.\n```\n\n"
        '```toml checks\n[[check]]\nname = "a"\nexpr = "f(1)"\npoints = 2.5\n\n'
        '[[check]]\nname = "b"\nexpr = "f(2)"\nhidden = true\npoints = 4\n```\n'
    )
    [exercise] = parse_lesson_text(text, Path("p.md")).exercises
    assert [c.points for c in exercise.checks] == [2.5, 4.0]
    assert (exercise.points, exercise.hidden_points) == (6.5, 4.0)
