"""Resume: `tutor` opens where the learner left off (the lesson and its cell, or the
exercise), with the lesson list one Esc away; `tutor list` marks the place."""

from __future__ import annotations

import json

from textual.widgets import Tree

from tutor.app.app import TutorApp, make_app
from tutor.app.screens.exercise import ExerciseScreen
from tutor.app.screens.lesson import LessonScreen
from tutor.app.screens.lesson_list import LessonListScreen
from tutor.app.widgets.code_cell import CodeCell
from tutor.cli import main

from .fakes import LESSONS_DIR, FakeSandbox, fake_grade, sample_lessons, workspace_at
from .test_story import open_exercise, open_first_lesson, sandbox_ready


def restart(tmp_path) -> TutorApp:
    """A new app over the same workspace, as after quitting and typing `tutor` again."""
    return make_app(sample_lessons(), workspace_at(tmp_path / "workspace"), FakeSandbox(), grade=fake_grade,
                    device="cpu", watch_interval=0.05)


async def test_tutor_opens_the_lesson_and_cell_the_learner_left(tmp_path) -> None:
    app = restart(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(app, pilot)
        await pilot.press("j")  # on to the second cell
        assert screen.focused is screen.cells[1]
        await pilot.press("q")
        await pilot.pause()

    app = restart(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sandbox_ready(app, pilot)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LessonScreen) and screen.lesson.id == "first-steps"
        assert isinstance(screen.focused, CodeCell) and screen.focused is screen.cells[1]
        assert screen.query_one("#lesson-body").region.contains_region(screen.cells[1].region)
        await pilot.press("escape")  # the lesson list is one key away, on that lesson
        assert isinstance(app.screen, LessonListScreen)
        tree = app.screen.query_one(Tree)
        assert tree.cursor_node is not None and tree.cursor_node.data.id == "first-steps"


async def test_tutor_opens_the_exercise_the_learner_left(tmp_path) -> None:
    app = restart(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_exercise(app, pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()

    app = restart(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sandbox_ready(app, pilot)
        await pilot.pause()
        assert isinstance(app.screen, ExerciseScreen) and app.screen.exercise.id == "first-steps/add-row"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)
        tree = app.screen.query_one(Tree)
        assert tree.cursor_node is not None and tree.cursor_node.data.id == "first-steps/add-row"


async def test_back_from_an_exercise_the_lesson_is_the_place_again(tmp_path) -> None:
    app = restart(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(app, pilot)
        await pilot.press("x")  # the lesson's exercise
        await pilot.pause()
        assert isinstance(app.screen, ExerciseScreen)
        assert app.core.workspace.last_visit().kind == "exercise"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        visit = app.core.workspace.last_visit()
        assert (visit.kind, visit.id, visit.cell) == ("lesson", "first-steps", 0)


async def test_a_fresh_workspace_opens_on_the_lesson_list(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await sandbox_ready(app, pilot)
        assert isinstance(app.screen, LessonListScreen)


async def test_a_place_that_no_longer_exists_opens_the_list(tmp_path) -> None:
    workspace = workspace_at(tmp_path / "workspace")
    workspace.record_visit("lesson", "a-lesson-since-removed", 3)
    app = restart(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sandbox_ready(app, pilot)
        assert isinstance(app.screen, LessonListScreen)


def test_tutor_list_marks_where_the_learner_left_off(tmp_path, capsys) -> None:
    lessons = tmp_path / "lessons"  # the good lesson files (`tutor list` refuses a broken one)
    lessons.mkdir()
    for path in sorted(LESSONS_DIR.glob("0[12]-*.md")):
        (lessons / path.name).write_text(path.read_text())
    root = tmp_path / "workspace"
    workspace_at(root).record_visit("exercise", "first-steps/add-row")
    args = ["list", "--lessons", str(lessons), "--workspace", str(root)]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    [marked] = [line for line in lines if "you left off here" in line]
    assert "first-steps/add-row" in marked
    assert main([*args, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["last_visited"] == {"kind": "exercise", "id": "first-steps/add-row", "cell": None}
