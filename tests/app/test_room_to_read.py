"""Room to read at 80x24: code wrapped with ``↪`` and never cut (cells, prose code
blocks, the compare view), result tables that leave out the columns that matter least
before cutting a name, ``p`` on every result with a series, ctrl+f that gives the
prompt and the report the whole screen, a focused pane that shows it, and panes that
share the height by what the learner is reading."""

from __future__ import annotations

from rich.console import Console

from tutor import present as fmt
from tutor.app.app import TutorApp, make_app
from tutor.app.screens.dialogs import CompareDialog
from tutor.app.screens.exercise import ExerciseScreen
from tutor.app.screens.lesson import LessonScreen
from tutor.app.widgets.check_report import CheckReport
from tutor.app.widgets.code_view import CodeView, WrappedFence
from tutor.app.widgets.info_table import InfoTable
from tutor.app.widgets.plot import Plot
from tutor.sandbox.api import RunResult
from tutor.workspace import Workspace

from .fakes import FakeSandbox, fake_grade, long_lessons
from .test_explained_errors import run_first_cell
from .test_results_read import app_answering, footer_keys
from .test_story import check, sandbox_ready


def long_app(tmp_path, sandbox: FakeSandbox | None = None) -> TutorApp:
    """The app over one lesson whose code, error text and prompt overflow 80x24."""
    lessons = long_lessons()
    return make_app(lessons, Workspace(tmp_path / "ws", lessons), sandbox or FakeSandbox(), grade=fake_grade,
                    device="cpu", watch_interval=0.05)


def shown(widget) -> list[str]:
    """The rows a widget draws now, as text."""
    return [strip.text for strip in widget.render_lines(widget.region.reset_offset)]


async def open_long_lesson(app: TutorApp, pilot) -> LessonScreen:
    await sandbox_ready(app, pilot)
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, LessonScreen)
    return app.screen


async def open_long_exercise(app: TutorApp, pilot) -> ExerciseScreen:
    await open_long_lesson(app, pilot)
    await pilot.press("x")
    await pilot.pause()
    assert isinstance(app.screen, ExerciseScreen)
    return app.screen


def rejoined(rows: list[str]) -> str:
    """Wrapped rows put back together: each ``↪`` row continues the one above."""
    out: list[str] = []
    for row in rows:
        text = row.strip()
        if text.startswith(fmt.CONTINUATION.strip()) and out:
            out[-1] += " " + text.removeprefix(fmt.CONTINUATION.strip()).strip()
        elif text:
            out.append(text)
    return "\n".join(out)


# -- code that survives 80 columns -------------------------------------------------------


def test_code_pieces_wrap_code_exactly_as_the_cli_does() -> None:
    line = "    loss = torch.nn.functional.binary_cross_entropy(torch.sigmoid(logits), targets)  # the mean"
    pieces = fmt.code_pieces(line, 40)
    assert len(pieces) > 1 and pieces[0][0] == 0 and pieces[-1][1] == len(line)
    wrapped = fmt.wrap_code(line, 40).split("\n")
    assert all(len(row) <= 40 for row in wrapped)
    assert wrapped[1:] and all(row.startswith("    " + fmt.CONTINUATION) for row in wrapped[1:])
    assert [line[start:end] for start, end in pieces] == [wrapped[0]] + [
        row.removeprefix("    " + fmt.CONTINUATION) for row in wrapped[1:]]


async def test_a_cell_wraps_its_long_lines_with_a_mark_and_loses_nothing(tmp_path) -> None:
    app = long_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_long_lesson(app, pilot)
        view = screen.cells[0].query_one(CodeView)
        rows = shown(view)
        assert all(len(row.rstrip()) <= view.content_size.width for row in rows)
        comment = [row for row in rows if row.lstrip().startswith(("# A comment", "↪ never"))]
        assert comment[0].lstrip().startswith("# A comment") and comment[1].lstrip().startswith("↪ never")
        # Every character is there, in order, once the marks are taken out.
        assert rejoined(rows).replace(" ", "") == view.code.replace(" ", "")
        assert rejoined(rows).endswith("torch.ones(4))")


async def test_a_preformatted_error_line_in_the_prose_wraps_instead_of_running_off(tmp_path) -> None:
    app = long_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_long_lesson(app, pilot)
        fence = screen.query_one(WrappedFence)
        rows = [row for row in shown(fence.query_one(CodeView)) if row.strip()]
        assert rows[0].strip().startswith("RuntimeError: mat1 and mat2 shapes cannot be multiplied")
        assert rows[1].strip().startswith("↪") and rows[-1].rstrip().endswith("in the classifier head")
        assert fence.max_scroll_x == 0  # nothing to scroll to: it is all on screen


async def test_the_compare_view_wraps_both_sides_and_each_scrolls(tmp_path) -> None:
    app = long_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_long_exercise(app, pilot)
        # A pass opens the solution (the fake grader passes this line).
        screen.editor.text = screen.editor.text + "# " + "return m + r  " * 12 + "\n"
        await check(screen, pilot)
        await pilot.press("ctrl+l")
        await pilot.pause()
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, CompareDialog)
        reference = dialog.query_one("#reference", CodeView)
        rows = [row for row in shown(reference) if row.strip()]
        assert any(row.lstrip().startswith("↪") for row in rows)
        assert rejoined(rows).replace(" ", "") == reference.code.replace(" ", "")
        yours = dialog.query_one("#yours-pane")
        assert dialog.focused is yours and yours.max_scroll_y > 0  # the learner's side is longer than its pane
        await pilot.press("end")
        await pilot.pause()
        assert yours.scroll_y == yours.max_scroll_y
        await pilot.press("home")
        await pilot.pause()
        assert yours.scroll_y == 0
        await pilot.press("tab")
        assert dialog.focused is dialog.query_one("#reference-pane")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


# -- tables and plots --------------------------------------------------------------------


def bce_result() -> RunResult:
    """What a snippet ending in a binary cross-entropy leaves: a loss with a long grad_fn."""
    tensor = {"type": "Tensor", "dtype": "float32", "device": "cpu", "is_leaf": False, "grad": None,
              "preview": "tensor(0.6931)"}
    return RunResult(status="ok", duration_ms=3.0, variables=[
        {**tensor, "name": "loss_per_sample", "shape": [64], "requires_grad": True,
         "grad_fn": "BinaryCrossEntropyBackward0"},
        {**tensor, "name": "probabilities", "shape": [64, 1], "requires_grad": True, "grad_fn": "SigmoidBackward0"},
    ])


async def test_a_narrow_tensor_table_leaves_columns_out_before_cutting_a_name(tmp_path) -> None:
    app = app_answering(tmp_path, bce_result())
    async with app.run_test(size=(80, 24)) as pilot:
        cell = await run_first_cell(app, pilot)
        table = cell.query_one(".tensors", InfoTable)
        text = "\n".join(shown(table))
        assert "BinaryCrossEntropyBackward0" in text and "loss_per_sample" in text
        assert "…" not in text
        shown_headers = [table.headers[c] for c in table.shown_columns(table.content_size.width)]
        assert shown_headers == ["name", "shape", "dtype", "device", "grad_fn"]
        assert "not shown at this width: req_grad, grad" in text


def test_columns_are_left_out_in_their_order_and_only_as_far_as_needed() -> None:
    table = InfoTable(fmt.TENSOR_COLUMNS, fmt.tensor_rows(bce_result().variables), wrap=("grad",),
                      drop=fmt.TENSOR_DROP)
    assert table.shown_columns(86) == list(range(7))
    names = [[table.headers[c] for c in table.shown_columns(width)] for width in (84, 78, 68)]
    assert names[0] == ["name", "shape", "dtype", "device", "req_grad", "grad_fn"]
    assert names[1] == ["name", "shape", "dtype", "device", "grad_fn"]
    assert names[2] == ["name", "shape", "dtype", "grad_fn"]
    # Narrower still, a name folds onto a second line; it never ends in "…".
    console = Console(width=40, record=True)
    console.print(table.render())
    assert "…" not in console.export_text()


async def test_p_plots_a_schedule_too(tmp_path) -> None:
    """A cell whose result holds only an lr schedule (lesson 14's StepLR) has a series
    to plot: p shows it full width, as a step."""
    schedule = {"name": "scheduler", "type": "StepLR",
                "steps": [[1, [0.001]], [2, [0.001]], [3, [0.0005]], [4, [0.0005]], [5, [0.0005]], [6, [0.00025]]]}
    app = app_answering(tmp_path, RunResult(status="ok", duration_ms=2.0, schedules=[schedule]))
    async with app.run_test(size=(80, 24)) as pilot:
        cell = await run_first_cell(app, pilot)
        assert cell.panel.has_plots and "p" in footer_keys(app)
        plot = cell.query_one(".series-plot Plot", Plot)
        assert plot.region.height == 0
        await pilot.press("p")
        await pilot.pause()
        assert cell.panel.plots_shown and plot.region.height > 0 and plot.region.width > 60


# -- room to read in an exercise -------------------------------------------------------


async def test_ctrl_f_gives_the_prompt_and_the_report_the_whole_screen(tmp_path) -> None:
    app = long_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_long_exercise(app, pilot)
        pane = screen.query_one("#prompt-pane")
        small = pane.region.height
        assert pane.max_scroll_y > 0  # the prompt is longer than its share
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert screen.has_class("-reading") and not screen.editor.display
        assert screen.focused is pane and pane.region.height > 2 * small
        await pilot.press("end")  # Home and End reach the prompt's ends
        await pilot.pause()
        assert pane.scroll_y == pane.max_scroll_y
        last = [block for block in screen.query("#prompt MarkdownParagraph") if "last paragraph" in str(block.source)]
        assert last and pane.region.y < last[0].region.y < pane.region.bottom
        await pilot.press("home")
        await pilot.pause()
        assert pane.scroll_y == 0
        await pilot.press("escape")  # out of the reading view, not out of the exercise
        await pilot.pause()
        assert app.screen is screen and screen.editor.display and screen.editor.has_focus

        await check(screen, pilot)  # a failed check: ctrl+f opens on its report
        await pilot.press("ctrl+f")
        await pilot.pause()
        report = screen.query_one(CheckReport)
        assert screen.focused is report and report.region.height >= len(report.children)
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert not screen.has_class("-reading") and screen.editor.has_focus


async def test_the_focused_pane_shows_it_and_a_failed_report_gets_room(tmp_path) -> None:
    app = long_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_long_exercise(app, pilot)
        editor, report, prompt = screen.editor, screen.query_one(CheckReport), screen.query_one("#prompt-pane")
        assert editor.has_focus and editor.styles.border_top[0] == "heavy"
        assert prompt.styles.border_top[0] == "round"
        before = report.region.height
        await check(screen, pilot)
        await pilot.pause()
        assert screen.has_class("-failed") and report.region.height > before + 5
        assert editor.region.height >= 6  # the editor keeps four lines of code at least
        await pilot.press("shift+tab", "shift+tab")  # to the report
        await pilot.pause()
        assert screen.focused is report and report.styles.border_top[0] == "heavy"
        assert editor.styles.border_top[0] == "round"
        reading = report.region.height
        assert reading > before + 8 and editor.region.height == 6
        await pilot.press("shift+tab", "shift+tab")  # by the editor to the prompt: it grows, the report gives way
        await pilot.pause()
        assert screen.focused is prompt and prompt.styles.border_top[0] == "heavy"
        assert report.region.height < reading and prompt.region.height > 6
