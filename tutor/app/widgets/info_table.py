"""A read-only table that always fits its width: columns shrink, long cells wrap, and
at a narrow width the columns that matter least are left out (and named under the
table) before a name or a ``grad_fn`` is ever cut.

Result tables are for reading, not for moving a cursor through, so a Rich table in a
``Static`` serves better than a ``DataTable``: it never needs a horizontal scrollbar
at 80 columns, and a multi-line preview (a 2-D tensor) keeps its line breaks.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tutor.i18n import _

#: The narrowest a wrapping column is worth showing; narrower, it is left out if it may be.
WRAP_MIN = 12
#: Cells between two columns: the box's blank divider and a column's right padding.
GAP = 2


class InfoTable(Static):
    """``headers`` over ``rows`` of plain strings (the headers are shown translated, and
    name the columns in ``wrap`` and ``drop`` in English). Cells are ``Text``, never markup:
    names and previews come from learner code, and ``[red]`` in them shows as typed.

    ``wrap`` names the columns that may wrap onto several lines; the others are kept
    on one line and are the last to shrink. ``drop`` names the columns that may be left
    out, first to last, while the others would not fit whole; a column still too wide
    then folds onto a second line rather than lose its end to "…".
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
        drop: Sequence[str] = (),
        classes: str | None = None,
    ) -> None:
        super().__init__(classes=classes)
        self.headers = tuple(headers)
        self.rows = [tuple(row) for row in rows]
        self.wrap = frozenset(wrap)
        self.drop = tuple(drop)

    def _natural(self, column: int) -> int:
        """The width of a column with every cell on its own lines, unwrapped."""
        cells = [_(self.headers[column]), *(row[column] for row in self.rows if column < len(row))]
        return max(cell_len(line) for cell in cells for line in (cell.split("\n") or [""]))

    def shown_columns(self, width: int) -> list[int]:
        """The columns shown at ``width``: all of them, less the ``drop`` ones (in
        order) while the rest would not fit whole."""
        shown = list(range(len(self.headers)))
        needs = {c: min(self._natural(c), WRAP_MIN) if self.headers[c] in self.wrap else self._natural(c)
                 for c in shown}
        for name in self.drop:
            if sum(needs[c] for c in shown) + GAP * (len(shown) - 1) <= width:
                break
            shown = [c for c in shown if self.headers[c] != name]
        return shown

    def render(self) -> Table:
        width = self.content_size.width
        shown = self.shown_columns(width) if width > 0 else list(range(len(self.headers)))
        fits = sum(self._natural(c) for c in shown if self.headers[c] not in self.wrap) + GAP * (len(shown) - 1) <= width
        left_out = [h for c, h in enumerate(self.headers) if c not in shown]
        table = Table(box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False, show_edge=False, expand=False,
                      header_style="bold", caption_justify="left", caption_style="dim",
                      caption=_("not shown at this width: {columns}").format(columns=", ".join(_(h) for h in left_out))
                      if left_out else None)
        for c in shown:
            header = self.headers[c]
            wraps = header in self.wrap or not fits  # a last resort: fold, never "…"
            table.add_column(_(header), no_wrap=not wraps, overflow="fold")
        for row in self.rows:
            table.add_row(*(Text(row[c]) if c < len(row) else Text("") for c in shown))
        return table
