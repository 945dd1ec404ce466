"""The check harness: runs in a fresh sandbox child, once for the learner's file and once
for the reference solution, and sends back every check's value as data.

Task entry point: ``tutor.judging.harness:run_checks``. Nothing here decides a verdict;
the judge (``tutor.judging.judge``) does, in a process where no learner code ran.
"""

from __future__ import annotations

import contextlib
import io
import random
import sys
import traceback
from typing import Any

import torch

from tutor.checks.base import CheckKind, Spec
from tutor.checks.wire import HarnessRecord, SeedError, SeedResult, WireCheck, harness_params, specs_from_wire
from tutor.judging.pristine import Pristine
from tutor.sandbox import schedules
from tutor.sandbox.child import predefined
from tutor.sandbox.protocol import JsonObject
from tutor.values.encode import Encoder

MAX_STDOUT = 64 * 1024


class Tripwire:
    """Wraps banned and required callables so that calling them at run time is recorded,
    even when the source hides the name (``getattr(torch, "soft" + "max")``).

    Banned calls count whenever they happen; required ones only while ``recording`` (the
    learner's file and each ``expr``), so a check's own ``setup`` or backward pass never
    makes the call for the learner."""

    def __init__(self, banned: list[str], required: list[str] | None = None) -> None:
        self.hits: list[str] = []
        self.called: list[str] = []
        self.banned = banned
        self.required = required or []
        self.recording = False

    def install(self) -> None:
        for name in dict.fromkeys([*self.banned, *self.required]):
            owner, attr = _resolve_owner(name)
            if owner is None:
                continue
            original = getattr(owner, attr, None)
            if original is None or not callable(original):
                continue
            is_banned, is_required = name in self.banned, name in self.required

            def wrapper(*args: Any, __name: str = name, __original: Any = original, __banned: bool = is_banned,
                        __required: bool = is_required, **kwargs: Any) -> Any:
                if __banned and __name not in self.hits:
                    self.hits.append(__name)
                if __required and self.recording and __name not in self.called:
                    self.called.append(__name)
                return __original(*args, **kwargs)

            try:
                setattr(owner, attr, wrapper)
            except (AttributeError, TypeError):
                continue


def _resolve_owner(name: str) -> tuple[Any, str]:
    """``"torch.softmax"`` -> (torch, "softmax"); ``"F.softmax"`` -> (torch.nn.functional,
    "softmax"); ``"x.softmax"`` or ``"Tensor.softmax"`` -> (torch.Tensor, "softmax")."""
    head, _, attr = name.rpartition(".")
    if not head:
        return None, name
    roots = {"torch": torch, "F": torch.nn.functional, "nn": torch.nn, "Tensor": torch.Tensor}
    parts = head.split(".")
    obj = roots.get(parts[0])
    if obj is None:
        return torch.Tensor, attr  # a method called on some tensor variable
    for part in parts[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None, attr
    return obj, attr


def _seed_everything(seed: int, device: torch.device) -> None:
    # The CPU generator, and the GPU's when the run uses one: torch.manual_seed would
    # also queue a seed for every device not yet started, each with a formatted stack
    # trace (2 ms the first time, 0.2 ms after, in each of a check's many runs).
    torch.default_generator.manual_seed(seed)
    if device.type == "cuda":
        torch.cuda.manual_seed_all(seed)
    random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed)
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass


def _error(exc: BaseException, filename: str) -> SeedError:
    if isinstance(exc, SystemExit):
        return SeedError(type="SystemExit", message=f"the code called sys.exit({exc.code!r})", line=None)
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    message = str(exc).strip().splitlines()[0][:500] if str(exc).strip() else ""
    return SeedError(type=type(exc).__name__, message=message, line=line)


def run_checks(code: str, wire: JsonObject, blobs: dict[str, bytes], ctx: Any) -> tuple[HarnessRecord, dict[str, bytes]]:
    """Run ``code`` once per (check, seed) and send each check kind's data.

    ``wire``: :class:`tutor.checks.wire.HarnessParams`, checked here first.
    """
    params = harness_params(wire)
    filename = params["filename"]
    device = torch.device(params["device"])
    # Grading runs many children at once (one per exercise and side): one thread each
    # beats a pool per child fighting over the cores (a tiny BatchNorm took 100 ms with
    # two threads under load, 0.03 ms with one). Both sides run alike, so verdicts agree.
    torch.set_num_threads(1)
    encoder = Encoder("b")
    schedules.install()  # done by the server before forking; here for in-process use
    tripwire = Tripwire(list(params["banned"]), list(params["required"]))
    tripwire.install()
    pristine = Pristine()  # after the tripwire: its wrappers are part of the clean state
    compiled = compile(code, filename, "exec")
    results: list[SeedResult] = []
    for check in params["checks"]:
        kinds = specs_from_wire(check)
        for seed in check["seeds"]:
            results.append(_run_one(compiled, check, kinds, seed, device, filename, encoder, tripwire, pristine))
            if results[-1]["error"]:
                break  # the first error per check says enough; spare the time
    return HarnessRecord(results=results, tripwire=tripwire.hits, called=tripwire.called), encoder.blobs


class _Probe:
    """One (check, seed) run as the check kinds see it (``tutor.checks.base.Probe``)."""

    def __init__(self, namespace: dict[str, Any], encoder: Encoder, seed: int, device: torch.device) -> None:
        self.namespace = namespace
        self.encoder = encoder
        self.seed = seed
        self.device = device
        self.value: Any = None
        self.stdout = ""
        self._backward_done = False

    def backward(self) -> None:
        if not self._backward_done:
            self._backward_done = True
            _backward(self.value)

    def evaluate(self, expr: str) -> Any:
        return eval(compile(expr, "<check>", "eval"), self.namespace)

    def reseed(self) -> None:
        _seed_everything(self.seed, self.device)


def _run_one(compiled: Any, check: WireCheck, kinds: list[tuple[CheckKind, Spec]], seed: int, device: torch.device,
             filename: str, encoder: Encoder, tripwire: Tripwire, pristine: Pristine) -> SeedResult:
    out = SeedResult(check=check["name"], seed=seed, error=None, stdout="")
    stdout = io.StringIO()
    probe = _Probe(predefined(device), encoder, seed, device)
    namespace = probe.namespace
    stage = "running the file"
    try:
        for kind, spec in kinds:
            kind.prepare(spec, probe)
        with contextlib.redirect_stdout(stdout):
            probe.reseed()
            tripwire.recording = True
            try:
                exec(compiled, namespace)
            finally:
                tripwire.recording = False
                # A kind that records state before expr (no_mutation's snapshot) must take
                # it with torch as it ships. Restoring costs copy-on-write page faults in
                # this forked child (every attribute read touches a refcount), so it is
                # done here only when such a kind asks; after expr it is always done.
                if any(type(kind).before is not CheckKind.before for kind, _ in kinds):
                    pristine.restore()
            stage = "the check's setup"
            if check["setup"]:
                exec(compile(check["setup"], "<check setup>", "exec"), namespace)
            states = [kind.before(spec, probe) for kind, spec in kinds]
            stage = f"evaluating {check['expr']}"
            tripwire.recording = True
            try:
                probe.value = probe.evaluate(check["expr"])
            finally:
                tripwire.recording = False
                pristine.restore()  # what the kinds record is read with torch as it ships
            if any(kind.needs_backward for kind, _ in kinds):
                stage = "back-propagating the result"
                probe.backward()
        probe.stdout = stdout.getvalue()[:MAX_STDOUT]
        out["parts"] = {kind.name: kind.collect(spec, probe, state) for (kind, spec), state in zip(kinds, states)}
    except BaseException as exc:  # noqa: BLE001 - learner code may raise anything
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            # Exiting early ends the whole run: the sandbox reports it as an error, and
            # no data from this process counts.
            raise
        error = _error(exc, filename)
        error["stage"] = stage
        out["error"] = error
    text = stdout.getvalue()
    out["stdout"] = text[:MAX_STDOUT]
    return out


def _backward(value: Any) -> None:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"expected a tensor to back-propagate, got {type(value).__name__}")
    if not value.requires_grad:
        raise RuntimeError("the result does not require grad: the computation graph was cut (no gradient can flow back)")
    (value if value.dim() == 0 else value.sum()).backward()


if __name__ == "__main__":  # pragma: no cover - manual debugging aid
    sys.exit("run through the sandbox: task tutor.judging.harness:run_checks")
