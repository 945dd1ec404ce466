"""Screenshots of the app at fixed sizes, built by the CLI's factory from fakes.

Review a changed snapshot with `pytest tests/snapshots --snapshot-report`; accept it
with `--snapshot-update`.
"""

from __future__ import annotations

from app.fakes import FakeSandbox, fake_grade, sample_lessons, workspace_at
from textual.widgets import TextArea

from tutor.app.app import TutorApp, make_app


def build(tmp_path, sandbox: FakeSandbox | None = None) -> TutorApp:
    return make_app(sample_lessons(), workspace_at(tmp_path / "ws"), sandbox or FakeSandbox(), grade=fake_grade, device="cpu")


async def settle(pilot) -> None:
    """Let the sandbox start, workers finish and the cursor stop blinking."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False
        # Lines drawn in a blink's dark half are cached under the key a still cursor
        # uses too: drop them, or the cursor shows or not by the timing of the run.
        area.notify_style_update()
    await pilot.pause()


async def run_the_first_cell(pilot) -> None:
    """Open the first lesson, run its first cell and wait for the result to be drawn."""
    await settle(pilot)
    await pilot.press("enter", "enter")
    await pilot.app.screen.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def check_the_first_exercise(pilot) -> None:
    """Open the first lesson's exercise from the list and check the starter (it fails)."""
    await settle(pilot)
    await pilot.press("down", "enter")
    await pilot.pause()
    await pilot.press("ctrl+r")
    await pilot.app.screen.workers.wait_for_complete()
    await settle(pilot)


class TestBrowser:
    def test_lesson_list_at_80x24(self, snap_compare, tmp_path) -> None:
        """Two lessons, the first unfolded with its exercise 'not started', and the
        broken lesson file with its file:line message; the header says 'cpu · sandbox ready'."""
        assert snap_compare(build(tmp_path), terminal_size=(80, 24), run_before=settle)


class TestLesson:
    def test_lesson_with_tensor_table_and_lr_table(self, snap_compare, tmp_path) -> None:
        """After 'run all', scrolled to the second cell (focused, accent border): '✓ ran
        on cpu', the tensor table row for w, the SGD optimizer line, the StepLR lr
        table (0.1, 0.05, 0.05, 0.025) beside its plot, and the loss series as one row
        under 'series · p plots them' (4 values, first 1, last 0.2, █▄▂▁); the footer
        offers 'p Plots'."""

        async def run_before(pilot) -> None:
            await settle(pilot)
            await pilot.press("enter", "R")
            await pilot.app.screen.workers.wait_for_complete()
            await pilot.pause()
            cell = pilot.app.screen.cells[1]
            cell.focus()
            pilot.app.screen.query_one("#lesson-body").scroll_to_widget(cell, top=True, animate=False)
            await pilot.pause()

        # The third cell loops forever; the fake kills it as soon as it starts.
        sandbox = FakeSandbox()
        sandbox.cancelled.set()
        app = build(tmp_path, sandbox)
        assert snap_compare(app, terminal_size=(100, 40), run_before=run_before)


class TestLessonNarrow:
    def test_tensor_table_and_lr_table_at_80x24(self, snap_compare, tmp_path) -> None:
        """At 80x24, after running the first cell then the second: the first cell's
        tensor table fits the width (no horizontal scrollbar, the grad preview wraps),
        and the second's result is scrolled into view with its lr table."""

        async def run_before(pilot) -> None:
            await settle(pilot)
            await pilot.press("enter", "enter")
            await pilot.app.screen.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("j", "r")
            await pilot.app.screen.workers.wait_for_complete()
            await pilot.pause()
            await pilot.pause()

        assert snap_compare(build(tmp_path), terminal_size=(80, 24), run_before=run_before)


class TestExercise:
    def test_exercise_with_a_failed_check(self, snap_compare, tmp_path) -> None:
        """The starter in the editor under its three-line header (the prompt is not
        repeated in the file), and under it the verdict: '✗ Failed: 0 of 1 visible
        checks pass', the failed check with expected/got shape, dtype, value and preview,
        'max abs diff 1.25 ... first difference at (0, 1)', the hidden check named only."""
        assert snap_compare(build(tmp_path), terminal_size=(100, 40), run_before=check_the_first_exercise)

    def test_a_failed_check_at_80x24(self, snap_compare, tmp_path) -> None:
        """At 80x24 the footer shows every key up to 'f1 Help' ('^f Read' among them);
        a failed check's report gets the room it needs: the verdict, the failed check, its
        value row, the previews and 'max abs diff 1.25 ...' all on screen under a 'check'
        rule, while the prompt keeps its line and the editor (heavy border: it has the
        focus) six lines of code, def add_row and its body among them."""
        assert snap_compare(build(tmp_path), terminal_size=(80, 24), run_before=check_the_first_exercise)

    def test_a_local_pass_with_a_hidden_check_at_80x24(self, snap_compare, tmp_path) -> None:
        """At 80x24, the starter fixed and checked: '✓ Visible checks pass (1 of 1) · 1
        hidden check runs only in `tutor grade`' (never 'Passed' while a hidden check has
        not run), the passed check, the hidden one named, and 'ctrl+l compares yours with
        the reference solution.' in the report, not in a toast over it."""

        async def run_before(pilot) -> None:
            await settle(pilot)
            await pilot.press("down", "enter")
            await pilot.pause()
            editor = pilot.app.screen.editor
            editor.text = editor.text.replace("    # TODO: add r to every row of m\n    return m\n", "    return m + r\n")
            await pilot.press("ctrl+r")
            await pilot.app.screen.workers.wait_for_complete()
            await settle(pilot)

        assert snap_compare(build(tmp_path), terminal_size=(80, 24), run_before=run_before)

    def test_a_wide_terminal_puts_the_editor_on_the_right(self, snap_compare, tmp_path) -> None:
        """At 140x36 the prompt and the failed check report share the left column and
        the editor fills the right one from top to bottom."""
        assert snap_compare(build(tmp_path), terminal_size=(140, 36), run_before=check_the_first_exercise)


class TestExplainedError:
    def test_an_explained_shape_mismatch_at_80x24(self, snap_compare, tmp_path) -> None:
        """After running the first cell, whose run ends in a matmul shape mismatch: the
        red status line, the failing line 'c = a @ b', and under it the explanation with
        a warning bar: 'why: the shapes 2x3 and 2x3 cannot be multiplied', the columns
        and rows in plain words, and 'learn more: lesson 5, “matmul and @: the general
        product”', all on screen."""
        from app.test_explained_errors import AnsweringSandbox, matmul_error

        assert snap_compare(build(tmp_path, AnsweringSandbox(matmul_error())), terminal_size=(80, 24),
                            run_before=run_the_first_cell)


class TestTryIt:
    def test_a_tried_cell_after_its_run_at_80x24(self, snap_compare, tmp_path) -> None:
        """The first cell turned into the learner's copy ('cell 1 · your copy', 'ctrl+t
        restores the lesson's code' under it) with a line of their own added, in the
        editor with highlighting and line numbers 1-4, and under it the result of running
        the copy ('✓ ran on cpu', its output, the tensor table); the footer shows the
        editor's keys."""

        async def run_before(pilot) -> None:
            await settle(pilot)
            await pilot.press("enter", "e")
            await pilot.pause()
            editor = pilot.app.screen.cells[0].editor
            editor.text = editor.text + "print(t.sum())  # my line\n"
            editor.move_cursor((2, 0))
            await pilot.press("ctrl+r")
            await pilot.app.screen.workers.wait_for_complete()
            await settle(pilot)
            await pilot.pause()

        assert snap_compare(build(tmp_path), terminal_size=(80, 24), run_before=run_before)
