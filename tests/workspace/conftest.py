"""Fixtures for the workspace tests: a miniature lesson set (two lessons, four
exercises, one short id shared by both lessons) and a fresh workspace per test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.lessons import LessonSet, load_lessons
from tutor.workspace import DEFAULT_WORKSPACE_ENV, Workspace

LESSONS_DIR = Path(__file__).parent / "lessons"


@pytest.fixture(scope="session")
def lessons() -> LessonSet:
    loaded = load_lessons(LESSONS_DIR)
    assert not loaded.errors
    return loaded


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The workspace directory; also the default one, so no test touches ~."""
    path = tmp_path / "ws"
    monkeypatch.setenv(DEFAULT_WORKSPACE_ENV, str(path))
    return path


@pytest.fixture
def ws(root: Path, lessons: LessonSet) -> Workspace:
    return Workspace(root, lessons)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def tutor(capsys: pytest.CaptureFixture[str], root: Path):
    """Run ``tutor ARGS...`` in-process on the miniature lessons and the test workspace."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main([*args, "--lessons", str(LESSONS_DIR)])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
