"""``tutor run FILE.py...``: run files in the sandbox and show what they left behind.

Every file runs in a fresh child of one warm server. With ``--json`` each result is
one JSON object per line (the contract in DESIGN.md); otherwise rich renders the
output, then tables of variables, modules, optimizers and lr schedules. Exit 1 if any
file failed, 2 for bad usage (a missing file, ``--device cuda`` without CUDA).
"""

from __future__ import annotations

import argparse
import io
import json
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutor.errors import UsageError
from tutor.sandbox.api import ErrorInfo, RunRequest, RunResult


@dataclass
class Source:
    """A file to run: its text, or why it cannot be read as Python source."""

    path: Path
    text: str | None
    problem: str | None = None


def read_source(path: Path) -> Source:
    """Decode like Python does (UTF-8 unless a coding cookie says otherwise)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a Python file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        return Source(path, raw.decode(encoding))
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
        return Source(path, None, f"{path} is not valid UTF-8 text ({reason})")


def _hidden_paths(args: argparse.Namespace) -> list[Path]:
    from tutor.lessons.discover import default_lessons_dir

    paths = [default_lessons_dir()]
    if getattr(args, "lessons", None):
        paths.append(args.lessons)
    return [p for p in paths if p.is_dir()]


def main(args: argparse.Namespace) -> int:
    sources = [read_source(path) for path in args.files]
    from tutor.sandbox.client import SandboxClient

    failed = False
    with SandboxClient(hide_paths=_hidden_paths(args), device=args.device) as client:
        device = client.resolve_device(args.device)
        for source in sources:
            if source.text is None:
                result = RunResult(status="error", device=device,
                                   error=ErrorInfo("EncodingError", source.problem or "unreadable"))
            else:
                result = client.run(RunRequest(code=source.text, filename=str(source.path),
                                               device=device, timeout=args.timeout))
            failed |= not result.ok
            if args.json:
                print(json.dumps(result.to_json(file=str(source.path))), flush=True)
            else:
                render(source.path, result)
    return 1 if failed else 0


# --- human-readable rendering ------------------------------------------------------

def _lr(value: float) -> str:
    return f"{value:.6g}"


def render(path: Path, result: RunResult) -> None:
    """Print one result with rich; learner text is shown as plain text, never markup."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    colour = "green" if result.ok else "red"
    used = result.resources
    console.rule(Text.assemble((str(path), "bold"), "  ", (result.status, f"bold {colour}"),
                               f"  {result.duration_ms:.0f} ms on {result.device}"))
    if result.stdout:
        console.print(Text(result.stdout.rstrip("\n")))
    if result.error:
        console.print(Text(_error_text(result.error), style="red"))
    if result.variables:
        table = Table(title="variables", title_justify="left")
        for column in ("name", "type", "shape", "dtype", "device", "grad", "value"):
            table.add_column(column)
        for var in result.variables:
            table.add_row(*[Text(str(cell)) for cell in _variable_row(var)])
        console.print(table)
    if result.modules:
        table = Table(title="modules", title_justify="left")
        for column in ("name", "type", "parameters", "shapes"):
            table.add_column(column)
        for mod in result.modules:
            shapes = "\n".join(f"{p['name']}: {list(p['shape'])}" for p in mod.get("named_parameters", []))
            table.add_row(Text(mod["name"]), Text(mod["type"]), f"{mod['parameters']:,}", Text(shapes))
        console.print(table)
    if result.optimizers:
        table = Table(title="optimizers", title_justify="left")
        for column in ("name", "type", "param groups"):
            table.add_column(column)
        for opt in result.optimizers:
            groups = "\n".join(
                ", ".join(f"{k}={v}" for k, v in group.items()) for group in opt.get("param_groups", [])
            )
            table.add_row(Text(opt["name"]), Text(opt["type"]), Text(groups))
        console.print(table)
    for schedule in result.schedules:
        steps = schedule.get("steps", [])
        if not steps:
            continue
        table = Table(title=f"lr schedule: {schedule['name']} ({schedule['type']})", title_justify="left")
        table.add_column("step", justify="right")
        for index in range(len(steps[0][1])):
            table.add_column(f"lr[{index}]" if len(steps[0][1]) > 1 else "lr", justify="right")
        for step, lrs in steps:
            table.add_row(str(step), *[_lr(v) for v in lrs])
        console.print(table)
    if used:
        console.print(Text(f"cpu {used.get('cpu_s', 0):.3f} s · wall {used.get('wall_s', 0):.3f} s · "
                           f"peak memory {used.get('max_rss_mb', 0):.0f} MB · isolation: "
                           + ", ".join(result.isolation), style="dim"))


def _error_text(error: ErrorInfo) -> str:
    if error.traceback:
        return error.traceback.rstrip("\n")
    where = f" (line {error.line})" if error.line else ""
    return f"{error.type}: {error.message}{where}"


def _variable_row(var: dict[str, Any]) -> list[Any]:
    if var.get("type") == "Tensor" or "dtype" in var:
        grad = var.get("grad")
        grad_text = grad["preview"] if grad else (var.get("grad_fn") or ("requires_grad" if var.get("requires_grad") else ""))
        return [var["name"], var["type"], tuple(var.get("shape", [])), var.get("dtype", ""),
                var.get("device", ""), grad_text, var.get("preview", "")]
    return [var["name"], var["type"], "", "", "", "", var.get("preview", "")]

