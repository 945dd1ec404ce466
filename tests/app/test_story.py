"""The learner's story, driven with Textual's pilot against a fake sandbox and grader."""

from __future__ import annotations

from textual.widgets import DataTable, Markdown, Static, TextArea, Tree

from tutor.app.app import TutorApp
from tutor.app.screens.exercise import ExerciseScreen
from tutor.app.screens.lesson import LessonScreen
from tutor.app.screens.lesson_list import LessonListScreen
from tutor.app.widgets.check_report import CheckReport
from tutor.app.widgets.code_cell import CodeCell


def table_text(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def sandbox_ready(app: TutorApp, pilot) -> None:
    """The sandbox starts after the first paint; let that happen, then wait for it."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def open_first_lesson(app: TutorApp, pilot) -> LessonScreen:
    await sandbox_ready(app, pilot)
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, LessonScreen)
    return app.screen


async def test_the_lesson_list_shows_lessons_exercises_and_broken_files(app: TutorApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await sandbox_ready(app, pilot)
        assert isinstance(app.screen, LessonListScreen)
        tree = app.screen.query_one(Tree)
        labels = [str(node.label) for node in tree.root.children]
        assert labels[0].startswith(" 1. First steps") and "0/1 passed" in labels[0]
        assert labels[1].startswith(" 2. Shapes and views")
        assert "broken: 03-broken.md:5: unknown topic key" in labels[2]
        assert [str(n.label) for n in tree.root.children[0].children] == ["· exercise: Add a row  not started"]
        assert app.sub_title == "cpu · sandbox ready"


async def test_running_a_cell_shows_its_output_escaped_and_its_tensor_table(app: TutorApp, sandbox) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_lesson(app, pilot)
        assert isinstance(screen.focused, CodeCell)
        await pilot.press("enter")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        cell = screen.cells[0]
        assert sandbox.requests[0].code.startswith("t = torch.ones(2, 3")
        assert sandbox.requests[0].device == "cpu"
        stdout = cell.query_one(".stdout", Static)
        # Learner output is shown as typed: the markup is text, not style.
        assert str(stdout.render()) == "[bold red]not markup[/]"
        rows = table_text(cell.query_one(".variables", DataTable))
        assert rows == [["t", "(2, 3)", "float32", "cpu", "yes", "-", "tensor([[1., 1., 1.], [1., 1., 1.]])"]]


async def test_run_all_shows_the_lr_table_of_a_scheduler(app: TutorApp, sandbox) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_lesson(app, pilot)
        await pilot.press("down")  # scrolling keys still scroll
        await pilot.press("k", "j")  # j/k move between cells
        assert screen.focused is screen.cells[1]
        await pilot.press("r")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        table = screen.cells[1].query_one(".lr-table", DataTable)
        assert [str(c.label) for c in table.columns.values()] == ["step", "lr"]
        assert table_text(table) == [["1", "0.1"], ["2", "0.05"], ["3", "0.05"], ["4", "0.025"]]
        optimizers = screen.cells[1].query_one(".optimizers", Static)
        assert "opt: SGD  group 0: lr=0.025 momentum=0" in str(optimizers.render())
