"""Try-it cells: a lesson cell becomes the learner's editable copy, runs like the
original, comes back with ctrl+t, and is kept in the workspace (never in the lesson
file) so that it is there after a restart; a scratch cell ends every lesson."""

from __future__ import annotations

import json

from tutor.app.app import TutorApp, make_app
from tutor.app.screens.lesson import LessonScreen
from tutor.app.widgets.code_cell import CellEditor, CodeCell
from tutor.app.widgets.code_view import CodeView
from tutor.workspace import CellEdit, TryIt
from tutor.workspace.tryit import try_it_path

from .fakes import LESSONS_DIR, FakeSandbox, fake_grade, sample_lessons, workspace_at
from .test_story import open_first_lesson, sandbox_ready, texts

MINE = "t = torch.ones(2, 3, requires_grad=True)\nprint('my own line')\n"


def start(tmp_path, sandbox: FakeSandbox | None = None) -> TutorApp:
    """The app over the workspace under ``tmp_path``: called again, it is a restart."""
    return make_app(sample_lessons(), workspace_at(tmp_path / "workspace"), sandbox or FakeSandbox(),
                    grade=fake_grade, device="cpu", watch_interval=0.05)


async def resumed(app: TutorApp, pilot) -> LessonScreen:
    """After a restart: the lesson left last time is open again."""
    await sandbox_ready(app, pilot)
    assert isinstance(app.screen, LessonScreen)
    return app.screen


async def run_and_wait(screen, pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await screen.workers.wait_for_complete()
    await pilot.pause()


async def test_edit_a_cell_run_it_restore_it_and_find_the_edit_after_a_restart(tmp_path) -> None:
    lesson_file = LESSONS_DIR / "01-first-steps.md"
    before = lesson_file.read_bytes()
    sandbox = FakeSandbox()
    app = start(tmp_path, sandbox)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(app, pilot)
        cell = screen.cells[0]
        await pilot.press("e")  # try it: the editor, holding the lesson's code
        await pilot.pause()
        editor = cell.editor
        assert isinstance(editor, CellEditor) and editor.has_focus
        assert editor.text == cell.snippet.code
        assert cell.border_title == "cell 1 · your copy"
        editor.text = MINE
        await pilot.pause()
        await run_and_wait(screen, pilot, "ctrl+r")  # runs the copy, result panel as usual
        assert sandbox.requests[-1].code == MINE
        assert sandbox.requests[-1].filename == "first-steps/cell-1.py"
        assert texts(cell, ".status") == ["✓ ran on cpu · 4 ms"]
        await pilot.press("escape")  # back to the cell; the edit stays
        assert screen.focused is cell and cell.editor is not None
        await pilot.press("q")
        await pilot.pause()
    assert lesson_file.read_bytes() == before  # the lesson itself never changes
    saved = json.loads(try_it_path(tmp_path / "workspace", "first-steps").read_text())
    assert saved["cells"]["0"]["code"] == MINE

    app = start(tmp_path, sandbox)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await resumed(app, pilot)
        cell = screen.cells[0]
        assert cell.editor is not None and cell.editor.text == MINE  # the edit is there
        assert cell.border_title == "cell 1 · your copy"
        cell.focus()
        await pilot.press("ctrl+t")  # restore the lesson's code
        await pilot.pause()
        assert cell.editor is None
        assert cell.query_one(".code", CodeView).code == cell.snippet.code.rstrip("\n")
        assert cell.border_title == "cell 1"
        await run_and_wait(screen, pilot, "enter")
        assert sandbox.requests[-1].code == cell.snippet.code
        await pilot.press("q")
        await pilot.pause()
    assert not try_it_path(tmp_path / "workspace", "first-steps").exists()  # nothing left to keep


async def test_the_scratch_cell_ends_every_lesson_and_keeps_the_learners_code(tmp_path) -> None:
    sandbox = FakeSandbox()
    app = start(tmp_path, sandbox)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(app, pilot)
        scratch = screen.cells[-1]
        assert scratch.scratch and scratch.border_title == "scratch · your own code"
        assert scratch.editor is not None and scratch.editor.text == ""
        await pilot.press("j", "j", "j", "j")  # three cells, the exercise, then the scratch cell
        assert screen.focused is scratch
        await pilot.press("e", *"x = 1 / 0")
        await run_and_wait(screen, pilot, "ctrl+r")
        assert sandbox.requests[-1].code == "x = 1 / 0"
        assert sandbox.requests[-1].filename == "first-steps/scratch.py"
        assert texts(scratch, ".status") == ["✗ ZeroDivisionError at line 2: division by zero"]
    app = start(tmp_path, sandbox)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await resumed(app, pilot)
        assert screen.cells[-1].editor.text == "x = 1 / 0"


async def test_run_all_runs_the_learners_copies_but_not_the_scratch_cell(tmp_path) -> None:
    workspace = workspace_at(tmp_path / "workspace")
    workspace.save_try_it("first-steps", TryIt(cells={2: CellEdit("print('no loop')\n")}, scratch="print(1)\n"))
    sandbox = FakeSandbox()
    app = start(tmp_path, sandbox)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(app, pilot)
        await run_and_wait(screen, pilot, "R")
        assert [r.code for r in sandbox.requests] == [screen.lesson.snippets[0].code, screen.lesson.snippets[1].code,
                                                      "print('no loop')\n"]


async def test_a_copy_of_a_cell_the_lesson_changed_since_says_so(tmp_path) -> None:
    workspace = workspace_at(tmp_path / "workspace")
    workspace.save_try_it("first-steps", TryIt(cells={0: CellEdit("print(2)\n", "sha-of-an-older-cell")}))
    app = start(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(app, pilot)
        assert screen.cells[0].border_title == "cell 1 · your copy (the lesson's cell has changed since)"


async def test_inside_the_editor_keys_type_and_the_footer_says_so(tmp_path) -> None:
    app = start(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(app, pilot)
        await pilot.press("e", "end", *" # q j R x")
        cell = screen.cells[0]
        assert cell.editor.text.splitlines()[0].endswith(" # q j R x")
        assert app.is_running and app.screen is screen  # q typed, did not quit
        assert not cell.check_action("run", ()) and cell.check_action("restore", ())
        assert isinstance(cell, CodeCell)


async def test_tab_moves_past_a_tried_cell_and_one_escape_leaves_its_editor(tmp_path) -> None:
    """A copy's editor is entered with e, not by Tab (where Tab indents, the learner
    would be caught); one Escape leaves the editor and stays in the lesson."""
    workspace = workspace_at(tmp_path / "workspace")
    workspace.save_try_it("first-steps", TryIt(cells={0: CellEdit("print('mine')\n")}))
    app = start(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(app, pilot)
        first, second = screen.cells[0], screen.cells[1]
        assert screen.focused is first and first.editor is not None
        await pilot.press("tab")
        assert screen.focused is second  # past the copy's editor, not into it
        stops = []
        for _ in range(5):  # round the whole lesson (and back to the top): no stop is an editor
            await pilot.press("tab")
            stops.append(screen.focused)
        assert not any(isinstance(stop, CellEditor) for stop in stops)
        first.focus()
        await pilot.press("e")
        assert screen.focused is first.editor
        await pilot.press("tab")  # inside, Tab indents
        assert first.editor.text.startswith("    print") and screen.focused is first.editor
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and screen.focused is first
        await pilot.press("tab")
        assert screen.focused is second


async def test_restoring_a_cell_clears_the_result_of_the_copy(tmp_path) -> None:
    app = start(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(app, pilot)
        cell = screen.cells[0]
        await pilot.press("e")
        cell.editor.text = "x = 1 / 0\n"
        await run_and_wait(screen, pilot, "ctrl+r")
        assert texts(cell, ".status") == ["✗ ZeroDivisionError at line 2: division by zero"]
        assert cell.has_class("-failed")
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert cell.editor is None and cell.result is None
        assert texts(cell, ".status") == [] and not cell.has_class("-failed")
        assert not cell.panel.has_class("-shown")


async def test_the_copy_indents_as_a_code_editor_and_ctrl_home_end_reach_its_ends(tmp_path) -> None:
    app = start(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(app, pilot)
        cell = screen.cells[0]
        await pilot.press("e")
        editor = cell.editor
        editor.text = ""
        await pilot.press(*"for i in range(3):", "enter", *"x = i", "enter")
        assert editor.text == "for i in range(3):\n    x = i\n    "
        editor.text = "for i in range(3):\n    x = i + 1\n"
        editor.move_cursor((1, 9))  # Enter mid-line keeps the indentation
        await pilot.press("enter")
        assert editor.text == "for i in range(3):\n    x = i\n    + 1\n"
        await pilot.press("ctrl+home")
        assert editor.cursor_location == (0, 0)
        await pilot.press("ctrl+end")
        assert editor.cursor_location == (3, 0)


async def test_a_wrapped_line_of_a_copy_is_marked_in_the_gutter(tmp_path) -> None:
    app = start(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(app, pilot)
        cell = screen.cells[0]
        await pilot.press("e")
        editor = cell.editor
        editor.text = "# " + "a comment that goes on " * 6 + "\nx = 1\n"
        await pilot.pause()
        rows = [editor.render_line(y).text.lstrip() for y in range(editor.wrapped_document.height)]
        second = next(n for n, row in enumerate(rows) if row.startswith("2  x = 1"))
        assert rows[0].startswith("1  # a comment") and second > 1
        assert all(row.startswith("↪") for row in rows[1:second])  # line 1's later rows, marked
