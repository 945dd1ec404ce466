"""The exercise editor: a Python code editor that keeps the learner's place."""

from __future__ import annotations

from textual.widgets import TextArea


class CodeEditor(TextArea):
    """A ``TextArea`` for Python that keeps the learner's place on screen.

    ``open_at`` shows a row at the top (the first line of the learner's code); until the
    cursor moves, every resize shows it at the top again, so a check report growing
    under the editor leaves that code in view. Once the learner has moved, a resize
    keeps the cursor line visible, centred when the smaller editor would hide it.
    """

    _pinned_row: int | None = None

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
