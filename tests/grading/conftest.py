"""Fixtures of the grading tests: the commands an instructor types, run through the CLI but
on the session's sandbox instead of a server of their own for every command."""

from __future__ import annotations

import pytest

import tutor.commands.batch as batch_command
import tutor.commands.export as export_command
import tutor.commands.grade as grade_command
from tutor.core import Tutor


def _starting_on(sandbox):
    """``start_tutor`` as the commands call it, with the session's sandbox as the core's."""
    def start(lessons, args, workspace=None, *, grading=False):
        core = Tutor(lessons, workspace, device="cpu", client=sandbox)
        core.start()
        if grading:
            core.require_hidden_lessons()  # as the command does: the session's sandbox hides them
        return core

    return start


@pytest.fixture
def batch_on_shared_sandbox(monkeypatch, sandbox):
    """``tutor grade --batch`` on the session's sandbox."""
    monkeypatch.setattr(batch_command, "start_tutor", _starting_on(sandbox))


@pytest.fixture
def on_shared_sandbox(monkeypatch, sandbox):
    """``tutor export`` and ``tutor grade`` on the session's sandbox."""
    start = _starting_on(sandbox)
    monkeypatch.setattr(export_command, "start_tutor", start)
    monkeypatch.setattr(grade_command, "start_tutor", start)
