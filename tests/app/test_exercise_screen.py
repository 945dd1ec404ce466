"""The exercise screen as a beginner uses it (issue 17): the code in view, an editor
that helps, hints and search that land where they should, honest wording."""

from __future__ import annotations

from textual.widgets import TextArea

from tutor.app.app import TutorApp
from tutor.app.screens.exercise import ExerciseScreen

from .test_story import check, open_exercise


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
