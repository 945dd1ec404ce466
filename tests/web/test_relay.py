"""One sandbox for the class (tutor serve --shared-sandbox): app processes reach it over
an authenticated socket, take turns fairly, and cancel only their own runs."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tutor.errors import SandboxError
from tutor.relay import RelayClient, RelayServer
from tutor.sandbox.api import RunRequest, RunResult


class GatedSandbox:
    """Runs finish when the test says so; records the order they started in."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.gates: dict[str, threading.Event] = {}
        self.groups: dict[str, str | None] = {}
        self.cancelled: list[str] = []
        self.lock = threading.Condition()

    def cancel(self, group: str) -> None:
        self.cancelled.append(group)
        for code, request_group in self.groups.items():
            if request_group == group:
                self.release(code)

    def run(self, request: RunRequest) -> RunResult:
        with self.lock:
            self.groups[request.code] = request.group
            self.started.append(request.code)
            gate = self.gates.setdefault(request.code, threading.Event())
            self.lock.notify_all()
        gate.wait(30)
        return RunResult(status="ok", stdout=f"ran {request.code}")

    def release(self, code: str) -> None:
        with self.lock:
            self.gates.setdefault(code, threading.Event()).set()

    def wait_started(self, count: int) -> list[str]:
        with self.lock:
            assert self.lock.wait_for(lambda: len(self.started) >= count, 30), self.started
            return list(self.started)

    def cuda_available(self) -> bool:
        return False


@pytest.fixture
def relay(tmp_path: Path):
    sandbox = GatedSandbox()
    server = RelayServer(sandbox, tmp_path / "relay" / "s.sock", slots=1, per_app=1)  # type: ignore[arg-type]
    server.start()
    yield server, sandbox
    for code in list(sandbox.gates) + [f"{who}{n}" for who in "ab" for n in range(5)]:
        sandbox.release(code)
    server.close()


def connect(server: RelayServer) -> RelayClient:
    client = RelayClient(str(server.address), server.key)
    client.start()
    client.wait_ready()
    return client


def in_thread(client: RelayClient, code: str, results: dict[str, RunResult]) -> threading.Thread:
    thread = threading.Thread(target=lambda: results.__setitem__(code, client.run(RunRequest(code=code))))
    thread.start()
    return thread


def wait_queued(server: RelayServer, count: int) -> None:
    """Until the relay holds ``count`` runs waiting (it is told of each one it queues)."""
    with server._lock:
        assert server._lock.wait_for(lambda: sum(len(app.queue) for app in server._apps) == count, 30)


def test_learners_take_turns_and_one_learners_queue_delays_only_them(relay) -> None:
    server, sandbox = relay  # one run at a time, to see the order
    a, b = connect(server), connect(server)
    results: dict[str, RunResult] = {}
    threads = [in_thread(a, "a0", results)]
    sandbox.wait_started(1)
    threads += [in_thread(a, f"a{n}", results) for n in range(1, 4)]  # a floods the queue
    threads.append(in_thread(b, "b0", results))
    wait_queued(server, 4)
    for count in range(1, 6):
        sandbox.release(sandbox.wait_started(count)[-1])
    for thread in threads:
        thread.join(30)
    assert sandbox.started == ["a0", "b0", "a1", "a2", "a3"]  # b's one run did not wait for a's queue
    assert [results[code].stdout for code in sandbox.started] == [f"ran {code}" for code in sandbox.started]
    assert a.cuda_available() is False


def test_cancel_answers_only_that_learners_runs(relay) -> None:
    server, sandbox = relay
    server.slots = 2
    a, b = connect(server), connect(server)
    results: dict[str, RunResult] = {}
    threads = [in_thread(a, "a0", results), in_thread(b, "b0", results)]
    sandbox.wait_started(2)
    a.cancel_all()
    threads[0].join(30)
    assert results["a0"].status == "killed"  # at once
    assert sandbox.cancelled == [sandbox.groups["a0"]] != [sandbox.groups["b0"]]  # a's child is killed, b's not
    assert "b0" not in results
    sandbox.release("b0")
    threads[1].join(30)
    assert results["b0"].status == "ok"


def test_a_wrong_key_is_refused(relay) -> None:
    server, _ = relay
    with pytest.raises(SandboxError):
        RelayClient(str(server.address), b"x" * 32).start()


@pytest.mark.slow
def test_a_snippet_runs_through_the_relay_in_the_real_sandbox(sandbox, tmp_path: Path) -> None:
    server = RelayServer(sandbox, tmp_path / "relay" / "s.sock")
    server.start()
    try:
        client = connect(server)
        result = client.run(RunRequest(code="t = torch.ones(2, 3)\nprint(t.sum().item())"))
        assert result.status == "ok" and result.stdout.strip() == "6.0"
        assert [v["name"] for v in result.variables] == ["t"]
        client.close()
    finally:
        server.close()
