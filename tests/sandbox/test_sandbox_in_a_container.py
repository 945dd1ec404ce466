"""``tutor run`` and ``tutor grade`` inside a container started as hosted graders start
theirs: root, Docker's default capabilities and seccomp profile, no mount namespaces
(``docker-like``, from the shared tools beside the checkout; podman underneath).

Skipped, with the reason, where that tool or podman is not installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor.lessons import load_lessons

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DOCKER_LIKE = Path(os.environ.get("TUTOR_DOCKER_LIKE", REPO.parent / "shared" / "tools" / "docker-like"))
LESSON = REPO / "lessons" / "01-tensor-attributes.md"
EXERCISE = "tensor-attributes/describe"


def _container_missing() -> str | None:
    if not DOCKER_LIKE.is_file():
        return f"no {DOCKER_LIKE}"
    if os.geteuid() != 0:
        return "podman here runs containers as root"
    missing = [tool for tool in ("podman", "runc") if shutil.which(tool) is None]
    return f"not installed: {', '.join(missing)}" if missing else None


@pytest.fixture(scope="module")
def course() -> Iterator[Path]:
    """A course of one lesson, a workspace with a right and a wrong answer, and a hello
    script, under /tmp (which the container shares)."""
    reason = _container_missing()
    if reason:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="tutor-container-"))
    root.chmod(0o755)
    (root / "lessons").mkdir()
    shutil.copy(LESSON, root / "lessons")
    exercise = next(e for e in load_lessons([root / "lessons"]).exercises() if e.id == EXERCISE)
    for name, code in (("right", exercise.solution), ("wrong", exercise.starter)):
        folder = root / name / EXERCISE.split("/")[0]
        folder.mkdir(parents=True)
        (folder / "describe.py").write_text(code)
    (root / "hello.py").write_text("import os\nprint('hello from uid', os.getuid() != 0)\n")
    yield root
    shutil.rmtree(root)


def in_container(course: Path, script: str) -> dict[str, object]:
    """Run ``script`` (bash) in one container; it prints one JSON object last."""
    env = f"export TUTOR_LESSONS={course}/lessons PATH={Path(sys.executable).parent}:$PATH\n"
    done = subprocess.run([str(DOCKER_LIKE), "bash", "-c", env + script], capture_output=True, text=True,
                          timeout=300, check=False, cwd=REPO)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


GRADE_ALL = """
tutor run --json "$C/hello.py" > "$C/run.json"; run=$?
tutor grade --workspace "$C/right" --json "$C/right.json" > "$C/right.out" 2>&1; right=$?
tutor grade --workspace "$C/wrong" --json "$C/wrong.json" > "$C/wrong.out" 2>&1; wrong=$?
chmod 755 "$C"
tutor grade --workspace "$C/right" > "$C/open.out" 2>&1; open=$?
printf '{"run": %s, "right": %s, "wrong": %s, "open": %s}\\n' $run $right $wrong $open
"""


def test_a_grader_s_container_runs_code_grades_and_refuses_open_lessons(course: Path) -> None:
    """In a hosted grader's container, every run used to fail (``capset: Operation not
    permitted``) and a perfect hand-in scored 0. Now a run runs, reporting the layers it
    got; with the lessons private to root a right answer passes and a wrong one fails;
    with them open to any uid, grading refuses in one line that names what is missing."""
    course.chmod(0o700)
    codes = in_container(course, f"C={course}\n" + GRADE_ALL)
    run = json.loads((course / "run.json").read_text())
    assert codes["run"] == 0 and run["status"] == "ok", run
    assert run["stdout"] == "hello from uid True\n"
    assert {"uid", "rlimits", "no_new_privs", "seccomp", "hidden-by-permissions"} <= set(run["isolation"])
    assert "mountns" not in run["isolation"]

    assert codes["right"] == 0, (course / "right.out").read_text()
    assert json.loads((course / "right.json").read_text())["summary"]["passed"] == 1
    assert codes["wrong"] == 1, (course / "wrong.out").read_text()
    assert json.loads((course / "wrong.json").read_text())["summary"]["passed"] == 0

    refusal = (course / "open.out").read_text().strip().splitlines()
    assert codes["open"] == 2 and len(refusal) == 1, refusal
    assert "mount namespace" in refusal[0] and f"{course}/lessons" in refusal[0] and "chmod 700" in refusal[0]
