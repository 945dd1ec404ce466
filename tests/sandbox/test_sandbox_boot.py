"""The server's start, without a server: it warms what the front names, nothing more."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tutor.sandbox import boot

SANDBOX = Path(__file__).resolve().parents[2] / "tutor" / "sandbox"


def test_the_sandbox_imports_nothing_from_grading() -> None:
    """The sandbox runs any task; which modules a grading run needs is grading's to say."""
    for path in SANDBOX.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.startswith("tutor.grading") for n in names), path.name


def test_warm_modules_imports_what_the_front_names_and_skips_what_fails() -> None:
    sys.modules.pop("colorsys", None)
    assert boot.warm_modules(["colorsys", "no_such_module_here", 5, "tutor.no.such"]) == ["colorsys"]
    assert "colorsys" in sys.modules
    assert boot.warm_modules("colorsys") == []  # not a list: nothing


def test_the_server_imports_tutor_from_where_the_front_did_not_the_current_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A learner's project may have a `tutor` package of its own; `python -m` would
    import it from the current directory before ours."""
    from tutor.sandbox.api import RunRequest
    from tutor.sandbox.client import SandboxClient

    fake = tmp_path / "tutor"
    (fake / "sandbox").mkdir(parents=True)
    (fake / "__init__.py").write_text("raise SystemExit('the wrong tutor was imported')\n")
    monkeypatch.chdir(tmp_path)
    with SandboxClient(device="cpu") as client:
        assert client.run(RunRequest(code="print(1)")).stdout == "1\n"


def test_training_in_a_run_does_not_import_torchs_compiler(sandbox):
    """An optimizer, a scheduler and gradient clipping work without torch._dynamo (1.2 s
    to import): the server deferred it, and nothing here compiles."""
    from tutor.sandbox.api import RunRequest

    code = """
import sys
model = torch.nn.Linear(3, 1)
opt = torch.optim.Adam(model.parameters(), lr=0.1)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
for _ in range(3):
    opt.zero_grad()
    model(torch.ones(4, 3)).pow(2).mean().backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    sched.step()
print(sched.get_last_lr(), type(sys.modules["torch._dynamo"]).__name__)
"""
    result = sandbox.run(RunRequest(code=code, timeout=30))
    assert result.ok, result.error
    assert result.stdout.split() == ["[0.0125]", "StandIn"]


@pytest.mark.slow
def test_a_run_that_compiles_gets_torchs_compiler_even_with_a_cache_path_from_the_front(monkeypatch, tmp_path):
    """torch.compile imports the real compiler in the run, into the run's own directory.

    A front that imported the compiler itself has TORCHINDUCTOR_CACHE_DIR set to a
    folder under /tmp (torch sets it), and the server inherits it; the run's /tmp is
    empty and read-only, so the run must not use it."""
    from tutor.sandbox.api import RunRequest
    from tutor.sandbox.client import SandboxClient

    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", f"/tmp/torchinductor-{tmp_path.name}")
    code = """
import sys
double = torch.compile(lambda x: x * 2, backend="eager")
print(double(torch.ones(2)).tolist())
import torch._dynamo.config as config
print(type(sys.modules["torch._dynamo"]).__name__, sys.modules["torch._dynamo"].config is config)
"""
    with SandboxClient(device="cpu") as client:
        result = client.run(RunRequest(code=code, timeout=60))
    assert result.ok, result.error
    assert result.stdout.splitlines() == ["[2.0, 2.0]", "module True"]


def test_the_server_hides_its_objects_from_a_childs_garbage_collector(sandbox):
    """Frozen before the forker starts: a child's collection skips torch's objects
    instead of touching, and so copying, every page that holds them."""
    from tutor.sandbox.api import RunRequest

    result = sandbox.run(RunRequest(code="import gc\nprint(gc.get_freeze_count() > 100_000)\ngc.collect()", timeout=30))
    assert result.ok and result.stdout.strip() == "True"


def test_the_server_asks_for_a_huge_page_heap_and_keeps_the_users_tunables():
    from tutor.sandbox.client import huge_page_heap

    assert huge_page_heap(None) == "glibc.malloc.hugetlb=1"
    assert huge_page_heap("glibc.malloc.arena_max=2") == "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"
    assert huge_page_heap("glibc.malloc.hugetlb=0") == "glibc.malloc.hugetlb=0"


def test_the_running_server_has_the_huge_page_heap_tunable(sandbox):
    environ = Path(f"/proc/{sandbox.server_pid}/environ").read_bytes().split(b"\0")
    assert any(item.startswith(b"GLIBC_TUNABLES=") and b"glibc.malloc.hugetlb=1" in item for item in environ)
