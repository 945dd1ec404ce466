"""Screenshots of room to read at 80x24 (see test_snapshots.py for how to review and
accept one): long code wrapped with ↪, the reading view, the focused report, the
compare view, and a tensor table that leaves columns out rather than cut a name."""

from __future__ import annotations

from app.test_explained_errors import AnsweringSandbox
from app.test_room_to_read import bce_result, long_app

from .test_snapshots import build, run_the_first_cell, settle


async def open_the_long_lesson(pilot) -> None:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def check_the_long_exercise(pilot) -> None:
    """Open the long lesson's exercise and check its starter (it fails)."""
    await open_the_long_lesson(pilot)
    await pilot.press("x")
    await pilot.pause()
    await pilot.press("ctrl+r")
    await pilot.app.screen.workers.wait_for_complete()
    await settle(pilot)


class TestLongLines:
    def test_a_cell_and_an_error_block_wrap_at_80x24(self, snap_compare, tmp_path) -> None:
        """The prose's preformatted 'RuntimeError: mat1 and mat2 shapes cannot be
        multiplied (64x784 and 128x10) in the classifier head' wraps, its second row
        starting '↪ 128x10)'; the cell's long comment wraps into '↪ never read as code of
        its own.' and its long call into '↪ zeros(4, requires_grad=True)), torch.ones(4))',
        nothing cut at the right border."""
        assert snap_compare(long_app(tmp_path), terminal_size=(80, 24), run_before=open_the_long_lesson)

    def test_a_tried_copy_marks_its_wrapped_rows_at_80x24(self, snap_compare, tmp_path) -> None:
        """After e on the long cell: the copy's editor numbers its lines 1, 2, 3 and marks
        each wrapped row with ↪ in the gutter instead of a number."""

        async def run_before(pilot) -> None:
            await open_the_long_lesson(pilot)
            await pilot.press("e")
            await settle(pilot)

        assert snap_compare(long_app(tmp_path), terminal_size=(80, 24), run_before=run_before)

    def test_the_compare_view_at_80x24(self, snap_compare, tmp_path) -> None:
        """ctrl+l after a pass: 'yours' above (heavy border: focused, scrollable) and
        'reference' under it; the reference's long line wraps after 'device=x.' into
        '↪ device)  # a 0-d tensor keeps x's dtype'."""

        async def run_before(pilot) -> None:
            await open_the_long_lesson(pilot)
            await pilot.press("x")
            await pilot.pause()
            screen = pilot.app.screen
            screen.editor.text = screen.exercise.solution + "# return m + r\n"  # the fake grader's pass
            await pilot.press("ctrl+r")
            await screen.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("ctrl+l")
            await settle(pilot)

        assert snap_compare(long_app(tmp_path), terminal_size=(80, 24), run_before=run_before)


class TestRoomToRead:
    def test_ctrl_f_reads_the_prompt_and_the_report_at_80x24(self, snap_compare, tmp_path) -> None:
        """After a failed check, ctrl+f: no editor; the prompt's paragraphs from 'Write
        scale(x, factor)' fill the top, and the failed report (focused: a heavy rule
        titled 'check') the rest, its verdict, check and value table on screen; the
        footer still offers '^f Read'."""

        async def run_before(pilot) -> None:
            await check_the_long_exercise(pilot)
            await pilot.press("ctrl+f")
            await settle(pilot)

        assert snap_compare(long_app(tmp_path), terminal_size=(80, 24), run_before=run_before)

    def test_the_focused_report_grows_at_80x24(self, snap_compare, tmp_path) -> None:
        """shift+tab twice from the editor after a failed check: the report has the focus
        (a heavy rule titled 'check') and the room, the editor four lines of code with a
        light border, the prompt two lines."""

        async def run_before(pilot) -> None:
            await check_the_long_exercise(pilot)
            await pilot.press("shift+tab", "shift+tab")
            await settle(pilot)

        assert snap_compare(long_app(tmp_path), terminal_size=(80, 24), run_before=run_before)


class TestNarrowTable:
    def test_a_tensor_table_drops_columns_not_names_at_80x24(self, snap_compare, tmp_path) -> None:
        """A loss named loss_per_sample with grad_fn BinaryCrossEntropyBackward0, whole:
        the table shows name, shape, dtype, device and grad_fn, and under it 'not shown
        at this width: req_grad, grad'; no cell ends in '…'."""
        assert snap_compare(build(tmp_path, AnsweringSandbox(bce_result())), terminal_size=(80, 24),
                            run_before=run_the_first_cell)
