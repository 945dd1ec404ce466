"""A screenshot of the autograd graph view (see test_snapshots.py for how to review and
accept one)."""

from __future__ import annotations

from app.test_autograd_graph import linear_sum_result
from app.test_explained_errors import AnsweringSandbox

from .test_snapshots import build, run_the_first_cell


class TestAutogradGraph:
    def test_the_graph_of_a_linear_sum_at_80x24(self, snap_compare, tmp_path) -> None:
        """After running the first cell and pressing g, then left: a bordered view titled
        'autograd graph of y (1 of 2) · backward() flows down to the leaves', the tree
        'y ()' > SumBackward0 > AddBackward0 > MulBackward0 > '● w (3,) · requires grad
        (AccumulateGrad)' and '○ x (3,) · no grad', and '● b (3,) · requires grad' under
        AddBackward0; the legend under it; the footer offers esc Close and the arrows."""

        async def run_before(pilot) -> None:
            await run_the_first_cell(pilot)
            await pilot.press("g", "left")
            await pilot.pause()

        app = build(tmp_path, AnsweringSandbox(linear_sum_result()))
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
