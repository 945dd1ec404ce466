"""The report files CI reads: written whole, readable by the uploader, and a path that
cannot be written is one line naming it, not a traceback after the grading is done."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tutor.cli import GRADESCOPE_VISIBILITIES
from tutor.errors import UsageError
from tutor.grading.formats import GRADESCOPE_VISIBILITIES as FORMAT_VISIBILITIES
from tutor.grading.formats import to_gradescope, to_json, write_json
from tutor.grading.results import CheckResult, ExerciseReport


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


def test_gradescope_has_one_test_per_check_and_one_per_exercise_that_could_not_count() -> None:
    secret = CheckResult("secret inputs", "fail", message="NaN at index 3", hidden=True, max_score=2.0)
    partial = ExerciseReport(id="l/partial", status="fail", message="1 of 2 checks failed; first: secret inputs: NaN",
                             checks=[CheckResult("shape", "pass"), secret])
    banned = ExerciseReport(id="l/banned", status="fail", checks=[
        CheckResult("shape", "pass"), CheckResult("rules", "fail", message="line 2: torch.softmax is banned", max_score=0.0)])
    crashed = ExerciseReport(id="l/crashed", status="error", message="timed out after 5 s",
                             checks=[CheckResult("shape", "error", message="timed out after 5 s", max_score=3.0)])
    missing = ExerciseReport(id="l/missing", status="error", message="no solution file (missing.py)", points=4.0)

    results = to_gradescope([partial, banned, crashed, missing])

    assert [(t["name"], t["score"], t["max_score"], t["visibility"]) for t in results["tests"]] == [
        ("l/partial: shape", 1.0, 1.0, "visible"), ("l/partial: secret inputs", 0.0, 2.0, "after_due_date"),
        ("l/banned", 0.0, 1.0, "visible"), ("l/crashed", 0.0, 3.0, "visible"), ("l/missing", 0.0, 4.0, "visible")]
    outputs = {t["name"]: t["output"] for t in results["tests"]}
    assert "torch.softmax is banned" in outputs["l/banned"] and "timed out" in outputs["l/crashed"]
    assert "no solution file" in outputs["l/missing"] and "NaN at index 3" in outputs["l/partial: secret inputs"]
    assert "secret" not in outputs["l/partial: shape"] and "NaN" not in outputs["l/partial: shape"]
    assert results["score"] == 1.0
    assert to_gradescope([partial], "visible")["tests"][1]["visibility"] == "visible"
    with pytest.raises(UsageError, match="visibility"):
        to_gradescope([partial], "later")
    assert GRADESCOPE_VISIBILITIES == FORMAT_VISIBILITIES
