"""A result's autograd graph, as a run reports it: from the tensor's grad_fn back to the
leaves, each leaf named as the snippet names it and marked as requiring grad or not."""

from __future__ import annotations

import pytest

from tutor.sandbox.api import GraphJson, RunRequest, RunResult
from tutor.sandbox.client import SandboxClient
from tutor.sandbox.inspection import MAX_GRAPH_NODES

pytestmark = pytest.mark.slow


def run(sandbox: SandboxClient, code: str) -> RunResult:
    result = sandbox.run(RunRequest(code=code, filename="autograd/cell-1.py"))
    assert result.status == "ok", result.error
    return result


def graph_of(result: RunResult, name: str) -> GraphJson:
    return next(v for v in result.variables if v.get("name") == name)["graph"]


def test_the_graph_of_a_linear_sum_reaches_its_leaves(sandbox: SandboxClient) -> None:
    result = run(sandbox, "w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\n"
                          "b = torch.zeros(3, requires_grad=True)\n"
                          "x = torch.tensor([0.5, -1.0, 2.0])\n"
                          "y = (w * x + b).sum()\n")
    graph = graph_of(result, "y")
    nodes = graph["nodes"]
    assert [n["op"] for n in nodes[:3]] == ["SumBackward0", "AddBackward0", "MulBackward0"]
    leaves = {n["leaf"]["name"]: n for n in nodes if "leaf" in n}
    assert leaves["w"]["op"] == "AccumulateGrad" and leaves["w"]["leaf"] == {"name": "w", "shape": [3], "requires_grad": True}
    assert leaves["b"]["leaf"]["requires_grad"] is True
    assert leaves["x"]["op"] is None and leaves["x"]["leaf"]["requires_grad"] is False  # a constant to autograd
    # The edges: Sum -> Add -> (Mul, b); Mul -> (w, x).
    mul = nodes.index(next(n for n in nodes if n["op"] == "MulBackward0"))
    assert nodes[0]["next"] == [1] and mul in nodes[1]["next"]
    assert sorted(nodes[i]["leaf"]["name"] for i in nodes[mul]["next"]) == ["w", "x"]
    assert graph["truncated"] is False
    # Leaves and tensors made without a graph carry none.
    assert all("graph" not in v for v in result.variables if v.get("name") in ("w", "b", "x"))


def test_a_modules_parameters_are_named_and_a_long_graph_is_cut(sandbox: SandboxClient) -> None:
    result = run(sandbox, "model = nn.Linear(3, 1)\n"
                          "loss = model(torch.ones(3)).pow(2).mean()\n"
                          "h = torch.ones(2, requires_grad=True)\n"
                          "for _ in range(100):\n    h = h * 1.01\n")
    names = {n["leaf"]["name"] for n in graph_of(result, "loss")["nodes"] if "leaf" in n}
    assert {"model.weight", "model.bias"} <= names
    long = graph_of(result, "h")
    assert len(long["nodes"]) == MAX_GRAPH_NODES and long["truncated"] is True


def test_lesson_7s_first_cell_reaches_w_along_two_paths(sandbox: SandboxClient) -> None:
    """y = (w + x) * (w + 1), after y.backward(): one w node under both additions (why
    dy/dw = b + a), and the 1 of w + 1 a constant with neither name nor shape."""
    result = run(sandbox, "w = torch.tensor([1.0], requires_grad=True)\n"
                          "x = torch.tensor([2.0], requires_grad=True)\n"
                          "a = w + x\nb = w + 1\ny = a * b\ny.backward()\n")
    nodes = graph_of(result, "y")["nodes"]
    assert nodes[0]["op"] == "MulBackward0" and [nodes[i]["op"] for i in nodes[0]["next"]] == ["AddBackward0"] * 2
    w = next(i for i, n in enumerate(nodes) if n.get("leaf", {}).get("name") == "w")
    assert all(w in nodes[i]["next"] for i in nodes[0]["next"])
    assert {"name": None, "shape": None, "requires_grad": False} in [n["leaf"] for n in nodes if n["op"] is None]
