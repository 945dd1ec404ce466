"""After ``loss.backward()`` in the real sandbox, a module's parameters carry the norm
of their gradients, the same numbers torch gives here; a tensor named like a loss
curve is a series; and ``tutor run`` prints both within 80 columns."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from tutor.commands.run import render
from tutor.sandbox.api import RunRequest, RunResult
from tutor.sandbox.client import SandboxClient

pytestmark = pytest.mark.slow

TRAIN = """\
torch.manual_seed(0)
model = nn.Linear(3, 2)
x = torch.randn(5, 3)
target = torch.randn(5, 2)
loss = F.mse_loss(model(x), target)
loss.backward()
"""


def run(sandbox: SandboxClient, code: str) -> RunResult:
    result = sandbox.run(RunRequest(code=code, filename="lesson.py"))
    assert result.status == "ok", result.error
    return result


def params(result: RunResult, module: str) -> dict[str, dict]:
    found = next(m for m in result.modules if m["name"] == module)
    return {p["name"]: p for p in found["named_parameters"]}


def torch_norms_here(code: str, module: str) -> dict[str, float]:
    """The same code run in this process: torch's own grad norms."""
    namespace: dict = {"torch": torch, "nn": nn, "F": torch.nn.functional}
    exec(code, namespace)  # noqa: S102 - the test's own snippet
    return {name: p.grad.norm().item() for name, p in namespace[module].named_parameters()}


def test_a_linear_layers_grad_norms_after_backward_are_torchs(sandbox: SandboxClient) -> None:
    result = run(sandbox, TRAIN)
    got = params(result, "model")
    expected = torch_norms_here(TRAIN, "model")
    assert set(got) == {"weight", "bias"}
    for name, norm in expected.items():
        assert got[name]["grad"] == pytest.approx(norm, rel=1e-6), name
        assert norm > 0
    (model,) = result.modules
    assert (model["parameter_tensors"], model["with_grad"]) == (2, 2)


def test_before_backward_and_for_a_frozen_parameter_there_is_no_grad(sandbox: SandboxClient) -> None:
    result = run(sandbox, "model = nn.Linear(3, 2)\nfrozen = nn.Linear(3, 1)\nfrozen.bias.requires_grad_(False)\n"
                          "frozen(torch.ones(1, 3)).sum().backward()\n")
    assert [p["grad"] for p in params(result, "model").values()] == [None, None]
    frozen = params(result, "frozen")
    assert frozen["bias"]["grad"] is None and frozen["bias"]["requires_grad"] is False
    assert frozen["weight"]["grad"] == pytest.approx(3 ** 0.5)  # d(sum)/dw = the input, ones
    counts = {m["name"]: (m["parameter_tensors"], m["with_grad"]) for m in result.modules}
    assert counts == {"model": (2, 0), "frozen": (2, 1)}


def test_a_blown_up_grad_reads_inf_and_a_half_precision_grad_keeps_its_norm(sandbox: SandboxClient) -> None:
    result = run(sandbox, "blown = nn.Linear(2, 1)\nblown.weight.grad = torch.tensor([[float('inf'), 1.0]])\n"
                          "blown.bias.grad = torch.tensor([float('nan')])\n"
                          "half = nn.Linear(2, 2).half()\nhalf.weight.grad = torch.full((2, 2), 60000.0).half()\n")
    blown = params(result, "blown")
    assert (blown["weight"]["grad"], blown["bias"]["grad"]) == ("inf", "nan")
    # Four elements of 60000: the norm is 120000, beyond float16's largest (65504).
    assert params(result, "half")["weight"]["grad"] == pytest.approx(120000.0)


def test_a_tensor_named_like_a_loss_curve_is_a_series_and_other_tensors_are_not(sandbox: SandboxClient) -> None:
    result = run(sandbox, "losses = torch.tensor([1.0, 0.5, 0.25])\nval_loss = torch.tensor([2.0, float('nan')])\n"
                          "x = torch.arange(4.0)\nloss_history = torch.ones(2, 2)\ncounts_curve = torch.arange(3)\n"
                          "loss = torch.tensor(0.5)\n")
    assert result.series == [{"name": "losses", "values": [1.0, 0.5, 0.25]},
                             {"name": "val_loss", "values": [2.0, "nan"]}]
    # They are still tensors in the tensor table.
    assert {v["name"] for v in result.variables} >= {"losses", "val_loss", "x"}


def test_tutor_run_prints_grad_norms_and_the_series_within_80_columns(sandbox: SandboxClient, capsys,
                                                                       monkeypatch) -> None:
    code = TRAIN + "losses = [loss.item() * s for s in (1.0, 0.6, 0.3)]\n"
    result = run(sandbox, code)
    monkeypatch.setenv("COLUMNS", "80")
    render(Path("train.py"), result)
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "model: Linear (8 params) · grad on 2 of 2 parameters" in out
    weight = next(line.split() for line in out.splitlines() if line.strip().startswith("weight"))
    expected = torch_norms_here(TRAIN, "model")["weight"]
    assert weight[:4] == ["weight", "(2,", "3)", "True"] and float(weight[4]) == pytest.approx(expected, rel=1e-3)
    series = next(line.split() for line in out.splitlines() if line.strip().startswith("losses") and "▁" in line)
    assert series[1] == "3" and series[-1] == "█▄▁"
