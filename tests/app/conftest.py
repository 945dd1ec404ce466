"""Fixtures: the app built by the CLI's factory from fakes and a miniature lesson set."""

from __future__ import annotations

import pytest

from tutor.app.app import TutorApp, make_app
from tutor.workspace import Workspace

from .fakes import FakeSandbox, fake_grade, sample_lessons, workspace_at


@pytest.fixture
def sandbox() -> FakeSandbox:
    return FakeSandbox()


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    return workspace_at(tmp_path / "workspace")


@pytest.fixture
def app(sandbox: FakeSandbox, workspace: Workspace) -> TutorApp:
    return make_app(sample_lessons(), workspace, sandbox, grade=fake_grade, device="cpu", watch_interval=0.05)
