"""Read-only code that fits its width: highlighted, and each line too long for the
screen wrapped as ``tutor solution`` wraps it (:func:`tutor.present.wrap_code`), never
cropped: a continuation starts under the line's indentation with ``↪``, so a wrapped
comment or call never reads as a line of code of its own.

:class:`CodeView` is a lesson cell's code and each side of the compare view;
:class:`CodeMarkdown` is Markdown whose code blocks (a preformatted error message, a
printout) wrap the same way instead of running off the right edge.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.content import Content
from textual.highlight import highlight
from textual.widget import Widget
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownBlock, MarkdownFence

from tutor.present import CONTINUATION, code_pieces


def wrap_content(code: Content, width: int) -> Content:
    """Highlighted ``code`` with its long lines broken at :func:`code_pieces`; the
    highlighting of every piece is kept and the mark is dimmed."""
    mark = Content.styled(CONTINUATION, "dim")
    rows: list[Content] = []
    for line in code.split("\n"):
        plain = line.plain
        indent = plain[: len(plain) - len(plain.lstrip())]
        for n, (start, end) in enumerate(code_pieces(plain, max(1, width))):
            rows.append(line[start:end] if n == 0 else Content(indent) + mark + line[start:end])
    return Content("\n").join(rows)


class CodeView(Widget):
    """``code``, highlighted and wrapped to the widget's width."""

    DEFAULT_CSS = """
    CodeView { height: auto; text-wrap: nowrap; }
    """

    def __init__(self, code: str, *, language: str = "python", highlighted: Content | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.code = code.rstrip("\n")
        self._highlighted = highlighted if highlighted is not None else highlight(self.code, language=language)
        self._cache: tuple[int, Content] | None = None

    def set_highlighted(self, highlighted: Content) -> None:
        """The same code coloured anew (the theme changed)."""
        self._highlighted, self._cache = highlighted, None
        self.refresh()

    def wrapped(self, width: int) -> Content:
        """The code as shown at ``width`` columns."""
        if self._cache is None or self._cache[0] != width:
            self._cache = (width, wrap_content(self._highlighted, width))
        return self._cache[1]

    def rows_before(self, row: int, width: int) -> int:
        """How many screen rows the code's lines above ``row`` take at ``width``."""
        return sum(len(code_pieces(line, max(1, width))) for line in self.code.split("\n")[:row])

    def get_content_width(self, container: object, viewport: object) -> int:
        return max((cell_len(line) for line in self.code.split("\n")), default=0)  # a CJK comment: 2 cells a character

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return len(self.wrapped(width).plain.split("\n"))

    def render(self) -> Content:
        return self.wrapped(self.content_size.width)


class WrappedFence(MarkdownFence):
    """A Markdown code block that wraps with the mark instead of scrolling sideways."""

    DEFAULT_CSS = """
    WrappedFence { overflow: hidden hidden; }
    WrappedFence > CodeView { padding: 1 2; }
    WrappedFence:ansi > CodeView { padding: 1 0; }
    """

    def compose(self) -> ComposeResult:
        yield CodeView(self.code, highlighted=self._highlighted_code)

    def set_content(self, content: Content) -> None:
        self._content = content
        for view in self.query(CodeView):
            view.set_highlighted(content)

    @property
    def allow_horizontal_scroll(self) -> bool:
        return False


class CodeMarkdown(Markdown):
    """Markdown whose code blocks wrap to the width (see :class:`WrappedFence`)."""

    BLOCKS: dict[str, type[MarkdownBlock]] = {**Markdown.BLOCKS, "fence": WrappedFence, "code_block": WrappedFence}
