"""The ten beginner errors, each raised by a snippet in the real sandbox and explained
with the values from its message and the lesson section that teaches it; any other
error gets no explanation (the traceback is shown as before)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tutor.explain import KINDS, SECTIONS, Section, dtype_text, explain, explain_result, failing_line
from tutor.lessons import load_lessons
from tutor.sandbox.api import ErrorInfo, RunRequest, RunResult

LESSONS_DIR = Path(__file__).resolve().parents[1] / "lessons"

#: kind -> (snippet that raises it, words the explanation must carry, section it names)
CASES = {
    "matmul-shape": (
        "a = torch.randn(2, 3)\nb = torch.randn(2, 3)\nc = a @ b\n",
        ["2x3 (3 columns)", "2x3 (2 rows)", "3 ≠ 2"], "`matmul` and `@`: the general product"),
    "broadcast": (
        "a = torch.randn(2, 3)\nb = torch.randn(4)\nc = a + b\n",
        ["In dimension 1", "size 3 and the other 4"], "Broadcasting"),
    "device": (
        # No CUDA on the test machines: the meta device raises the same kind of error.
        "a = torch.randn(2, 3, device='meta')\nb = torch.randn(2, 3)\nc = a + b\n",
        ["two devices, meta and cpu", ".to(DEVICE)"], "All operands on one device"),
    "dtype": (
        "logits = torch.randn(4, 3)\ntarget = torch.tensor([0., 1., 2., 0.])\nloss = F.cross_entropy(logits, target)\n",
        ["(Long, int64)", "this target is Float (float32)", "target.long()"],
        "Several classes: `CrossEntropyLoss` and `NLLLoss`"),
    "inplace-leaf": (
        "w = torch.ones(3, requires_grad=True)\nw += 1\n",
        ["requires_grad=True", "torch.no_grad()"], "In-place changes and autograd"),
    "backward-twice": (
        "w = torch.ones(3, requires_grad=True)\ny = (w * w).sum()\ny.backward()\ny.backward()\n",
        ["retain_graph=True", "Recompute the forward pass"], "Calling `backward()` twice"),
    "view-contiguous": (
        "x = torch.arange(6).view(2, 3).t()\ny = x.view(6)\n",
        ["`x` (shape (3, 2)) is not contiguous", ".reshape(...)"], "Transposes make non-contiguous views"),
    "grad-none": (
        "w = torch.ones(3, requires_grad=True)\nh = w * 2\nh.sum().backward()\nprint(h.grad.norm())\n",
        ["`h` is the result of an operation, not a leaf", "h.retain_grad()"], "Leaves, non-leaves and `backward()`"),
    "index": (
        "x = torch.arange(3)\ny = x[5]\n",
        ["Dimension 0 has size 3", "0 to 2", "5 is outside"], "Indexing and slicing"),
    "module-input": (
        "net = nn.Linear(4, 2)\ny = net(torch.randn(3, 5))\n",
        ["`net` (Linear)", "in_features=4", "last dimension is 5", "3x5"],
        "Lazy layers learn their input size on the first call"),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_each_error_is_explained_with_its_values_and_its_lesson_section(kind: str, sandbox) -> None:
    code, words, heading = CASES[kind]
    result = sandbox.run(RunRequest(code=code, filename=f"{kind}.py"))
    assert result.status == "error", result
    explanation = explain_result(result)
    assert explanation is not None, result.error
    assert explanation.kind == kind
    for word in words:
        assert word in explanation.text
    assert explanation.section.heading == heading
    assert explanation.lines()[-1] == f"learn more: {explanation.section}"


@pytest.mark.slow
def test_an_unknown_error_is_not_explained(sandbox) -> None:
    result = sandbox.run(RunRequest(code="x = 1 / 0\n", filename="zero.py"))
    assert result.error is not None and result.error.type == "ZeroDivisionError"
    assert explain_result(result) is None


@pytest.mark.slow
@pytest.mark.parametrize(("code", "kind", "words"), [
    ("net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(6, 2))\ny = net(torch.randn(3, 4))\n",
     "module-input", ["inside `net` (Sequential)", "takes 6 input features", "has 8"]),
    ("conv = nn.Conv2d(3, 8, 3)\ny = conv(torch.randn(1, 1, 28, 28))\n",
     "module-input", ["takes 3 input channels", "(1, 1, 28, 28) has 1 in dimension 1"]),
    ("conv = nn.Conv2d(3, 8, 3)\ny = conv(torch.randn(28, 28))\n",
     "module-input", ["(28, 28) has 2 dimensions"]),
    ("bn = nn.BatchNorm1d(4)\ny = bn(torch.randn(3, 5))\n", "module-input", ["made for 4 features", "has 5"]),
    ("a = torch.randn(2, 3)\nb = torch.randn(3, 2, dtype=torch.float64)\nc = a @ b\n",
     "dtype", ["float32 and float64"]),
    ("net = nn.Linear(3, 2)\ny = net(torch.tensor([[1, 2, 3]]))\n", "dtype", ["Long (int64) and Float (float32)"]),
    ("p = torch.sigmoid(torch.randn(4))\nloss = nn.BCELoss()(p, torch.tensor([0, 1, 1, 0]))\n",
     "dtype", ["is Long (int64)", "target.float()"]),
    ("w = torch.ones(3)\ny = (w * 2).sum()\ny.backward()\n", "grad-none", ["never recorded"]),
    ("w = torch.ones(3)\nprint(w.grad.sum())\n", "grad-none", ["`w` does not require grad"]),
    ("logits = torch.randn(2, 3)\nloss = F.cross_entropy(logits, torch.tensor([0, 5]))\n", "index", ["is 5"]),
    ("emb = nn.Embedding(10, 4)\ny = emb(torch.tensor([3, 12]))\n", "index", ["0 to n - 1"]),
    ("x = torch.randn(3, 4)\ny = x.sum(dim=2)\n", "index", ["has 2 dimensions", "-2 to 1"]),
    ("a = torch.randn(2, 3)\nv = torch.randn(2)\nc = a @ v\n", "matmul-shape", ["2x3 (3 columns)", "2 entries"]),
    ("a = torch.randn(4, 2, 3)\nb = torch.randn(4, 2, 3)\nc = torch.bmm(a, b)\n", "matmul-shape", ["[4, 3]", "[4, 2]"]),
    ("x = torch.zeros(3)\nx += torch.ones(2, 3)\n", "broadcast", ["shape (3,)", "(2, 3)"]),
    ("w = torch.ones(3, requires_grad=True)\ny = w.exp()\ny.mul_(2)\ny.sum().backward()\n",
     "inplace-leaf", ["changed in place after the forward pass"]),
])
def test_the_other_forms_of_the_ten_errors(code: str, kind: str, words: list[str], sandbox) -> None:
    result = sandbox.run(RunRequest(code=code, filename="other.py"))
    explanation = explain_result(result)
    assert explanation is not None, result.error
    assert explanation.kind == kind
    for word in words:
        assert word in explanation.text


@pytest.mark.parametrize(("message", "devices"), [
    ("Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!",
     "cuda:0 and cpu"),
    ("Expected all tensors to be on the same device, but got mat1 is on cpu, different from other tensors on "
     "cuda:0 (when checking argument in method wrapper_CUDA_addmm)", "cuda:0 and cpu"),
    ("Input type (torch.cuda.FloatTensor) and weight type (torch.FloatTensor) should be the same", "cpu"),
])
def test_the_cuda_forms_of_a_device_mismatch(message: str, devices: str) -> None:
    """The messages a GPU run gives (the suite runs without one)."""
    explanation = explain(ErrorInfo("RuntimeError", message))
    assert explanation is not None and explanation.kind == "device"
    assert devices in explanation.text


def test_an_attribute_error_without_grad_is_not_a_grad_error() -> None:
    error = ErrorInfo("AttributeError", "'NoneType' object has no attribute 'shape'",
                      traceback='Traceback (most recent call last):\n  File "x.py", line 2, in <module>\n'
                                '    print(result.shape)\nAttributeError: ...')
    assert explain(error) is None


def test_a_result_that_did_not_fail_is_not_explained() -> None:
    assert explain_result(RunResult(status="ok")) is None
    assert explain_result(RunResult(status="timeout")) is None


def test_the_failing_line_is_the_innermost_frame() -> None:
    traceback = textwrap.dedent('''\
        Traceback (most recent call last):
          File "a.py", line 9, in <module>
            y = model(x)
          File "a.py", line 4, in forward
            return self.fc(x)
        RuntimeError: boom
        ''')
    assert failing_line(traceback) == "return self.fc(x)"


def test_dtype_names_say_what_a_learner_writes() -> None:
    assert dtype_text("Long") == "Long (int64)"
    assert dtype_text("double") == "float64"
    assert dtype_text("int64") == "int64"


def test_every_section_named_is_in_the_shipped_lessons() -> None:
    """A renamed heading or a renumbered lesson must not leave an explanation pointing
    at nothing."""
    lessons = {lesson.id: lesson for lesson in load_lessons([LESSONS_DIR]).lessons}
    for section in SECTIONS:
        lesson = lessons.get(section.lesson_id)
        assert lesson is not None, section
        assert lesson.order == section.lesson_order, section
        text = lesson.path.read_text(encoding="utf-8")
        assert re.search(rf"^## {re.escape(section.heading)}\s*$", text, re.MULTILINE), section


def test_a_section_reads_as_plain_words() -> None:
    assert str(Section("x", 5, "`matmul` and `@`: the general product")) == "lesson 5, “matmul and @: the general product”"


@pytest.mark.slow
def test_tutor_run_explains_the_error_under_its_traceback(tmp_path, capsys, monkeypatch) -> None:
    from tutor.cli import main

    monkeypatch.setenv("COLUMNS", "100")
    script = tmp_path / "layer.py"
    script.write_text(CASES["module-input"][0])
    other = tmp_path / "zero.py"
    other.write_text("x = 1 / 0\n")
    assert main(["run", str(script), str(other), "--device", "cpu"]) == 1
    out = capsys.readouterr().out
    first, second = out.split("zero.py")[0], out.split("zero.py", 1)[1]
    assert "RuntimeError: mat1 and mat2 shapes cannot be multiplied (3x5 and 4x2)" in first
    assert "why: a layer got 5 input features where it takes 4" in first
    assert "learn more: lesson 11, “Lazy layers learn their input size on the first call”" in first
    assert "ZeroDivisionError: division by zero" in second and "why:" not in second
