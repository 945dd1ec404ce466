"""The kits where the engines run them: Gradescope's ``run_autograder`` and PrairieLearn's
entry point inside a container started as those engines start theirs (root, Docker's
default capabilities and seccomp profile, no mount namespaces: ``docker-like``). There a
perfect hand-in once scored 0 (every run failed on ``capset``); now it scores full marks,
a wrong one fails, and student code cannot read the lessons.

Skipped, with the reason, where that tool or podman is not installed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.lessons import load_lessons

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
LESSONS = load_lessons([DATA])
SOFTMAX, LR = LESSONS.exercise("grading/softmax-rows"), LESSONS.exercise("grading/halve-lr")
NAIVE = "def softmax_rows(X):\n    e = X.exp()\n    return e / e.sum(dim=1, keepdim=True)\n"
# Reads the kits' lessons from inside a submission to an exercise without a no-loops rule,
# as a cheating student would, and says what it saw in its error.
PEEK = """import os
try:
    found = os.listdir("{lessons}")
except OSError:
    found = []
raise RuntimeError(f"lessons seen: {{found}}")
"""


def _container_missing() -> str | None:
    sys.path.insert(0, str(REPO / "tests" / "sandbox"))
    try:
        from test_sandbox_in_a_container import _container_missing as missing
    finally:
        sys.path.pop(0)
    return missing()


@pytest.fixture(scope="module")
def kits() -> Iterator[Path]:
    """Both kits, unpacked the way the engines lay them out, under /tmp (the container
    shares it), with the hand-ins of three submissions."""
    reason = _container_missing()
    if reason:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="tutor-kits-"))
    root.chmod(0o755)
    assert main(["export", "gradescope", str(root / "gs-kit"), "--lessons", str(DATA)]) == 0
    assert main(["export", "prairielearn", str(root / "pl-kit"), "--lessons", str(DATA)]) == 0
    with zipfile.ZipFile(root / "gs-kit" / "autograder.zip") as archive:
        archive.extractall(root / "autograder" / "source")
    (root / "autograder" / "source" / "run_autograder").chmod(0o755)
    for exercise in ("softmax-rows", "halve-lr"):  # /grade as PrairieLearn mounts it, per question
        question = root / "pl-kit" / "questions" / "tutor" / "grading" / exercise
        shutil.copytree(root / "pl-kit" / "serverFilesCourse", root / f"grade-{exercise}" / "serverFilesCourse")
        shutil.copytree(question / "tests", root / f"grade-{exercise}" / "tests")
    # Each engine's own copy of the lessons: Gradescope's kit, PrairieLearn's course files.
    peeks = {"peek": PEEK.format(lessons=root / "autograder" / "source" / "lessons"),
             "peek-pl": PEEK.format(lessons=root / "grade-halve-lr" / "serverFilesCourse" / "tutor" / "lessons")}
    for name, softmax, lr in (("perfect", SOFTMAX.solution, LR.solution), ("wrong", NAIVE, LR.starter),
                              ("peek", NAIVE, peeks["peek"]), ("peek-pl", NAIVE, peeks["peek-pl"])):
        (root / "handins" / name).mkdir(parents=True)
        (root / "handins" / name / "softmax-rows.py").write_text(softmax)
        (root / "handins" / name / "halve-lr.py").write_text(lr)
    yield root
    shutil.rmtree(root)


GRADE_ALL = """
set -u
for who in perfect wrong peek; do
    rm -rf "$K/autograder/submission" "$K/autograder/results"
    cp -R "$K/handins/$who" "$K/autograder/submission"
    AUTOGRADER_ROOT="$K/autograder" "$K/autograder/source/run_autograder" > "$K/gs-$who.log" 2>&1
    cp "$K/autograder/results/results.json" "$K/gs-$who.json"
    exercise=softmax-rows
    [ "$who" = peek ] && { who=peek-pl; exercise=halve-lr; }
    G="$K/grade-$exercise"
    rm -rf "$G/student" "$G/results"
    mkdir -p "$G/student"
    cp "$K/handins/$who/$exercise.py" "$G/student/solution.py"
    GRADE_ROOT="$G" "$G/tests/run.sh" > "$K/pl-$who.log" 2>&1
    cp "$G/results/results.json" "$K/pl-$who.json"
done
tutor run --json "$K/handins/perfect/halve-lr.py" > "$K/isolation.json"
echo '{}'
"""


def test_in_a_grader_s_container_the_kits_give_full_marks_fail_a_wrong_answer_and_hide_the_lessons(kits: Path) -> None:
    # The kits' venv is this one; the lessons that ship with tutor are a missing folder
    # (a kit's image installs none), so only the kit's own lessons need hiding.
    env = (f"export K={kits} TUTOR_PYTHON={sys.executable} TUTOR_LESSONS={kits}/no-shipped-lessons "
           f"PATH={Path(sys.executable).parent}:$PATH\n")
    done = subprocess.run([str(REPO.parent / "shared" / "tools" / "docker-like"), "bash", "-c", env + GRADE_ALL],
                          capture_output=True, text=True, timeout=600, check=False, cwd=REPO)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    gradescope = {who: json.loads((kits / f"gs-{who}.json").read_text()) for who in ("perfect", "wrong", "peek")}
    prairielearn = {who: json.loads((kits / f"pl-{who}.json").read_text()) for who in ("perfect", "wrong", "peek-pl")}

    assert gradescope["perfect"]["score"] == 5.0, (kits / "gs-perfect.log").read_text()
    assert all(t["status"] == "passed" for t in gradescope["perfect"]["tests"])
    assert prairielearn["perfect"]["gradable"] is True and prairielearn["perfect"]["score"] == 1.0
    # The naive softmax overflows on the hidden check's large inputs; halve-lr is the starter.
    assert gradescope["wrong"]["score"] == 2.0
    assert prairielearn["wrong"]["score"] == pytest.approx(2 / 3)
    # A submission that looks for the lessons finds none, under either engine.
    seen = json.dumps(gradescope["peek"]) + json.dumps(prairielearn["peek-pl"])
    assert "lessons seen: []" in json.dumps(gradescope["peek"]), json.dumps(gradescope["peek"], indent=1)
    assert "lessons seen: []" in json.dumps(prairielearn["peek-pl"]), json.dumps(prairielearn["peek-pl"], indent=1)
    assert "grading-lesson.md" not in seen
    run = json.loads((kits / "isolation.json").read_text())
    assert {"uid", "seccomp", "no_new_privs"} <= set(run["isolation"]) and "mountns" not in run["isolation"]
