"""Rules decided by what ran, not by what the source calls it: a banned kernel is caught
under every alias PyTorch gives it, and a required call made only for show (its result
never used) does not count."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.grading.grade import grade_source
from tutor.lessons import load_lessons

LESSONS = load_lessons([Path(__file__).parent / "data" / "run-time-rules"])
SOFTMAX = LESSONS.exercise("run-time-rules/softmax")
FIT = LESSONS.exercise("run-time-rules/fit")


def rules_message(report) -> str:
    return next((c.message for c in report.checks if c.name == "rules"), "")


@pytest.mark.slow
@pytest.mark.parametrize("source", [
    'def softmax_rows(X):\n    return torch._C._VariableFunctions.softmax(X, 1)\n',
    'def softmax_rows(X):\n    return torch.ops.aten._softmax(X, 1, False)\n',
    'def softmax_rows(X):\n    return torch._C.TensorBase.softmax(X, 1)\n',
    # An alias taken when the file is loaded, by a name no source rule can read.
    '_f = getattr(torch, "soft" + "max")\n\ndef softmax_rows(X):\n    return _f(X, dim=1)\n',
    'import torch.nn.functional as G\n_g = vars(G)["soft" "max"]\n\ndef softmax_rows(X):\n    return _g(X, 1)\n',
], ids=["VariableFunctions", "ops.aten", "TensorBase", "module-level alias", "vars() of functional"])
def test_softmax_under_any_name_breaks_the_ban(sandbox, source):
    report = grade_source(SOFTMAX, source, sandbox, include_hidden=True)
    assert report.status == "fail", report.message
    assert "aten::_softmax" in rules_message(report) or "softmax" in rules_message(report)
    assert report.score == 0


@pytest.mark.slow
def test_a_softmax_written_from_its_formula_passes(sandbox):
    assert grade_source(SOFTMAX, SOFTMAX.solution, sandbox, include_hidden=True).status == "pass"


@pytest.mark.slow
def test_removing_the_recorder_is_caught(sandbox):
    # The kernel, once the mode that records kernels is gone: only the missing mode tells.
    source = ('from torch.utils._python_dispatch import _pop_mode\n\n'
              'def softmax_rows(X):\n    _pop_mode()\n    return torch.ops.aten._softmax(X, 1, False)\n')
    report = grade_source(SOFTMAX, source, sandbox, include_hidden=True)
    assert report.status == "fail" and "removed the recorder" in rules_message(report)


CLOSED_FORM_WITH_A_TOKEN_BACKWARD = '''
def fit(X, y):
    w = torch.zeros(X.shape[1], requires_grad=True)
    ((X @ w - y) ** 2).mean().backward()          # for show
    return torch.linalg.lstsq(X, y.unsqueeze(1)).solution.squeeze(1)
'''


@pytest.mark.slow
def test_a_token_backward_beside_a_closed_form_does_not_satisfy_required(sandbox):
    report = grade_source(FIT, CLOSED_FORM_WITH_A_TOKEN_BACKWARD, sandbox, include_hidden=True)
    assert report.status == "fail"
    assert "does not use what it computed" in rules_message(report)
    # Its values are right: only the rule tells it from gradient descent.
    assert [c.status for c in report.checks if c.name != "rules"] == ["pass"]


@pytest.mark.slow
def test_gradient_descent_written_differently_still_passes(sandbox):
    autograd_grad = '''
def fit(X, y):
    w = torch.zeros(X.shape[1])
    for _ in range(500):
        w.requires_grad_(True)
        loss = ((X @ w - y) ** 2).mean()
        loss.backward()
        w = (w - 0.1 * w.grad).detach()
    return w
'''
    assert grade_source(FIT, FIT.solution, sandbox, include_hidden=True).status == "pass"
    assert grade_source(FIT, autograd_grad, sandbox, include_hidden=True).status == "pass"


@pytest.mark.slow
def test_a_banned_operator_reached_by_its_overload_is_named_as_the_banned_call(sandbox):
    """The door torch.ops.aten keeps its overloads: the learner reads "called ... which
    this exercise bans", not an AttributeError from a wrapper."""
    source = 'def softmax_rows(X):\n    return torch.ops.aten._softmax.default(X, 1, False)\n'
    report = grade_source(SOFTMAX, source, sandbox, include_hidden=True)
    assert report.status == "fail" and "which this exercise bans" in rules_message(report)
    assert "AttributeError" not in report.message
