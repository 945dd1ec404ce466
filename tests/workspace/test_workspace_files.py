"""A learner's solution files: written once, never clobbered, reset with a backup."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tutor.atomic import atomic_write
from tutor.errors import WorkspaceError
from tutor.lessons import LessonSet
from tutor.workspace import Workspace, default_workspace, first_code_line, starter_text


def test_init_writes_one_starter_per_exercise_grouped_by_lesson(ws: Workspace, root: Path) -> None:
    report = ws.init()

    assert sorted(p.relative_to(root).as_posix() for p in report.written) == [
        "alpha/double.py", "alpha/shared.py", "beta/shared.py", "beta/triple.py",
    ]
    assert report.kept == [] and report.updated == []
    text = (root / "alpha" / "double.py").read_text()
    assert text.startswith("# Double it: check with `tutor grade alpha/double`,\n")
    assert "tutor hint alpha/double" in text
    assert "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n" in text
    assert text.endswith("def double(x):\n    # TODO\n    return x\n")


def test_starter_file_is_valid_python_that_defines_the_starter(lessons: LessonSet) -> None:
    exercise = lessons.exercise("alpha/double")

    module = ast.parse(starter_text(exercise), "double.py")  # a SyntaxError fails the test

    defined = [node.name for node in module.body if isinstance(node, ast.FunctionDef)]
    assert defined == ["double"]
    # Three comment lines (the prompt is on screen in the app, not repeated here), then
    # the imports an editor wants, then the learner's code.
    assert isinstance(module.body[0], ast.Import) and module.body[0].names[0].name == "torch"
    assert module.body[0].lineno == 4
    lines = starter_text(exercise).splitlines()
    assert all(line.startswith("# ") for line in lines[:3])
    assert lines[first_code_line(starter_text(exercise))] == "def double(x):"


def test_the_first_code_line_skips_any_header_and_the_imports() -> None:
    old_header = "# Title  (a/b)\n#\n# The long prompt\n#\nimport torch\nfrom torch import nn\n\nx = 1\n"
    assert first_code_line(old_header) == 7
    assert first_code_line("def f():\n    import os\n") == 0
    assert first_code_line("# only a comment\n") == 1  # the end: where code would go


def test_init_twice_keeps_everything_and_changes_nothing(ws: Workspace, root: Path) -> None:
    ws.init()
    before = {p: p.read_bytes() for p in root.rglob("*.py")}

    report = Workspace(root, ws.lessons).init()

    assert report.written == [] and report.updated == []
    assert len(report.kept) == 4
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


def test_init_never_overwrites_a_file_the_learner_changed(ws: Workspace, root: Path) -> None:
    ws.init()
    mine = root / "alpha" / "double.py"
    mine.write_text("def double(x):\n    return x + x\n")
    (root / "beta" / "triple.py").unlink()

    report = ws.init()

    assert mine.read_text() == "def double(x):\n    return x + x\n"
    assert mine in report.kept
    assert report.written == [root / "beta" / "triple.py"]


def test_init_keeps_a_changed_file_even_without_progress(ws: Workspace, root: Path) -> None:
    """A learner who deleted .tutor/ still never loses a solution."""
    ws.init()
    mine = root / "alpha" / "double.py"
    mine.write_text("mine\n")
    for path in (root / ".tutor").iterdir():
        path.unlink()

    assert mine in ws.init().kept
    assert mine.read_text() == "mine\n"


def test_init_refreshes_an_untouched_starter_when_the_lesson_changes(
    ws: Workspace, root: Path, lessons: LessonSet, tmp_path: Path
) -> None:
    ws.init()
    changed = tmp_path / "lessons"
    changed.mkdir()
    for source in (Path(__file__).parent / "lessons").glob("*.md"):
        (changed / source.name).write_text(source.read_text().replace("# TODO\n", "# TODO: multiply\n"))
    from tutor.lessons import load_lessons

    report = Workspace(root, load_lessons(changed)).init()

    assert report.updated == [root / "alpha" / "double.py"]
    assert "# TODO: multiply" in (root / "alpha" / "double.py").read_text()


def test_ensure_writes_a_missing_starter_only(ws: Workspace, lessons: LessonSet) -> None:
    exercise = lessons.exercise("beta/triple")
    path = ws.ensure(exercise)
    assert path.read_text() == starter_text(exercise)

    path.write_text("changed\n")
    assert ws.ensure(exercise) == path
    assert path.read_text() == "changed\n"


def test_save_then_read_round_trips_and_leaves_no_temp_files(ws: Workspace, lessons: LessonSet) -> None:
    exercise = lessons.exercise("alpha/double")
    ws.save(exercise, "def double(x):\n    return 2 * x  # é\n")

    assert ws.read(exercise) == "def double(x):\n    return 2 * x  # é\n"
    assert [p.name for p in ws.path_for(exercise).parent.iterdir()] == ["double.py"]


def test_atomic_write_keeps_the_file_mode(tmp_path: Path) -> None:
    target = tmp_path / "f.py"
    target.write_text("old")
    target.chmod(0o600)
    atomic_write(target, b"new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o600


def test_reading_a_missing_solution_names_the_file_and_says_what_to_do(ws: Workspace, lessons: LessonSet) -> None:
    with pytest.raises(WorkspaceError, match=r"alpha/double\.py: no such file; run `tutor init`"):
        ws.read(lessons.exercise("alpha/double"))


def test_reading_a_non_utf8_solution_names_the_file(ws: Workspace, lessons: LessonSet) -> None:
    exercise = lessons.exercise("alpha/double")
    ws.ensure(exercise).write_bytes(b"x = '\xff'\n")
    with pytest.raises(WorkspaceError, match=r"double\.py: not UTF-8") as info:
        ws.read(exercise)
    assert info.value.exit_code == 2


def test_reading_a_directory_where_a_solution_should_be_is_a_workspace_error(ws: Workspace, lessons: LessonSet) -> None:
    exercise = lessons.exercise("alpha/double")
    ws.path_for(exercise).mkdir(parents=True)
    with pytest.raises(WorkspaceError, match="double.py: cannot read"):
        ws.read(exercise)


def test_a_workspace_that_is_a_file_is_a_workspace_error(lessons: LessonSet, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(WorkspaceError, match="not-a-dir"):
        Workspace(blocker, lessons).init()


def test_reset_puts_the_starter_back_and_keeps_the_old_file(ws: Workspace, lessons: LessonSet) -> None:
    exercise = lessons.exercise("alpha/double")
    ws.save(exercise, "my attempt\n")

    backup = ws.reset(exercise)

    assert backup is not None and backup.read_text() == "my attempt\n"
    assert backup.name.startswith("double.py.bak-")
    assert ws.read(exercise) == starter_text(exercise)


def test_two_resets_in_a_row_keep_two_distinct_backups(ws: Workspace, lessons: LessonSet) -> None:
    exercise = lessons.exercise("alpha/double")
    ws.save(exercise, "first\n")
    first = ws.reset(exercise)
    ws.save(exercise, "second\n")
    second = ws.reset(exercise)

    assert first != second
    assert (first.read_text(), second.read_text()) == ("first\n", "second\n")


def test_reset_of_an_untouched_or_missing_file_makes_no_backup(ws: Workspace, lessons: LessonSet) -> None:
    exercise = lessons.exercise("alpha/double")
    assert ws.reset(exercise) is None  # missing: the starter is written
    assert ws.reset(exercise) is None  # already the starter
    assert sorted(p.name for p in ws.path_for(exercise).parent.iterdir()) == ["double.py"]


def test_default_workspace_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TUTOR_WORKSPACE", str(tmp_path / "mine"))
    assert default_workspace() == tmp_path / "mine"
    monkeypatch.delenv("TUTOR_WORKSPACE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_workspace() == tmp_path / "tutor-workspace"
