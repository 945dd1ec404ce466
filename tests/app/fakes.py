"""Stand-ins for the sandbox and the grader, so the app's tests run in milliseconds
and never import torch. Results are shaped like the JSON contract in DESIGN.md. The
workspace is the real one: it is plain files and already fast."""

from __future__ import annotations

import threading
from pathlib import Path

from tutor.grading.results import CheckResult, ExerciseReport
from tutor.lessons import Exercise, LessonSet, load_lessons
from tutor.sandbox.api import ErrorInfo, RunRequest, RunResult
from tutor.workspace import Workspace

LESSONS_DIR = Path(__file__).parent / "lessons"
#: One lesson whose code, error text and prompt are wider and longer than 80x24.
LONG_LESSONS_DIR = Path(__file__).parent / "long_lessons"


def sample_lessons() -> LessonSet:
    return load_lessons([LESSONS_DIR])


def long_lessons() -> LessonSet:
    return load_lessons([LONG_LESSONS_DIR])


def tensor_result() -> RunResult:
    return RunResult(
        status="ok",
        stdout="[bold red]not markup[/]\n",
        duration_ms=4.2,
        variables=[{
            "name": "t", "type": "Tensor", "shape": [2, 3], "dtype": "float32", "device": "cpu",
            "requires_grad": True, "is_leaf": True, "grad_fn": None,
            "grad": {"shape": [2, 3], "values": [[1.0] * 3] * 2, "preview": "tensor([[1., 1., 1.],\n [1., 1., 1.]])"},
            "preview": "tensor([[1., 1., 1.], [1., 1., 1.]], requires_grad=True)",
        }],
    )


def schedule_result() -> RunResult:
    return RunResult(
        status="ok",
        duration_ms=6.0,
        variables=[{"name": "w", "type": "Parameter", "shape": [2], "dtype": "float32", "device": "cpu",
                    "requires_grad": True, "is_leaf": True, "grad_fn": None, "grad": None, "preview": "[0., 0.]"}],
        optimizers=[{"name": "opt", "type": "SGD", "param_groups": [{"lr": 0.025, "momentum": 0, "params": [0]}]}],
        schedules=[{"name": "sched", "type": "StepLR", "steps": [[1, [0.1]], [2, [0.05]], [3, [0.05]], [4, [0.025]]]}],
        series=[{"name": "losses", "values": [1.0, 0.5, 0.3, 0.2]}],
    )


def error_result() -> RunResult:
    return RunResult(
        status="error",
        error=ErrorInfo(type="ZeroDivisionError", message="division by zero", line=2,
                        traceback='File "<snippet>", line 2, in <module>\n    1 / 0\nZeroDivisionError: division by zero'),
    )


class FakeSandbox:
    """Answers by the code's first line; ``while True`` blocks until ``cancel_all``."""

    def __init__(self) -> None:
        self.state = "ready"
        self.requests: list[RunRequest] = []
        self.started = threading.Event()
        self.cancelled = threading.Event()
        self.closed = False

    def start(self) -> None:
        self.state = "ready"

    def wait_ready(self, timeout: float | None = None) -> None:
        return None

    def cuda_available(self) -> bool:
        return False

    def run(self, request: RunRequest) -> RunResult:
        self.requests.append(request)
        self.started.set()
        if "while True" in request.code:
            self.cancelled.wait(30)
            return RunResult(status="killed")
        if "opt.step()" in request.code:
            return schedule_result()
        if "1 / 0" in request.code:
            return error_result()
        if "torch.ones(2, 3" in request.code:
            return tensor_result()
        return RunResult(status="ok", duration_ms=1.0)

    def cancel_all(self) -> None:
        self.cancelled.set()

    def close(self) -> None:
        self.closed = True


def fake_grade(exercise: Exercise, source: str, client: object, *, include_hidden: bool = False, device: str = "cpu",
               filename: str = "solution.py", seeds: tuple[int, ...] | None = None) -> ExerciseReport:
    """Passes `m + r`; anything else fails the first check with a value difference.
    Hidden checks run when asked for (the app asks), each failing with its inputs when
    the answer is wrong (what a learner must never see)."""
    right = "return m + r" in source
    secret = {"expected_preview": "[[secret hidden input]]", "got_preview": "[[0.0]]"}
    hidden = [CheckResult(name=c.name, status="pass" if right else "fail", hidden=True,
                          message="" if right else "values differ on the secret input", details={} if right else secret)
              if include_hidden else CheckResult(name=c.name, status="hidden", hidden=True)
              for c in exercise.checks if c.hidden]
    unrun = 0 if include_hidden else len(hidden)
    if right:
        checks = [CheckResult(name=c.name, status="pass") for c in exercise.visible_checks] + hidden
        return ExerciseReport(id=exercise.id, status="pass", checks=checks, hidden_unrun=unrun)
    first = exercise.visible_checks[0]
    failed = CheckResult(
        name=first.name, status="fail", message="values differ", seed=1,
        details={
            "expected_shape": [3, 4], "got_shape": [3, 4], "expected_dtype": "float32", "got_dtype": "float32",
            "max_abs_diff": 1.25, "max_rel_diff": 1.0, "first_index": [0, 1],
            "expected_value": 0.5, "got_value": -0.75,
            "expected_preview": "[[0.1, 0.5, ...]]", "got_preview": "[[0.3, -0.75, ...]]",
        },
    )
    return ExerciseReport(id=exercise.id, status="fail", checks=[failed] + hidden, hidden_unrun=unrun,
                          hint=exercise.hints[0])


def workspace_at(root: Path) -> Workspace:
    """The real workspace (plain files, no torch), so the app's tests see exactly what
    a learner's progress file gives it, including exercises it has never heard of."""
    return Workspace(root, sample_lessons())
