"""Screenshots of what a learner reads in a result panel (see test_snapshots.py for how
to review and accept one)."""

from __future__ import annotations

from app.test_explained_errors import AnsweringSandbox
from app.test_results_read import trained_module

from tutor.sandbox.api import RunResult

from .test_snapshots import build, run_the_first_cell


class TestGradNorms:
    def test_a_module_table_with_grad_norms_at_80x24(self, snap_compare, tmp_path) -> None:
        """After running the first cell, whose run trained a two-layer model with its
        first bias frozen and called loss.backward(): under 'modules' the heading
        'model: Sequential (17 params) · grad on 3 of 4 parameters' and a table of
        parameter, shape, req_grad and grad norm: 0.weight 0.8123, 0.bias False none,
        2.weight 1.046, 2.bias 0.3981, all within 80 columns."""

        result = RunResult(status="ok", duration_ms=11.0, modules=[trained_module()])
        assert snap_compare(build(tmp_path, AnsweringSandbox(result)), terminal_size=(80, 24), run_before=run_the_first_cell)
