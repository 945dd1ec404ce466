"""``tutor export gradescope OUT``: Gradescope's autograder zip.

Gradescope runs ``setup.sh`` once when the image is built and ``run_autograder`` for each
submission, with the student's files in ``/autograder/submission`` and the report expected
at ``/autograder/results/results.json``. ``AUTOGRADER_ROOT`` moves that root (our tests
run the kit in a temporary directory). Each check is a test of its own; hidden checks'
tests are shown ``after_due_date`` unless ``TUTOR_HIDDEN_VISIBILITY`` says otherwise
(``visible``, ``after_published`` or ``hidden``), set in ``run_autograder``'s environment
or on its first lines.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from tutor.export.kit import TORCH_INSTALL, copy_lessons, copy_tutor_source, write_script
from tutor.grading import GRADESCOPE_HIDDEN_DEFAULT, GRADESCOPE_VISIBILITIES
from tutor.lessons import LessonSet

SETUP = f"""#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image.
set -euo pipefail
cd /autograder/source
{TORCH_INSTALL}
pip3 install --quiet ./tutor-src
"""

_OTHERS = [v for v in GRADESCOPE_VISIBILITIES if v != GRADESCOPE_HIDDEN_DEFAULT]
RUN = f"""#!/usr/bin/env bash
# Gradescope runs this for every submission. A failed check is a grade, not an error:
# whatever tutor says, results.json is written and the script exits 0.
# When students see the tests of hidden checks: {GRADESCOPE_HIDDEN_DEFAULT} (the default), {_OTHERS[0]},
# {", ".join(_OTHERS[1:-1])} or {_OTHERS[-1]}.
set -u
root="${{AUTOGRADER_ROOT:-/autograder}}"
visibility="${{TUTOR_HIDDEN_VISIBILITY:-{GRADESCOPE_HIDDEN_DEFAULT}}}"
mkdir -p "$root/results"
tutor grade --lessons "$root/source/lessons" --workspace "$root/submission" \\
    --gradescope "$root/results/results.json" --gradescope-hidden-visibility "$visibility" \\
    --device cpu > "$root/results/tutor.log" 2>&1
status=$?
if [ ! -s "$root/results/results.json" ]; then
    reason=$(tail -n 1 "$root/results/tutor.log" | tr -d '"\\\\')
    printf '{{"score": 0, "output": "tutor could not grade this submission (exit %s): %s"}}\\n' "$status" "$reason" \\
        > "$root/results/results.json"
fi
cat "$root/results/tutor.log"
exit 0
"""


def export_gradescope(lessons: LessonSet, out: Path) -> Path:
    """Write ``out/autograder.zip`` (setup.sh and run_autograder at its root, the private
    lessons and tutor's source beside them) and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    zip_path = out / "autograder.zip"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_script(root / "setup.sh", SETUP)
        write_script(root / "run_autograder", RUN)
        copy_lessons(lessons, root / "lessons")
        copy_tutor_source(root / "tutor-src")
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo.from_file(path, path.relative_to(root).as_posix())
                    archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return zip_path
