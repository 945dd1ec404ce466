"""The sandbox's public data types: what the front sends and what comes back.

No torch here; the front (CLI, TUI, grading orchestration) imports only this module and
``tutor.sandbox.client``. The server and the child import torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from tutor.errors import UsageError

Status = Literal["ok", "error", "timeout", "killed"]


@dataclass
class RunRequest:
    """One unit of work for a fresh sandbox child.

    ``task`` picks what the child does with ``code``:

    * ``"snippet"``: run ``code`` as a script, then inspect its top-level names.
    * ``"module:function"`` (a dotted path inside the ``tutor`` package, e.g.
      ``"tutor.judging.harness:run_checks"``): the child calls
      ``function(code, params, blobs, ctx)`` after the limits are applied; it returns
      ``(data, blobs)``: JSON-able data and raw bytes, both sent back as they are.
    """

    code: str = ""
    filename: str = "<snippet>"
    task: str = "snippet"
    device: str = "cpu"
    timeout: float = 10.0
    params: dict[str, Any] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    inspect: bool = True


@dataclass
class ErrorInfo:
    """Why a run did not end well. ``line`` is the line in the learner's code, if known."""

    type: str
    message: str
    traceback: str = ""
    line: int | None = None


@dataclass
class RunResult:
    """The outcome of one run; ``to_json()`` is the ``tutor run --json`` contract."""

    status: Status
    stdout: str = ""
    error: ErrorInfo | None = None
    duration_ms: float = 0.0
    device: str = "cpu"
    isolation: list[str] = field(default_factory=list)
    resources: dict[str, float] = field(default_factory=dict)
    variables: list[dict[str, Any]] = field(default_factory=list)
    modules: list[dict[str, Any]] = field(default_factory=list)
    optimizers: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False
    missing_package: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self, file: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if file is not None:
            out["file"] = file
        out.update(
            status=self.status,
            stdout=self.stdout,
            error=asdict(self.error) if self.error else None,
            duration_ms=round(self.duration_ms, 3),
            device=self.device,
            isolation=list(self.isolation),
            resources=dict(self.resources),
            variables=self.variables,
            modules=self.modules,
            optimizers=self.optimizers,
            schedules=self.schedules,
            series=self.series,
            truncated=self.truncated,
            missing_package=self.missing_package,
        )
        return out


class SandboxClientProtocol:
    """What the front needs from a sandbox (the App takes one; tests pass a fake).

    ``run`` is blocking and thread-safe: call it from worker threads; several runs may be
    in flight at once (the grader uses that for parallel grading). ``cancel_all`` kills
    every running child (its run then returns ``status="killed"``).
    """

    state: str  # "starting" | "ready" | "dead"

    def start(self) -> None: ...
    def wait_ready(self, timeout: float | None = None) -> None: ...

    def run(self, request: RunRequest) -> RunResult:
        raise NotImplementedError

    def cancel_all(self) -> None: ...
    def close(self) -> None: ...

    def cuda_available(self) -> bool:
        raise NotImplementedError


def resolve_device(device: str, cuda_available: Callable[[], bool]) -> str:
    """Where code runs, decided in this one place: ``auto`` -> ``cuda`` where available,
    else ``cpu``; ``cuda`` where there is none is the user's mistake. ``cuda_available``
    (the server's probe) is asked only when it matters."""
    if device == "cpu":
        return "cpu"
    if device not in ("auto", "cuda"):
        raise UsageError(f"unknown device {device!r} (choose auto, cpu or cuda)")
    if cuda_available():
        return "cuda"
    if device == "cuda":
        raise UsageError("--device cuda: no CUDA device is available on this machine")
    return "cpu"
