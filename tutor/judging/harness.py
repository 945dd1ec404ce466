"""The check harness: runs in a fresh sandbox child, once for the learner's file and once
for the reference solution, and sends back every check's value as data.

Task entry point: ``tutor.judging.harness:run_checks``. Nothing here decides a verdict;
the judge (``tutor.judging.judge``) does, in a process where no learner code ran.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import math
import random
import sys
import traceback
from typing import Any

import torch

from tutor.checks.base import CheckKind, Spec
from tutor.checks.wire import HarnessParams, HarnessRecord, SeedError, SeedResult, WireCheck, harness_params, specs_from_wire
from tutor.judging.pristine import Pristine
from tutor.judging.recorder import KERNEL_PREFIX, Recorder, recorder_for
from tutor.sandbox import schedules
from tutor.sandbox.child import predefined
from tutor.sandbox.protocol import JsonObject
from tutor.values.encode import Encoder

MAX_STDOUT = 64 * 1024


class Tripwire:
    """Wraps banned and required callables so that calling them at run time is recorded,
    even when the source hides the name (``getattr(torch, "soft" + "max")``). A banned
    attribute that is no callable (``Tensor.data``) is recorded when it is read.

    Banned calls count whenever they happen; required ones only while ``recording`` (the
    learner's file and each ``expr``), so a check's own ``setup`` or backward pass never
    makes the call for the learner. While ``corrupting`` names a required call, its
    results are garbage (NaN, or integers off by one; a backward pass writes NaN
    gradients): the counterfactual run that tells a call that was used from one made
    for show."""

    def __init__(self, banned: list[str], required: list[str] | None = None) -> None:
        self.hits: list[str] = []
        self.called: list[str] = []
        # Kernels (``aten::name``) are the dispatcher recorder's to catch.
        self.banned = [name for name in banned if not name.startswith(KERNEL_PREFIX)]
        self.required = required or []
        self.recording = False
        self.corrupting: frozenset[str] = frozenset()
        #: Calls whose results were corrupted in the counterfactual run.
        self.corrupted = 0
        self._doors: set[tuple[int, str]] = set()

    def install(self) -> None:
        for name in dict.fromkeys([*self.banned, *self.required]):
            owner, attr = _resolve_owner(name)
            if owner is None:
                continue
            original = getattr(owner, attr, None)
            if original is None:
                continue
            if not callable(original):
                descriptor = inspect.getattr_static(owner, attr, None)
                if name in self.banned and hasattr(descriptor, "__get__") and hasattr(descriptor, "__set__"):
                    self._watch_attribute(owner, attr, name, descriptor)
                continue
            is_banned, is_required = name in self.banned, name in self.required

            def wrapper(*args: Any, __name: str = name, __original: Any = original, __banned: bool = is_banned,
                        __required: bool = is_required, **kwargs: Any) -> Any:
                if __banned and __name not in self.hits:
                    self.hits.append(__name)
                if __required and self.recording:
                    if __name not in self.called:
                        self.called.append(__name)
                    if __name in self.corrupting:
                        return self._corrupted_call(__name, __original, args, kwargs)
                return __original(*args, **kwargs)

            try:
                setattr(owner, attr, wrapper)
            except (AttributeError, TypeError):
                continue
            if is_banned:
                self._wrap_other_doors(name, attr)

    def _wrap_other_doors(self, name: str, attr: str) -> None:
        """The same function reached through ``torch.ops.aten`` or the generated
        ``torch._C._VariableFunctions``: a composite function (``cosine_similarity``) runs
        as ordinary kernels, so the dispatcher cannot tell it by a kernel of its own."""
        for door in (torch.ops.aten, torch._C._VariableFunctions):
            if (id(door), attr) in self._doors:
                continue  # F.softmax and torch.softmax share one door: one wrapper, one report
            self._doors.add((id(door), attr))
            try:
                original = getattr(door, attr)
            except (AttributeError, RuntimeError):
                continue
            if not callable(original):
                continue

            try:
                setattr(door, attr, _RecordedDoor(original, lambda n=name: self._hit_while_recording(n)))
            except (AttributeError, TypeError):
                continue

    def _hit_while_recording(self, name: str) -> None:
        # Only the learner's code counts: torch itself may go through these doors.
        if self.recording and name not in self.hits:
            self.hits.append(name)

    def _watch_attribute(self, owner: Any, attr: str, name: str, descriptor: Any) -> None:
        """Record reads of a banned attribute while recording (``p.data``, however the
        name was spelled); writes, and torch's own reads outside the learner's code,
        pass untouched."""

        def get(obj: Any) -> Any:
            if self.recording and name not in self.hits:
                self.hits.append(name)
            return descriptor.__get__(obj, type(obj))

        def set_(obj: Any, value: Any) -> None:
            descriptor.__set__(obj, value)

        try:
            setattr(owner, attr, property(get, set_, doc=getattr(descriptor, "__doc__", None)))
        except (AttributeError, TypeError):
            pass

    def _corrupted_call(self, name: str, original: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if name.endswith(".backward"):
            target = args[0] if args else None
            if isinstance(target, torch.Tensor) and target.is_floating_point() and not name.startswith("torch.autograd"):
                self.corrupted += 1  # Tensor.backward: NaN flows into every gradient it writes
                return original(target, torch.full_like(target, float("nan")), *args[2:], **{
                    k: v for k, v in kwargs.items() if k != "gradient"})
            return original(*args, **kwargs)
        result = original(*args, **kwargs)
        corrupted = _corrupt(result)
        if corrupted is not result:
            self.corrupted += 1
        return corrupted


class _RecordedDoor:
    """An operator reached through a door such as ``torch.ops.aten``, that records a use
    and is otherwise the operator itself: its overloads (``.default``) stay reachable, so
    torch's own code and a learner's ``torch.ops.aten.softmax.int`` behave as before,
    and the use is reported as the banned call it is, not as a broken attribute."""

    def __init__(self, original: Any, record: Any) -> None:
        self._original, self._record = original, record

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._record()
        return self._original(*args, **kwargs)

    def __getattr__(self, item: str) -> Any:
        value = getattr(self._original, item)
        if callable(value) and not item.startswith("_"):
            self._record()  # an overload: torch.ops.aten.cosine_similarity.default(...)
        return value


def _corrupt(value: Any) -> Any:
    """Garbage of the same shape and type: what a result that is never really used can
    be replaced by without changing the answer."""
    if isinstance(value, torch.Tensor):
        with torch.no_grad():
            if value.is_floating_point() or value.is_complex():
                return torch.full_like(value, float("nan"))
            if value.dtype == torch.bool:
                return ~value
            return value + 1
    if type(value) in (tuple, list) and any(isinstance(v, torch.Tensor) for v in value):
        return type(value)(_corrupt(v) for v in value)
    return value


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
    encoder = Encoder(params.get("blob_prefix", "b"))
    schedules.install()  # done by the server before forking; here for in-process use
    banned, required = list(params["banned"]), list(params["required"])
    recorder = recorder_for(banned)
    tripwire = Tripwire(banned, required)
    tripwire.install()
    pristine = Pristine()  # after the tripwire: its wrappers are part of the clean state
    compiled = compile(code, filename, "exec")
    results: list[SeedResult] = []
    for check in params["checks"]:
        kinds = specs_from_wire(check)
        for seed in check["seeds"]:
            results.append(_run_one(compiled, check, kinds, seed, device, filename, encoder, tripwire, pristine, recorder))
            if results[-1]["error"]:
                break  # the first error per check says enough; spare the time
    produced, used = _counterfactual(compiled, params, device, filename, tripwire, pristine, recorder, results)
    record = HarnessRecord(results=results, tripwire=tripwire.hits, called=tripwire.called,
                           kernels=recorder.kernels_hit if recorder else [], produced=produced, used=used,
                           tampered=bool(recorder and recorder.tampered))
    return record, encoder.blobs


def _counterfactual(compiled: Any, params: HarnessParams, device: torch.device, filename: str, tripwire: Tripwire,
                    pristine: Pristine, recorder: Recorder | None, results: list[SeedResult]) -> tuple[list[str], list[str]]:
    """Which required calls the answer really uses: the first check runs again on its
    first seed with each called required name's results replaced by garbage; a name
    whose garbage leaves the check's value unchanged was called only for show. Names
    that made no tensor (``scheduler.step()``) count by being called. Returns (names
    whose results could be corrupted, those the value was found to depend on)."""
    called = [name for name in tripwire.required if name in tripwire.called]
    if not called or not params["checks"] or not results or results[0]["error"]:
        return [], []
    check = params["checks"][0]
    kinds, seed, scratch = specs_from_wire(check), check["seeds"][0], Encoder("x")
    clean: list[Any] = []
    _run_one(compiled, check, kinds, seed, device, filename, scratch, tripwire, pristine, recorder, keep=clean)
    produced, used = [], []
    for name in called:
        garbage: list[Any] = []
        tripwire.corrupting, tripwire.corrupted = frozenset({name}), 0
        try:
            run = _run_one(compiled, check, kinds, seed, device, filename, scratch, tripwire, pristine, recorder, keep=garbage)
        finally:
            tripwire.corrupting = frozenset()
        if tripwire.corrupted:
            produced.append(name)
            # An error on garbage is a use too: the answer read the result.
            if run["error"] or not clean or not garbage or not _same(clean[0], garbage[0]):
                used.append(name)
    return produced, used


def _same(a: Any, b: Any, depth: int = 0) -> bool:
    """Whether two check values are equal, NaN equal to NaN and floats within rounding
    (a value the garbage left unchanged is one that never read it)."""
    if depth > 50:
        return True
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or a.shape != b.shape or a.dtype != b.dtype:
            return False
        a, b = a.detach().cpu(), b.detach().cpu()
        if a.is_floating_point() or a.is_complex():
            # Within rounding: a library call may not be bitwise repeatable (threaded
            # BLAS), while garbage (NaN) is never close to a real value.
            return bool(torch.allclose(a, b, rtol=1e-5, atol=1e-7, equal_nan=True))
        return bool(torch.equal(a, b))
    if isinstance(a, torch.nn.Module) and isinstance(b, torch.nn.Module):
        return _same(a.state_dict(), b.state_dict(), depth + 1)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], depth + 1) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y, depth + 1) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-7) or (a != a and b != b)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - no plain equality: count it as changed, the lenient side
        return False


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
             filename: str, encoder: Encoder, tripwire: Tripwire, pristine: Pristine, recorder: Recorder | None,
             keep: list[Any] | None = None) -> SeedResult:
    """One (check, seed) run; ``keep`` receives the check's value (a counterfactual run)."""
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
                with _window(recorder):
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
                with _window(recorder), contextlib.ExitStack() as around:
                    for kind, spec in kinds:
                        around.enter_context(kind.during(spec, probe))
                    probe.value = probe.evaluate(check["expr"])
                if keep is not None:
                    keep.append(probe.value)
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


def _window(recorder: Recorder | None) -> contextlib.AbstractContextManager[None]:
    return recorder.window() if recorder is not None else contextlib.nullcontext()


def _backward(value: Any) -> None:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"expected a tensor to back-propagate, got {type(value).__name__}")
    if not value.requires_grad:
        raise RuntimeError("the result does not require grad: the computation graph was cut (no gradient can flow back)")
    (value if value.dim() == 0 else value.sum()).backward()


if __name__ == "__main__":  # pragma: no cover - manual debugging aid
    sys.exit("run through the sandbox: task tutor.judging.harness:run_checks")
