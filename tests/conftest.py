"""Fixtures shared by the whole suite.

``sandbox`` is one real sandbox server for the whole test session: starting one costs
about a second (it imports torch), a run through it a few milliseconds. Tests that use
it are marked ``@pytest.mark.slow``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor.sandbox.client import SandboxClient

REPO = Path(__file__).resolve().parents[1]
LESSONS_DIR = REPO / "lessons"
# Lesson sets the tests grade against hold reference solutions too: hide them all.
HIDDEN_DIRS = [LESSONS_DIR, *sorted((REPO / "tests").glob("*/data")), REPO / "tests" / "data"]


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxClient]:
    """A started sandbox that hides every lesson set, closed at session end."""
    client = SandboxClient(hide_paths=[p for p in HIDDEN_DIRS if p.is_dir()], device="cpu")
    client.start()
    try:
        yield client
    finally:
        client.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The course's tests share warm sandboxes (one per CPU kernel set) and results graded
    ahead (tests/course/conftest.py): in a parallel run they all go to one worker, which
    grades the course once, instead of each worker grading it again."""
    course = REPO / "tests" / "course"
    for item in items:
        if course in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.xdist_group("course"))
