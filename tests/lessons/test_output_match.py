"""Output fences are compared as a reader compares them: numbers within a tolerance
whatever their printed form, everything else exactly; ``output exact`` fences exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.authoring.lesson_check import snippet_problem
from tutor.errors import LessonError
from tutor.lessons.output_match import numbers_match, output_mismatch
from tutor.lessons.parser import parse_lesson_text
from tutor.sandbox.api import RunResult

HEADER = '+++\nid = "demo"\ntitle = "Demo"\norder = 1\ntopics = ["tensor-math"]\n+++\n\n'


def lesson(output: str, info: str = "output") -> str:
    return f"{HEADER}Some prose.\n\n```python\nprint(x)\n```\n\n```{info}\n{output}\n```\n"


def problem(shown: str, printed: str, info: str = "output") -> str | None:
    """What ``check-lessons`` and the course tests say of a snippet that printed ``printed``."""
    parsed = parse_lesson_text(lesson(shown, info), Path("lessons/demo.md"))
    snippet = parsed.snippets[0]
    found = snippet_problem(snippet, RunResult(status="ok", stdout=printed))
    return f"{parsed.path}:{snippet.line}: {found}" if found else None


@pytest.mark.parametrize("shown, printed", [
    ("tensor(1.0000)", "tensor(1.)"),  # the issue: portable kernels against AVX-512 ones
    ("tensor(1.)", "tensor(1.0000)"),
    ("tensor(1.)", "tensor(1.0000e+00)"),
    ("tensor([0.7071, 1.4142])", "tensor([0.7072, 1.4142])"),  # a last digit across a rounding boundary
    ("lr 0.0105", "lr 0.01050001"),
    ("tensor(94.3010)", "tensor(94.3011)"),
    ("0.30000000000000004", "0.3"),
    ("tensor([-0.0000,  0.5000])", "tensor([0.0000, 0.5000])"),  # the sign's padding goes with the sign
    ("loss 1.2345e-05", "loss 1.2346e-05"),
    ("tensor([nan, inf])", "tensor([nan, inf])"),
    ("tensor(0.)", "tensor(5.9605e-08)"),  # float32 noise around zero: one kernel's exact zero
])
def test_a_float_whose_last_digits_or_printed_form_differ_passes(shown, printed):
    assert problem(shown, printed) is None


def test_one_against_one_point_zeros_passes_both_ways_and_in_every_form():
    for a in ("1.", "1.0", "1.0000", "1.0000e+00", "1e0"):
        for b in ("1.", "1.0", "1.0000", "1.0000e+00", "1e0"):
            assert numbers_match(a, b), (a, b)


@pytest.mark.parametrize("shown, printed", [
    ("tensor(0.5000)", "tensor(0.5100)"),
    ("tensor(1.)", "tensor(1.0100)"),
    ("tensor(94.3010)", "tensor(94.4010)"),
    ("loss 1.2345e-03", "loss 1.3345e-03"),
    ("tensor([1., 2.])", "tensor([1., 3.])"),
    ("lr 0.1", "lr 0.2"),  # one digit is the value itself, not its rounding
    ("lr 0.05", "lr 0.06"),
    ("mean 2.5", "mean 2.52"),
    ("tensor([0.0106])", "tensor([0.0108])"),
])
def test_a_number_beyond_the_tolerance_fails_naming_file_line_and_both_lines(shown, printed):
    message = problem(shown, printed)
    assert message == (f"lessons/demo.md:10: snippet 1 output differs at its line 1: "
                       f"the lesson shows {shown!r}, the run printed {printed!r}")


@pytest.mark.parametrize("shown, printed", [
    ("tensor(3)", "tensor(4)"),  # integers are exact: counts, indices, shapes
    ("tensor(1)", "tensor(1.)"),  # an integer tensor is not a float one
    ("torch.Size([2, 3])", "torch.Size([2, 4])"),
    ("torch.float32", "torch.float64"),
    ("MulBackward0", "AddBackward0"),
    ("tensor([1., 2.])", "tensor([1., 2.], requires_grad=True)"),
    ("epoch 1 loss 0.5000", "epoch 2 loss 0.5000"),
    ("True", "False"),
    ("a b", "ab"),
])
def test_text_that_differs_fails_naming_file_line_and_both_lines(shown, printed):
    message = problem(shown, printed)
    assert message is not None and message.startswith("lessons/demo.md:10: snippet 1 output differs at its line 1: ")
    assert repr(shown) in message and repr(printed) in message


def test_the_line_named_is_the_fences_own_and_missing_or_extra_lines_read_end():
    assert problem("a\nb\nc", "a\nb\nd") is not None and "at its line 3:" in problem("a\nb\nc", "a\nb\nd")
    assert "the lesson shows 'c', the run printed '<end>'" in problem("a\nb\nc", "a\nb")
    assert "at its line 3: the lesson shows '<end>', the run printed 'c'" in problem("a\nb", "a\nb\nc")
    assert problem("a  \n\n", "a\n") is None  # trailing spaces and blank lines never count


def test_an_exact_fence_compares_every_character():
    assert problem("tensor(1.0000)", "tensor(1.)", info="output exact") is not None
    assert problem("tensor([0.0106])", "tensor([0.0105])", info="output exact") is not None
    assert problem("tensor([-0.5000,  0.5000])", "tensor([-0.5000, 0.5000])", info="output exact") is not None
    assert problem("tensor(1.0000)", "tensor(1.0000)", info="output exact") is None


def test_an_unknown_output_option_is_a_lesson_error_at_its_line():
    with pytest.raises(LessonError, match="unknown output fence option 'exactly'") as caught:
        parse_lesson_text(lesson("1", info="output exactly"), Path("lessons/demo.md"))
    assert caught.value.line == 14


def test_a_cuda_run_matches_a_lesson_written_on_the_cpu():
    cpu = "tensor([1.0000, 2.0000], grad_fn=<MulBackward0>)"
    cuda = "tensor([1.0000, 2.0000], device='cuda:0', grad_fn=<MulBackward0>)"
    assert output_mismatch(cpu, cuda) is not None  # on the CPU, a device suffix is a difference
    assert output_mismatch(cpu, cuda, device="cuda") is None
    # The longer repr pushed grad_fn onto a line of its own.
    wrapped = ("tensor([0.1000, 0.2000, 0.3000, 0.4000, 0.5000, 0.6000, 0.7000, 0.8000],\n"
               "       device='cuda:0', grad_fn=<MulBackward0>)")
    one_line = "tensor([0.1000, 0.2000, 0.3000, 0.4000, 0.5000, 0.6000, 0.7000, 0.8000], grad_fn=<MulBackward0>)"
    assert output_mismatch(one_line, wrapped, device="cuda") is None
    # TF32 rounding passes on the GPU's tolerance, not on the CPU's.
    assert output_mismatch("tensor(0.7071)", "tensor(0.7075)", device="cuda") is None
    assert output_mismatch("tensor(0.7071)", "tensor(0.7075)") is not None
    assert output_mismatch("tensor(0.7071)", "tensor(0.7371)", device="cuda") is not None
