"""A read-only table that always fits its width: columns shrink and long cells wrap.

Result tables are for reading, not for moving a cursor through, so a Rich table in a
``Static`` serves better than a ``DataTable``: it never needs a horizontal scrollbar
at 80 columns, and a multi-line preview (a 2-D tensor) keeps its line breaks.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.table import Table
from rich.text import Text
from textual.widgets import Static


class InfoTable(Static):
    """``headers`` over ``rows`` of plain strings. Cells are ``Text``, never markup:
    names and previews come from learner code, and ``[red]`` in them shows as typed.

    ``wrap`` names the columns that may wrap onto several lines; the others are kept
    on one line and are the last to shrink.
    """

    DEFAULT_CSS = """
    InfoTable {
        height: auto;
        width: 1fr;
    }
    """

    def __init__(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        wrap: Sequence[str] = (),
        classes: str | None = None,
    ) -> None:
        super().__init__(classes=classes)
        self.headers = tuple(headers)
        self.rows = [tuple(row) for row in rows]
        self.wrap = frozenset(wrap)

    def render(self) -> Table:
        table = Table(box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False, show_edge=False, expand=False,
                      header_style="bold")
        for header in self.headers:
            wraps = header in self.wrap
            table.add_column(header, no_wrap=not wraps, overflow="fold" if wraps else "ellipsis")
        for row in self.rows:
            table.add_row(*(Text(cell) for cell in row))
        return table
