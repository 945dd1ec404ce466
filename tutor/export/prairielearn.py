"""``tutor export prairielearn OUT``: a PrairieLearn course fragment with one externally
graded question per exercise.

PrairieLearn mounts the student's file in ``/grade/student``, the question's ``tests/``
in ``/grade/tests`` and ``serverFilesCourse`` in ``/grade/serverFilesCourse``, runs the
entrypoint, and reads ``/grade/results/results.json``. ``GRADE_ROOT`` moves that root.
The grader image is built from ``grader/Dockerfile`` (torch and tutor installed).

Run as ``python -m tutor.export.prairielearn REPORT.json RESULTS.json`` it turns a
``tutor grade --json`` report into PrairieLearn's results format.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import NotRequired, TypedDict

from tutor.export.kit import TORCH_INSTALL, copy_lessons, copy_tutor_source, write_script
from tutor.lessons import Exercise, LessonSet

IMAGE = "tutor-grader"

RUN = """#!/usr/bin/env bash
# PrairieLearn's entrypoint for one submission: grade it, write results.json, exit 0.
set -u
root="${{GRADE_ROOT:-/grade}}"
mkdir -p "$root/results"
ws=$(mktemp -d)
mkdir -p "$ws/{lesson}"
cp "$root/student/solution.py" "$ws/{lesson}/{short}.py" 2>/dev/null || true
tutor grade "{id}" --lessons "$root/serverFilesCourse/tutor/lessons" --workspace "$ws" \\
    --json "$ws/report.json" --device cpu > "$ws/tutor.log" 2>&1
python3 -m tutor.export.prairielearn "$ws/report.json" "$root/results/results.json" "$ws/tutor.log"
exit 0
"""

QUESTION = """<pl-question-panel>
  <markdown>
{prompt}
  </markdown>
  <p>Upload your solution as <code>solution.py</code>.</p>
</pl-question-panel>
<pl-file-upload file-names="solution.py"></pl-file-upload>
<pl-submission-panel>
  <pl-external-grader-results></pl-external-grader-results>
  <pl-file-preview></pl-file-preview>
</pl-submission-panel>
"""

DOCKERFILE = f"""FROM python:3.11-slim
RUN {TORCH_INSTALL}
COPY tutor-src /opt/tutor-src
RUN pip3 install --quiet /opt/tutor-src
"""


class PrairieLearnTest(TypedDict):
    name: str
    points: float
    max_points: float
    message: str
    output: str


class PrairieLearnResults(TypedDict):
    """PrairieLearn's external grader ``results.json``."""

    gradable: bool
    score: float
    message: str
    output: str
    tests: NotRequired[list[PrairieLearnTest]]


def results(report: object, log: str = "") -> PrairieLearnResults:
    """PrairieLearn's ``results.json`` from a ``tutor grade --json`` report, read back
    from the grading process and checked field by field (or from nothing, when tutor
    could not grade: then the log says why)."""
    ungradable = PrairieLearnResults(gradable=False, score=0, message="tutor could not grade this submission",
                                     output=log[-2000:])
    exercises = report.get("exercises") if isinstance(report, dict) else None
    if not isinstance(exercises, list) or len(exercises) != 1 or not isinstance(exercises[0], dict):
        return ungradable
    exercise = exercises[0]
    checks = exercise.get("checks")
    number: tuple[type, ...] = (int, float)
    fields: dict[str, tuple[type, ...]] = {"score": number, "max_score": number, "message": (str,), "output": (str,)}
    if not isinstance(checks, list) or not all(isinstance(exercise.get(k), t) for k, t in fields.items()):
        return ungradable
    check_fields: dict[str, tuple[type, ...]] = {"name": (str,), "score": number, "max_score": number, "message": (str,),
                                                 "status": (str,), "expected": (str,), "got": (str,)}
    if not all(isinstance(c, dict) and all(isinstance(c.get(k), t) for k, t in check_fields.items()) for c in checks):
        return ungradable
    tests = [PrairieLearnTest(name=c["name"], points=c["score"], max_points=c["max_score"], message=c["message"],
                              output=f"expected: {c['expected']}\ngot: {c['got']}" if c["status"] == "fail" else "")
             for c in checks]
    maximum = exercise["max_score"] or 1
    return PrairieLearnResults(gradable=True, score=exercise["score"] / maximum, message=exercise["message"],
                               output=exercise["output"][-2000:], tests=tests)


def _question(exercise: Exercise, root: Path) -> None:
    folder = root / "questions" / "tutor" / exercise.lesson_id / exercise.short_id
    (folder / "tests").mkdir(parents=True, exist_ok=True)
    info = {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"tutor:{exercise.id}")),
        "title": exercise.title, "topic": "PyTorch", "tags": ["tutor", exercise.lesson_id], "type": "v3",
        "singleVariant": True, "gradingMethod": "External",
        "externalGradingOptions": {"enabled": True, "image": IMAGE, "entrypoint": "/grade/tests/run.sh",
                                   "serverFilesCourse": ["tutor/"], "timeout": 120},
    }
    (folder / "info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    # str.replace, not format: a prompt is Markdown and may hold braces.
    (folder / "question.html").write_text(QUESTION.replace("{prompt}", exercise.prompt), encoding="utf-8")
    write_script(folder / "tests" / "run.sh",
                 RUN.format(id=exercise.id, lesson=exercise.lesson_id, short=exercise.short_id))


def export_prairielearn(lessons: LessonSet, out: Path) -> Path:
    """Write the questions, ``serverFilesCourse/tutor/lessons`` and the grader image."""
    for exercise in lessons.exercises():
        _question(exercise, out)
    copy_lessons(lessons, out / "serverFilesCourse" / "tutor" / "lessons")
    copy_tutor_source(out / "grader" / "tutor-src")
    (out / "grader" / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    return out


def main(argv: list[str]) -> int:
    report_path, results_path = Path(argv[0]), Path(argv[1])
    log = Path(argv[2]).read_text(errors="replace") if len(argv) > 2 and Path(argv[2]).exists() else ""
    try:
        report = json.loads(report_path.read_text())
    except (OSError, ValueError):
        report = None
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results(report, log), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
