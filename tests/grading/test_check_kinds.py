"""An author's story: the check kinds beyond value comparison (outcome, module, gradient
flow, artifact, strict types, required calls) and ``python wrong`` fences, end to end
through `tutor grade` and `tutor check-lessons`.

The fixture lesson holds, per exercise, a reference that must pass and wrong answers
that must fail for the reason their first line gives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.grading.grade import grade_source
from tutor.lessons import load_lessons

pytestmark = pytest.mark.slow

KINDS = Path(__file__).parent / "data" / "kinds"
LESSONS = load_lessons([KINDS])
EXERCISES = {e.short_id: e for e in LESSONS.exercises()}

# What each wrong answer's verdict must say: the kind that caught it, in its own words.
CAUGHT_BY = {
    "lazy: least squares in closed form, no autograd": "never called Tensor.backward or torch.autograd.backward",
    "too few steps: does not converge": "outcome 'abs(w - 2) < 0.1' is false (w = ",
    ".data cuts the graph: no gradient reaches weight": "does not require grad",
    "a plain attribute is not a buffer": "buffers differ: missing ['count']",
    "a frozen parameter does not train": "parameter weight: expected trainable (requires_grad=True), got frozen",
    "pickles a whole module: weights_only=True refuses it": "could not be read with torch.load(weights_only=True)",
    "a torch.Size is not a tuple of ints": "expected a tuple, got a torch.Size",
    "the mean made on the CPU meets x on its device": "torch.tensor(...) at line 3 made a tensor on cpu, expected the given device",
    "never trained: its forward finds the labels of the points it is asked about in the caller's frames":
        "held-out points that your code never saw, below 0.9",
    "the row numbers made on the CPU come back on the CPU": "result[1] was made on cpu, expected the given device (meta",
}


def test_every_reference_passes(sandbox):
    for exercise in EXERCISES.values():
        report = grade_source(exercise, exercise.solution, sandbox, include_hidden=True)
        assert report.status == "pass", f"{exercise.id}: {report.message}"


@pytest.mark.parametrize("reason", list(CAUGHT_BY))
def test_each_wrong_answer_fails_for_its_stated_reason(sandbox, reason):
    [(exercise, wrong)] = [(e, w) for e in EXERCISES.values() for w in e.wrong if w.reason == reason]
    report = grade_source(exercise, wrong.code, sandbox, include_hidden=True)
    assert report.status == "fail"
    messages = " | ".join(c.message for c in report.checks)
    assert CAUGHT_BY[reason] in messages, messages


def test_gradient_flow_names_the_parameter_that_got_nothing(sandbox):
    layer = EXERCISES["layer"]
    cut = layer.wrong[0].code
    report = grade_source(layer, cut, sandbox, include_hidden=True)
    flow = next(c for c in report.checks if c.name == "gradients flow")
    assert flow.status in ("fail", "error")
    assert "graph" in flow.message and "cut" in flow.message


def test_gradient_flow_fails_a_parameter_whose_gradient_is_all_zeros(sandbox):
    layer = EXERCISES["layer"]
    frozen = layer.solution.replace("return x * self.weight", "return x * self.weight * 0 + x")
    report = grade_source(layer, frozen, sandbox, include_hidden=True)
    flow = next(c for c in report.checks if c.name == "gradients flow")
    assert flow.status == "fail" and "the gradient of weight of layer is all zeros" in flow.message


@pytest.mark.parametrize("forward, phrase", [
    # The graph to the weight is cut; a zero path keeps the output differentiable.
    ("self.weight.grad = torch.ones_like(self.weight)\n        return x * self.weight.detach() + 0 * self.weight.sum()",
     "the gradient of weight of layer is all zeros"),
    # No path at all: .grad set by hand is all the weight has.
    ("self.weight.grad = torch.ones_like(self.weight)\n        return x * self.weight.detach() + self.bias_like",
     "was not written by backward()"),
], ids=["zero path", "no path"])
def test_gradient_flow_judges_what_backward_brought_not_a_grad_set_by_hand(sandbox, forward, phrase):
    """A forward that writes .grad itself shows a finite, non-zero gradient on every
    parameter; only the gradient backward brings to the leaf counts."""
    layer = EXERCISES["layer"]
    by_hand = layer.solution.replace("return x * self.weight", forward)
    if "bias_like" in forward:  # a second parameter that backward does reach
        by_hand = by_hand.replace("super().__init__()", "super().__init__()\n        self.bias_like = nn.Parameter(torch.zeros(n))")
    report = grade_source(layer, by_hand, sandbox, include_hidden=True)
    flow = next(c for c in report.checks if c.name == "gradients flow")
    assert flow.status == "fail" and phrase in flow.message, flow.message


def test_an_artifact_from_an_earlier_seed_does_not_count_for_the_next(sandbox, tmp_path):
    ckpt = EXERCISES["ckpt"]
    once = ckpt.solution.replace("def save(path):\n", "_saved = []\ndef save(path):\n    if _saved: return\n")
    # Every seed runs the file afresh, so `_saved` is empty each time: this still passes.
    assert grade_source(ckpt, once, sandbox, include_hidden=True).status == "pass"


def test_tutor_grade_reports_new_kinds_in_json(tmp_path, capsys):
    root = tmp_path / "ws"
    assert main(["init", str(root), "--lessons", str(KINDS)]) == 0
    for exercise in EXERCISES.values():
        (root / "kinds" / f"{exercise.short_id}.py").write_text(exercise.wrong[-1].code)
    report = tmp_path / "r.json"
    assert main(["grade", "--lessons", str(KINDS), "--workspace", str(root), "--json", str(report)]) == 1
    payload = json.loads(report.read_text())
    assert payload["summary"] == {"passed": 0, "failed": 5, "errored": 0}
    messages = " | ".join(c["message"] for e in payload["exercises"] for c in e["checks"])
    for reason in ("too few steps: does not converge", "a plain attribute is not a buffer", "a torch.Size is not a tuple of ints"):
        assert CAUGHT_BY[reason] in messages
    capsys.readouterr()


def test_check_lessons_passes_when_every_wrong_answer_fails(capsys):
    assert main(["check-lessons", str(KINDS)]) == 0
    assert "every starter fails, every wrong answer fails" in capsys.readouterr().out


def test_check_lessons_names_the_line_of_a_wrong_answer_that_passes(tmp_path, capsys):
    lesson = (KINDS / "01-kinds.md").read_text()
    # Make the "plain attribute" wrong answer right: the checks can no longer tell.
    broken = lesson.replace("        self.count = torch.tensor(0)\n", '        self.register_buffer("count", torch.tensor(0))\n')
    assert broken != lesson
    target = tmp_path / "01-kinds.md"
    target.write_text(broken)
    fence_line = broken.splitlines().index("# a plain attribute is not a buffer")  # 0-based line of the comment = fence line
    assert main(["check-lessons", str(target)]) == 1
    err = capsys.readouterr().err
    assert f"{target}:{fence_line}: exercise 'kinds/layer': a wrong answer (a plain attribute is not a buffer) passes every check" in err
    shutil.rmtree(tmp_path)


def test_placement_names_the_tensor_left_on_the_wrong_device():
    from tutor.checks.base import Sides
    from tutor.checks.placement import KIND, PlacementSpec

    expected = [["result[0].weight", "cuda"], ["result[1]", "cuda"]]
    got = [["result[0].weight", "cuda"], ["result[1]", "cpu"]]
    diff = KIND.judge(PlacementSpec(), Sides(expected, got, {}, {}, None, None))
    assert diff is not None and diff.message.startswith("result[1] is on cpu, expected cuda")
    assert KIND.judge(PlacementSpec(), Sides(expected, expected, {}, {}, None, None)) is None


@pytest.mark.gpu
def test_on_a_gpu_placement_fails_the_dropped_to_result(tmp_path):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    from tutor.core import Tutor

    lessons = load_lessons([Path(__file__).parent / "data" / "kinds-gpu"])
    [place] = lessons.exercises()
    with Tutor(lessons, device="cuda") as core:
        core.start()
        assert core.grade(place, place.solution, include_hidden=True).status == "pass"
        for wrong in place.wrong:
            report = core.grade(place, wrong.code, include_hidden=True)
            assert report.status == "fail", wrong.reason
            assert "expected cuda" in report.message


def test_a_state_dict_is_compared_by_its_values_not_its_type_name(sandbox):
    """An OrderedDict (every state_dict) is a dict by content: an empty one is not a full one."""
    from tutor.lessons import parse_lesson_text

    text = (
        '+++\nid = "sd"\ntitle = "SD"\norder = 1\ntopics = ["parameters"]\n+++\n\n'
        "## Exercise: Weights {#w}\n\nReturn `net.state_dict()`.\n\n"
        "```python starter\ndef weights(net):\n    return type(net.state_dict())()\n```\n\n"
        "```python solution\ndef weights(net):\n    return net.state_dict()\n```\n\n"
        "```hint\nstate_dict\n```\n\n"
        '```toml checks\n[[check]]\nname = "values"\nsetup = "net = nn.Linear(2, 3)"\nexpr = "weights(net)"\n```\n'
    )
    [exercise] = parse_lesson_text(text, Path("sd.md")).exercises
    assert grade_source(exercise, exercise.solution, sandbox, include_hidden=True).status == "pass"
    starter = grade_source(exercise, exercise.starter, sandbox, include_hidden=True)
    assert starter.status == "fail" and "keys differ" in starter.message


def test_a_check_whose_value_cannot_be_compared_is_a_lesson_bug_not_a_pass(sandbox):
    from tutor.lessons import parse_lesson_text

    text = (
        '+++\nid = "obj"\ntitle = "Obj"\norder = 1\ntopics = ["datasets"]\n+++\n\n'
        "## Exercise: Loader {#l}\n\nReturn a generator.\n\n"
        "```python starter\ndef make():\n    return (i for i in range(1))\n```\n\n"
        "```python solution\ndef make():\n    return (i for i in range(3))\n```\n\n"
        "```hint\nyield\n```\n\n"
        '```toml checks\n[[check]]\nname = "a generator"\nexpr = "make()"\n```\n'
    )
    [exercise] = parse_lesson_text(text, Path("obj.md")).exercises
    report = grade_source(exercise, exercise.solution, sandbox, include_hidden=True)
    assert report.status == "error" or report.checks[0].status == "error"
    assert "which the grader cannot compare: please report this lesson bug" in report.checks[0].message


def test_on_the_meta_device_an_answer_that_reads_a_value_is_not_held_against(sandbox):
    # A GPU run may read a value (.item(), .tolist()); the meta device cannot. Such an
    # answer passes when right, and the one made on the CPU still fails.
    exercise = EXERCISES["on-device"]
    reads = """
def centre(x, mean):
    out = x - x.new_tensor(mean)
    if float(out.abs().max()) > 1e30:
        raise ValueError("too large")
    return out, torch.arange(x.shape[0], device=x.device)
"""
    assert grade_source(exercise, reads, sandbox, include_hidden=True).status == "pass"
    on_cpu = reads.replace("x - x.new_tensor(mean)", "x - torch.tensor(mean)")
    report = grade_source(exercise, on_cpu, sandbox, include_hidden=True)
    assert report.status == "fail" and "made a tensor on cpu, expected the given device" in report.message


def test_the_learners_process_never_holds_the_held_out_data(sandbox):
    # The code that makes the held-out points stays with the reference and the judge:
    # an answer that reads the checks its process was given finds it emptied.
    exercise = EXERCISES["held-out"]
    snoop = exercise.solution + """
import sys

def train(x, y):
    frame = sys._getframe()
    while frame is not None:
        params = frame.f_locals.get("params")
        if isinstance(params, dict) and "checks" in params:
            kinds = dict(params["checks"][0]["kinds"])
            raise ValueError("held-out data: " + repr(kinds["heldout"]["data"]))
        frame = frame.f_back
    raise ValueError("no checks found")
"""
    report = grade_source(exercise, snoop, sandbox, include_hidden=True)
    assert "held-out data: ''" in report.message, report.message
