"""The GPU path: each child initialises CUDA itself (the server never does)."""

from __future__ import annotations

import pytest

from tutor.errors import UsageError
from tutor.sandbox.api import RunRequest
from tutor.sandbox.client import SandboxClient

pytestmark = pytest.mark.slow


def test_asking_for_cuda_without_it_is_a_plain_usage_error(sandbox: SandboxClient) -> None:
    if sandbox.cuda_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(UsageError, match="^--device cuda: no CUDA device is available on this machine$"):
        sandbox.resolve_device("cuda")
    assert sandbox.resolve_device("auto") == "cpu"


@pytest.mark.gpu
def test_snippets_see_cuda_as_device_and_run_on_it(sandbox: SandboxClient) -> None:
    if not sandbox.cuda_available():
        pytest.skip("no CUDA device")
    for _ in range(2):  # twice: the second child must initialise CUDA afresh too
        result = sandbox.run(RunRequest(code="x = torch.randn(512, 512, device=DEVICE)\ny = (x @ x).sum()\n",
                                        device="cuda", timeout=60))
        assert result.status == "ok", result.error
        assert result.device == "cuda"
        assert {v["name"]: v["device"] for v in result.variables}["x"].startswith("cuda")
