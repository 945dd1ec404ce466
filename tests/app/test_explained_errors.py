"""Errors explained in the result panel: one of the ten beginner errors gets a short
explanation under its traceback that names the lesson section; any other error shows
its traceback alone, as before."""

from __future__ import annotations

from textual.widgets import Static

from tutor.app.app import TutorApp, make_app
from tutor.sandbox.api import ErrorInfo, RunRequest, RunResult

from .fakes import FakeSandbox, fake_grade, sample_lessons, workspace_at
from .test_story import open_first_lesson, texts


def matmul_error() -> RunResult:
    """What the real sandbox answers for ``a @ b`` with two (2, 3) tensors."""
    return RunResult(
        status="error", duration_ms=12.0,
        error=ErrorInfo(
            type="RuntimeError", message="mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)", line=3,
            traceback='Traceback (most recent call last):\n  File "first-steps/cell-1.py", line 3, in <module>\n'
                      '    c = a @ b\nRuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)\n'),
        variables=[{"name": n, "type": "Tensor", "shape": [2, 3], "dtype": "float32", "device": "cpu",
                    "requires_grad": False, "is_leaf": True, "grad_fn": None, "grad": None, "preview": "..."}
                   for n in ("a", "b")],
    )


class AnsweringSandbox(FakeSandbox):
    """Answers every run with one result."""

    def __init__(self, result: RunResult) -> None:
        super().__init__()
        self.result = result

    def run(self, request: RunRequest) -> RunResult:
        self.requests.append(request)
        return self.result


def app_answering(tmp_path, result: RunResult) -> TutorApp:
    return make_app(sample_lessons(), workspace_at(tmp_path / "ws"), AnsweringSandbox(result), grade=fake_grade,
                    device="cpu")


async def run_first_cell(app: TutorApp, pilot):
    screen = await open_first_lesson(app, pilot)
    await pilot.press("enter")
    await screen.workers.wait_for_complete()
    await pilot.pause()
    return screen.cells[0]


async def test_a_shape_mismatch_is_explained_with_its_shapes_and_lesson(tmp_path) -> None:
    app = app_answering(tmp_path, matmul_error())
    async with app.run_test(size=(80, 24)) as pilot:
        cell = await run_first_cell(app, pilot)
        assert texts(cell, ".status") == ["✗ RuntimeError at line 3: mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"]
        assert "c = a @ b" in texts(cell, ".traceback")[0]
        assert texts(cell, ".explanation .why") == ["why: the shapes 2x3 and 2x3 cannot be multiplied"]
        [because] = texts(cell, ".explanation .because")
        assert "the left one is 2x3 (3 columns)" in because and "(2 rows)" in because
        assert texts(cell, ".explanation .where") == ["learn more: lesson 5, “matmul and @: the general product”"]


async def test_an_unknown_error_shows_its_traceback_alone(tmp_path) -> None:
    error = RunResult(status="error", error=ErrorInfo(
        type="ZeroDivisionError", message="division by zero", line=1,
        traceback='File "<snippet>", line 1, in <module>\n    1 / 0\nZeroDivisionError: division by zero'))
    app = app_answering(tmp_path, error)
    async with app.run_test(size=(80, 24)) as pilot:
        cell = await run_first_cell(app, pilot)
        assert texts(cell, ".traceback") == ['File "<snippet>", line 1, in <module>\n    1 / 0']
        assert not cell.query(".explanation")
        assert all("why:" not in str(w.render()) for w in cell.query(Static))
