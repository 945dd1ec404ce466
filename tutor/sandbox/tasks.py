"""Small task functions that ship with the sandbox (``RunRequest.task``).

They show the task contract, ``function(code, params, blobs, ctx) -> (data, blobs)``,
and the tests use them. Grading brings its own tasks.
"""

from __future__ import annotations

from typing import Any


def echo(code: str, params: dict[str, Any], blobs: dict[str, bytes], ctx: Any) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Run ``code`` like a snippet, then return the params, the printed output and the
    names it defined; the blobs come back unchanged."""
    namespace = ctx.exec_code(code, filename=params.get("filename", "<solution>"))
    names = sorted(k for k in namespace if not k.startswith("_") and k not in {"torch", "nn", "F", "DEVICE"})
    return {"params": params, "stdout": ctx.stdout(), "names": names, "device": ctx.device_name}, dict(blobs)


def fail(code: str, params: dict[str, Any], blobs: dict[str, bytes], ctx: Any) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Raise, to show how a task function's own error comes back."""
    raise RuntimeError(params.get("message", "task failed"))
