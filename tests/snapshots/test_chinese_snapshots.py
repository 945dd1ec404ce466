"""Screenshots of the app in Simplified Chinese at 80x24 (see test_snapshots.py for how to
review and accept one): CJK text takes two cells a character, so every table, border title
and wrapped line here is laid out by cell width, and the words come from the catalogues
(tutor's, and the sample lessons' in tests/app/lessons/locale/zh_CN)."""

from __future__ import annotations

import pytest
from app.test_explained_errors import AnsweringSandbox

from tutor.i18n import choose_language
from tutor.sandbox.api import ErrorInfo, RunResult

from .test_snapshots import build, check_the_first_exercise, run_the_first_cell, settle


@pytest.fixture(autouse=True)
def chinese():
    choose_language("zh-CN")
    yield
    choose_language(None)


def broadcast_error() -> RunResult:
    """A cell that failed on a broadcast, with a tensor it had made: the explanation in
    Chinese and the tensor table's headers."""
    return RunResult(
        status="error", duration_ms=3.0,
        error=ErrorInfo(type="RuntimeError", line=2,
                        message="The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1",
                        traceback='File "<snippet>", line 2, in <module>\n    t + torch.ones(4)\nRuntimeError: ...'),
        variables=[{"name": "t", "type": "Tensor", "shape": [2, 3], "dtype": "float32", "device": "cpu",
                    "requires_grad": False, "is_leaf": True, "grad_fn": None, "grad": None,
                    "preview": "tensor([[1., 1., 1.], [1., 1., 1.]])"}],
    )


class TestChinese:
    def test_lesson_list_in_chinese_at_80x24(self, snap_compare, tmp_path) -> None:
        """'第一步  已通过 0/1' unfolded to '- 练习：加上一行  未开始', the details line in
        Chinese, 'cpu | 沙箱就绪' in the header and the footer's keys (退出, 搜索, 帮助)."""
        assert snap_compare(build(tmp_path), terminal_size=(80, 24), run_before=settle)

    def test_lesson_with_a_result_panel_in_chinese_at_80x24(self, snap_compare, tmp_path) -> None:
        """The first cell ran into a broadcast error: '原因：大小 3 和 4 在第 1 维上无法广播',
        its explanation wrapped by cells, '详见：第 5 课「广播」', and the '张量' table."""
        assert snap_compare(build(tmp_path, AnsweringSandbox(broadcast_error())), terminal_size=(80, 24),
                            run_before=run_the_first_cell)

    def test_exercise_after_a_failed_check_in_chinese_at_80x24(self, snap_compare, tmp_path) -> None:
        """The translated prompt and starter comment, '✗ 未通过：检查通过 0/2', the difference
        table ('期望', '实际', '(0, 1) 处的值') and the footer's keys in Chinese."""
        assert snap_compare(build(tmp_path), terminal_size=(80, 24), run_before=check_the_first_exercise)

    def test_help_in_chinese_at_80x24(self, snap_compare, tmp_path) -> None:
        """The help dialog over the lesson list: its key column aligned and each Chinese
        line within the dialog's width."""

        async def run_before(pilot) -> None:
            await settle(pilot)
            await pilot.press("question_mark")
            await pilot.pause()

        assert snap_compare(build(tmp_path), terminal_size=(80, 24), run_before=run_before)
