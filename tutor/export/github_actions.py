"""``tutor export github-actions OUT``: a workflow for a class on GitHub (Classroom):
every push grades the student's workspace and shows the result in the job summary, with a
JUnit report as an artifact.

The workflow runs ``.grading/grade.sh``, which a test (or a student) can run locally.
Hidden checks belong to the instructor: the kit ships the lessons as given, so export
``tutor export lessons --public`` first when the repository is the students'.

Run as ``python3 -m tutor.export.github_actions REPORT.json`` it prints the job summary:
a Markdown table (exercise, score, status) of a ``tutor grade --json`` report.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

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
rm -f "$here/report/report.json"  # the summary never shows an earlier run's report
tutor grade --lessons "$here/lessons" --workspace "$root" --device cpu \\
    --json "$here/report/report.json" --junit "$here/report/junit.xml" | tee "$here/report/summary.txt"
status=${PIPESTATUS[0]}
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    python3 -m tutor.export.github_actions "$here/report/report.json" >> "$GITHUB_STEP_SUMMARY"
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


STATUS_MARK = {"pass": "✅ pass", "fail": "❌ fail", "error": "⚠️ error"}


def _cell(text: str) -> str:
    """Table cell text: one line, no column break."""
    return " ".join(text.split()).replace("|", "\\|")


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


def summary(report: Any) -> str:
    """The job summary's Markdown: a table of exercise, score and status, then the total;
    or one line saying tutor could not grade (no report, or not one of ours)."""
    exercises = report.get("exercises") if isinstance(report, dict) else None
    if not isinstance(exercises, list) or not all(isinstance(e, dict) for e in exercises):
        return "### tutor grade\n\ntutor could not grade this push: see the job's log.\n"
    lines = ["### tutor grade", "", "| Exercise | Score | Status |", "| --- | ---: | --- |"]
    for exercise in exercises:
        status = str(exercise.get("status", "error"))
        lines.append(f"| {_cell(str(exercise.get('id', '?')))} | {_number(exercise.get('score', 0))}/"
                     f"{_number(exercise.get('max_score', 0))} | {STATUS_MARK.get(status, _cell(status))} |")
    passed = sum(e.get("status") == "pass" for e in exercises)
    lines += ["", f"**{_number(report.get('score', 0))} of {_number(report.get('max_score', 0))} points**; "
                  f"{passed} of {len(exercises)} exercises passed."]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    try:
        report = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    except (OSError, ValueError, IndexError):
        report = None
    sys.stdout.write(summary(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
