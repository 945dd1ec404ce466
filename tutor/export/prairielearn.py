"""``tutor export prairielearn OUT [--image NAME] [--exercises ID,ID]``: a PrairieLearn
course fragment with one externally graded question per exercise.

The question shows the prompt and the starter code in a code editor (``pl-file-editor``,
the file ``solution.py``). PrairieLearn puts the student's file in ``/grade/student``,
the question's ``tests/`` in ``/grade/tests`` and ``serverFilesCourse`` in
``/grade/serverFilesCourse``, runs the entrypoint, and reads
``/grade/results/results.json``; ``GRADE_ROOT`` moves that root (the tests run the
entrypoint in a temporary directory).

The grader image (``grader/Dockerfile``, versions pinned) holds torch and tutor in a venv.
The entrypoint runs as PrairieLearn starts it (root) and keeps the lessons in a folder only
root may enter; the sandbox runs the student's code under an unprivileged uid with no
capabilities, so no student code runs as root and permissions hide the lessons even where
the container refuses mount namespaces. The questions name the image ``--image`` gives
(default ``tutor-grader``): build it and push it under that name where the course's
PrairieLearn pulls images.

A syntax error is ``gradable: false`` with ``format_errors`` (no attempt is spent); a
hidden check's test is named by number and says only "hidden check failed" (or passed).

Run as ``python -I -m tutor.export.prairielearn MANIFEST LESSONS STUDENT RESULTS`` it
grades one submission (what the entrypoint does).
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import NotRequired, TypedDict

from tutor.export.kit import (
    MAX_FILE_BYTES,
    TORCH_INDEX,
    TORCH_VERSION,
    Graded,
    ManifestCheck,
    ManifestExercise,
    copy_lessons,
    copy_tutor_source,
    grade_handin,
    outcomes,
    write_manifest,
    write_script,
)
from tutor.grading.results import RULES_CHECK
from tutor.lessons import Exercise, LessonSet
from tutor.textsafe import for_json, for_terminal, for_terminal_line

IMAGE = "tutor-grader"
#: The base image, pinned to a release (a tag that names the exact Python and Debian).
BASE_IMAGE = "python:3.11.11-slim-bookworm"
VENV = "/opt/tutor-venv"
STUDENT_FILE = "solution.py"

RUN = f"""#!/usr/bin/env bash
# PrairieLearn's entrypoint for one submission: grade it, write results.json, exit 0.
# It runs as PrairieLearn starts it (root): the lessons are copied into a folder only root
# may enter, and the sandbox runs the student's code under an unprivileged uid with no
# capabilities, so that code never reads them, even where the container refuses mount
# namespaces (Docker's default).
set -u
root="${{GRADE_ROOT:-/grade}}"
python="${{TUTOR_PYTHON:-{VENV}/bin/python}}"
mkdir -p "$root/results"
# PrairieLearn's own copy of the course (lessons and tests) is readable by any uid: only
# root may read it from now on, or the student's code would read the hidden checks there.
chmod -R go-rwx "$root/serverFilesCourse" "$root/tests" 2>/dev/null
work=$(mktemp -d)
chmod 700 "$work"
cp -R "$root/student" "$work/student" 2>/dev/null || mkdir -p "$work/student"
cp -R "$root/serverFilesCourse/tutor/lessons" "$work/lessons"
chmod -R go-rwx "$work/lessons"
cp "$root/tests/manifest.json" "$work/manifest.json"
cd "$work" && "$python" -I -m tutor.export.prairielearn "$work/manifest.json" "$work/lessons" \\
    "$work/student" "$work/results.json"
if [ -s "$work/results.json" ]; then
    cp "$work/results.json" "$root/results/results.json"
else
    printf '%s\\n' '{{"gradable": false, "score": 0, "message": "The grader could not run; please submit again later.", "format_errors": ["the grader could not run"], "output": ""}}' \\
        > "$root/results/results.json"
fi
exit 0
"""

QUESTION = """<pl-question-panel>
  <markdown>
{prompt}
  </markdown>
  <p>Write your answer in <code>{file}</code> below, starting from the code given.</p>
</pl-question-panel>
<pl-file-editor file-name="{file}" ace-mode="ace/mode/python" source-file-name="starter.py"></pl-file-editor>
<pl-submission-panel>
  <pl-external-grader-results></pl-external-grader-results>
  <pl-file-preview></pl-file-preview>
</pl-submission-panel>
"""

DOCKERFILE = f"""# tutor's PrairieLearn grader: torch {TORCH_VERSION} (CPU) and tutor in a venv readable by
# every uid (the sandbox runs student code under unprivileged ones). Build: docker build -t IMAGE .
FROM {BASE_IMAGE}
RUN python -m venv {VENV} \\
    && {VENV}/bin/pip install --no-cache-dir torch=={TORCH_VERSION} --index-url {TORCH_INDEX}
COPY tutor-src /opt/tutor-src
RUN {VENV}/bin/pip install --no-cache-dir -c /opt/tutor-src/constraints.txt /opt/tutor-src \\
    && chmod -R a+rX {VENV} \\
    && {VENV}/bin/python -I -m tutor --version
"""

README = """# tutor's PrairieLearn questions

Copy `questions/tutor` and `serverFilesCourse/tutor` into your course. Build the grader
image and push it under the name the questions use (`{image}`; `tutor export prairielearn
OUT --image NAME` writes another):

    docker build -t {image} grader && docker push {image}

Versions are pinned: the base image `{base}`, torch {torch} (CPU), this tutor and every
package it installs (`tutor-src/constraints.txt`).

No student code runs as root: the entrypoint runs as PrairieLearn starts it (root), keeps
the lessons in a folder only root may enter, and the sandbox runs each submission under an
unprivileged uid with no capabilities. In Docker's default container (no mount namespaces)
those permissions are what hides the lessons; where the runs cannot hide them, tutor refuses
to grade and the job's log says what is missing (a submission is then not gradable). Hidden checks are
named "hidden check N" in the results and say only whether they passed. A submission with
a syntax error is not gradable (no attempt is spent) and says where the error is.
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
    format_errors: NotRequired[list[str]]
    tests: NotRequired[list[PrairieLearnTest]]


def _question(exercise: Exercise, root: Path, image: str) -> None:
    folder = root / "questions" / "tutor" / exercise.lesson_id / exercise.short_id
    (folder / "tests").mkdir(parents=True, exist_ok=True)
    info = {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"tutor:{exercise.id}")),
        "title": exercise.title, "topic": "PyTorch", "tags": ["tutor", exercise.lesson_id], "type": "v3",
        "singleVariant": True, "gradingMethod": "External",
        "externalGradingOptions": {"enabled": True, "image": image, "entrypoint": "/grade/tests/run.sh",
                                   "serverFilesCourse": ["tutor/"], "timeout": 120},
    }
    (folder / "info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    # str.replace, not format: a prompt is Markdown and may hold braces.
    html = QUESTION.replace("{file}", STUDENT_FILE).replace("{prompt}", exercise.prompt)
    (folder / "question.html").write_text(html, encoding="utf-8")
    (folder / "starter.py").write_text(exercise.starter, encoding="utf-8")
    write_manifest([exercise], folder / "tests" / "manifest.json")
    write_script(folder / "tests" / "run.sh", RUN)


def export_prairielearn(lessons: LessonSet, exercises: Sequence[Exercise], out: Path, *, image: str = IMAGE) -> Path:
    """Write a question for each of ``exercises``, their lessons in
    ``serverFilesCourse/tutor/lessons`` and the grader image's build folder."""
    for exercise in exercises:
        _question(exercise, out, image)
    copy_lessons(lessons, out / "serverFilesCourse" / "tutor" / "lessons", exercises)
    copy_tutor_source(out / "grader" / "tutor-src")
    (out / "grader" / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    (out / "README.md").write_text(README.format(image=image, base=BASE_IMAGE, torch=TORCH_VERSION), encoding="utf-8")
    return out


def syntax_error(student: Path) -> str | None:
    """Where the student's file does not parse (``line N: message``), or ``None``; the
    file is compiled, never run."""
    path = student / STUDENT_FILE
    try:
        with open(path, "rb") as f:
            source = f.read(MAX_FILE_BYTES + 1)
    except OSError:
        return None  # no file: the grading says "not handed in"
    if len(source) > MAX_FILE_BYTES:
        return f"{STUDENT_FILE} is larger than {MAX_FILE_BYTES // 1000} KB"
    try:
        compile(source, STUDENT_FILE, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"line {exc.lineno or 1}: {exc.msg}"
    except (ValueError, MemoryError, RecursionError) as exc:
        return f"{STUDENT_FILE} cannot be read as Python: {type(exc).__name__}"
    return None


def results(report: object, log: str = "") -> PrairieLearnResults:
    """``results.json`` from a ``tutor grade --json`` report of one exercise (read back
    from the grading process, so checked before a field is read): what
    :func:`graded_results` makes of it; not gradable when it is not such a report."""
    exercises = report.get("exercises") if isinstance(report, dict) else None
    if not isinstance(exercises, list) or len(exercises) != 1 or not isinstance(exercises[0], dict):
        why = "tutor could not grade this submission"
        return PrairieLearnResults(gradable=False, score=0.0, message=why, output=for_terminal(log[-2000:]),
                                   format_errors=[why])
    exercise = exercises[0]
    checks = [c for c in exercise.get("checks") or [] if isinstance(c, dict) and isinstance(c.get("name"), str)
              and c["name"] != RULES_CHECK]
    number = (int, float)
    plan = ManifestExercise(id=str(exercise.get("id", "?")), lesson="", file=STUDENT_FILE, title="", checks=[
        ManifestCheck(name=c["name"], points=float(c["max_score"]) if isinstance(c.get("max_score"), number) else 1.0,
                      hidden=c.get("hidden") is True) for c in checks])
    return graded_results(Graded(outcomes(plan, exercise)))


def graded_results(graded: Graded) -> PrairieLearnResults:
    """``results.json`` for one graded question: hidden checks by number, with only
    whether they passed."""
    tests = []
    hidden = 0
    for outcome in graded.outcomes:
        if outcome.hidden:
            hidden += 1
            name = f"hidden check {hidden}"
        else:
            name = for_terminal_line(outcome.check)
        tests.append(PrairieLearnTest(name=name, points=outcome.score, max_points=outcome.points,
                                      message=outcome.message if outcome.hidden or outcome.passed
                                      else outcome.message.split("\n", 1)[0],
                                      output="" if outcome.hidden or outcome.passed else outcome.message))
    if graded.problem:
        return PrairieLearnResults(gradable=False, score=0.0, message=graded.problem, output="",
                                   format_errors=[graded.problem])
    maximum = sum(o.points for o in graded.outcomes) or 1.0
    passed = sum(o.passed for o in graded.outcomes if not o.hidden)
    visible = sum(not o.hidden for o in graded.outcomes)
    return PrairieLearnResults(gradable=True, score=sum(o.score for o in graded.outcomes) / maximum,
                               message=f"visible checks: {passed} of {visible} passed", output="", tests=tests)


def main(argv: list[str]) -> int:
    """``MANIFEST LESSONS STUDENT RESULTS``: grade one submission; always write ``RESULTS``."""
    plan, lessons, student, target = (Path(a) for a in argv[:4])
    problem = syntax_error(student)
    payload: PrairieLearnResults
    if problem is not None:
        payload = PrairieLearnResults(gradable=False, score=0.0, message=f"{STUDENT_FILE} does not parse: {problem}",
                                      output="", format_errors=[f"{STUDENT_FILE}: {problem}"])
    else:
        try:
            graded = grade_handin(lessons, plan, student, upload=STUDENT_FILE)
            print(graded.log)
            payload = graded_results(graded)
        except Exception as exc:  # noqa: BLE001 - a crash is still a results.json with a message
            print(f"tutor's PrairieLearn grader failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            why = "the grader failed; please submit again later"
            payload = PrairieLearnResults(gradable=False, score=0.0, message=why, output="", format_errors=[why])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(for_json(payload), indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
