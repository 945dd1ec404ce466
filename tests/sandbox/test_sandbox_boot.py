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
