"""The autograd graph of a result, in the terminal: g on a cell whose result holds a
tensor with a grad_fn opens a tree from that tensor down to its leaves; Esc closes it."""

from __future__ import annotations

from textual.geometry import Region
from textual.widgets import Static

from tutor.app.app import TutorApp
from tutor.app.screens.lesson import LessonScreen
from tutor.app.widgets.graph_view import GraphScreen
from tutor.sandbox.api import RunResult, VariableJson

from .test_explained_errors import app_answering, run_first_cell


def tensor(name: str, shape: list[int], **more) -> VariableJson:
    return VariableJson(name=name, type="Tensor", shape=shape, dtype="float32", device="cpu", requires_grad=True,
                        is_leaf="graph" not in more, grad_fn=None, grad=None, preview="...", **more)


def linear_sum_result() -> RunResult:
    """What the sandbox reports for ``w``, ``b`` (requires grad), ``x`` and
    ``y = (w * x + b).sum()``, then ``z = w * w`` (w reached twice)."""
    leaf = {"op": "AccumulateGrad", "next": []}
    y_graph = {"nodes": [
        {"op": "SumBackward0", "next": [1]},
        {"op": "AddBackward0", "next": [2, 3]},
        {"op": "MulBackward0", "next": [4, 5]},
        {**leaf, "leaf": {"name": "b", "shape": [3], "requires_grad": True}},
        {**leaf, "leaf": {"name": "w", "shape": [3], "requires_grad": True}},
        {"op": None, "next": [], "leaf": {"name": "x", "shape": [3], "requires_grad": False}},
    ], "truncated": False}
    z_graph = {"nodes": [{"op": "MulBackward0", "next": [1, 1]},
                         {**leaf, "leaf": {"name": "w", "shape": [3], "requires_grad": True}}], "truncated": False}
    return RunResult(status="ok", duration_ms=3.0, variables=[
        tensor("w", [3]), tensor("b", [3]), {**tensor("x", [3]), "requires_grad": False},
        {**tensor("y", [], graph=y_graph), "grad_fn": "SumBackward0"},
        {**tensor("z", [3], graph=z_graph), "grad_fn": "MulBackward0"},
    ])


def shown(screen: GraphScreen) -> str:
    """The screen's text as drawn, line by line (the tree included)."""
    lines = []
    for widget in screen.query(Static):
        width, height = widget.size
        lines += ["".join(seg.text for seg in strip).rstrip() for strip in widget.render_lines(Region(0, 0, width, height))]
    return "\n".join(lines)


async def test_g_draws_the_graph_of_a_result_and_esc_closes_it(tmp_path) -> None:
    app: TutorApp = app_answering(tmp_path, linear_sum_result())
    async with app.run_test(size=(80, 24)) as pilot:
        cell = await run_first_cell(app, pilot)
        assert "g shows the autograd graph" in "\n".join(str(w.render()) for w in cell.query(".section"))
        await pilot.press("g")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, GraphScreen)
        text = shown(screen)
        # The last tensor with a graph first: z = w * w reaches w twice, drawn once.
        assert "autograd graph of z (2 of 2) · backward() flows down to the leaves" in text
        assert text.count("● w (3,) · requires grad") == 2 and "drawn above" in text
        await pilot.press("left")
        text = shown(screen)
        assert "autograd graph of y (1 of 2)" in text
        lines = text.splitlines()
        order = [next(i for i, line in enumerate(lines) if word in line)
                 for word in ("SumBackward0", "AddBackward0", "MulBackward0", "● w", "○ x", "● b")]
        assert order == sorted(order)  # drawn depth first, from the result to the leaves
        assert "○ x (3,) · no grad" in text and "● b (3,) · requires grad" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)


async def test_g_is_not_offered_where_no_tensor_has_a_graph(tmp_path) -> None:
    app = app_answering(tmp_path, RunResult(status="ok", duration_ms=1.0, variables=[tensor("w", [3])]))
    async with app.run_test(size=(80, 24)) as pilot:
        cell = await run_first_cell(app, pilot)
        assert "autograd" not in "\n".join(str(w.render()) for w in cell.query(".section"))
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)


async def test_a_forged_graph_draws_as_far_as_it_makes_sense(tmp_path) -> None:
    """Indices out of range and a cycle from a report learner code wrote: no crash, no loop."""
    graph = {"nodes": [{"op": "MulBackward0", "next": [0, 7, -1]}], "truncated": True}
    app = app_answering(tmp_path, RunResult(status="ok", variables=[{**tensor("y", [2], graph=graph)}]))
    async with app.run_test(size=(80, 24)) as pilot:
        await run_first_cell(app, pilot)
        await pilot.press("g")
        await pilot.pause()
        text = shown(app.screen)
        assert "MulBackward0" in text and "drawn above" in text and "only its first 1 nodes" in text
