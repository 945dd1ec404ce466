"""The stand-in for torch._dynamo: optimizers work without torch's compiler, and the
first thing that needs the compiler gets the real one, whole and only once.

Each story runs in a fresh interpreter: the stand-in changes torch's module table,
which the test process must keep as it is."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PRELUDE = """
import sys, torch
from tutor.sandbox import lazy_dynamo
assert lazy_dynamo.install()
def real():
    return lazy_dynamo._real() is not None
"""


def run(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()


def test_optimizers_schedulers_and_their_state_need_no_compiler():
    out = run("""
        import copy
        model = torch.nn.Linear(2, 1)
        for make in (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW, torch.optim.RMSprop, torch.optim.Adagrad):
            opt = make(model.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 1)
            model(torch.ones(1, 2)).sum().backward()
            opt.step(); sched.step(); opt.zero_grad()
            opt.load_state_dict(copy.deepcopy(opt.state_dict()))
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)]})
        print(real(), len(opt.param_groups))
    """)
    assert out == ["False", "2"]


def test_a_submodule_import_brings_the_real_package_and_the_same_module_objects():
    out = run("""
        import torch._dynamo.config as config
        from torch._dynamo.eval_frame import OptimizedModule
        dynamo = sys.modules["torch._dynamo"]
        print(real(), dynamo.config is config, torch._dynamo is dynamo,
              sys.modules["torch._dynamo.eval_frame"].OptimizedModule is OptimizedModule)
    """)
    assert out == ["True", "True", "True", "True"]


def test_compiling_an_optimizer_step_after_optimizers_ran_without_the_compiler():
    """Methods torch keeps out of compilation, first called under the stand-in, are
    kept out by the real compiler once it has arrived."""
    out = run("""
        model = torch.nn.Linear(2, 1)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        model(torch.ones(1, 2)).sum().backward()
        opt.step()
        before = real()
        step = torch.compile(opt.step, backend="eager")
        model(torch.ones(1, 2)).sum().backward()
        step()
        print(before, real(), torch.compiler.is_compiling())
    """)
    assert out == ["False", "True", "False"]


def test_nothing_to_do_when_the_compiler_is_already_imported():
    done = subprocess.run([sys.executable, "-c", "import torch, torch._dynamo\n"
                           "from tutor.sandbox import lazy_dynamo\nprint(lazy_dynamo.install())"],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False"], done.stderr[-2000:]


def test_a_stand_in_kept_after_the_real_compiler_arrived_defers_to_it():
    """The grading harness restores torch's attributes after learner code, which can put
    the stand-in back at torch._dynamo after a torch.compile loaded the real one."""
    out = run("""
        stand_in = sys.modules["torch._dynamo"]
        torch.compile(lambda x: x + 1, backend="eager")(torch.ones(1))
        torch._dynamo = stand_in  # as a restore would
        calls = []
        sys.modules["torch._dynamo"].graph_break = lambda msg="": calls.append(msg)
        torch._dynamo.graph_break("here")
        print(real(), calls, torch._dynamo.is_compiling())
    """)
    assert out == ["True", "['here']", "False"]
