"""The check harness: runs in a fresh sandbox child, once for the learner's file and once
for the reference solution, and sends back every check's value as data.

Task entry point: ``tutor.grading.harness:run_checks``. Nothing here decides a verdict;
the judge (``tutor.grading.judge``) does, in a process where no learner code ran.
"""

from __future__ import annotations

import contextlib
import io
import random
import sys
import traceback
from typing import Any

import torch

from tutor.grading.encode import Encoder
from tutor.sandbox import schedules
from tutor.sandbox.child import predefined
MAX_STDOUT = 64 * 1024


class Tripwire:
    """Wraps banned callables so that calling them at run time is recorded, even when the
    source hides the name (``getattr(torch, "soft" + "max")``)."""

    def __init__(self, banned: list[str]) -> None:
        self.hits: list[str] = []
        self.banned = banned

    def install(self) -> None:
        for name in self.banned:
            owner, attr = _resolve_owner(name)
            if owner is None:
                continue
            original = getattr(owner, attr, None)
            if original is None or not callable(original):
                continue

            def wrapper(*args: Any, __name: str = name, __original: Any = original, **kwargs: Any) -> Any:
                if __name not in self.hits:
                    self.hits.append(__name)
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


def _seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed)
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass


def _error(exc: BaseException, filename: str) -> dict[str, Any]:
    if isinstance(exc, SystemExit):
        return {"type": "SystemExit", "message": f"the code called sys.exit({exc.code!r})", "line": None}
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    message = str(exc).strip().splitlines()[0][:500] if str(exc).strip() else ""
    return {"type": type(exc).__name__, "message": message, "line": line}


def run_checks(code: str, params: dict[str, Any], blobs: dict[str, bytes], ctx: Any) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Run ``code`` once per (check, seed) and encode what each check's ``expr`` gave.

    ``params``: ``checks`` (name, setup, expr, grad, view_of, no_mutation), ``seeds``,
    ``banned`` (names for the tripwire), ``device``, ``filename``.
    """
    filename = params.get("filename", "solution.py")
    device = torch.device(params.get("device", "cpu"))
    encoder = Encoder("b")
    schedules.install()  # done by the server before forking; here for in-process use
    tripwire = Tripwire(list(params.get("banned", [])))
    tripwire.install()
    compiled = compile(code, filename, "exec")
    results: list[dict[str, Any]] = []
    for check in params["checks"]:
        for seed in params["seeds"]:
            results.append(_run_one(compiled, check, seed, device, filename, encoder))
            if results[-1].get("error"):
                break  # the first error per check says enough; spare the time
    return {"results": results, "tripwire": tripwire.hits}, encoder.blobs


def _run_one(compiled: Any, check: dict[str, Any], seed: int, device: torch.device, filename: str, encoder: Encoder) -> dict[str, Any]:
    out: dict[str, Any] = {"check": check["name"], "seed": seed, "error": None}
    stdout = io.StringIO()
    namespace = predefined(device)
    stage = "running the file"
    try:
        with contextlib.redirect_stdout(stdout):
            _seed_everything(seed)
            exec(compiled, namespace)
            stage = "the check's setup"
            if check.get("setup"):
                exec(compile(check["setup"], "<check setup>", "exec"), namespace)
            watched = {name: namespace[name].detach().clone() for name in check.get("no_mutation", []) if isinstance(namespace.get(name), torch.Tensor)}
            stage = f"evaluating {check['expr']}"
            value = eval(compile(check["expr"], "<check>", "eval"), namespace)
            if check.get("grad"):
                stage = "back-propagating the result"
                _backward(value)
        out["value"] = encoder.encode(value)
        out["grads"] = {}
        for name in check.get("grad", []):
            leaf = namespace.get(name)
            grad = leaf.grad if isinstance(leaf, torch.Tensor) else None
            out["grads"][name] = encoder.encode(grad)
        view_of = check.get("view_of")
        if view_of:
            base = namespace.get(view_of)
            out["is_view"] = bool(
                isinstance(value, torch.Tensor) and isinstance(base, torch.Tensor)
                and value.untyped_storage().data_ptr() == base.untyped_storage().data_ptr()
            )
        out["mutated"] = [n for n, before in watched.items() if not _same(before, namespace[n])]
    except BaseException as exc:  # noqa: BLE001 - learner code may raise anything
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            # Exiting early ends the whole run: the sandbox reports it as an error, and
            # no data from this process counts.
            raise
        out["error"] = _error(exc, filename)
        out["error"]["stage"] = stage
    text = stdout.getvalue()
    out["stdout"] = text[:MAX_STDOUT]
    return out


def _backward(value: Any) -> None:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"expected a tensor to back-propagate, got {type(value).__name__}")
    if not value.requires_grad:
        raise RuntimeError("the result does not require grad: the computation graph was cut (no gradient can flow back)")
    (value if value.dim() == 0 else value.sum()).backward()


def _same(before: torch.Tensor, after: Any) -> bool:
    return (
        isinstance(after, torch.Tensor) and after.shape == before.shape and after.dtype == before.dtype
        and bool(torch.equal(after.detach(), before))
    )


if __name__ == "__main__":  # pragma: no cover - manual debugging aid
    sys.exit("run through the sandbox: task tutor.grading.harness:run_checks")
