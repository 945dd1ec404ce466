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
from typing import TYPE_CHECKING, Any

from tutor.app.format import lr_text, shape_text
from tutor.errors import UsageError
from tutor.sandbox.api import ErrorInfo, RunRequest, RunResult

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text


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


def render(path: Path, result: RunResult) -> None:
    """Print one result with rich; learner text is shown as plain text, never markup."""
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    colour = "green" if result.ok else "red"
    console.rule(Text.assemble((str(path), "bold"), "  ", (result.status, f"bold {colour}"),
                               f"  {result.duration_ms:.0f} ms on {result.device}"))
    if result.stdout:
        console.print(Text(result.stdout.rstrip("\n")))
    if result.error:
        console.print(Text(_error_text(result.error), style="red"))
    tensors = [v for v in result.variables if v.get("type") in ("Tensor", "Parameter") or "dtype" in v]
    others = [v for v in result.variables if v not in tensors]
    sections = [
        _tensor_table(tensors) if tensors else None,
        _value_table(others) if others else None,
        *(_series_line(series) for series in result.series),
        _module_table(result.modules) if result.modules else None,
        _optimizer_table(result.optimizers) if result.optimizers else None,
        *(_schedule_table(schedule) for schedule in result.schedules),
    ]
    for section in sections:
        if section is not None:
            console.print(section)
    if result.resources:
        used = result.resources
        console.print(Text(f"cpu {used.get('cpu_s', 0):.3f} s · wall {used.get('wall_s', 0):.3f} s · "
                           f"peak memory {used.get('max_rss_mb', 0):.0f} MB · isolation: "
                           + ", ".join(result.isolation), style="dim"))


def _tensor_table(tensors: list[dict[str, Any]]) -> Table:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title="tensors", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("name", "shape", "dtype", "device", "grad?", "grad_fn"):
        table.add_column(column, no_wrap=True)
    table.add_column("grad", no_wrap=True, overflow="ellipsis", max_width=20)
    for var in tensors:
        grad = var.get("grad")
        row = [var["name"], shape_text(var.get("shape", [])), var.get("dtype", ""), var.get("device", ""),
               "yes" if var.get("requires_grad") else "no", var.get("grad_fn") or "-",
               _one_line(grad["preview"]) if grad else "-"]
        table.add_row(*[Text(str(cell)) for cell in row])
    return table


def _value_table(values: list[dict[str, Any]]) -> Table:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title="values", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("name", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("value", no_wrap=True, overflow="ellipsis", min_width=12)
    for var in values:
        table.add_row(Text(var["name"]), Text(var.get("type", "")), Text(_one_line(var.get("preview", ""))))
    return table


def _series_line(series: dict[str, Any]) -> Text | None:
    """A recorded number series as first → last and a sparkline; nothing below 2 values."""
    from rich.text import Text

    values = [v for v in series.get("values", []) if isinstance(v, (int, float))]
    if len(values) < 2:
        return None
    return Text.assemble(("series ", "bold"), (series["name"], "bold"),
                         f": {len(values)} values, {values[0]:.4g} → {values[-1]:.4g}  ",
                         (_sparkline(values), "cyan"))


def _module_table(modules: list[dict[str, Any]]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="modules", title_justify="left")
    for column in ("name", "type", "parameters", "shapes"):
        table.add_column(column)
    for mod in modules:
        shapes = "\n".join(f"{p['name']}: {list(p['shape'])}" for p in mod.get("named_parameters", []))
        table.add_row(Text(mod["name"]), Text(mod["type"]), f"{mod['parameters']:,}", Text(shapes))
    return table


def _optimizer_table(optimizers: list[dict[str, Any]]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="optimizers", title_justify="left")
    for column in ("name", "type", "param groups"):
        table.add_column(column)
    for opt in optimizers:
        groups = "\n".join(
            ", ".join(f"{k}={v}" for k, v in group.items()) for group in opt.get("param_groups", [])
        )
        table.add_row(Text(opt["name"]), Text(opt["type"]), Text(groups))
    return table


def _schedule_table(schedule: dict[str, Any]) -> Table | None:
    """The lr of every param group after each ``scheduler.step()``; nothing if it never stepped."""
    from rich.table import Table

    steps = schedule.get("steps", [])
    if not steps:
        return None
    table = Table(title=f"lr schedule: {schedule['name']} ({schedule['type']})", title_justify="left")
    table.add_column("step", justify="right")
    groups = len(steps[0][1])
    for index in range(groups):
        table.add_column(f"lr[{index}]" if groups > 1 else "lr", justify="right")
    for step, lrs in steps:
        table.add_row(str(step), *[lr_text(v) for v in lrs])
    return table


def _error_text(error: ErrorInfo) -> str:
    if error.traceback:
        return error.traceback.rstrip("\n")
    where = f" (line {error.line})" if error.line else ""
    return f"{error.type}: {error.message}{where}"


def _one_line(text: str) -> str:
    """A multi-line tensor preview squeezed onto one line for a table cell."""
    return " ".join(text.split())


SPARKS = "▁▂▃▄▅▆▇█"


def _sparkline(values: list[float], width: int = 40) -> str:
    if len(values) > width:  # keep the shape of a long history: sample it evenly
        values = [values[round(i * (len(values) - 1) / (width - 1))] for i in range(width)]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(SPARKS[min(len(SPARKS) - 1, int((v - low) / span * len(SPARKS)))] for v in values)
