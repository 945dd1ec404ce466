"""Results a learner reads: after ``loss.backward()`` the module table says which
parameters got a gradient and how large (its norm); a loss history is one row with a
sparkline, and ``p`` on the cell shows its full plot, ``p`` again hides it. A result
forged by learner code reads as ``?`` and never breaks the panel."""

from __future__ import annotations

from textual.widgets import Label

from tutor import present as fmt
from tutor.app.app import TutorApp, make_app
from tutor.app.widgets.info_table import InfoTable
from tutor.app.widgets.plot import Plot
from tutor.app.widgets.result_panel import SERIES_HINT, SERIES_HINT_SHOWN
from tutor.sandbox.api import RunResult
from tutor.sandbox.client import result_from_json

from .fakes import fake_grade, sample_lessons, workspace_at
from .test_explained_errors import AnsweringSandbox, run_first_cell
from .test_story import table_text


def trained_module() -> dict:
    """A two-layer model after ``loss.backward()``, its first bias frozen."""
    return {
        "name": "model", "type": "Sequential", "parameters": 17, "trainable": 14,
        "parameter_tensors": 4, "with_grad": 3,
        "named_parameters": [
            {"name": "0.weight", "shape": [3, 2], "requires_grad": True, "grad": 0.81234},
            {"name": "0.bias", "shape": [3], "requires_grad": False, "grad": None},
            {"name": "2.weight", "shape": [1, 3], "requires_grad": True, "grad": 1.0461},
            {"name": "2.bias", "shape": [1], "requires_grad": True, "grad": 0.39811},
        ],
    }


def trained_result() -> RunResult:
    """What the sandbox answers for a small training loop: a Linear whose bias was
    frozen, after ``loss.backward()``, and the list of losses it recorded."""
    return RunResult(
        status="ok", duration_ms=9.0,
        modules=[{
            "name": "model", "type": "Linear", "parameters": 4, "trainable": 3,
            "parameter_tensors": 2, "with_grad": 1,
            "named_parameters": [
                {"name": "weight", "shape": [1, 3], "requires_grad": True, "grad": 1.23456},
                {"name": "bias", "shape": [1], "requires_grad": False, "grad": None},
            ],
        }],
        series=[{"name": "losses", "values": [1.0, 0.5, 0.3, 0.2]}],
    )


def app_answering(tmp_path, result: RunResult) -> TutorApp:
    return make_app(sample_lessons(), workspace_at(tmp_path / "ws"), AnsweringSandbox(result), grade=fake_grade,
                    device="cpu")


def footer_keys(app: TutorApp) -> list[str]:
    """The key names the footer shows now."""
    return [binding.key for (_, binding, enabled, _) in app.screen.active_bindings.values()
            if binding.show and enabled]


def labels(widget, selector: str) -> list[str]:
    return [str(label.render()) for label in widget.query(selector).results(Label)]


async def test_after_backward_the_module_table_shows_each_parameters_grad_norm(tmp_path) -> None:
    app = app_answering(tmp_path, trained_result())
    async with app.run_test(size=(80, 24)) as pilot:
        cell = await run_first_cell(app, pilot)
        assert labels(cell, ".module-heading") == ["model: Linear (4 params) · grad on 1 of 2 parameters"]
        table = cell.query_one(".parameters", InfoTable)
        assert table.headers == ("parameter", "shape", "req_grad", "grad norm")
        # The frozen bias never got a grad: 'none', not 0.
        assert table_text(table) == [["weight", "(1, 3)", "True", "1.235"], ["bias", "(1,)", "False", "none"]]
        assert not cell.query(".module-note")  # nothing was left out


async def test_a_loss_history_is_one_row_and_p_shows_then_hides_its_plot(tmp_path) -> None:
    app = app_answering(tmp_path, trained_result())
    async with app.run_test(size=(80, 24)) as pilot:
        cell = await run_first_cell(app, pilot)
        # The history reads at a glance: 4 values from 1 to 0.2, and its trend.
        assert table_text(cell.query_one(".series", InfoTable)) == [["losses", "4", "1", "0.2", "0.2", "1", "█▄▂▁"]]
        assert labels(cell, ".series-heading") == [SERIES_HINT]
        plot = cell.query_one(".series-plot Plot", Plot)
        assert not cell.panel.plots_shown and plot.region.height == 0
        assert "p" in footer_keys(app)  # the footer offers the key while the result has a series

        await pilot.press("p")
        await pilot.pause()
        assert cell.panel.plots_shown
        assert plot.region.height > 0 and "1.0" in str(plot.render())  # plotext drew it
        assert labels(cell, ".series-heading") == [SERIES_HINT_SHOWN]

        await pilot.press("p")
        await pilot.pause()
        assert not cell.panel.plots_shown and plot.region.height == 0
        assert labels(cell, ".series-heading") == [SERIES_HINT]


async def test_p_is_not_offered_for_a_result_without_a_series(tmp_path) -> None:
    app = app_answering(tmp_path, RunResult(status="ok", duration_ms=1.0))
    async with app.run_test(size=(80, 24)) as pilot:
        cell = await run_first_cell(app, pilot)
        assert not cell.panel.has_plots
        assert "p" not in footer_keys(app)
        await pilot.press("p")  # does nothing, breaks nothing
        await pilot.pause()
        assert not cell.panel.plots_shown


def forged_result() -> RunResult:
    """A result whose inspection fields were written by learner code, not inspection:
    every grad, count and series value of the wrong type, read back by the client."""
    return result_from_json({
        "status": "ok",
        "modules": [
            "not a module",
            {"name": ["net"], "type": 3, "parameters": "lots", "parameter_tensors": "many", "with_grad": -1,
             "named_parameters": [
                 {"name": "a", "shape": "wide", "requires_grad": "yes", "grad": {"norm": 1}},
                 {"name": "b", "shape": [2], "requires_grad": True, "grad": 10 ** 400},
                 {"name": "c", "shape": [2], "requires_grad": True, "grad": True},
                 {"name": "d", "shape": [2], "requires_grad": True, "grad": "inf"},
                 {"name": "e", "shape": [2], "requires_grad": True, "grad": "1.5"},
                 "not a parameter",
             ]},
            {"name": "empty", "type": "Linear", "named_parameters": 7},
        ],
        "series": [
            {"name": "losses", "values": [1, "x", None, "nan", 10 ** 400, 2]},
            {"name": 7, "values": "not a list"},
            {"name": "short", "values": [1]},
            {"name": "junk", "values": [{}, []]},
            [1, 2, 3],
        ],
    })


async def test_a_forged_result_reads_as_question_marks_and_never_breaks_the_panel(tmp_path) -> None:
    result = forged_result()
    # The rows a front lays out: every unreadable field is '?' or '-'.
    rows, note = fmt.parameter_table(result.modules[0])
    assert rows == [("a", "wide", "-", "?"), ("b", "(2,)", "True", "?"), ("c", "(2,)", "True", "?"),
                    ("d", "(2,)", "True", "inf"), ("e", "(2,)", "True", "?")]
    assert note == ""
    assert fmt.module_heading(result.modules[0]) == "?: ? (? params)"
    assert fmt.series_rows(result.series) == [
        ("losses", "6 (4 not finite)", "1", "2", "1", "2", "▁××××█"),
        ("junk", "2 (2 not finite)", "?", "?", "-", "-", "××"),
    ]
    result.modules.insert(0, "not a module")  # a result built without the client's reader
    app = app_answering(tmp_path, result)
    async with app.run_test(size=(80, 24)) as pilot:
        cell = await run_first_cell(app, pilot)
        assert labels(cell, ".module-heading") == ["?: ? (? params)", "empty: Linear (0 params)"]
        assert table_text(cell.query_one(".series", InfoTable))[0][0] == "losses"
        await pilot.press("p")  # the losses' two finite points still plot
        await pilot.pause()
        assert cell.panel.plots_shown and len(cell.query(".series-plot")) == 1
