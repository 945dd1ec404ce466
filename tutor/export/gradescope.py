"""``tutor export gradescope OUT [--exercises ID,ID]``: Gradescope's autograder zip.

Gradescope runs ``setup.sh`` once when it builds the image and ``run_autograder`` for
each submission, with the student's files in ``/autograder/submission`` and the report
expected at ``/autograder/results/results.json``. ``AUTOGRADER_ROOT`` moves that root
(the tests run the kit in a temporary directory).

``setup.sh`` works on Gradescope's default image (Ubuntu 22.04, whose Python is 3.10,
while tutor needs 3.11+): it uses a Python 3.11+ when the image has one, else installs
``python3.11`` and ``python3.11-venv`` from the deadsnakes PPA (the Ubuntu packages
Gradescope's own docs use; no second tool to trust), and puts torch and tutor in a venv
at ``/opt/tutor-venv``, outside the folders a submission reaches.

``results.json`` holds one test per check of the kit's manifest, in the same order for
every submission: a missing file is 0 with "not handed in", a crash of tutor is 0 with a
message, and a crash of Python itself still leaves a valid file. Hidden checks' tests say
only "hidden check passed" or "hidden check failed" and are shown ``after_due_date``
(``TUTOR_HIDDEN_VISIBILITY``: ``hidden``, ``after_published`` or ``visible``); the
top-level output counts visible checks only, so nothing a student reads before the due
date tells how the hidden checks went.

Run as ``python -I -m tutor.export.gradescope KIT SUBMISSION RESULTS`` it grades one
submission (what ``run_autograder`` does).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

from tutor.export.kit import (
    TORCH_INDEX,
    TORCH_VERSION,
    Graded,
    Outcome,
    copy_lessons,
    copy_tutor_source,
    grade_handin,
    read_manifest,
    write_manifest,
    write_script,
)
from tutor.grading import GRADESCOPE_HIDDEN_DEFAULT, GRADESCOPE_VISIBILITIES
from tutor.grading.formats import GradescopeJson, GradescopeTest
from tutor.lessons import Exercise, LessonSet
from tutor.textsafe import for_json, for_terminal_line

VENV = "/opt/tutor-venv"
HIDDEN_DEFAULT = GRADESCOPE_HIDDEN_DEFAULT
VISIBILITIES = GRADESCOPE_VISIBILITIES

SETUP = f"""#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image. tutor needs Python 3.11+;
# Gradescope's default image is Ubuntu 22.04, whose python3 is 3.10: then python3.11 comes
# from the deadsnakes PPA. torch and tutor go into a venv at {VENV}, outside
# /autograder, so nothing in a submission can stand in for them.
set -euo pipefail
cd /autograder/source
python=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        python="$candidate"
        break
    fi
done
if [ -z "$python" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends software-properties-common gpg-agent
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update -q
    apt-get install -y -q --no-install-recommends python3.11 python3.11-venv
    python=python3.11
fi
"$python" -m venv {VENV}
{VENV}/bin/python -m pip install --quiet --upgrade pip
{VENV}/bin/python -m pip install --quiet torch=={TORCH_VERSION} --index-url {TORCH_INDEX}
{VENV}/bin/python -m pip install --quiet -c ./tutor-src/constraints.txt ./tutor-src
{VENV}/bin/python -I -m tutor --version
"""

FALLBACK = ('{"score": 0, "output": "The autograder could not run; your instructor has been told by its log. '
            'Please resubmit later.", "visibility": "visible", "stdout_visibility": "hidden", "tests": []}')

RUN = f"""#!/usr/bin/env bash
# Gradescope runs this for every submission. A failed check is a grade, not an error:
# results.json is always written and the script exits 0.
# Students see hidden checks' tests after the due date; TUTOR_HIDDEN_VISIBILITY=hidden,
# after_published or visible changes that (set it here).
set -u
root="${{AUTOGRADER_ROOT:-/autograder}}"
python="${{TUTOR_PYTHON:-{VENV}/bin/python}}"
mkdir -p "$root/results"
rm -f "$root/results/results.json"
# The kit (lessons, manifest) is for root alone: the sandbox runs the submission under an
# unprivileged uid, so these permissions hide it even where the container refuses mount
# namespaces (Docker's default).
chmod 700 "$root/source" 2>/dev/null
chmod -R go-rwx "$root/source/lessons" "$root/source/manifest.json" 2>/dev/null
# -I: the submission's folder and the environment cannot stand in for tutor.
cd "$root/source" && "$python" -I -m tutor.export.gradescope "$root/source" "$root/submission" \\
    "$root/results/results.json"
if [ ! -s "$root/results/results.json" ]; then
    printf '%s\\n' '{FALLBACK}' > "$root/results/results.json"
fi
exit 0
"""

README = """# tutor's Gradescope autograder

Upload `autograder.zip` as the autograder of a programming assignment (Ubuntu 22.04, the
default image, works: `setup.sh` installs Python 3.11 from the deadsnakes PPA when the image
has no Python 3.11+, then torch {torch} (CPU) and tutor into a venv at `{venv}`).

Students upload their files as they like: flat (`softmax-rows.py`), in lesson folders
(`grading/softmax-rows.py`) or a zip's folder or two down. Every check of the exercises
below is one test, in the same order for every submission; a missing file scores 0 and says
"not handed in".

Exercises graded by this kit: {ids}

Hidden checks' tests say only "hidden check passed/failed" and are shown `after_due_date`
(set `TUTOR_HIDDEN_VISIBILITY` in `run_autograder` to `hidden`, `after_published` or
`visible`). The top-level message counts the visible checks only. Gradescope may still show a
submission's total score, which includes the hidden checks' points: to keep that back until
the due date, hide the autograder score in the assignment's settings (or publish grades later).

`run_autograder` runs as root (as Gradescope starts it) and makes the kit readable by root
alone; the sandbox runs the student's code under an unprivileged uid with no capabilities,
so those permissions hide the lessons even in a container that refuses mount namespaces.
Where the runs cannot hide them, tutor refuses to grade: every test scores 0, and the log
(stdout, shown to instructors only) says what is missing.
"""


class GradescopeResults(GradescopeJson):
    """Gradescope's ``results.json`` as the kit writes it: ``tutor grade``'s shape, with
    the run's time."""

    execution_time: int


def export_gradescope(lessons: LessonSet, exercises: Sequence[Exercise], out: Path) -> Path:
    """Write ``out/autograder.zip`` (setup.sh and run_autograder at its root; the lessons
    of ``exercises``, the manifest and tutor's source beside them) and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    zip_path = out / "autograder.zip"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_script(root / "setup.sh", SETUP)
        write_script(root / "run_autograder", RUN)
        copy_lessons(lessons, root / "lessons", exercises)
        write_manifest(exercises, root / "manifest.json")
        copy_tutor_source(root / "tutor-src")
        (root / "README.md").write_text(README.format(torch=TORCH_VERSION, venv=VENV,
                                                      ids=", ".join(e.id for e in exercises)), encoding="utf-8")
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo.from_file(path, path.relative_to(root).as_posix())
                    archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return zip_path


def results(graded: Graded, hidden_visibility: str = HIDDEN_DEFAULT, seconds: float = 0.0) -> GradescopeResults:
    """``results.json`` for one graded hand-in."""
    tests = [GradescopeTest(name=for_terminal_line(f"{o.exercise}: {o.check}" if not o.hidden
                                                   else f"{o.exercise}: hidden check {i}"),
                            score=o.score, max_score=o.points, status="passed" if o.passed else "failed",
                            output=o.message, visibility=hidden_visibility if o.hidden else "visible")
             for i, o in _numbered(graded)]
    visible = [o for o in graded.outcomes if not o.hidden]
    hidden = len(graded.outcomes) - len(visible)
    summary = f"visible checks: {sum(o.passed for o in visible)} of {len(visible)} passed"
    if hidden:
        summary += f"; {hidden} hidden check{'s' if hidden != 1 else ''}, shown after the due date"
    if graded.problem:
        summary = f"{graded.problem}. {summary}"
    return GradescopeResults(score=float(sum(o.score for o in graded.outcomes)), output=summary, visibility="visible",
                             stdout_visibility="hidden", execution_time=round(seconds), tests=tests)


def _numbered(graded: Graded) -> list[tuple[int, Outcome]]:
    """Each outcome with its hidden check's number within its exercise (1, 2, ...): a
    hidden check's test is named by number, never by the check's own name."""
    out = []
    counts: dict[str, int] = {}
    for outcome in graded.outcomes:
        if outcome.hidden:
            counts[outcome.exercise] = counts.get(outcome.exercise, 0) + 1
        out.append((counts.get(outcome.exercise, 0), outcome))
    return out


def _failed(kit: Path) -> Graded:
    """Every check of the manifest at 0 when the kit itself failed (none if even the
    manifest cannot be read)."""
    problem = "tutor could not grade this submission (the autograder failed); your instructor sees why in its log"
    try:
        exercises = read_manifest(kit / "manifest.json")["exercises"]
    except (OSError, ValueError, TypeError, KeyError):
        exercises = []
    outcomes = [Outcome(e["id"], c["name"], c["hidden"], c["points"], 0.0, False, "not graded: the autograder failed")
                for e in exercises for c in e["checks"]]
    return Graded(outcomes, problem)


def main(argv: list[str]) -> int:
    """``KIT SUBMISSION RESULTS``: grade one submission; always write ``RESULTS``."""
    kit, submission, target = (Path(a) for a in argv[:3])
    visibility = os.environ.get("TUTOR_HIDDEN_VISIBILITY", HIDDEN_DEFAULT)
    if visibility not in VISIBILITIES:
        print(f"TUTOR_HIDDEN_VISIBILITY={visibility!r} is not one of {', '.join(VISIBILITIES)}; "
              f"using {HIDDEN_DEFAULT}", file=sys.stderr)
        visibility = HIDDEN_DEFAULT
    started = time.monotonic()
    try:
        graded = grade_handin(kit / "lessons", kit / "manifest.json", submission)
        payload: object = results(graded, visibility, time.monotonic() - started)
        print(graded.log)  # the instructor's log (stdout is hidden from students)
    except Exception as exc:  # noqa: BLE001 - a crash is still a results.json with a message
        print(f"tutor's Gradescope kit failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        payload = results(_failed(kit), visibility, time.monotonic() - started)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(for_json(payload), indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
