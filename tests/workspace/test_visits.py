"""The last-visited record: written atomically, read leniently (a damaged or unknown
record is "nowhere", never an error)."""

from __future__ import annotations

from tutor.lessons import LessonSet
from tutor.workspace import Visit, Workspace, read_visit
from tutor.workspace.visits import visit_path


def test_a_visit_round_trips_and_the_latest_wins(tmp_path) -> None:
    workspace = Workspace(tmp_path / "ws", LessonSet())
    assert workspace.last_visit() is None
    workspace.record_visit("lesson", "autograd", 4)
    workspace.record_visit("exercise", "autograd/zero-grad")
    visit = workspace.last_visit()
    assert visit is not None and (visit.kind, visit.id, visit.cell) == ("exercise", "autograd/zero-grad", None)
    assert visit.at is not None and visit.at.endswith("Z")
    assert [p.name for p in visit_path(tmp_path / "ws").parent.iterdir()] == ["last-visited.json"]  # no temp left


def test_a_damaged_or_foreign_record_reads_as_nowhere(tmp_path) -> None:
    path = visit_path(tmp_path)
    path.parent.mkdir(parents=True)
    for text in ["{not json", '{"version": 2, "kind": "lesson", "id": "x"}', '{"version": 1, "kind": "page", "id": "x"}',
                 '{"version": 1, "kind": "lesson", "id": ""}', "[]", "\udcff"]:
        path.write_text(text, errors="surrogateescape")
        assert read_visit(tmp_path) is None, text
    path.write_text('{"version": 1, "kind": "lesson", "id": "x", "cell": -1}')
    assert read_visit(tmp_path) == Visit("lesson", "x", None, None)
    assert read_visit(tmp_path / "missing") is None
    assert read_visit(None) is None
