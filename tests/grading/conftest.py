"""Fixtures of the grading tests."""

from __future__ import annotations

import pytest

from tutor.core import Tutor


@pytest.fixture
def batch_on_shared_sandbox(monkeypatch, sandbox):
    """``tutor grade --batch`` through the CLI as an instructor types it, graded on the
    session's sandbox instead of starting a server of its own for every command."""
    import tutor.commands.batch as command

    def start(lessons, args, workspace=None, *, grading=False):
        core = Tutor(lessons, workspace, device="cpu", client=sandbox)
        core.start()
        if grading:
            core.require_hidden_lessons()  # as the command does: the session's sandbox hides them
        return core

    monkeypatch.setattr(command, "start_tutor", start)
