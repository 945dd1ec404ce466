"""The report files CI reads: written whole, readable by the uploader, and a path that
cannot be written is one line naming it, not a traceback after the grading is done."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tutor.errors import UsageError
from tutor.grading.formats import to_json, write_json
from tutor.grading.results import ExerciseReport


def test_a_report_lands_in_a_new_directory_readable_by_others(tmp_path: Path) -> None:
    target = tmp_path / "ci" / "artifacts" / "grade.json"

    write_json(target, to_json([ExerciseReport(id="a/b", status="pass")]))

    assert json.loads(target.read_text())["summary"] == {"passed": 1, "failed": 0, "errored": 0}
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["grade.json"]  # no temp file left


def test_an_unwritable_report_path_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    target = blocker / "grade.json"

    with pytest.raises(UsageError, match=r"a-file/grade\.json: cannot write the report"):
        write_json(target, {"version": 1})
