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
    """Every module of tutor sits in a layer and imports only the layers below it; no front
    imports another; no import cycle between tutor's packages; only child-side code imports
    torch and only the app imports Textual; screens and widgets never import the app module."""
    result = run(tool("lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_python_file_of_tutor_is_a_module_the_contracts_see():
    """A folder of tutor/ without ``__init__.py`` would be a namespace package that the
    import graph leaves out, and its modules would escape every contract."""
    missing = sorted(
        str(folder.relative_to(REPO))
        for folder in {path.parent for path in (REPO / "tutor").rglob("*.py")}
        if "__pycache__" not in folder.parts and not (folder / "__init__.py").is_file()
    )
    assert missing == []


# New modules that no contract names, each with the contract it must break (its id in
# pyproject.toml) and what the report must say: (contract, file, source, reported).
NEW_MODULES = [
    ("layers", "tutor/newroom/__init__.py", "", "tutor.newroom"),
    ("layers", "tutor/sandbox/newmod.py", "import tutor.grading\n", "tutor.sandbox.newmod -> tutor.grading"),
    ("layers", "tutor/lessons/newmod.py", "from tutor.session import Session\n", "tutor.lessons.newmod -> tutor.session"),
    ("fronts", "tutor/commands/newmod.py", "import tutor.app\n", "tutor.commands.newmod -> tutor.app"),
    ("no-cycles", "tutor/lessons/newmod.py", "import tutor.workspace\n", ".lessons -> .workspace"),
    ("torch", "tutor/grading/newmod.py", "import torch\n", "tutor.grading.newmod"),
    ("torch", "tutor/newmod.py", "def f():\n    import torch.nn\n", "tutor.newmod"),
    ("textual", "tutor/session/newmod.py", "from textual.widgets import Static\n", "tutor.session.newmod"),
    ("textual", "tutor/newroom/__init__.py", "import textual\n", "tutor.newroom"),
]


@pytest.mark.parametrize(("contract", "file", "source", "reported"), NEW_MODULES,
                         ids=[f"{case[0]}:{case[1]}" for case in NEW_MODULES])
def test_the_contracts_cover_a_new_module_without_an_edit(tmp_path: Path, contract: str, file: str,
                                                           source: str, reported: str):
    """On a copy of the package with the very same contracts, a new module breaks the
    contract it offends, named in the report, though no contract was edited to list it."""
    shutil.copytree(REPO / "tutor", tmp_path / "tutor", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")

    def lint() -> subprocess.CompletedProcess[str]:
        # lint-imports puts its working directory first on the path: it reads the copy.
        return subprocess.run([tool("lint-imports"), "--no-cache", "--contract", contract], cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)

    before = lint()
    assert before.returncode == 0, before.stdout + before.stderr
    path = tmp_path / file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    after = lint()
    report = after.stdout + after.stderr
    assert after.returncode == 1 and "1 broken" in after.stdout, report
    assert reported in report, report


def test_ruff_finds_nothing():
    result = run(tool("ruff"), "check", "--no-cache", "tutor", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing():
    result = run(tool("mypy"), "--cache-dir", "/dev/null")
    assert result.returncode == 0, result.stdout + result.stderr
