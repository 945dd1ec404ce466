"""The file a learner starts an exercise from: a three-line header, the imports an
editor wants, then the lesson's starter code.

The task itself is not repeated here: the app shows the prompt beside the editor, and a
long comment block would push the learner's code below the fold. The header keeps only
what someone working in an outside editor needs: which exercise this is, how to check it
and get a hint, and why the imports are there.
"""

from __future__ import annotations

from tutor.i18n import N_, _
from tutor.lessons import Exercise

# The comment lines are in the learner's language; whether a file is still the untouched
# starter is decided without its comments (either language's header reads as untouched).
COMMENT = N_("""\
# {title}: check with `tutor grade {id}`,
# the next hint with `tutor hint {id}`.
# tutor predefines torch, nn, F, DEVICE; the imports are for your editor.
""")
IMPORTS = """\
import torch
from torch import nn
import torch.nn.functional as F

"""

def starter_text(exercise: Exercise) -> str:
    """The file a learner starts from: the header, the imports, the lesson's starter code."""
    header = _(COMMENT).format(title=exercise.title, id=exercise.id) + IMPORTS
    return header + exercise.starter.rstrip("\n") + "\n"


def first_code_line(text: str) -> int:
    """The row where the learner's own code starts: the first line that is not blank, a
    comment or a top-level import (the header and the imports an editor wants); the last
    row when there is none. Works on any file, the old, longer header included."""
    lines = text.split("\n")
    for row, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line == stripped and (stripped.startswith("import ") or (stripped.startswith("from ") and " import " in stripped)):
            continue
        return row
    return max(0, len(lines) - 1)
