"""The try-it store: the learner's copies of lesson cells, one file per lesson, read
leniently and removed when nothing is left to keep."""

from __future__ import annotations

import json

import pytest

from tutor.errors import WorkspaceError
from tutor.lessons import LessonSet
from tutor.workspace import CellEdit, TryIt, Workspace
from tutor.workspace.store import sha256
from tutor.workspace.tryit import read_try_it, try_it_path


def test_edits_round_trip_and_an_empty_set_removes_the_file(tmp_path) -> None:
    workspace = Workspace(tmp_path, LessonSet())
    assert workspace.try_it("autograd").is_empty()
    edits = TryIt(cells={3: CellEdit("y = 2\n", sha256("y = 1\n"))}, scratch="print(1)\n")
    workspace.save_try_it("autograd", edits)
    again = workspace.try_it("autograd")
    assert again == edits
    assert again.cells[3].made_from("y = 1\n") and not again.cells[3].made_from("y = 3\n")
    workspace.save_try_it("autograd", TryIt())
    assert not try_it_path(tmp_path, "autograd").exists()


def test_a_damaged_file_keeps_what_it_can(tmp_path) -> None:
    path = try_it_path(tmp_path, "modules")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 1, "cells": {"1": {"code": "a = 1\n"}, "x": {"code": "b"}, "2": "c",
                                                        "3": {"code": 4}}, "scratch": 5}))
    assert read_try_it(tmp_path, "modules") == TryIt(cells={1: CellEdit("a = 1\n", "")})
    path.write_text("{broken")
    assert read_try_it(tmp_path, "modules").is_empty()


def test_a_lesson_id_cannot_escape_the_store(tmp_path) -> None:
    with pytest.raises(WorkspaceError):
        try_it_path(tmp_path, "../../etc")
    assert read_try_it(tmp_path, "../x").is_empty()
