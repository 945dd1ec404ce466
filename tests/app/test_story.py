"""The learner's story, driven with Textual's pilot against a fake sandbox and grader."""

from __future__ import annotations

import os

from textual.command import CommandList
from textual.widgets import Markdown, Static, TextArea, Tree

from tutor.app.app import TutorApp
from tutor.app.screens.exercise import ExerciseScreen
from tutor.app.screens.lesson import LessonScreen
from tutor.app.screens.lesson_list import LessonListScreen
from tutor.app.widgets.check_report import CheckReport
from tutor.app.widgets.code_cell import CodeCell
from tutor.app.widgets.code_view import CodeView
from tutor.app.widgets.info_table import InfoTable


def table_text(table: InfoTable) -> list[list[str]]:
    return [list(row) for row in table.rows]


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
        rows = table_text(cell.query_one(".tensors", InfoTable))
        assert rows == [["t", "(2, 3)", "float32", "cpu", "True", "-", "[[1., 1., 1.], [1., 1., 1.]]"]]


async def test_run_all_shows_the_lr_table_of_a_scheduler(app: TutorApp, sandbox) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_lesson(app, pilot)
        await pilot.press("down")  # scrolling keys still scroll
        await pilot.press("k", "j")  # j/k move between cells
        assert screen.focused is screen.cells[1]
        await pilot.press("r")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        table = screen.cells[1].query_one(".lr-table", InfoTable)
        assert table.headers == ("step", "lr")
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
        assert texts(report, ".headline") == ["✗ Failed: 0 of 2 checks pass"]
        assert texts(report, ".check") == ["✗ a 3x4 matrix", "✗ secret (hidden)"]
        assert table_text(report.query_one(".difference", InfoTable)) == [["value at (0, 1)", "0.5", "-0.75"]]
        assert table_text(report.query_one(".previews", InfoTable)) == [["[[0.1, 0.5, ...]]", "[[0.3, -0.75, ...]]"]]
        assert "max abs diff 1.25 · max rel diff 1 · same shape (3, 4) and dtype float32" in texts(report, ".detail")
        assert texts(report, ".hint") == ["Stuck? ctrl+g shows the next hint."]
        assert workspace.progress("first-steps/add-row").status == "failed"

        editor.text = "def add_row(m, r):\n    return m + r\n"
        report = await check(screen, pilot)
        headline = texts(report, ".headline")[0]
        assert headline == "✓ Passed: 2 of 2 checks"  # the hidden check ran too: a pass in the app is a pass
        assert workspace.path_for(screen.exercise).read_text() == "def add_row(m, r):\n    return m + r\n"
        assert workspace.progress("first-steps/add-row").status == "passed"

        await pilot.press("ctrl+l")
        await pilot.pause()
        compared = [view.code for view in app.screen.query(CodeView)]
        assert compared == ["def add_row(m, r):\n    return m + r", screen.exercise.solution.rstrip("\n")]


async def test_the_comparison_starts_both_sides_at_the_solution(app: TutorApp, workspace) -> None:
    """The workspace file opens with a header comment; the reference does not."""
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_exercise(app, pilot)
        editor = screen.query_one("#editor", TextArea)
        editor.text = editor.text.replace("    # TODO: add r to every row of m\n    return m\n", "    return m + r\n")
        await check(screen, pilot)
        await pilot.press("ctrl+l")
        await pilot.pause()
        await pilot.pause()
        yours = app.screen.query_one("#yours", CodeView)
        pane = app.screen.query_one("#yours-pane")
        row = yours.code.splitlines().index("def add_row(m, r):")
        line = yours.rows_before(row, yours.content_size.width)  # comments above wrap
        assert row > 0 and line >= row
        assert pane.scroll_y == min(line, pane.max_scroll_y) > 0


async def test_the_solution_stays_closed_until_the_exercise_passes(app: TutorApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_exercise(app, pilot)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert app.screen is screen
        assert "opens once your solution passes" in str(screen.editor.border_subtitle)


async def test_hints_come_one_at_a_time_and_stay_shown(app: TutorApp, workspace) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_exercise(app, pilot)
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert [h.source for h in screen.query(".hint").results(Markdown)] == [
            "**Hint 1 of 2.** Shapes (3, 4) and (4,) broadcast."]
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert [h.source for h in screen.query(".hint").results(Markdown)][-1] == (
            "**Hint 2 of 2.** `m + r` is the whole answer.")
        assert workspace.progress("first-steps/add-row").hints_shown == 2
        report = await check(screen, pilot)
        assert texts(report, ".hint") == []  # every hint is on screen: no promise of another


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
        assert "# TODO: add r to every row of m" in editor.text
        [backup] = workspace.path_for(screen.exercise).parent.glob("add-row.py.bak-*")
        assert backup.read_text() == "my work\n"
        assert f"yours is kept as {backup.name}" in str(screen.editor.border_subtitle)


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


async def test_the_browser_describes_an_exercise_nobody_has_opened_yet(app: TutorApp) -> None:
    """A fresh workspace has no progress entry for it: that is 'not started', not a crash."""
    async with app.run_test(size=(80, 24)) as pilot:
        await sandbox_ready(app, pilot)
        await pilot.press("down")
        await pilot.pause()
        details = str(app.screen.query_one("#details", Static).render())
        assert details.startswith("first-steps/add-row: not started · 1 check (+1 hidden) · 0/2 hints seen")


async def test_a_lesson_opens_at_its_title_with_the_first_cell_ready(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(app, pilot)
        assert screen.query_one("#lesson-body").scroll_y == 0
        assert screen.focused is screen.cells[0]


async def test_a_result_below_the_screen_is_scrolled_into_view(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(app, pilot)
        await pilot.press("j", "r")  # the second cell: its result lands below the fold
        await screen.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        status = screen.cells[1].query_one(".status")
        assert screen.query_one("#lesson-body").region.contains_region(status.region)


async def test_a_running_cell_says_how_to_cancel(app: TutorApp, sandbox) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(app, pilot)
        await pilot.press("j", "j", "enter")
        await pilot.pause()
        assert "running · esc cancels" in texts(screen.cells[2], "Label")
        sandbox.cancel_all()
        await screen.workers.wait_for_complete()


async def test_a_code_hit_opens_its_lesson_on_that_cell_and_never_twice(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(app, pilot)
        snippet = screen.lesson.snippets[2]
        app.open_entry(screen.lesson, snippet=snippet)  # what the palette's "code:" hit calls
        await pilot.pause()
        await pilot.pause()
        assert app.screen is screen
        assert screen.focused is screen.cells[2]
        assert screen.query_one("#lesson-body").region.contains_region(screen.cells[2].region)


def footer_fits(app: TutorApp, width: int) -> list[str]:
    """The footer's keys that do not fit: it scrolls sideways rather than wrap."""
    from textual.widgets import Footer
    from textual.widgets._footer import FooterKey

    footer = app.screen.query_one(Footer)
    keys = list(footer.query(FooterKey))
    assert keys, "no footer keys"
    room = footer.region.right - sum(w.region.width for w in footer.children if not isinstance(w, FooterKey))
    used = sum(key.region.width for key in keys)
    return [] if used <= room else [key.description for key in keys]


async def test_every_footer_fits_80_columns(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await sandbox_ready(app, pilot)
        assert footer_fits(app, 80) == []
        await pilot.press("enter")
        await pilot.pause()
        assert footer_fits(app, 80) == []
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ExerciseScreen)
        assert footer_fits(app, 80) == []


async def test_escape_leaves_the_exercise_in_one_press_and_keeps_the_edit(app: TutorApp, workspace) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_exercise(app, pilot)
        assert screen.focused is screen.query_one("#editor")
        screen.query_one("#editor", TextArea).text = "def add_row(m, r):\n    return m\n"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)
        assert workspace.path_for(screen.exercise).read_text() == "def add_row(m, r):\n    return m\n"


async def test_q_quits_from_a_lesson_and_ctrl_q_from_the_editor(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first_lesson(app, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0 and not app.is_running


async def test_ctrl_q_quits_from_inside_the_editor(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_exercise(app, pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert "q" not in screen.query_one("#editor", TextArea).text.split("\n")[-1]
        assert not app.is_running


async def test_an_editor_rename_on_save_is_noticed_even_at_the_same_size_and_time(app: TutorApp, workspace) -> None:
    """vim and VS Code write a new file and rename it over the old one; within one
    mtime tick and with the same length, only the inode tells the two apart."""
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_exercise(app, pilot)
        path = workspace.path_for(screen.exercise)
        old = path.read_text()
        before = path.stat()
        new = old.replace("return m\n", "return m+r\n").replace("#", "", 1).replace("  (", " (", 1)
        new = new[: len(old)].ljust(len(old))
        fresh = path.with_name(".add-row.py.swp")
        fresh.write_text(new)
        os.utime(fresh, ns=(before.st_atime_ns, before.st_mtime_ns))
        os.replace(fresh, path)
        assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
        screen.poll_file()  # what the watch timer calls every watch_interval
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.query_one("#editor", TextArea).text == new


async def test_a_wide_terminal_puts_the_editor_beside_the_prompt(app: TutorApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_exercise(app, pilot)
        prompt, editor, report = (screen.query_one(sel) for sel in ("#prompt-pane", "#editor", "#report"))
        assert editor.region.x > prompt.region.right - 1
        assert report.region.x == prompt.region.x and report.region.y >= prompt.region.bottom
        assert editor.region.height > 30
