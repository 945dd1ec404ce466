"""How inspection data and check differences read as text."""

from __future__ import annotations

import pytest

from tutor.app import format as fmt
from tutor.app.search import search_lessons
from tutor.app.widgets.check_report import headline
from tutor.grading.report import CheckResult, ExerciseReport
from tutor.sandbox.api import ErrorInfo, RunResult

from .fakes import sample_lessons


@pytest.mark.parametrize(("shape", "text"), [([2, 3], "(2, 3)"), ([4], "(4,)"), ([], "()"), (None, "-")])
def test_shapes_read_like_python_tuples(shape, text) -> None:
    assert fmt.shape_text(shape) == text


def test_a_schedule_with_two_param_groups_gets_a_column_each() -> None:
    schedule = {"name": "s", "type": "LambdaLR", "steps": [[1, [0.1, 0.01]], [2, [0.05, 0.005]]]}
    assert fmt.lr_table(schedule) == (("step", "lr[0]", "lr[1]"), [("1", "0.1", "0.01"), ("2", "0.05", "0.005")])
    assert fmt.lr_series(schedule) == [([1.0, 2.0], [0.1, 0.05]), ([1.0, 2.0], [0.01, 0.005])]


@pytest.mark.parametrize(
    ("result", "line"),
    [
        (RunResult(status="ok", duration_ms=3.4), "✓ ran on cpu · 3 ms"),
        (RunResult(status="error", error=ErrorInfo("NameError", "name 'x' is not defined", line=3)),
         "✗ NameError at line 3: name 'x' is not defined"),
        (RunResult(status="timeout", duration_ms=10000), "✗ stopped: the time limit ran out · 10000 ms"),
        (RunResult(status="killed"), "✗ cancelled"),
        (RunResult(status="error", missing_package="torchvision"), "needs the package 'torchvision': pip install torchvision"),
    ],
)
def test_the_status_line_says_what_happened(result, line) -> None:
    assert fmt.status_line(result) == line


def test_modules_list_their_parameters_under_one_heading() -> None:
    modules = [{"name": "net", "type": "Linear", "parameters": 12,
                "named_parameters": [{"name": "weight", "shape": [3, 3]}, {"name": "bias", "shape": [3]}]}]
    assert fmt.module_rows(modules) == [("net: Linear (12 params)", "weight", "(3, 3)"), ("", "bias", "(3,)")]


def test_non_tensor_values_show_their_preview() -> None:
    assert fmt.variable_rows([{"name": "n", "type": "int", "preview": "3"}]) == [("n", "int", "-", "-", "-", "-", "3")]


def test_a_local_pass_with_hidden_checks_never_claims_all_passed() -> None:
    report = ExerciseReport(id="a/b", status="pass", hidden_unrun=1,
                            checks=[CheckResult("one", "pass"), CheckResult("two", "hidden", hidden=True)])
    assert headline(report) == "✓ Passed 1 of 1 visible checks · 1 hidden check run only in `tutor grade`"


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("first steps", [("first-steps", None, "title"), ("first-steps", None, "prose")]),
        ("arange", [("second", None, "code")]),
        ("contiguous", [("second", None, "prose")]),
        ("every row", [("first-steps", "first-steps/add-row", "prose"), ("first-steps", "first-steps/add-row", "code")]),
        ("", []),
    ],
)
def test_search_looks_at_titles_prose_and_code(query, found) -> None:
    hits = search_lessons(sample_lessons(), query)
    assert [(h.lesson.id, h.exercise.id if h.exercise else None, h.where) for h in hits] == found
