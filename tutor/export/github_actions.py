"""``tutor export github-actions OUT [--exercises ID,ID]``: GitHub Classroom autograding
for a class on GitHub: every push grades the student's answers, reports the points to
GitHub Classroom (its autograding reporter), shows a table in the job summary, and keeps
the JSON and JUnit reports as an artifact.

What the kit puts in the students' repository is the learners' public copy of the lessons
(``tutor export lessons --public``: visible checks, with the reference's values, no
solutions, no hidden checks). A student can change anything in their repository, the
workflow included, and read any secret a workflow of theirs can read: so the hidden
checks and the solutions never go there, and the points Classroom shows are the visible
checks'. The instructor grades the hidden checks with the private lessons on the
collected repositories (``tutor grade --batch``) or on another engine.

The workflow installs tutor into a venv under the runner's temporary folder, outside the
checkout, and runs it with ``python -I`` from another folder: a ``tutor/`` folder (or a
``sitecustomize.py``, or ``PYTHONPATH``) in the repository cannot stand in for it.

Run as ``python -I -m tutor.export.github_actions REPORT.json`` it writes the job summary
(``$GITHUB_STEP_SUMMARY``, else stdout) and GitHub Classroom's result (``result=`` in
``$GITHUB_OUTPUT``: base64 JSON, the reporter's format).
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

from tutor.core import Tutor
from tutor.export.kit import TORCH_INDEX, TORCH_VERSION, copy_tutor_source, write_script
from tutor.export.lessons import write_public
from tutor.lessons import Exercise, LessonSet
from tutor.textsafe import for_json, for_markdown

#: The job's name: GitHub Classroom's reporter looks for the check run of this name.
JOB_NAME = "Autograding Tests"
RUNNER_ID = "tutor"

WORKFLOW = f"""name: {JOB_NAME}
on:
  push:
  workflow_dispatch:
  repository_dispatch:
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    name: {JOB_NAME}
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
          cache: pip
          cache-dependency-path: |
            .grading/requirements.txt
            .grading/tutor-src/constraints.txt
      - name: Install tutor outside the checkout
        run: |
          python -m venv "$RUNNER_TEMP/tutor-venv"
          "$RUNNER_TEMP/tutor-venv/bin/python" -m pip install --quiet -r .grading/requirements.txt
          "$RUNNER_TEMP/tutor-venv/bin/python" -m pip install --quiet -c .grading/tutor-src/constraints.txt \\
            ./.grading/tutor-src
      - name: Grade
        id: {RUNNER_ID}
        env:
          TUTOR_PYTHON: ${{{{ runner.temp }}}}/tutor-venv/bin/python
        run: .grading/grade.sh
      - name: Report to GitHub Classroom
        if: always()
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          {RUNNER_ID.upper()}_RESULTS: ${{{{ steps.{RUNNER_ID}.outputs.result }}}}
        with:
          runners: {RUNNER_ID}
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: tutor-report
          path: .grading/report/
"""

REQUIREMENTS = f"""# What the workflow installs (and what its pip cache is keyed on): torch, CPU-only.
--index-url {TORCH_INDEX}
torch=={TORCH_VERSION}
"""

GRADE = """#!/usr/bin/env bash
# Grade the answers at the repository's root with the visible checks in .grading/lessons;
# write JSON and JUnit reports to .grading/report/, the job summary and GitHub Classroom's
# result. Exit 1 when a check fails, as tutor grade does.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
python="${TUTOR_PYTHON:-python3}"
mkdir -p "$here/report"
rm -f "$here/report/report.json"  # the summary never shows an earlier run's report
# From a folder outside the repository and with -I (no script folder, no current folder,
# no PYTHON* variables, no user site): nothing in the repository can stand in for tutor.
cd "${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
# --allow-unhidden: these lessons are the public copy (values, no solutions): there is
# nothing to hide from the answers, and a runner may refuse the namespaces that hide.
"$python" -I -m tutor grade --lessons "$here/lessons" --workspace "$root" --device cpu --allow-unhidden \\
    --json "$here/report/report.json" --junit "$here/report/junit.xml" | tee "$here/report/summary.txt"
status=${PIPESTATUS[0]}
"$python" -I -m tutor.export.github_actions "$here/report/report.json"
exit "$status"
"""

README = """# Grading in this repository

`.github/workflows/classroom.yml` grades your answers on every push with the checks in
`.grading/lessons` and reports the points to GitHub Classroom. Run `.grading/grade.sh` to
grade here the same way.

For the instructor: `.grading/lessons` is the learners' public copy of the lessons (made by
`tutor export lessons --public`): the visible checks with the reference's values, no
solutions and no hidden checks. A student controls this repository, its workflows and any
secret a workflow can read, so the hidden checks never come here, and the points GitHub
Classroom shows are the visible checks'. Grade the hidden checks with your private lessons on
the collected repositories (`tutor grade --batch DIR --lessons PRIVATE`) or on Gradescope.

tutor is installed into a venv outside the checkout and run with `python -I` from another
folder, so a `tutor/` folder in a student's repository cannot stand in for it. A student who
edits the workflow can still change what Classroom shows: the grade of record is yours.

Exercises graded here: {ids}
"""


def export_github_actions(lessons: LessonSet, exercises: Sequence[Exercise], out: Path, core: Tutor) -> Path:
    """Write ``.github/workflows/classroom.yml`` and ``.grading/`` (the public copy of the
    lessons of ``exercises``, tutor's source, ``grade.sh``) under ``out``, the root of a
    student's repository. ``core``'s sandbox computes the reference's values."""
    ids = {e.id for e in exercises}
    chosen = [lesson for lesson in lessons.lessons if any(e.id in ids for e in lesson.exercises)]
    write_public(chosen, out / ".grading" / "lessons", core)
    workflows = out / ".github" / "workflows"
    workflows.mkdir(parents=True, exist_ok=True)
    (workflows / "classroom.yml").write_text(WORKFLOW, encoding="utf-8")
    (out / ".grading" / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    copy_tutor_source(out / ".grading" / "tutor-src")
    write_script(out / ".grading" / "grade.sh", GRADE)
    (out / ".grading" / "README.md").write_text(README.format(ids=", ".join(e.id for e in exercises)),
                                                encoding="utf-8")
    return out


STATUS_MARK = {"pass": "✅ pass", "fail": "❌ fail", "error": "⚠️ error"}


def _number(value: Any) -> str:
    number = float(value) if isinstance(value, (int, float)) else 0.0
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _exercises(report: Any) -> list[dict[str, Any]] | None:
    exercises = report.get("exercises") if isinstance(report, dict) else None
    if not isinstance(exercises, list) or not all(isinstance(e, dict) for e in exercises):
        return None
    return exercises


def _points(exercise: dict[str, Any]) -> tuple[float, float, int]:
    """An exercise's points and maximum over the checks that ran here (a public copy's
    hidden checks run only at grading), and how many did not run."""
    checks = [c for c in exercise.get("checks") or [] if isinstance(c, dict)]
    if not checks:
        maximum = exercise.get("max_score")
        return 0.0, float(maximum) if isinstance(maximum, (int, float)) else 0.0, 0
    ran = [c for c in checks if c.get("status") != "hidden"]
    broken = any(c.get("name") == "rules" and c.get("status") != "pass" for c in ran)

    def number(value: Any) -> float:
        return float(value) if isinstance(value, (int, float)) else 0.0

    score = 0.0 if broken else sum(number(c.get("score")) for c in ran)
    return score, sum(number(c.get("max_score")) for c in ran), len(checks) - len(ran)


def summary(report: Any) -> str:
    """The job summary's Markdown: a table of exercise, score and status, then the total;
    or one line saying tutor could not grade (no report, or not one of ours)."""
    exercises = _exercises(report)
    if exercises is None:
        return "### tutor grade\n\ntutor could not grade this push: see the job's log.\n"
    lines = ["### tutor grade", "", "| Exercise | Score | Status |", "| --- | ---: | --- |"]
    total = maximum = 0.0
    waiting = 0
    for exercise in exercises:
        status = str(exercise.get("status", "error"))
        score, most, unrun = _points(exercise)
        total, maximum, waiting = total + score, maximum + most, waiting + unrun
        lines.append(f"| {for_markdown(str(exercise.get('id', '?')))} | {_number(score)}/{_number(most)} | "
                     f"{STATUS_MARK.get(status, for_markdown(status))} |")
    passed = sum(e.get("status") == "pass" for e in exercises)
    hidden = f"; {waiting} hidden check{'s' if waiting != 1 else ''} at grading" if waiting else ""
    lines += ["", f"**{_number(total)} of {_number(maximum)} points** (visible checks); "
                  f"{passed} of {len(exercises)} exercises passed{hidden}."]
    return "\n".join(lines) + "\n"


class ClassroomTest(TypedDict):
    name: str
    status: str
    score: float
    message: str
    test_code: str
    filename: str
    line_no: int
    execution_time: str


class ClassroomResult(TypedDict):
    """A runner's result as GitHub Classroom's autograding reporter reads it."""

    version: int
    status: str
    max_score: float
    tests: list[ClassroomTest]


def classroom(report: Any) -> ClassroomResult:
    """One test per check of the report, scored by its points: the reporter adds the
    tests' scores for Classroom's points and fails the job on a failed test."""
    exercises = _exercises(report)
    if exercises is None:
        return ClassroomResult(version=1, status="error", max_score=0.0, tests=[ClassroomTest(
            name="tutor grade", status="error", score=0.0, message="tutor could not grade this push: see the job's log",
            test_code="", filename="", line_no=0, execution_time="")])
    tests = []
    maximum = 0.0
    for exercise in exercises:
        checks = [c for c in exercise.get("checks") or [] if isinstance(c, dict) and c.get("status") != "hidden"]
        broken = any(c.get("name") == "rules" and c.get("status") != "pass" for c in checks)
        if not checks:
            points = exercise.get("max_score")
            maximum += float(points) if isinstance(points, (int, float)) else 0.0
            tests.append(ClassroomTest(name=str(exercise.get("id", "?")), status="error", score=0.0,
                                       message=str(exercise.get("message", "")), test_code="", filename="",
                                       line_no=0, execution_time=""))
            continue
        for check in checks:
            points = check.get("max_score")
            worth = float(points) if isinstance(points, (int, float)) else 0.0
            maximum += worth
            passed = check.get("status") == "pass" and not broken
            tests.append(ClassroomTest(name=f"{exercise.get('id', '?')}: {check.get('name', '?')}",
                                       status="pass" if passed else "fail", score=worth if passed else 0.0,
                                       message=str(check.get("message", "")), test_code="", filename="",
                                       line_no=0, execution_time=""))
    status = "pass" if all(t["status"] == "pass" for t in tests) else \
        "error" if any(t["status"] == "error" for t in tests) else "fail"
    return for_json(ClassroomResult(version=1, status=status, max_score=maximum, tests=tests))


def main(argv: list[str]) -> int:
    try:
        report = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    except (OSError, ValueError, IndexError):
        report = None
    text = summary(report)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        encoded = base64.b64encode(json.dumps(classroom(report)).encode("utf-8")).decode("ascii")
        with open(output, "a", encoding="utf-8") as f:
            f.write(f"result={encoded}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
