"""Decide a finished run's result from what its child sent and how it ended.

Pure data in, data out: the server's event loop collects a run's output, result
frames and exit status, then asks :func:`decide` what to answer the front. Only a
complete, well-formed frame carrying the run's nonce, from a child that then exited
with status 0, counts as the child's own report; everything else ends as a clear error.
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING

from tutor.sandbox.api import ErrorJson
from tutor.sandbox.child import OUTPUT_CAP
from tutor.sandbox.messages import ResultJson
from tutor.sandbox.report import Malformed, report_fields
from tutor.sandbox.sanitize import clean, clean_text

if TYPE_CHECKING:
    from tutor.sandbox.server import Run

TRUNCATED_NOTE = "\n[output truncated: more than 1 MB]\n"


def error(kind: str, message: str) -> ErrorJson:
    """An ``error`` field of a result, in the shape the front expects."""
    return ErrorJson(type=kind, message=message, traceback="", line=None)


def signal_name(number: int) -> str:
    """``SIGSEGV (segmentation fault)``; ``signal 99`` for numbers Python does not know."""
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    description = signal.strsignal(number) or ""
    return f"{name} ({description.lower()})" if description else name


def unreadable(run: Run, why: str) -> ResultJson:
    """The result of a run whose report could not be passed on: an error, with the
    output it printed (already capped and cleaned in :func:`decide`'s way)."""
    text = clean_text(run.output[:OUTPUT_CAP].decode("utf-8", "replace"))
    return ResultJson(status="error", stdout=text, device=run.device, isolation=["tmpdir"], truncated=False,
                      error=error("ProtocolError", f"the run sent a malformed result ({why})"))


def decide(run: Run, status: int) -> tuple[ResultJson, dict[str, bytes]]:
    """The result (JSON data) and blobs to send the front for ``run``, whose child
    ended with wait status ``status``."""
    text = clean_text(run.output.decode("utf-8", "replace"))
    base = ResultJson(device=run.device, isolation=[], truncated=False)
    frame = run.frames[0] if len(run.frames) == 1 and not run.bad_result and not run.decoder.pending else None
    if frame is not None and frame.header.get("nonce") != run.nonce:
        frame, run.bad_result = None, "the result did not come from the sandbox runner"
    blobs: dict[str, bytes] = {}
    if run.ending == "timeout":
        limit = run.deadline - run.started
        result = ResultJson(status="timeout",
                            error=error("Timeout", f"the run took longer than {limit:g} s and was stopped"))
    elif run.too_large:
        result = ResultJson(status="error", error=error(
            "ResultTooLarge", f"the run's result took more than {run.max_result_bytes / 2**20:g} MiB "
                              "(the values it returns are too large)"))
    elif run.ending == "killed":
        result = ResultJson(status="killed", error=error("Killed", "the run was cancelled"))
    elif os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number == signal.SIGXCPU:
            result = ResultJson(status="timeout", error=error("Timeout", "the CPU time limit was exceeded"))
        else:
            result = ResultJson(status="error",
                                error=error("Crash", f"the process was killed by {signal_name(number)}"))
    elif run.bad_result:
        result = ResultJson(status="error",
                            error=error("ProtocolError", f"the run sent a malformed result ({run.bad_result})"))
    elif frame is None or os.WEXITSTATUS(status) != 0:
        code = os.WEXITSTATUS(status)
        result = ResultJson(status="error",
                            error=error("Exited", f"the process exited with status {code} before reporting a result"))
    else:
        try:
            result = report_fields(frame.header)
            blobs = frame.blobs
        except Malformed as exc:
            result = ResultJson(status="error", error=error("ProtocolError", f"the run sent a malformed result ({exc})"))
    merged: ResultJson = {**base, **clean(result)}
    if run.output_dropped or len(run.output) > OUTPUT_CAP or merged.get("truncated"):
        text = text[:OUTPUT_CAP] + TRUNCATED_NOTE
        merged["truncated"] = True
    merged["stdout"] = text
    merged["device"] = run.device
    merged["isolation"] = ["tmpdir", *merged.get("isolation", [])]
    return merged, blobs


def resources(wall: float, usage: dict[str, float]) -> dict[str, float]:
    """The ``resources`` field: CPU seconds, wall seconds and peak memory."""
    return {
        "cpu_s": round(usage.get("cpu_s", 0.0), 4),
        "wall_s": round(wall, 4),
        "max_rss_mb": round(usage.get("max_rss_kb", 0.0) / 1024, 1),
    }
