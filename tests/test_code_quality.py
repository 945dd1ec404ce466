"""The architecture stays as designed: import-linter's contracts (pyproject.toml), ruff and
mypy run with the suite, so CI fails the moment one breaks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: install the test extras (pip install -e '.[test]')")
    return found


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)


def test_import_contracts_hold():
    """The front never imports torch; lessons, the core, the CLI, grading and the sandbox
    never import Textual or the app; the sandbox knows nothing of grading; screens and
    widgets never import the app module."""
    result = run(tool("lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_ruff_finds_nothing():
    result = run(tool("ruff"), "check", "--no-cache", "tutor", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing():
    result = run(tool("mypy"), "--cache-dir", "/dev/null")
    assert result.returncode == 0, result.stdout + result.stderr
