"""The exercise editor: a Python code editor that helps as code editors do, and keeps
the learner's place on screen."""

from __future__ import annotations

from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Offset
from textual.strip import Strip
from textual.widgets import TextArea
from textual.widgets.text_area import Selection

from tutor.present import CONTINUATION

INDENT = " " * 4

#: A line that starts with one of these ends its block: the next line is dedented.
BLOCK_ENDERS = ("return", "pass", "raise", "break", "continue")


def scan(line: str) -> tuple[str, int]:
    """``line`` without its trailing comment and spaces, and how many brackets it leaves
    open; a ``#`` or a bracket inside a string literal counts for nothing."""
    depth, quote, escaped = 0, "", False
    for i, char in enumerate(line):
        if escaped:
            escaped = False
        elif quote:
            if char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#":
            return line[:i].rstrip(), depth
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
    return line.rstrip(), depth


def next_line_indent(line: str, column: int) -> str:
    """The indentation of a new line started by Enter at ``column`` of ``line``: the
    line's own, one level more after a ``:`` or an open bracket, one level less after
    ``return``, ``pass``, ``raise``, ``break`` or ``continue``."""
    before = line[:column]
    indent = before[: len(before) - len(before.lstrip(" \t"))]
    code, depth = scan(before)
    code = code.strip()
    if not code:
        return indent  # Enter inside the indentation (or on a blank line) keeps it
    if code.endswith(":") or depth > 0:
        return indent + INDENT
    word = code.split(maxsplit=1)[0].rstrip(";")
    if word in BLOCK_ENDERS:
        return indent[: max(0, len(indent) - len(INDENT))]
    return indent


class CodeEditor(TextArea):
    """A ``TextArea`` for Python with the editing help of a code editor, keeping the
    learner's place on screen.

    * Enter keeps the indentation of the line, adds a level after ``:`` or an open
      bracket and removes one after ``return``/``pass``/``raise``/``break``/``continue``;
    * Tab inserts spaces to the next multiple of four (four at the start of a line) and
      indents every selected line when the selection spans lines;
    * Backspace in a line's indentation removes one level, never joining the line to
      the one above unless it is already at column 0;
    * Home goes to the first non-blank character of the line, and from there to column
      0, on every line, soft-wrapped or not (``TextArea`` alone goes to column 0 on a
      wrapped line and to the first character on others); ctrl+Home and ctrl+End go to
      the start and the end of the file (shift selects);
    * a soft-wrapped line's continuation rows carry ``↪`` in the line-number gutter, so
      a long comment's second row never reads as a line of code;
    * ``open_at`` shows a row at the top (the first line of the learner's code); until
      the cursor moves, every resize shows it at the top again, so a check report growing
      under the editor leaves that code in view. Once the learner has moved, a resize
      keeps the cursor line visible, centred when the smaller editor would hide it.
    """

    BINDINGS = [
        Binding("ctrl+home", "cursor_document_start", "Start of file", show=False),
        Binding("ctrl+end", "cursor_document_end", "End of file", show=False),
        Binding("ctrl+shift+home", "cursor_document_start(True)", show=False),
        Binding("ctrl+shift+end", "cursor_document_end(True)", show=False),
    ]

    _pinned_row: int | None = None

    # -- editing help ------------------------------------------------------------------

    async def _on_key(self, event: events.Key) -> None:
        if not self.read_only and event.key in ("enter", "tab"):
            event.stop()
            event.prevent_default()
            self._restart_blink()
            if event.key == "enter":
                self._newline()
            else:
                self._tab()
            return
        await super()._on_key(event)

    def _newline(self) -> None:
        start, end = sorted(self.selection)
        row, column = start
        indent = next_line_indent(self.document[row], column)
        after = self.document[end[0]][end[1]:]
        # The text carried to the new line starts at the new indentation.
        end = (end[0], end[1] + len(after) - len(after.lstrip(" \t")))
        self._replace_via_keyboard("\n" + indent, start, end)

    def _tab(self) -> None:
        start, end = sorted(self.selection)
        if start[0] == end[0]:
            row, column = start
            spaces = len(INDENT) - self.get_column_width(row, column) % len(INDENT)
            self._replace_via_keyboard(" " * spaces, start, end)
            return
        last = end[0] if end[1] > 0 else end[0] - 1  # a selection ending at column 0 stops above
        rows = [r for r in range(start[0], last + 1) if self.document[r].strip()]
        for r in rows:
            self.insert(INDENT, (r, 0), maintain_selection_offset=True)
        self.selection = Selection((start[0], 0), (last, len(self.document[last])))

    def action_delete_left(self) -> None:
        if self.read_only:
            return
        row, column = self.cursor_location
        if self.selection.is_empty and column > 0 and not self.document[row][:column].strip(" "):
            step = column % len(INDENT) or len(INDENT)
            self._delete_via_keyboard((row, column - step), (row, column))
            return
        super().action_delete_left()

    def action_cursor_line_start(self, select: bool = False) -> None:
        """Home (and ctrl+a): the first non-blank character of the line; column 0 if the
        cursor is already there."""
        row, column = self.cursor_location
        line = self.document[row]
        first = len(line) - len(line.lstrip(" \t"))
        self.move_cursor((row, 0 if column == first else first), select=select)

    def action_cursor_document_start(self, select: bool = False) -> None:
        self.move_cursor((0, 0), select=select)

    def action_cursor_document_end(self, select: bool = False) -> None:
        last = self.document.line_count - 1
        self.move_cursor((last, len(self.document[last])), select=select)

    # -- showing wrapped lines ---------------------------------------------------------

    def _render_line(self, y: int) -> Strip:
        strip = super()._render_line(y)
        gutter = self.gutter_width
        if not (self.soft_wrap and self.show_line_numbers) or gutter < 3:
            return strip
        row = y + self.scroll_offset.y
        if row >= self.wrapped_document.height:
            return strip
        line, _ = self.wrapped_document.offset_to_location(Offset(0, row))
        if self.wrapped_document.location_to_offset((line, 0)).y == row:
            return strip  # the line's first row: its number is there
        blank = list(strip.crop(0, gutter))  # the gutter as drawn, its style included
        style = blank[0].style if blank else None
        mark = Strip([Segment(f"{CONTINUATION.strip():>{gutter - 2}}  ", style)], gutter)
        return Strip.join([mark, strip.crop(gutter, strip.cell_length)])

    # -- keeping the place -----------------------------------------------------------------

    def open_at(self, row: int) -> None:
        """Put the cursor at the start of ``row`` and scroll that row to the top, so the
        code under it fills the editor (the lines above stay one scroll away)."""
        row = max(0, min(row, self.document.line_count - 1))
        self.move_cursor((row, 0))
        self._pinned_row = row
        self.call_after_refresh(self._show_place)

    def on_text_area_selection_changed(self) -> None:
        if self._pinned_row is not None and self.cursor_location != (self._pinned_row, 0):
            self._pinned_row = None  # the learner moved: their cursor is the place now

    def _on_resize(self) -> None:
        super()._on_resize()
        # After the rewrap has settled: rows move when the width changes.
        self.call_after_refresh(self._show_place)

    def _show_place(self) -> None:
        if not self._has_cursor:
            return
        if self._pinned_row is not None:
            y = self.wrapped_document.location_to_offset((self._pinned_row, 0)).y
            self.scroll_to(y=y, animate=False, immediate=True)
            return
        _, y = self.wrapped_document.location_to_offset(self.cursor_location)
        height = self.scrollable_content_region.height
        if not self.scroll_y <= y < self.scroll_y + height:
            self.scroll_cursor_visible(center=True)
