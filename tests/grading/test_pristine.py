"""A learner who patches torch to forge what the harness records: the check's setup and
expr, and the recording of its value, run with torch as it ships."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.grading.grade import grade_source
from tutor.lessons import load_lessons

pytestmark = pytest.mark.slow

SOFTMAX = load_lessons([Path(__file__).parent / "data"]).exercise("grading/softmax-rows")

# A wrong answer (the input itself) dressed up by a patched Tensor.detach: the harness's
# encoder detaches every value it records, so it would record a right softmax.
FORGED_DETACH = """
_real_detach = torch.Tensor.detach
_made = set()
def _forged(self):
    t = _real_detach(self)
    if t.dim() != 2 or id(self) in _made:
        return t
    e = (t - t.max(dim=-1, keepdim=True).values).exp()
    out = e / e.sum(dim=-1, keepdim=True)
    _made.add(id(out))
    return out
torch.Tensor.detach = _forged

def softmax_rows(X):
    return X
"""

# The same lie told through a torch function mode left pushed by the file.
FORGED_MODE = """
from torch.overrides import TorchFunctionMode
class _Lie(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if getattr(func, "__name__", "") == "detach" and out.dim() == 2 and not getattr(args[0], "_lie", False):
            with torch._C.DisableTorchFunction():
                e = (out - out.max(dim=-1, keepdim=True).values).exp()
                forged = e / e.sum(dim=-1, keepdim=True)
            forged._lie = True
            return forged
        return out
_Lie().__enter__()

def softmax_rows(X):
    return X
"""

# A right softmax computed in place, in the caller's X, with torch.equal patched so that
# the no-mutation check cannot see the change.
HIDDEN_MUTATION = """
torch.equal = lambda a, b: True

def softmax_rows(X):
    X.sub_(X.max(dim=1, keepdim=True).values).exp_()
    return X.div_(X.sum(dim=1, keepdim=True))
"""

PATCHED_BUILTIN = """
import builtins
builtins.isinstance = lambda *args: True

def softmax_rows(X):
    return X
"""

RIGHT = SOFTMAX.solution


def test_a_patched_torch_equal_cannot_hide_a_mutation(sandbox):
    report = grade_source(SOFTMAX, HIDDEN_MUTATION, sandbox, include_hidden=True)
    batch = next(c for c in report.checks if c.name == "a 4x5 batch")
    assert batch.status == "fail" and "modified its input X in place" in batch.message


@pytest.mark.parametrize("source", [FORGED_DETACH, FORGED_MODE, PATCHED_BUILTIN], ids=["detach", "mode", "builtin"])
def test_a_patched_torch_cannot_forge_a_pass(sandbox, source):
    report = grade_source(SOFTMAX, source, sandbox, include_hidden=True)
    assert report.status != "pass", report.message
    value_checks = [c for c in report.checks if c.name == "a 4x5 batch"]
    assert value_checks and value_checks[0].status in ("fail", "error")


def test_a_right_answer_still_passes_beside_harmless_imports(sandbox):
    source = "import torch.distributions\nimport numpy as np\n" + RIGHT
    assert grade_source(SOFTMAX, source, sandbox, include_hidden=True).status == "pass"
