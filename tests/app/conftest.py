"""Fixtures: the app built by the CLI's factory from fakes and a miniature lesson set."""

from __future__ import annotations

import pytest

from tutor.app.app import TutorApp, make_app

from .fakes import FakeSandbox, FakeWorkspace, fake_grade, sample_lessons


@pytest.fixture
def sandbox() -> FakeSandbox:
    return FakeSandbox()


@pytest.fixture
def workspace(tmp_path) -> FakeWorkspace:
    return FakeWorkspace(tmp_path / "workspace")


@pytest.fixture
def app(sandbox: FakeSandbox, workspace: FakeWorkspace) -> TutorApp:
    return make_app(sample_lessons(), workspace, sandbox, grade=fake_grade, device="cpu", watch_interval=0.05)
