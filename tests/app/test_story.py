"""The learner's story, driven with Textual's pilot against a fake sandbox and grader."""

from __future__ import annotations

from textual.command import CommandList
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


async def open_exercise(app: TutorApp, pilot) -> ExerciseScreen:
    await sandbox_ready(app, pilot)
    await pilot.press("down", "enter")  # the first lesson starts unfolded: its exercise is next
    await pilot.pause()
    assert isinstance(app.screen, ExerciseScreen)
    return app.screen


async def check(screen: ExerciseScreen, pilot) -> CheckReport:
    await pilot.press("ctrl+r")
    await screen.workers.wait_for_complete()
    await pilot.pause()
    return screen.query_one(CheckReport)


def texts(widget, selector: str) -> list[str]:
    return [str(w.render()) for w in widget.query(selector)]


async def test_a_wrong_answer_shows_the_difference_and_a_right_one_passes(app: TutorApp, workspace) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_exercise(app, pilot)
        editor = screen.query_one("#editor", TextArea)
        assert "# TODO: add r to every row of m" in editor.text

        report = await check(screen, pilot)
        assert texts(report, ".headline") == ["✗ Failed: 0 of 1 visible checks pass · 1 hidden check run only in `tutor grade`"]
        assert texts(report, ".check") == ["✗ a 3x4 matrix", "• secret (hidden: runs only in `tutor grade`)"]
        assert table_text(report.query_one(DataTable)) == [
            ["shape", "(3, 4)", "(3, 4)"], ["dtype", "float32", "float32"],
            ["value", "0.5", "-0.75"], ["preview", "[[0.1, 0.5, ...]]", "[[0.3, -0.75, ...]]"],
        ]
        assert "max abs diff 1.25 · max rel diff 1 · first difference at (0, 1)" in texts(report, ".detail")
        assert workspace.progress("first-steps/add-row").status == "failed"

        editor.text = "def add_row(m, r):\n    return m + r\n"
        report = await check(screen, pilot)
        headline = texts(report, ".headline")[0]
        assert headline.startswith("✓ Passed 1 of 1 visible checks")
        assert "all" not in headline.lower()  # a hidden check did not run: never "all passed"
        assert workspace.path_for(screen.exercise).read_text() == "def add_row(m, r):\n    return m + r\n"
        assert workspace.progress("first-steps/add-row").status == "passed"

        await pilot.press("ctrl+l")
        await pilot.pause()
        compared = [area.text for area in app.screen.query(TextArea)]
        assert compared == ["def add_row(m, r):\n    return m + r\n", screen.exercise.solution]


async def test_the_solution_stays_closed_until_the_exercise_passes(app: TutorApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_exercise(app, pilot)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert app.screen is screen
        assert "opens once your solution passes" in [n.message for n in app._notifications][-1]


async def test_hints_come_one_at_a_time_and_stay_shown(app: TutorApp, workspace) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_exercise(app, pilot)
        await pilot.press("ctrl+g")
        await pilot.pause()
        hints = screen.query_one("#hints", Markdown)
        assert hints.source == "**Hint 1 of 2.** Shapes (3, 4) and (4,) broadcast."
        await pilot.press("ctrl+g")
        assert hints.source.endswith("**Hint 2 of 2.** `m + r` is the whole answer.")
        assert workspace.progress("first-steps/add-row").hints_shown == 2


async def test_reset_asks_first_and_keeps_a_backup(app: TutorApp, workspace) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_exercise(app, pilot)
        editor = screen.query_one("#editor", TextArea)
        editor.text = "my work\n"
        await pilot.press("ctrl+s", "ctrl+t")
        await pilot.pause()
        await pilot.press("n")  # changed my mind
        await pilot.pause()
        assert editor.text == "my work\n"
        await pilot.press("ctrl+t")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert editor.text == screen.exercise.starter
        backup = workspace.path_for(screen.exercise).with_name("add-row.py.bak")
        assert backup.read_text() == "my work\n"


async def test_saving_the_file_in_another_editor_reloads_and_checks_it(app: TutorApp, workspace) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_exercise(app, pilot)
        path = workspace.path_for(screen.exercise)
        path.write_text("def add_row(m, r):\n    return m + r\n# saved elsewhere\n")
        screen.poll_file()  # what the watch timer calls every watch_interval
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.query_one("#editor", TextArea).text.endswith("# saved elsewhere\n")
        assert texts(screen.query_one(CheckReport), ".headline")[0].startswith("✓ Passed")


async def test_escape_cancels_a_long_run_and_the_sandbox_kills_it(app: TutorApp, sandbox) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_lesson(app, pilot)
        await pilot.press("j", "j", "enter")
        cell = screen.cells[2]
        assert cell.has_class("-running")
        await pilot.pause()
        assert sandbox.started.wait(5)
        await pilot.press("escape")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert sandbox.cancelled.is_set()
        assert app.screen is screen  # Esc cancelled the run; it did not leave the lesson
        assert texts(cell, ".status") == ["✗ cancelled"]
        assert not cell.has_class("-running")
        await pilot.press("escape")
        assert isinstance(app.screen, LessonListScreen)


async def test_a_broken_lesson_explains_itself_instead_of_crashing(app: TutorApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await sandbox_ready(app, pilot)
        tree = app.screen.query_one(Tree)
        tree.move_cursor(tree.root.children[-1])
        await pilot.press("enter")
        await pilot.pause()
        message = app.screen.query_one(".message", Static)
        assert "03-broken.md:5: unknown topic key 'no-such-topic'" in str(message.render())
        await pilot.press("escape")
        assert isinstance(app.screen, LessonListScreen)


async def test_search_finds_code_and_opens_the_lesson(app: TutorApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await sandbox_ready(app, pilot)
        await pilot.press("slash")
        await pilot.press(*"arange")
        results = app.screen.query_one(CommandList)
        while results.option_count == 0:  # the palette searches in a worker
            await pilot.pause()
        assert "code: x = torch.arange(6).view(2, 3)" in str(results.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson.id == "second"


async def test_help_lists_the_keys(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await sandbox_ready(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert "run every cell of the lesson in order" in str(app.screen.query_one(".message", Static).render())
        await pilot.press("escape")
        assert isinstance(app.screen, LessonListScreen)
