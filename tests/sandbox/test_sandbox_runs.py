"""Running snippets and tasks through the real server: what a learner sees."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from sandbox_helpers import assert_recovered, signal_fifo, visible_dir

from tutor.sandbox.api import RunRequest, RunResult
from tutor.sandbox.client import SandboxClient

pytestmark = pytest.mark.slow


def run(sandbox: SandboxClient, code: str, **kwargs: object) -> object:
    return sandbox.run(RunRequest(code=code, filename="lesson.py", **kwargs))  # type: ignore[arg-type]


def test_a_snippet_prints_and_sees_the_predefined_names(sandbox: SandboxClient) -> None:
    result = run(sandbox, "print(torch.__name__, nn.Linear.__name__, F.relu.__name__, DEVICE)")
    assert result.status == "ok", result.error
    assert result.stdout == "torch Linear relu cpu\n"
    assert result.device == "cpu"
    assert {"tmpdir", "rlimits", "seccomp"} <= set(result.isolation)
    assert result.resources["wall_s"] > 0 and result.resources["max_rss_mb"] > 0


def test_an_exception_points_at_the_learners_line(sandbox: SandboxClient) -> None:
    result = run(sandbox, "a = torch.ones(2, 3)\nb = torch.ones(4, 5)\nc = a @ b\n")
    assert result.status == "error"
    assert result.error is not None and result.error.type == "RuntimeError"
    assert result.error.line == 3
    assert 'File "lesson.py", line 3' in result.error.traceback
    assert "c = a @ b" in result.error.traceback
    assert "tutor/sandbox" not in result.error.traceback  # our frames are cut away
    assert [v["name"] for v in result.variables] == ["a", "b"]  # inspected anyway


def test_a_syntax_error_names_its_line(sandbox: SandboxClient) -> None:
    result = run(sandbox, "x = 1\ndef f(:\n    pass\n")
    assert result.status == "error"
    assert result.error.type == "SyntaxError" and result.error.line == 2


def test_a_missing_optional_package_says_what_to_install(sandbox: SandboxClient) -> None:
    result = run(sandbox, "import torchvision_not_installed_here\n")
    assert result.status == "error"
    assert result.missing_package == "torchvision_not_installed_here"
    assert result.error.type == "MissingPackage"
    assert result.error.message == (
        "needs package torchvision_not_installed_here (pip install torchvision_not_installed_here)"
    )


def test_a_big_matmul_on_all_threads_finishes(sandbox: SandboxClient) -> None:
    """The OpenMP trap: a zygote that ran a parallel op would make this hang."""
    code = "a = torch.randn(512, 512)\nb = (a @ a).sum().item()\nthreads = torch.get_num_threads()\n"
    result = run(sandbox, code, timeout=30)
    assert result.status == "ok", result.error
    threads = next(v for v in result.variables if v["name"] == "threads")
    assert threads["value"] >= 1


def test_a_dataloader_with_two_workers_works(sandbox: SandboxClient) -> None:
    code = (
        "from torch.utils.data import DataLoader, TensorDataset\n"
        "data = TensorDataset(torch.arange(8.0))\n"
        "total = sum(batch[0].sum().item() for batch in DataLoader(data, batch_size=2, num_workers=2))\n"
    )
    result = run(sandbox, code, timeout=30)
    assert result.status == "ok", result.error
    assert next(v for v in result.variables if v["name"] == "total")["value"] == 28.0


def test_runs_in_parallel_threads_each_get_their_own_result(sandbox: SandboxClient) -> None:
    results: dict[int, object] = {}

    def one(n: int) -> None:
        results[n] = run(sandbox, f"print({n} * 2)")

    threads = [threading.Thread(target=one, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {n: r.stdout for n, r in results.items()} == {n: f"{n * 2}\n" for n in range(6)}


def test_cancel_all_kills_the_running_child(sandbox: SandboxClient) -> None:
    fifo = signal_fifo(visible_dir(sandbox))
    outcome: list[object] = []
    code = f"open({str(fifo)!r}, 'w').write('go')\nwhile True: pass\n"
    thread = threading.Thread(target=lambda: outcome.append(run(sandbox, code, timeout=60)))
    thread.start()
    assert fifo.read_text() == "go"  # blocks until the child is inside the loop
    sandbox.cancel_all()
    thread.join(timeout=30)
    assert outcome and outcome[0].status == "killed"
    assert_recovered(sandbox)


def test_cancel_kills_the_runs_of_one_group_and_no_other(sandbox: SandboxClient) -> None:
    """A class shares one server (tutor serve): Esc in one learner's app kills that
    learner's runs, never another learner's."""
    fifos = {group: signal_fifo(visible_dir(sandbox)) for group in ("mine", "theirs")}
    outcome: dict[str, RunResult] = {}

    def start(group: str, code: str) -> threading.Thread:
        request = RunRequest(code=code, timeout=60, inspect=False, group=group)
        thread = threading.Thread(target=lambda: outcome.__setitem__(group, sandbox.run(request)))
        thread.start()
        return thread

    mine = start("mine", f"open({str(fifos['mine'])!r}, 'w').write('go')\nwhile True: pass\n")
    theirs = start("theirs", f"open({str(fifos['theirs'])!r}, 'w').write('go')\nimport time\ntime.sleep(1)\nprint('done')\n")
    assert fifos["mine"].read_text() == "go" and fifos["theirs"].read_text() == "go"  # both children run
    sandbox.cancel("mine")
    mine.join(timeout=30)
    theirs.join(timeout=30)
    assert outcome["mine"].status == "killed"
    assert outcome["theirs"].status == "ok" and outcome["theirs"].stdout == "done\n"
    assert_recovered(sandbox)


def test_each_run_gets_a_fresh_empty_working_directory(sandbox: SandboxClient) -> None:
    first = run(sandbox, "import os\nopen('mine.txt', 'w').write('x')\nhere = os.getcwd()\n")
    second = run(sandbox, "import os\nleft = os.listdir('.')\nhere = os.getcwd()\n")
    values = {v["name"]: v["value"] for v in second.variables}
    assert first.status == second.status == "ok"
    assert values["left"] == []
    assert values["here"] != {v["name"]: v["value"] for v in first.variables}["here"]


# --- tasks -------------------------------------------------------------------------

def test_a_task_function_gets_code_params_and_blobs_and_returns_data(sandbox: SandboxClient) -> None:
    result = sandbox.run(RunRequest(code="y = 41 + 1\nprint('hello')", task="tutor.sandbox.tasks:echo",
                                    params={"seed": 3}, blobs={"t": b"\x00\xffbytes"}))
    assert result.status == "ok", result.error
    assert result.data == {"params": {"seed": 3}, "stdout": "hello\n", "names": ["y"], "device": "cpu"}
    assert result.blobs == {"t": b"\x00\xffbytes"}


def test_a_task_functions_exception_is_an_error(sandbox: SandboxClient) -> None:
    result = sandbox.run(RunRequest(task="tutor.sandbox.tasks:fail", params={"message": "boom"}))
    assert result.status == "error"
    assert result.error.type == "RuntimeError" and result.error.message == "boom"


@pytest.mark.parametrize("task", ["os:system", "tutorx.evil:run", "tutor.sandbox.tasks", "tutor..x:y"])
def test_only_functions_inside_the_tutor_package_can_be_tasks(sandbox: SandboxClient, task: str) -> None:
    result = sandbox.run(RunRequest(code="", task=task))
    assert result.status == "error" and "not a task" in result.error.message


@pytest.mark.parametrize(
    "exit_code",
    [
        "import sys; sys.exit(0)",
        "import os; os._exit(0)",
        "import os, sys; sys.stdout.write('PASSED'); os._exit(0)",
    ],
)
def test_learner_code_exiting_inside_a_task_never_reads_as_ok(sandbox: SandboxClient, exit_code: str) -> None:
    result = sandbox.run(RunRequest(code=exit_code, task="tutor.sandbox.tasks:echo"))
    assert result.status == "error"
    assert result.data == {}


def test_big_requests_and_big_results_in_flight_together_never_deadlock() -> None:
    """Four threads each send 8 MB and get 8 MB back, at once. While one thread's
    request fills the pipe to the server, the server may be blocked writing a result
    to us: the reader must go on reading, whoever is writing (a whole class's judge
    data hung `tutor grade --batch --jobs 4` this way)."""
    blob = bytes(range(256)) * (8 * 4096)
    results: list[RunResult] = []

    def ask() -> None:
        for _ in range(3):
            results.append(client.run(RunRequest(task="tutor.sandbox.tasks:echo", code="", blobs={"b": blob},
                                                 timeout=30)))

    with SandboxClient(device="cpu") as client:
        threads = [threading.Thread(target=ask, daemon=True) for _ in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        stuck = any(thread.is_alive() for thread in threads)
        if stuck and client.server_pid:
            os.killpg(client.server_pid, signal.SIGKILL)  # unblock the writers, so the test ends
        assert not stuck, "runs deadlocked with the server"
    assert len(results) == 12
    assert all(r.ok and r.blobs == {"b": blob} for r in results), [r.status for r in results]


@pytest.mark.slow
def test_a_server_that_dies_under_a_run_is_started_again_and_the_run_retried(tmp_path) -> None:
    log = tmp_path / "state" / "sandbox.log"
    client = SandboxClient(device="cpu", log_path=log)
    client.wait_ready()
    try:
        first_server, first_forker = client.server_pid, client.forker_pid
        assert first_server and first_forker
        results: list[RunResult] = []
        runner = threading.Thread(target=lambda: results.append(client.run(RunRequest(
            code="import time\ntime.sleep(1.5)\nprint('done')", timeout=60, inspect=False))))
        runner.start()
        children = Path(f"/proc/{first_forker}/task/{first_forker}/children")
        deadline = time.monotonic() + 20
        while not children.read_text().split():  # the run's child exists: it has started
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.01)
        os.kill(first_server, signal.SIGKILL)
        runner.join(120)
        [result] = results
        assert result.ok and result.stdout.strip() == "done", result.error
        assert client.restarts == 1 and client.server_pid not in (None, first_server)
        assert client.deaths == ["killed by SIGKILL, often the system out of memory"]
        assert log.is_file()  # the server's stderr goes there, to say why it died
    finally:
        client.close()


def test_a_lost_run_says_how_the_server_ended_and_where_its_log_is() -> None:
    from tutor.sandbox.api import ErrorInfo
    from tutor.sandbox.client import _exit_words, _server_died

    assert _exit_words(-signal.SIGKILL) == "killed by SIGKILL, often the system out of memory"
    assert _exit_words(-signal.SIGSEGV) == "killed by SIGSEGV"
    assert _exit_words(3) == "exit status 3"
    died = RunResult(status="error", error=ErrorInfo(type="SandboxDied", message="the sandbox server stopped unexpectedly (exit status 1)"))
    closed = RunResult(status="error", error=ErrorInfo(type="SandboxDied", message="the sandbox was closed"))
    assert _server_died(died) and not _server_died(closed)  # only a death is retried
