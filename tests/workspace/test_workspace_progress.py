"""Progress: what tutor remembers per exercise, and how it survives damage and races."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tutor.lessons import LessonSet
from tutor.workspace import ExerciseProgress, Workspace, statuses_for


def test_a_fresh_exercise_is_not_started(ws: Workspace) -> None:
    assert ws.progress("alpha/double") == ExerciseProgress()
    assert not (ws.root / ".tutor").exists()  # reading creates nothing


def test_results_move_the_status_and_count_attempts(ws: Workspace) -> None:
    ws.record_result("alpha/double", "fail")
    failed = ws.progress("alpha/double")
    assert (failed.status, failed.attempts, failed.passed_at) == ("failed", 1, None)
    assert failed.first_seen is not None and failed.last_attempt is not None

    ws.record_result("alpha/double", "pass")
    ws.record_result("alpha/double", "error")
    later = ws.progress("alpha/double")
    assert (later.status, later.attempts) == ("failed", 3)
    assert later.passed_at is not None  # it did pass once
    assert later.first_seen == failed.first_seen


def test_a_pass_that_left_hidden_checks_unrun_reads_visible_checks_pass(ws: Workspace, root: Path) -> None:
    ws.record_result("alpha/double", "pass", hidden_unrun=2)  # the app's local check
    local = ws.progress("alpha/double")
    assert (local.status, local.hidden_unrun, local.label) == ("passed", 2, "visible checks pass")
    assert local.passed_at is not None  # the reference solution opens after a local pass
    assert Workspace(root, ws.lessons).progress("alpha/double").label == "visible checks pass"  # kept on disk

    ws.record_result("alpha/double", "pass")  # tutor grade: every check ran
    assert ws.progress("alpha/double").label == "passed"
    ws.record_result("alpha/double", "fail", hidden_unrun=2)
    assert (ws.progress("alpha/double").label, ws.progress("alpha/double").hidden_unrun) == ("failed", 0)


def test_timestamps_are_iso_8601_utc(ws: Workspace) -> None:
    from datetime import datetime

    ws.record_result("alpha/double", "pass")
    stamp = ws.progress("alpha/double").passed_at
    assert stamp.endswith("Z")
    assert datetime.fromisoformat(stamp.replace("Z", "+00:00")).utcoffset().total_seconds() == 0


def test_an_unknown_result_is_refused(ws: Workspace) -> None:
    with pytest.raises(ValueError, match="'passed'"):
        ws.record_result("alpha/double", "passed")


def test_hints_come_in_order_and_the_last_one_repeats(ws: Workspace, lessons: LessonSet) -> None:
    exercise = lessons.exercise("alpha/double")
    shown = [ws.next_hint(exercise) for _ in range(5)]

    assert shown == [(1, "Multiply."), (2, "By two."), (3, "`return 2 * x`"), (3, "`return 2 * x`"), (3, "`return 2 * x`")]
    assert ws.progress("alpha/double").hints_shown == 3


def test_the_progress_file_is_small_versioned_readable_json(ws: Workspace, lessons: LessonSet) -> None:
    ws.init()
    ws.record_result("beta/triple", "pass")

    data = json.loads((ws.root / ".tutor" / "progress.json").read_text())

    assert data["version"] == 1
    assert data["exercises"]["beta/triple"]["status"] == "passed"
    assert set(data["exercises"]) == {"alpha/double", "alpha/shared", "beta/shared", "beta/triple"}


def test_statuses_for_reports_what_list_shows(ws: Workspace) -> None:
    ws.record_result("alpha/double", "pass")
    ws.record_result("beta/triple", "error")
    assert statuses_for(ws.root) == {"alpha/double": "passed", "beta/triple": "failed"}


def test_statuses_for_uses_the_default_workspace(ws: Workspace) -> None:
    ws.record_result("alpha/double", "pass")
    assert statuses_for(None) == {"alpha/double": "passed"}


@pytest.mark.parametrize("content", [b"", b"{", b"\xff\xfe", b"[]", b'{"version": 99, "exercises": {}}', b'{"version": 1}'])
def test_statuses_for_never_raises_on_a_corrupt_file(root: Path, content: bytes) -> None:
    (root / ".tutor").mkdir(parents=True)
    (root / ".tutor" / "progress.json").write_bytes(content)
    assert statuses_for(root) == {}


def test_statuses_for_a_missing_or_unreadable_workspace_is_empty(tmp_path: Path) -> None:
    assert statuses_for(tmp_path / "nowhere") == {}
    (tmp_path / "file").write_text("")
    assert statuses_for(tmp_path / "file") == {}
    (tmp_path / "d" / ".tutor" / "progress.json").mkdir(parents=True)
    assert statuses_for(tmp_path / "d") == {}


def test_a_corrupt_progress_file_is_moved_aside_and_rebuilt_without_losing_solutions(
    ws: Workspace, root: Path, lessons: LessonSet
) -> None:
    ws.init()
    mine = root / "alpha" / "double.py"
    mine.write_text("def double(x):\n    return 2 * x\n")
    progress = root / ".tutor" / "progress.json"
    progress.write_text('{"version": 1, "exercises": {')  # a torn write from some other tool

    fresh = Workspace(root, lessons)
    report = fresh.init()

    assert len(fresh.warnings) == 1 and "progress file was corrupt" in fresh.warnings[0]
    aside = list((root / ".tutor").glob("progress.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == '{"version": 1, "exercises": {'
    assert str(aside[0]) in fresh.warnings[0]
    assert mine.read_text() == "def double(x):\n    return 2 * x\n"
    assert mine in report.kept
    assert json.loads(progress.read_text())["version"] == 1


def test_a_corrupt_file_is_repaired_by_the_first_reader_and_then_reads_clean(ws: Workspace, root: Path, lessons: LessonSet) -> None:
    ws.init()
    (root / ".tutor" / "progress.json").write_bytes(b"\x00\x00garbage")

    first = Workspace(root, lessons)
    assert first.progress("alpha/double").status == "not started"
    second = Workspace(root, lessons)
    second.progress("alpha/double")

    assert len(first.warnings) == 1 and second.warnings == []


def test_a_bad_field_costs_only_that_field(ws: Workspace, root: Path) -> None:
    ws.record_result("alpha/double", "pass")
    path = root / ".tutor" / "progress.json"
    data = json.loads(path.read_text())
    data["exercises"]["alpha/double"]["attempts"] = "many"
    data["exercises"]["beta/triple"] = "nonsense"
    path.write_text(json.dumps(data))

    reader = Workspace(root, ws.lessons)
    entry = reader.progress("alpha/double")

    assert (entry.status, entry.attempts) == ("passed", 0)
    assert reader.warnings == []


def _child(work) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            work()
        finally:
            os._exit(0)
    return pid


def test_concurrent_writers_do_not_lose_each_others_updates(ws: Workspace, lessons: LessonSet) -> None:
    """The TUI and a `tutor grade` writing at once: every update lands."""
    exercise = lessons.exercise("alpha/double")

    def grade_many() -> None:
        other = Workspace(ws.root, lessons)
        for _ in range(60):
            other.record_result(exercise.id, "fail")

    def hint_many() -> None:
        other = Workspace(ws.root, lessons)
        for _ in range(60):
            other.record_result("beta/triple", "pass")

    pids = [_child(grade_many), _child(grade_many), _child(hint_many)]
    for pid in pids:
        assert os.waitpid(pid, 0)[1] == 0

    assert ws.progress(exercise.id).attempts == 120
    assert ws.progress("beta/triple").attempts == 60


def test_threads_sharing_one_workspace_do_not_lose_updates(ws: Workspace) -> None:
    """`tutor grade` records results from a thread pool through one Workspace."""
    from concurrent.futures import ThreadPoolExecutor

    ids = ["alpha/double", "alpha/shared", "beta/shared", "beta/triple"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: ws.record_result(ids[i % 4], "pass"), range(80)))

    assert {i: ws.progress(i).attempts for i in ids} == {i: 20 for i in ids}
