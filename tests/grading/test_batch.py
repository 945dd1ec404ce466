"""An instructor's story: a class of submissions graded in one command. One student is
right, one handed in nothing, one crashes, one left a FIFO where a file should be, one
tries to fake a pass, one loops forever (and times out), one earns partial credit: every
other student is still graded correctly, the gradebook and each student's reports are
written, a second run resumes, and the Gradescope and PrairieLearn kits give two of them
the same scores when run as their engines would."""

from __future__ import annotations

import csv
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
# Right on ordinary inputs, overflows on the hidden check's large ones: 2 of softmax's 3 points.
NAIVE_SOFTMAX = "def softmax_rows(X):\n    e = X.exp()\n    return e / e.sum(dim=1, keepdim=True)\n"
# What each student of the class scores: (softmax-rows, halve-lr), of (3, 2).
SCORES = {"alice": (3.0, 2.0), "bob": (0.0, 0.0), "carol": (0.0, 2.0), "dave": (0.0, 2.0), "eve": (0.0, 0.0),
          "frank": (0.0, 2.0), "grace": (2.0, 2.0), "mallory": (0.0, 2.0), "trudy": (0.0, 2.0)}
# Writes its own result frame, 100,000 levels deep, straight to the runner's result pipe.
FORGED_FRAME = r'''
import os, sys
frame = sys._getframe()
while frame is not None and not ("job" in frame.f_locals and "result_fd" in frame.f_locals):
    frame = frame.f_back
job, fd = frame.f_locals["job"], frame.f_locals["result_fd"]
body = b'{"nonce": "' + job.nonce.encode() + b'", "status": "ok", "data": ' + b"[" * 100000 + b"]" * 100000 + b"}"
data = b"TUT1" + len(body).to_bytes(4, "big") + body
while data:
    data = data[os.write(fd, data):]
os._exit(0)
'''
# Reads the instructor's private lessons (hidden checks, references) from where they lie.
READ_LESSONS = f"print(open({str(DATA / 'grading-lesson.md')!r}).read())\n"
# The kits' scripts find python where the engine's image would have it: TUTOR_PYTHON
# stands for the kit's venv.
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "TUTOR_PYTHON": sys.executable}


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
    submit(root, "frank", **{"softmax-rows": "while True:\n    pass\n", "halve-lr": LR.solution})  # times out
    submit(root, "grace", **{"softmax-rows": NAIVE_SOFTMAX, "halve-lr": LR.solution})  # partial credit
    submit(root, "mallory", **{"softmax-rows": FORGED_FRAME, "halve-lr": LR.solution})  # a forged, hostile frame
    submit(root, "trudy", **{"softmax-rows": READ_LESSONS, "halve-lr": LR.solution})  # reads what it must not
    return root


def batch(root: Path, *extra: str) -> int:
    return main(["grade", "--lessons", str(DATA), "--batch", str(root), *extra])


def test_a_class_is_graded_and_no_submission_stops_the_others(submissions, tmp_path, capsys, batch_on_shared_sandbox):
    gradebook = tmp_path / "book.json"
    assert batch(submissions, "--gradebook", str(gradebook)) == 1  # bob handed in nothing
    out = capsys.readouterr().out
    assert "9 students graded" in out

    students = {s["student"]: s for s in json.loads(gradebook.read_text())["students"]}
    assert list(students) == list(SCORES)
    assert {name: (s["exercises"][SOFTMAX.id]["score"], s["exercises"][LR.id]["score"]) for name, s in students.items()} == SCORES
    assert {name: (s["score"], s["max_score"]) for name, s in students.items()} == {
        name: (sum(scores), 5.0) for name, scores in SCORES.items()}
    assert [name for name, s in students.items() if s["status"] == "error"] == ["bob"]
    trudy = json.loads(Path(f"{submissions.resolve()}-reports", "trudy.json").read_text())
    assert "FileNotFoundError" in trudy["exercises"][0]["message"]  # the private lessons are not in her view
    for name in ("carol", "dave", "frank", "mallory"):
        assert students[name]["exercises"][SOFTMAX.id]["status"] == "error", name
        assert students[name]["exercises"][LR.id] == {"status": "pass", "score": 2.0, "max_score": 2.0}
    assert all(e["status"] != "pass" for e in students["eve"]["exercises"].values())
    assert students["grace"]["exercises"][SOFTMAX.id] == {"status": "fail", "score": 2.0, "max_score": 3.0}

    reports = Path(f"{submissions.resolve()}-reports")
    alice = json.loads((reports / "alice.json").read_text())
    assert alice["status"] == "pass" and [e["id"] for e in alice["exercises"]] == [SOFTMAX.id, LR.id]
    assert (reports / "alice.xml").read_text().startswith("<?xml")
    dave = json.loads((reports / "dave.json").read_text())
    assert "not a regular file" in dave["exercises"][0]["message"]
    frank = json.loads((reports / "frank.json").read_text())
    assert "timed out" in frank["exercises"][0]["message"]
    assert not (submissions / "alice" / ".tutor").exists(), "grading never writes into a student's folder"


def test_a_second_run_resumes_and_regrades_only_what_is_missing(submissions, tmp_path, capsys, batch_on_shared_sandbox):
    import shutil

    for slow in ("frank", "mallory", "trudy"):  # their attacks are the first test's; here they cost time
        shutil.rmtree(submissions / slow)
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
    rows = list(csv.reader(gradebook.read_text(encoding="utf-8-sig").splitlines()))
    # DESIGN.md's columns first; what is added comes after them.
    assert rows[0][:5] == ["student", "score", "max_score", SOFTMAX.id, LR.id]
    assert rows[1][:5] == ["alice", "5", "5", "3", "2"]
    assert [r[0] for r in rows[1:]] == ["alice", "bob", "carol", "dave", "eve", "grace"]
    assert rows[-1][:5] == ["grace", "4", "5", "2", "2"]


@pytest.mark.parametrize("args, words", [
    (["--batch", "/nonexistent/class"], "not a directory of student folders"),
    (["--gradebook", "book.json"], "go with --batch DIR"),
    (["--roster", "class.csv"], "go with --batch DIR"),
])
def test_bad_batch_usage_is_one_line_and_exit_2(args, words, capsys):
    assert main(["grade", "--lessons", str(DATA), *args]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_the_gradescope_and_prairielearn_kits_score_two_students_of_the_class_alike(submissions, tmp_path, capsys):
    """The perfect and the partial student, graded by each kit's own script, as the engine runs it."""
    assert main(["export", "gradescope", str(tmp_path / "gs-kit"), "--lessons", str(DATA)]) == 0
    assert main(["export", "prairielearn", str(tmp_path / "pl-course"), "--lessons", str(DATA)]) == 0
    capsys.readouterr()
    question = tmp_path / "pl-course" / "questions" / "tutor" / "grading" / "softmax-rows"
    for student, visibility in (("alice", None), ("grace", "after_published")):
        # Gradescope: the zip unpacked in /autograder/source, the student's files in /autograder/submission.
        root = tmp_path / "autograder" / student
        with zipfile.ZipFile(tmp_path / "gs-kit" / "autograder.zip") as archive:
            archive.extractall(root / "source")
        shutil.copytree(submissions / student, root / "submission")
        (root / "source" / "run_autograder").chmod(0o755)
        env = {**ENV, "AUTOGRADER_ROOT": str(root), **({"TUTOR_HIDDEN_VISIBILITY": visibility} if visibility else {})}
        done = subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        results = json.loads((root / "results" / "results.json").read_text())
        assert results["score"] == sum(SCORES[student]), student
        by_test = {t["name"]: (t["score"], t["visibility"]) for t in results["tests"]}
        hidden_score = 1.0 if student == "alice" else 0.0
        assert by_test[f"{SOFTMAX.id}: hidden check 1"] == (hidden_score, visibility or "after_due_date")
        assert sum(score for score, _ in by_test.values()) == sum(SCORES[student])

        # PrairieLearn: the upload in /grade/student, the course's server files in /grade/serverFilesCourse.
        grade = tmp_path / "grade" / student
        (grade / "student").mkdir(parents=True)
        shutil.copy(submissions / student / "grading" / "softmax-rows.py", grade / "student" / "solution.py")
        shutil.copytree(tmp_path / "pl-course" / "serverFilesCourse", grade / "serverFilesCourse")
        shutil.copytree(question / "tests", grade / "tests")  # the question's tests folder, as PrairieLearn mounts it
        done = subprocess.run([str(grade / "tests" / "run.sh")], env={**ENV, "GRADE_ROOT": str(grade)},
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        results = json.loads((grade / "results" / "results.json").read_text())
        assert results["gradable"] is True
        assert results["score"] == pytest.approx(SCORES[student][0] / 3), student
        assert sum(t["points"] for t in results["tests"]) == SCORES[student][0]
