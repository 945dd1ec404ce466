"""The exercise screen as a beginner uses it (issue 17): the code in view, an editor
that helps, hints and search that land where they should, honest wording."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest
from textual.command import CommandList
from textual.widgets import Markdown, Static, TextArea, Tree
from textual.widgets.text_area import Selection

from tutor.app.app import TutorApp, make_app
from tutor.app.screens.exercise import ExerciseScreen
from tutor.app.screens.lesson import LessonScreen
from tutor.commands.workspace import cmd_hint
from tutor.grading.results import ExerciseReport
from tutor.lessons import load_lessons
from tutor.workspace import Workspace

from .fakes import LESSONS_DIR, FakeSandbox, fake_grade, sample_lessons
from .test_story import check, open_exercise, sandbox_ready, texts


def row_in_view(editor: TextArea, row: int) -> bool:
    """Whether the start of document ``row`` is on screen in ``editor``."""
    y = editor.wrapped_document.location_to_offset((row, 0)).y
    return editor.scroll_y <= y < editor.scroll_y + editor.scrollable_content_region.height


def code_rows(screen: ExerciseScreen) -> tuple[int, int]:
    """The rows of the starter's ``def`` line and of its last line."""
    lines = screen.editor.text.splitlines()
    return lines.index("def add_row(m, r):"), len(lines) - 1


async def test_the_editor_opens_at_the_first_code_line_and_keeps_it_in_view_after_a_check(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_exercise(app, pilot)
        await pilot.pause()
        editor = screen.editor
        first, last = code_rows(screen)
        assert first == 7  # three header lines, three imports, a blank line: not the whole prompt
        assert editor.cursor_location == (first, 0)
        assert all(row_in_view(editor, row) for row in range(first, last + 1))

        await check(screen, pilot)
        await pilot.pause()
        assert screen.report.report is not None and screen.report.region.height > 5
        assert editor.cursor_location == (first, 0)
        assert all(row_in_view(editor, row) for row in range(first, last + 1))


async def test_the_cursor_line_stays_visible_when_the_report_grows(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_exercise(app, pilot)
        editor = screen.editor
        editor.text = "\n".join(f"x{n} = {n}" for n in range(30)) + "\n"
        editor.move_cursor((20, 0))
        editor.scroll_to(y=6, animate=False, immediate=True)  # the cursor near the bottom
        await pilot.pause()
        assert row_in_view(editor, 20)

        await check(screen, pilot)  # the editor shrinks under the report
        await pilot.pause()
        assert editor.cursor_location == (20, 0)
        assert row_in_view(editor, 20)


async def type_lines(pilot, *lines: str) -> None:
    """Type each line as a learner would, pressing Enter after each."""
    for line in lines:
        await pilot.press(*line, "enter")


async def test_enter_keeps_and_adjusts_the_indentation(app: TutorApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_exercise(app, pilot)
        editor = screen.editor
        editor.text = ""
        await type_lines(pilot, "def f(x):", "if x:", "return 1", "y = g(x,", "2)", "pass", "z")
        assert editor.text.split("\n") == [
            "def f(x):",
            "    if x:",         # a colon opens a block
            "        return 1",  # ...and return closes it
            "    y = g(x,",      # an open bracket continues the line one level in
            "        2)",
            "        pass",
            "    z",             # pass closes the block
            "    ",
        ]


async def test_enter_in_the_middle_of_a_line_carries_the_rest_to_the_new_indentation(app: TutorApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_exercise(app, pilot)
        editor = screen.editor
        editor.text = "def f(x):    return x\n"
        editor.move_cursor((0, 9))
        await pilot.press("enter")
        assert editor.text == "def f(x):\n    return x\n"
        assert editor.cursor_location == (1, 4)


async def test_tab_inserts_four_spaces_and_indents_a_selection(app: TutorApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_exercise(app, pilot)
        editor = screen.editor
        editor.text = "a = 1\nb = 2\n"
        editor.move_cursor((0, 0))
        await pilot.press("tab")
        assert editor.text == "    a = 1\nb = 2\n"
        assert screen.focused is editor  # Tab edits; it does not leave the editor
        editor.select_all()
        await pilot.press("tab")
        assert editor.text == "        a = 1\n    b = 2\n"


async def test_home_is_smart_on_every_line_and_backspace_there_dedents(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_exercise(app, pilot)
        editor = screen.editor
        long = "    y = " + " + ".join(f"x{n}" for n in range(40))  # soft-wrapped at 80 columns
        editor.text = f"def f(x):\n    return x\n{long}\n"
        assert editor.wrapped_document.get_offsets(2), "the long line should wrap"
        for row, line in ((1, "    return x"), (2, long)):
            editor.move_cursor((row, len(line)))
            await pilot.press("home")
            assert editor.cursor_location == (row, 4)  # the first non-blank, wrapped or not
            await pilot.press("home")
            assert editor.cursor_location == (row, 0)
            await pilot.press("home")
            assert editor.cursor_location == (row, 4)
        editor.move_cursor((1, 12))
        await pilot.press("home", "backspace")
        assert editor.text.split("\n")[:2] == ["def f(x):", "return x"]  # dedented, not joined
        assert editor.cursor_location == (1, 0)


def tutor_hint(workspace: Workspace) -> int:
    """`tutor hint first-steps/add-row` on ``workspace``, as the command line runs it
    (the sample lessons include a broken file, which the CLI would refuse to load)."""
    return cmd_hint(argparse.Namespace(id="first-steps/add-row"), Workspace(workspace.root, sample_lessons()))


def newest_hint_in_view(screen: ExerciseScreen) -> str:
    """The newest hint's text, after checking that its first line is on screen."""
    pane = screen.query_one("#prompt-pane")
    newest = list(screen.query(".hint").results(Markdown))[-1]
    assert pane.region.contains_point(newest.region.offset), "the newest hint is scrolled out of view"
    return newest.source


@pytest.fixture
def long_prompt_app(tmp_path: Path) -> TutorApp:
    """The sample lessons, but the exercise's prompt fills the prompt pane by itself."""
    lessons = tmp_path / "lessons"
    shutil.copytree(LESSONS_DIR, lessons)
    first = lessons / "01-first-steps.md"
    prompt = "Write `add_row(m, r)` that adds the row `r` to every row of `m`.\n"
    long = prompt + "".join(f"\n- Point {n}: a detail of the task worth reading.\n" for n in range(8))
    first.write_text(first.read_text().replace(prompt, long))
    lesson_set = load_lessons([lessons])
    return make_app(lesson_set, Workspace(tmp_path / "ws", lesson_set), FakeSandbox(), grade=fake_grade, device="cpu")


async def test_the_newest_hint_is_scrolled_into_view(long_prompt_app: TutorApp) -> None:
    app = long_prompt_app
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_exercise(app, pilot)
        pane = screen.query_one("#prompt-pane")
        assert pane.max_scroll_y > 0 and pane.scroll_y == 0  # the prompt alone fills the pane
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.pause()
        assert newest_hint_in_view(screen).startswith("**Hint 1 of 2.**")
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.pause()
        assert newest_hint_in_view(screen).startswith("**Hint 2 of 2.**")
        assert screen.focused is screen.editor  # the learner keeps typing


async def test_tutor_hint_then_ctrl_g_shows_hint_2(app: TutorApp, workspace, capsys) -> None:
    assert tutor_hint(workspace) == 0
    assert "hint 1 of 2" in capsys.readouterr().out
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_exercise(app, pilot)
        assert screen.hints_shown == 1  # the hint the command line showed is on screen
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.pause()
        assert newest_hint_in_view(screen).startswith("**Hint 2 of 2.**")
        assert workspace.progress("first-steps/add-row").hints_shown == 2


async def test_a_hint_shown_by_tutor_hint_while_the_exercise_is_open_appears(app: TutorApp, workspace, capsys) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_exercise(app, pilot)
        assert screen.hints_shown == 0
        tutor_hint(workspace)
        screen.poll_file()  # what the watch timer calls every watch_interval
        await pilot.pause()
        await pilot.pause()
        assert newest_hint_in_view(screen).startswith("**Hint 1 of 2.**")
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.pause()
        assert newest_hint_in_view(screen).startswith("**Hint 2 of 2.**")


async def test_messages_sit_on_the_editor_border_and_no_toast_covers_the_report(app: TutorApp, workspace) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_exercise(app, pilot)
        editor = screen.editor
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert "opens once your solution passes" in str(editor.border_subtitle)

        editor.text = "def add_row(m, r):\n    return m + r\n"
        report = await check(screen, pilot)
        assert "ctrl+l compares yours with the reference solution." in texts(report, ".note")

        path = workspace.path_for(screen.exercise)
        path.write_text("def add_row(m, r):\n    return m + r  # saved elsewhere\n")
        screen.poll_file()
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert str(editor.border_subtitle) == "reloaded from disk; checking"
        assert not app._notifications  # no toast over the report's right edge

        screen.say("a message goes after a while")
        assert screen._say_timer is not None
        screen._say_timer.stop()
        screen._unsay()  # what the timer calls
        assert str(editor.border_subtitle) == ""


async def test_a_check_that_cannot_run_says_why_in_the_report(app: TutorApp) -> None:
    def broken_grade(*args, **kwargs):
        raise RuntimeError("the sandbox is gone")

    app.core._grade = broken_grade
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_exercise(app, pilot)
        report = await check(screen, pilot)
        assert texts(report, ".headline") == ["! Could not check: the sandbox is gone"]
        assert not app._notifications


async def search_and_open(app: TutorApp, pilot, query: str, pick: str) -> None:
    """Search from the lesson list as a learner does (/, the query, arrows, Enter),
    choosing the hit whose text contains ``pick``."""
    await pilot.press("slash")
    await pilot.press(*query)
    results = app.screen.query_one(CommandList)
    while results.option_count == 0:  # the palette searches in a worker
        await pilot.pause()
    await pilot.pause(0.1)  # every provider has answered
    prompts = [str(results.get_option_at_index(i).prompt) for i in range(results.option_count)]
    index = next(i for i, prompt in enumerate(prompts) if pick in prompt)
    await pilot.press(*["down"] * index, "enter")
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_a_code_hit_opens_the_lesson_at_that_cell_focused(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await sandbox_ready(app, pilot)
        await search_and_open(app, pilot, "while True", "code: while True:")
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        body = screen.query_one("#lesson-body")
        assert screen.focused is screen.cells[2]
        assert body.scroll_y > 0  # not at the lesson's title
        assert body.region.contains_region(screen.cells[2].region)


@pytest.fixture
def deep_prose_app(tmp_path: Path) -> TutorApp:
    """The sample lessons with a dozen paragraphs between the second and the third cell."""
    lessons = tmp_path / "lessons"
    shutil.copytree(LESSONS_DIR, lessons)
    first = lessons / "01-first-steps.md"
    cell = "```python\nwhile True:\n"
    prose = "Some words first.\n\nThe scheduler halved the rate: a landmark sentence.\n\n- a list item\n\n"
    prose += "".join(f"More words, paragraph {n}.\n\n" for n in range(12))  # room to scroll
    first.write_text(first.read_text().replace(cell, prose + cell))
    lesson_set = load_lessons([lessons])
    return make_app(lesson_set, Workspace(tmp_path / "ws", lesson_set), FakeSandbox(), grade=fake_grade, device="cpu")


async def test_a_prose_hit_opens_the_lesson_at_the_paragraph_with_the_next_cell_focused(deep_prose_app: TutorApp) -> None:
    app = deep_prose_app
    async with app.run_test(size=(80, 24)) as pilot:
        await sandbox_ready(app, pilot)
        await search_and_open(app, pilot, "landmark", "prose: The scheduler halved the rate")
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        body = screen.query_one("#lesson-body")
        [paragraph] = [w for w in screen.query("MarkdownParagraph") if "landmark" in str(w.render())]
        assert body.scroll_y > 0
        assert paragraph.region.y == body.region.y  # the matching paragraph at the top
        assert screen.focused is screen.cells[2]  # the cell right under it, ready to run


async def test_a_hit_in_an_exercise_starter_opens_the_editor_on_that_line(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await sandbox_ready(app, pilot)
        await search_and_open(app, pilot, "TODO: add r", "code: # TODO: add r")
        screen = app.screen
        assert isinstance(screen, ExerciseScreen)
        editor = screen.editor
        row = editor.text.split("\n").index("    # TODO: add r to every row of m")
        assert editor.selection == Selection((row, 6), (row, 6 + len("TODO: add r")))
        assert row_in_view(editor, row) and screen.focused is editor


def tree_labels(app: TutorApp) -> list[str]:
    tree = app.screen.query_one(Tree)
    lesson = tree.root.children[0]
    return [str(lesson.label), *(str(child.label) for child in lesson.children)]


async def test_a_learner_passes_an_exercise_with_hidden_checks_without_leaving_the_app(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_exercise(app, pilot)
        screen.editor.text = "def add_row(m, r):\n    return m\n"
        report = await check(screen, pilot)
        # The hidden check ran and failed: its name and verdict, never what it tried.
        assert texts(report, ".headline") == ["✗ Failed: 0 of 2 checks pass"]
        shown = " ".join(texts(report, "Static"))
        assert "a hidden check: its inputs and expected values are not shown" in shown
        assert "secret hidden input" not in shown and "values differ on the secret input" not in shown

        screen.editor.text = "def add_row(m, r):\n    return m + r\n"
        report = await check(screen, pilot)
        assert texts(report, ".headline") == ["✓ Passed: 2 of 2 checks"]
        await pilot.press("escape")
        await pilot.pause()
        assert tree_labels(app) == [" 1. First steps  1/1 passed", "✓ exercise: Add a row  passed"]
        details = str(app.screen.query_one("#details", Static).render())
        assert details.startswith("first-steps/add-row: passed · 1 check (+1 hidden)")

        # A later pass that checked less (a copy of the lesson without its hidden
        # checks) never takes the full pass away.
        app.session.record(ExerciseReport(id="first-steps/add-row", status="pass", hidden_unrun=1))
        app.screen.refresh_labels()
        assert tree_labels(app) == [" 1. First steps  1/1 passed", "✓ exercise: Add a row  passed"]
