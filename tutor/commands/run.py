"""``tutor run FILE.py...``: run files in the sandbox and show what they left behind.

Every file runs in a fresh child of one warm server. With ``--json`` each result is
one JSON object per line (the contract in DESIGN.md); otherwise rich renders the
output, then tables of variables, series (a sparkline each), modules (a table of
parameters with their grad norms each), optimizers and lr schedules. Exit 1 if any
file failed, 2 for bad usage (a missing file, ``--device cuda`` without CUDA).
"""

from __future__ import annotations

import argparse
import io
import json
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tutor import present as fmt
from tutor.commands.common import start_tutor
from tutor.errors import UsageError
from tutor.explain import explain_result
from tutor.i18n import _, is_english
from tutor.lessons import LessonSet, default_lessons_dir
from tutor.sandbox.api import ErrorInfo, ModuleJson, RunResult
from tutor.sandbox.sanitize import clean_text

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
        raise UsageError(_("{path}: no such file").format(path=path)) from None
    except IsADirectoryError:
        raise UsageError(_("{path}: is a directory, not a Python file").format(path=path)) from None
    except OSError as exc:
        raise UsageError(_("{path}: cannot read ({error})").format(path=path, error=exc.strerror)) from None
    try:
        encoding, _lines = tokenize.detect_encoding(io.BytesIO(raw).readline)
        return Source(path, raw.decode(encoding))
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
        return Source(path, None, f"{path} is not valid UTF-8 text ({reason})")


def main(args: argparse.Namespace) -> int:
    sources = [read_source(path) for path in args.files]
    # The lessons are hidden from the run, never read: `tutor run` must start fast.
    lessons = LessonSet.unparsed([args.lessons or default_lessons_dir()])
    failed = False
    with start_tutor(lessons, args) as core:
        for source in sources:
            if source.text is None:
                result = RunResult(status="error", device=core.device,
                                   error=ErrorInfo("EncodingError", source.problem or "unreadable"))
            else:
                result = core.run(source.text, str(source.path), timeout=args.timeout)
            failed |= not result.ok
            if args.json:
                print(json.dumps(result.to_json(file=str(source.path))), flush=True)
            else:
                render(source.path, result)
    return 1 if failed else 0


# --- human-readable rendering ------------------------------------------------------


def render(path: Path, result: RunResult) -> None:
    """Print one result with rich; learner text is shown as plain text, never markup.

    The rows come from ``tutor.present``, so the CLI and the app describe a run the
    same way."""
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    if not is_english():
        fmt.wrap_chinese_by_character()
    colour = "green" if result.ok else "red"
    # A name from the command line may hold undecodable bytes (as lone surrogates).
    console.rule(Text.assemble((clean_text(str(path)), "bold"), "  ", (result.status, f"bold {colour}"),
                               "  " + _("{ms} ms on {device}").format(ms=f"{result.duration_ms:.0f}", device=result.device)))
    if result.stdout:
        console.print(Text(result.stdout.rstrip("\n")))
    if result.error:
        console.print(Text(_error_text(result.error), style="red"))
    explanation = explain_result(result)
    if explanation is not None:
        # The error, in plain words: what to change, and where the course teaches it.
        console.print(Text.assemble("\n", (_("why: {title}").format(title=explanation.title), "bold yellow"), "\n",
                                    explanation.text, "\n", (_("learn more: {section}").format(section=explanation.section), "dim")))
    sections = [
        _table(_("tensors"), TENSOR_COLUMNS, fmt.tensor_rows(result.variables), last_width=20),
        _table(_("values"), fmt.VALUE_COLUMNS, fmt.value_rows(result.variables)),
        _table(_("series"), fmt.SERIES_COLUMNS, fmt.series_rows(result.series, width=20)),
        *(section for module in result.modules for section in _module_sections(module)),
        *(Text(line) for line in fmt.optimizer_lines(result.optimizers)),
        *(_table(_("lr schedule: {name} ({type})").format(name=s.get("name", "?"), type=s.get("type", "?")), *fmt.lr_table(s))
          for s in result.schedules if isinstance(s, dict) and s.get("steps")),
    ]
    for section in sections:
        if section is not None:
            console.print(section)
    if result.resources:
        used = result.resources
        console.print(Text(fmt.sep().join((_("cpu {seconds} s").format(seconds=f"{used.get('cpu_s', 0):.3f}"),
                                           _("wall {seconds} s").format(seconds=f"{used.get('wall_s', 0):.3f}"),
                                           _("peak memory {mb} MB").format(mb=f"{used.get('max_rss_mb', 0):.0f}"),
                                           _("isolation: ") + ", ".join(result.isolation))), style="dim"))


TENSOR_COLUMNS = fmt.TENSOR_COLUMNS


def _table(title: str | None, columns: tuple[str, ...], rows: Sequence[tuple[str, ...]], *,
           last_width: int | None = None) -> Table | None:
    """A compact table (titled unless ``title`` is None), or nothing when there are no
    rows. Cells stay on one line so a result fits 80 columns; the last column gives way
    first."""
    if not rows:
        return None
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    table = Table(title=None if title is None else Text(title), title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, collapse_padding=True, min_width=cell_len(title or ""))
    for column in columns[:-1]:
        table.add_column(_(column), no_wrap=True)
    table.add_column(_(columns[-1]), no_wrap=True, overflow="ellipsis", min_width=8, max_width=last_width)
    for row in rows:
        table.add_row(*[Text(str(cell)) for cell in row])
    return table


def _module_sections(module: ModuleJson) -> list[Table | Text]:
    """A module's heading over its parameters (shape, requires_grad, grad norm), and a
    dim note when a big model's parameters are not all shown."""
    from rich.text import Text

    if not isinstance(module, dict):
        return []
    rows, note = fmt.parameter_table(module)
    sections: list[Table | Text] = [Text(fmt.module_heading(module), style="bold")]
    table = _table(None, fmt.PARAMETER_COLUMNS, rows)
    if table is not None:
        sections.append(table)
    if note:
        sections.append(Text(note, style="dim"))
    return sections


def _error_text(error: ErrorInfo) -> str:
    if error.traceback:
        return error.traceback.rstrip("\n")
    where = _(" (line {line})").format(line=error.line) if error.line else ""
    return f"{error.type}: {error.message}{where}"

