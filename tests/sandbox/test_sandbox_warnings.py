"""A warning in a learner's run names their file as they know it, never this machine's folders."""

from __future__ import annotations

import pytest

from tutor.sandbox.api import RunRequest
from tutor.sandbox.client import SandboxClient
from tutor.sandbox.warning_paths import short_path

ON_DISK = "/home/ann/tutor-workspace/autograd/derivatives.py"


@pytest.mark.slow
def test_a_starters_warning_names_the_lesson_and_file_not_the_workspace(sandbox: SandboxClient) -> None:
    code = ("import warnings\n"
            "x = torch.tensor(torch.ones(2))\n"  # torch's copy-construct warning, on the learner's line
            "warnings.warn('careful')\n"
            "torch.nn.functional.softmax(torch.ones(2))\n")  # raised from torch's own file
    result = sandbox.run(RunRequest(code=code, filename=ON_DISK))
    assert result.status == "ok", result.error
    assert "autograd/derivatives.py:2: UserWarning: To copy construct from a tensor" in result.stdout
    assert "autograd/derivatives.py:3: UserWarning: careful\n  warnings.warn('careful')" in result.stdout
    assert "/home/ann" not in result.stdout and "site-packages" not in result.stdout


@pytest.mark.parametrize("path, shown", [
    ("/home/ann/tutor-workspace/autograd/derivatives.py", "autograd/derivatives.py"),
    ("/opt/venv/lib/python3.11/site-packages/torch/nn/functional.py", "torch/nn/functional.py"),
    ("lesson/cell-3.py", "lesson/cell-3.py"),
    ("<snippet>", "<snippet>"),
])
def test_paths_are_shortened_to_what_the_learner_knows(path: str, shown: str) -> None:
    assert short_path(path) == shown
