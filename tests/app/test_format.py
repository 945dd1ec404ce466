"""How inspection data and check differences read as text."""

from __future__ import annotations

import pytest

from tutor import present as fmt
from tutor.app.widgets.check_report import headline
from tutor.app.widgets.plot import integer_ticks
from tutor.grading.results import CheckResult, ExerciseReport
from tutor.sandbox.api import ErrorInfo, RunResult
from tutor.session import search_lessons

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
    [module] = modules
    assert fmt.module_heading(module) == "net: Linear (12 params)"
    assert fmt.parameter_rows(module) == [("weight", "(3, 3)", "-", "none"), ("bias", "(3,)", "-", "none")]


def test_tensors_and_other_values_go_to_separate_tables() -> None:
    variables = [
        {"name": "n", "type": "int", "preview": "3"},
        {"name": "x", "type": "Tensor", "shape": [2, 2], "dtype": "float32", "device": "cpu", "requires_grad": True,
         "grad_fn": None, "grad": {"shape": [2, 2], "preview": "tensor([[ 0.,  2.],\n        [ 4., 10.]])"}},
    ]
    assert fmt.value_rows(variables) == [("n", "int", "3")]
    assert fmt.tensor_rows(variables) == [("x", "(2, 2)", "float32", "cpu", "True", "-", "[[0., 2.], [4., 10.]]")]


def test_an_optimizer_line_leaves_out_switched_off_implementation_flags() -> None:
    optimizers = [{"name": "opt", "type": "SGD", "param_groups": [
        {"lr": 0.1, "momentum": 0.9, "nesterov": False, "foreach": None, "fused": None, "maximize": False, "params": [0]}]}]
    assert fmt.optimizer_lines(optimizers) == ["opt: SGD  group 0: lr=0.1 momentum=0.9 nesterov=False"]


def test_a_long_lr_table_keeps_its_first_and_last_steps() -> None:
    rows = [(str(n), "0.1") for n in range(1, 101)]
    kept = fmt.elide(rows, 9)
    assert [r[0] for r in kept] == ["1", "2", "3", "4", "…", "97", "98", "99", "100"]


def test_a_traceback_keeps_the_failing_line_not_the_banner() -> None:
    traceback = 'Traceback (most recent call last):\n  File "x.py", line 2, in <module>\n    1 / 0\nZeroDivisionError: division by zero'
    assert fmt.traceback_tail(traceback) == '  File "x.py", line 2, in <module>\n    1 / 0'


def test_a_value_difference_reads_expected_against_got_without_repeating_matches() -> None:
    details = {"what": "result", "expected_shape": [3, 4], "got_shape": [3, 4], "expected_dtype": "torch.float32",
               "got_dtype": "torch.float32", "first_index": [0, 1], "expected_value": "0.5", "got_value": "-0.75",
               "mismatched": 12, "numel": 12, "max_abs_diff": 1.25, "max_rel_diff": 1.0,
               "expected_preview": "tensor([[ 0.1000,  0.5000]])", "got_preview": "tensor([[ 0.3000, -0.7500]])"}
    assert fmt.difference_rows(details) == [("value at (0, 1)", "0.5", "-0.75")]
    assert fmt.preview_rows(details) == [("tensor([[0.1000, 0.5000]])", "tensor([[0.3000, -0.7500]])")]
    assert fmt.difference_notes(details) == (
        "12 of 12 elements differ · max abs diff 1.25 · max rel diff 1 · same shape (3, 4) and dtype torch.float32")
    message = "result: values differ at index [0, 1]: expected 0.5, got -0.75 (12 of 12 elements differ; ...)"
    assert fmt.check_summary(message, details) == "result: values differ"


def test_a_shape_difference_gets_its_row() -> None:
    details = {"expected_shape": [3, 4], "got_shape": [4], "expected_dtype": "torch.float32", "got_dtype": "torch.float32"}
    assert fmt.difference_rows(details) == [("shape", "(3, 4)", "(4,)"), ("dtype", "torch.float32", "torch.float32")]


@pytest.mark.parametrize(("xs", "width", "ticks"), [
    ([1, 2, 3, 4, 5, 6, 7, 8], 60, [1, 2, 3, 4, 5, 6, 7, 8]),
    (list(range(1, 101)), 60, [1, 16, 31, 46, 61, 76, 91]),
    ([0.5, 1.0], 60, []),
])
def test_plots_of_steps_label_whole_steps(xs, width, ticks) -> None:
    assert integer_ticks(xs, width) == ticks


def test_a_local_pass_with_hidden_checks_never_claims_all_passed() -> None:
    report = ExerciseReport(id="a/b", status="pass", hidden_unrun=1,
                            checks=[CheckResult("one", "pass"), CheckResult("two", "hidden", hidden=True)])
    assert headline(report) == "✓ Visible checks pass (1 of 1) · 1 hidden check runs only in `tutor grade`"
    report.hidden_unrun = 2
    assert headline(report).endswith("· 2 hidden checks run only in `tutor grade`")
    # Once every check ran (tutor grade's verdict), and only then, it is a pass.
    graded = ExerciseReport(id="a/b", status="pass", checks=[CheckResult("one", "pass"), CheckResult("two", "pass")])
    assert headline(graded) == "✓ Passed: 2 of 2 checks"


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


def test_search_names_the_block_and_line_of_each_match() -> None:
    lessons = sample_lessons()
    hits = search_lessons(lessons, "torch.")
    code = [h for h in hits if h.where == "code" and h.lesson.id == "first-steps"]
    # One hit per cell that mentions it (at most three of a kind per lesson), each on its cell.
    assert [(h.snippet.index, h.line) for h in code if h.snippet] == [(0, 0), (1, 0), (1, 1)][: len(code)]
    assert all(h.block is h.snippet for h in code)
    [prompt] = search_lessons(lessons, "every row of `m`")
    assert prompt.exercise is not None and prompt.block is prompt.exercise and prompt.line == 0


def test_search_hits_and_watch_show_prose_as_plain_words() -> None:
    from tutor.present import plain_text

    assert plain_text("Write `add_row(m, r)`, **not** a [loop](https://x.y); keep each_row *as is*.") == \
        "Write add_row(m, r), not a loop; keep each_row as is."
    assert plain_text("```python\nx = a * b * c\n```") == "x = a * b * c"  # code keeps its asterisks
    assert plain_text("a `**kwargs` span") == "a **kwargs span"
    hits = [h for h in search_lessons(sample_lessons(), "add_row") if h.where == "prose"]
    assert hits and all("`" not in h.context for h in hits)


def test_a_step_schedule_is_drawn_as_steps_not_slopes() -> None:
    # StepLR halving at step 3: flat, a drop at 3, flat again.
    [(xs, ys)] = fmt.step_lines([([1.0, 2.0, 3.0, 4.0], [0.1, 0.1, 0.05, 0.05])])
    assert list(zip(xs, ys)) == [(1.0, 0.1), (2.0, 0.1), (2.0, 0.1), (3.0, 0.1), (3.0, 0.05), (4.0, 0.05), (4.0, 0.05)]
    assert fmt.step_lines([([], [])]) == [([], [])]

