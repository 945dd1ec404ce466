"""An instructor's story: the kits for the engines that grade at scale, each run here the
way its engine would run it, on a student's files; and the learners' public copy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.lessons import load_lessons

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
LESSONS = load_lessons([DATA])
SOFTMAX, LR = LESSONS.exercise("grading/softmax-rows"), LESSONS.exercise("grading/halve-lr")
# The scripts find tutor and python3 where the engine's image would have them: on PATH.
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def export(kind: str, out: Path, *extra: str) -> None:
    assert main(["export", kind, str(out), "--lessons", str(DATA), *extra]) == 0


def test_the_public_copy_has_no_hidden_check_and_no_wrong_answer_and_still_checks(tmp_path, capsys):
    export("lessons", tmp_path / "public", "--public")
    public = load_lessons([tmp_path / "public"])
    assert [e.id for e in public.exercises()] == [e.id for e in LESSONS.exercises()]
    assert all(e.hidden_count == 0 and not e.wrong for e in public.exercises())
    assert "large inputs stay finite" not in (tmp_path / "public" / "grading-lesson.md").read_text()
    assert main(["check-lessons", str(tmp_path / "public")]) == 0  # references pass, starters fail
    capsys.readouterr()


def test_a_public_copy_graded_first_leaves_the_private_hidden_checks_intact(tmp_path, sandbox, capsys):
    """The same exercise id and reference with fewer checks must not share cached reference data."""
    from tutor.grading.grade import grade_source

    export("lessons", tmp_path / "public", "--public")
    public = load_lessons([tmp_path / "public"]).exercise(SOFTMAX.id)
    assert grade_source(public, SOFTMAX.solution, sandbox, include_hidden=True).status == "pass"
    private = grade_source(SOFTMAX, SOFTMAX.solution, sandbox, include_hidden=True)
    assert private.status == "pass", private.message
    assert "large inputs stay finite" in [c.name for c in private.checks]
    capsys.readouterr()


def test_the_gradescope_autograder_grades_a_submission_into_results_json(tmp_path, capsys):
    export("gradescope", tmp_path / "kit")
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "kit" / "autograder.zip") as archive:
        names = archive.namelist()
        archive.extractall(root / "source")
    assert {"setup.sh", "run_autograder", "tutor-src/pyproject.toml"} <= set(names)
    (root / "submission" / "grading").mkdir(parents=True)
    (root / "submission" / "grading" / "softmax-rows.py").write_text(SOFTMAX.solution)
    (root / "submission" / "grading" / "halve-lr.py").write_text(LR.starter)
    script = root / "source" / "run_autograder"
    script.chmod(0o755)
    done = subprocess.run([str(script)], env={**ENV, "AUTOGRADER_ROOT": str(root)}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    scores = {t["name"]: (t["score"], t["max_score"], t["visibility"]) for t in results["tests"]}
    assert scores == {f"{SOFTMAX.id}: a 4x5 batch": (1.0, 1.0, "visible"),
                      f"{SOFTMAX.id}: gradients flow back to X": (1.0, 1.0, "visible"),
                      f"{SOFTMAX.id}: large inputs stay finite": (1.0, 1.0, "after_due_date"),
                      f"{LR.id}: the lr table": (0.0, 1.0, "visible"), f"{LR.id}: the optimizer": (0.0, 1.0, "visible")}
    assert results["score"] == 3.0
    capsys.readouterr()


def test_a_gradescope_run_without_tutor_still_writes_results(tmp_path, capsys):
    export("gradescope", tmp_path / "kit")
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "kit" / "autograder.zip") as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    script = root / "source" / "run_autograder"
    script.chmod(0o755)
    bare = {**os.environ, "PATH": "/usr/bin:/bin", "AUTOGRADER_ROOT": str(root)}
    assert subprocess.run([str(script)], env=bare, capture_output=True, timeout=60).returncode == 0
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and "could not grade" in results["output"]
    capsys.readouterr()


def test_the_prairielearn_grader_scores_an_upload(tmp_path, capsys):
    export("prairielearn", tmp_path / "course")
    question = tmp_path / "course" / "questions" / "tutor" / "grading" / "softmax-rows"
    info = json.loads((question / "info.json").read_text())
    assert info["gradingMethod"] == "External" and info["externalGradingOptions"]["entrypoint"] == "/grade/tests/run.sh"
    grade = tmp_path / "grade"
    (grade / "student").mkdir(parents=True)
    naive = "def softmax_rows(X):\n    e = X.exp()\n    return e / e.sum(dim=1, keepdim=True)\n"
    (grade / "student" / "solution.py").write_text(naive)
    shutil.copytree(tmp_path / "course" / "serverFilesCourse", grade / "serverFilesCourse")
    done = subprocess.run([str(question / "tests" / "run.sh")], env={**ENV, "GRADE_ROOT": str(grade)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads((grade / "results" / "results.json").read_text())
    assert results["gradable"] is True
    assert results["score"] == pytest.approx(2 / 3)  # the hidden large-input check fails
    assert [(t["name"], t["points"]) for t in results["tests"]][-1] == ("large inputs stay finite", 0.0)
    capsys.readouterr()


def test_the_github_actions_workflow_grades_the_repository(tmp_path, capsys):
    repo = tmp_path / "student-repo"
    export("github-actions", repo)
    assert "run: .grading/grade.sh" in (repo / ".github" / "workflows" / "tutor.yml").read_text()
    (repo / "grading").mkdir()
    (repo / "grading" / "softmax-rows.py").write_text(SOFTMAX.solution)
    (repo / "grading" / "halve-lr.py").write_text(LR.starter)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    done = subprocess.run([str(repo / ".grading" / "grade.sh")], env={**ENV, "GITHUB_STEP_SUMMARY": str(summary)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr  # a failed check fails the job, as tutor grade does
    assert "1 passed, 1 failed, 0 errored" in done.stdout
    lines = summary.read_text().splitlines()
    assert lines[0] == "earlier step", "the summary is appended to, never overwritten"
    table = [line for line in lines if line.startswith("|")]
    assert table == ["| Exercise | Score | Status |", "| --- | ---: | --- |",
                     f"| {SOFTMAX.id} | 3/3 | ✅ pass |", f"| {LR.id} | 0/2 | ❌ fail |"]
    assert "**3 of 5 points**; 1 of 2 exercises passed." in lines
    assert (repo / ".grading" / "report" / "junit.xml").exists()
    assert json.loads((repo / ".grading" / "report" / "report.json").read_text())["score"] == 3.0
    capsys.readouterr()


def test_the_github_actions_summary_says_when_there_is_no_report(tmp_path, capsys):
    from tutor.export.github_actions import main as summarise

    (tmp_path / "broken.json").write_text("{not json")
    for path in (tmp_path / "missing.json", tmp_path / "broken.json"):
        assert summarise([str(path)]) == 0
        assert "could not grade this push" in capsys.readouterr().out


def test_export_refuses_bad_usage(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert main(["export", "gradescope", str(tmp_path / "file"), "--lessons", str(DATA)]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert main(["export", "gradescope", str(tmp_path / "out"), "--public", "--lessons", str(DATA)]) == 2
    assert "--public goes with" in capsys.readouterr().err
