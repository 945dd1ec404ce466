"""Small task functions that ship with the sandbox (``RunRequest.task``).

They show the task contract, ``function(code, params, blobs, ctx) -> (data, blobs)``,
and the tests use them. Grading brings its own tasks.
"""

from __future__ import annotations

from typing import Any

from tutor.sandbox.protocol import JsonObject


def echo(code: str, params: JsonObject, blobs: dict[str, bytes], ctx: Any) -> tuple[JsonObject, dict[str, bytes]]:
    """Run ``code`` like a snippet, then return the params, the printed output and the
    names it defined; the blobs come back unchanged."""
    filename = params.get("filename", "<solution>")
    namespace = ctx.exec_code(code, filename=filename if isinstance(filename, str) else "<solution>")
    names: list[str] = sorted(k for k in namespace if not k.startswith("_") and k not in {"torch", "nn", "F", "DEVICE"})
    return {"params": params, "stdout": ctx.stdout(), "names": list(names), "device": ctx.device_name}, dict(blobs)


def fail(code: str, params: JsonObject, blobs: dict[str, bytes], ctx: Any) -> tuple[JsonObject, dict[str, bytes]]:
    """Raise, to show how a task function's own error comes back."""
    raise RuntimeError(params.get("message", "task failed"))
