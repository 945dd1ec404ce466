"""The file a learner starts an exercise from: a short header, the imports an editor
wants, then the lesson's starter code."""

from __future__ import annotations

from tutor.lessons import Exercise

HEADER = """\
# {title}  ({id})
#
{prompt}
#
# Write your solution below, then check it with:   tutor grade {id}
#   (in the tutor app: ctrl+r checks, ctrl+g shows the next hint)
# Stuck? The next hint:                             tutor hint {id}
# When tutor runs this file, torch, nn, F and DEVICE are already defined;
# the imports are here for your editor.

import torch
from torch import nn
import torch.nn.functional as F

"""


def starter_text(exercise: Exercise) -> str:
    """The file a learner starts from: a header that says what to do and how to check
    it, the imports an editor wants, then the lesson's starter code."""
    prompt = "\n".join(f"# {line}".rstrip() for line in exercise.prompt.strip().splitlines())
    header = HEADER.format(title=exercise.title, id=exercise.id, prompt=prompt or "#")
    return header + exercise.starter.rstrip("\n") + "\n"


