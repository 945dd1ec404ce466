"""The server's start, without a server: it warms what the front names, nothing more."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tutor.sandbox import boot

SANDBOX = Path(__file__).resolve().parents[2] / "tutor" / "sandbox"


def test_the_sandbox_imports_nothing_from_grading() -> None:
    """The sandbox runs any task; which modules a grading run needs is grading's to say."""
    for path in SANDBOX.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.startswith("tutor.grading") for n in names), path.name


def test_warm_modules_imports_what_the_front_names_and_skips_what_fails() -> None:
    sys.modules.pop("colorsys", None)
    assert boot.warm_modules(["colorsys", "no_such_module_here", 5, "tutor.no.such"]) == ["colorsys"]
    assert "colorsys" in sys.modules
    assert boot.warm_modules("colorsys") == []  # not a list: nothing


def test_the_server_imports_tutor_from_where_the_front_did_not_the_current_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A learner's project may have a `tutor` package of its own; `python -m` would
    import it from the current directory before ours."""
    from tutor.sandbox.api import RunRequest
    from tutor.sandbox.client import SandboxClient

    fake = tmp_path / "tutor"
    (fake / "sandbox").mkdir(parents=True)
    (fake / "__init__.py").write_text("raise SystemExit('the wrong tutor was imported')\n")
    monkeypatch.chdir(tmp_path)
    with SandboxClient(device="cpu") as client:
        assert client.run(RunRequest(code="print(1)")).stdout == "1\n"


@pytest.mark.slow
def test_a_server_that_skips_the_optimizer_warm_up_still_runs_optimizers(monkeypatch, tmp_path):
    """`tutor grade` of exercises without optimizers starts its server without importing
    torch's compiler stack; a run that builds one anyway pays for it and works.

    Even when the front had imported the compiler first: torch then sets
    TORCHINDUCTOR_CACHE_DIR to a folder under /tmp, which the server inherits, and
    which the run cannot create in its empty, read-only /tmp."""
    from tutor.sandbox.api import RunRequest
    from tutor.sandbox.client import SandboxClient

    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", f"/tmp/torchinductor-{tmp_path.name}")
    with SandboxClient(device="cpu", warm_optimizers=False) as client:
        result = client.run(RunRequest(code="opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)\nprint('ok')",
                                       timeout=60))
    assert result.ok and result.stdout.strip() == "ok"


def test_which_code_needs_the_optimizer_warm_up():
    from tutor.core import uses_optimizers

    assert uses_optimizers(["x = 1", "opt = torch.optim.SGD(p, lr=0.1)"])
    assert uses_optimizers(["s = torch.optim.lr_scheduler.StepLR(opt, 3)"])
    assert not uses_optimizers(["def f(t):\n    return t.shape", ""])
