"""What a learner sees after a run without printing anything: inspection."""

from __future__ import annotations

import pytest

from tutor.sandbox.api import RunRequest, RunResult
from tutor.sandbox.client import SandboxClient

pytestmark = pytest.mark.slow


def run(sandbox: SandboxClient, code: str) -> RunResult:
    result = sandbox.run(RunRequest(code=code, filename="lesson.py"))
    assert result.status == "ok", result.error
    assert result.stdout == ""
    return result


def lrs(result: RunResult, name: str) -> list[float]:
    schedule = next(s for s in result.schedules if s["name"] == name)
    assert [step for step, _ in schedule["steps"]] == list(range(1, len(schedule["steps"]) + 1))
    return [round(group_lrs[0], 10) for _, group_lrs in schedule["steps"]]


OPT = "w = nn.Parameter(torch.zeros(2))\nopt = torch.optim.SGD([w], lr=1e-3)\n"


def test_step_lr_table_appears_without_printing(sandbox: SandboxClient) -> None:
    result = run(sandbox, OPT + "sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)\n"
                 "for _ in range(7):\n    opt.step()\n    sched.step()\n")
    assert lrs(result, "sched") == [1e-3, 1e-3, 5e-4, 5e-4, 5e-4, 2.5e-4, 2.5e-4]
    assert result.schedules[0]["type"] == "StepLR"


@pytest.mark.parametrize(
    ("make", "steps", "check"),
    [
        ("torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.1)", "sched.step(1.0)",
         lambda v: v[0] == 1e-3 and v[-1] < 1e-3),
        ("torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)", "sched.step()",
         lambda v: v[3] == 0 and v[1] < 1e-3),
        ("torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1 / (e + 1))", "sched.step()",
         lambda v: v[0] == 5e-4),
        ("torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=10)", "sched.step()",
         lambda v: max(v) > 9e-3),
        ("torch.optim.lr_scheduler.SequentialLR(opt, [torch.optim.lr_scheduler.ConstantLR(opt, factor=0.5, "
         "total_iters=2), torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)], milestones=[2])", "sched.step()",
         lambda v: v[0] == 5e-4 and v[1] == 1e-3),
        ("torch.optim.lr_scheduler.ChainedScheduler([torch.optim.lr_scheduler.ConstantLR(opt, factor=0.1, "
         "total_iters=2), torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)])", "sched.step()",
         lambda v: len(v) == 5),
    ],
    ids=["plateau", "cosine", "lambda", "onecycle", "sequential", "chained"],
)
def test_every_scheduler_kind_is_recorded_once_per_step(sandbox: SandboxClient, make: str, steps: str,
                                                        check: object) -> None:
    result = run(sandbox, OPT + f"sched = {make}\nfor _ in range(5):\n    opt.step()\n    {steps}\n")
    values = lrs(result, "sched")
    assert len(values) == 5
    assert check(values), values  # type: ignore[operator]


def test_a_learners_own_scheduler_subclass_is_recorded(sandbox: SandboxClient) -> None:
    result = run(sandbox, OPT + "class Halve(torch.optim.lr_scheduler.LRScheduler):\n"
                 "    def get_lr(self):\n        return [g['lr'] / 2 for g in self.optimizer.param_groups]\n"
                 "sched = Halve(opt)\nfor _ in range(2):\n    opt.step()\n    sched.step()\n")
    assert len(lrs(result, "sched")) == 2


def test_a_tensor_after_backward_shows_its_grad(sandbox: SandboxClient) -> None:
    result = run(sandbox, "x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\ny = (x ** 2).sum()\ny.backward()\n")
    x = next(v for v in result.variables if v["name"] == "x")
    y = next(v for v in result.variables if v["name"] == "y")
    assert x["grad"]["values"] == [2.0, 4.0, 6.0] and x["grad"]["shape"] == [3]
    assert (x["shape"], x["dtype"], x["device"], x["requires_grad"], x["is_leaf"]) == ([3], "float32", "cpu", True, True)
    assert x["values"] == [1.0, 2.0, 3.0] and "tensor(" in x["preview"]
    assert (y["grad_fn"], y["is_leaf"], y["grad"], y["shape"]) == ("SumBackward0", False, None, [])


def test_big_tensors_keep_a_preview_but_not_every_value(sandbox: SandboxClient) -> None:
    result = run(sandbox, "big = torch.zeros(100, 100)\nodd = torch.tensor([float('nan'), float('inf')])\n")
    big, odd = result.variables
    assert big["values"] is None and big["shape"] == [100, 100] and big["preview"]
    assert odd["values"] == ["nan", "inf"]


def test_a_module_shows_its_parameter_shapes(sandbox: SandboxClient) -> None:
    result = run(sandbox, "net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 1))\n")
    (net,) = result.modules
    assert net["type"] == "Sequential"
    assert net["parameters"] == 4 * 8 + 8 + 8 + 8 + 8 + 1
    shapes = {p["name"]: p["shape"] for p in net["named_parameters"]}
    assert shapes["0.weight"] == [8, 4] and shapes["2.bias"] == [1]
    assert {b["name"] for b in net["buffers"]} >= {"1.running_mean", "1.running_var"}


def test_optimizers_show_their_param_groups(sandbox: SandboxClient) -> None:
    result = run(sandbox, "w = nn.Parameter(torch.ones(3))\nopt = torch.optim.Adam([w], lr=0.01, betas=(0.9, 0.99))\n")
    (opt,) = result.optimizers
    assert opt["type"] == "Adam"
    assert opt["param_groups"][0]["lr"] == 0.01
    assert opt["param_groups"][0]["betas"] == [0.9, 0.99]
    assert opt["param_groups"][0]["params"] == 1


def test_numbers_strings_and_containers_are_variables_and_a_loss_list_is_a_series(sandbox: SandboxClient) -> None:
    result = run(sandbox, "n = 3\nname = 'adam'\nlosses = [0.9, 0.5, 0.25]\n"
                 "shapes = {'x': (2, 3)}\ndef helper(): pass\nimport math\n")
    found = {v["name"]: v for v in result.variables}
    assert set(found) == {"n", "name", "losses", "shapes"}
    assert found["n"]["value"] == 3 and found["name"]["value"] == "adam"
    assert found["shapes"]["value"] == {"x": [2, 3]}
    assert result.series == [{"name": "losses", "values": [0.9, 0.5, 0.25]}]
