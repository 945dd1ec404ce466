"""``tutor export github-actions OUT``: a workflow for a class on GitHub (Classroom):
every push grades the student's workspace and shows the result in the job summary, with a
JUnit report as an artifact.

The workflow runs ``.grading/grade.sh``, which a test (or a student) can run locally.
Hidden checks belong to the instructor: the kit ships the lessons as given, so export
``tutor export lessons --public`` first when the repository is the students'.
"""

from __future__ import annotations

from pathlib import Path

from tutor.export.kit import TORCH_INSTALL, copy_lessons, copy_tutor_source, write_script
from tutor.lessons import LessonSet

WORKFLOW = """name: tutor grade
on: [push, workflow_dispatch]
jobs:
  grade:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install tutor
        run: |
          {torch}
          pip3 install --quiet ./.grading/tutor-src
      - name: Grade
        run: .grading/grade.sh
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: tutor-report
          path: .grading/report/
"""

GRADE = """#!/usr/bin/env bash
# Grade the workspace at the repository's root with the lessons in .grading/lessons; write
# JSON and JUnit reports to .grading/report/ and a summary for the job page. Exit 1 when a
# check fails, as tutor grade does.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
mkdir -p "$here/report"
tutor grade --lessons "$here/lessons" --workspace "$root" --device cpu \\
    --json "$here/report/report.json" --junit "$here/report/junit.xml" | tee "$here/report/summary.txt"
status=${PIPESTATUS[0]}
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    { echo '### tutor grade'; echo '```'; cat "$here/report/summary.txt"; echo '```'; } >> "$GITHUB_STEP_SUMMARY"
fi
exit "$status"
"""


def export_github_actions(lessons: LessonSet, out: Path) -> Path:
    """Write ``.github/workflows/tutor.yml`` and ``.grading/`` (lessons, tutor's source,
    ``grade.sh``) under ``out``, the root of a student's repository."""
    workflows = out / ".github" / "workflows"
    workflows.mkdir(parents=True, exist_ok=True)
    (workflows / "tutor.yml").write_text(WORKFLOW.format(torch=TORCH_INSTALL), encoding="utf-8")
    copy_lessons(lessons, out / ".grading" / "lessons")
    copy_tutor_source(out / ".grading" / "tutor-src")
    write_script(out / ".grading" / "grade.sh", GRADE)
    return out
