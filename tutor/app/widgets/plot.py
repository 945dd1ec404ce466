"""A small line plot drawn with plotext, sized to the widget and coloured by the theme."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

from tutor.i18n import N_, _

MISSING_PLOTEXT = N_("plots need the plotext package: pip install plotext")


def plot_text(lines: Sequence[tuple[Sequence[float], Sequence[float]]], width: int, height: int) -> str:
    """The lines drawn as plain text of ``width`` x ``height`` cells.

    plotext keeps one global figure, so call this from the UI thread only. Colours are
    stripped: the widget colours the text from the theme instead.
    """
    import plotext as plt

    figure = plt.figure
    figure.clear()
    figure.plot_size(width, height)
    for xs, ys in lines:
        if xs:
            figure.draw(figure.signal(list(xs), list(ys)).lines())
    ticks = integer_ticks([x for xs, _ in lines for x in xs], width)
    if ticks:
        figure.ruler("x").ticks(ticks, [str(t) for t in ticks])
    return plt.uncolorize(figure.build().string())


def integer_ticks(xs: Sequence[float], width: int) -> list[int]:
    """Step numbers are whole: label them 1, 3, 5 rather than 1.0, 2.2, 3.3. Empty
    when some x is fractional (plotext's own ticks are right then)."""
    if not xs or any(float(x) != int(x) for x in xs):
        return []
    low, high = int(min(xs)), int(max(xs))
    room = max(1, width // 8)  # a label every 8 cells or more stays legible
    step = max(1, -(-(high - low) // room))
    ticks = list(range(low, high + 1, step))
    if high - ticks[-1] >= step * 0.75:
        ticks.append(high)
    return ticks


class Plot(Widget):
    """Lines of (x, y) points; redrawn whenever the widget changes size."""

    DEFAULT_CSS = """
    Plot {
        height: 8;
        width: 1fr;
        min-width: 20;
    }
    """

    def __init__(self, lines: Sequence[tuple[Sequence[float], Sequence[float]]]) -> None:
        super().__init__()
        self.lines = [(list(xs), list(ys)) for xs, ys in lines]
        self._cache: tuple[tuple[int, int], Text] | None = None

    def render(self) -> Text:
        size = (self.content_size.width, self.content_size.height)
        if self._cache and self._cache[0] == size:
            return self._cache[1]
        if size[0] < 10 or size[1] < 3 or not any(xs for xs, _ in self.lines):
            return Text("")
        try:
            text = Text(plot_text(self.lines, *size), no_wrap=True, overflow="crop")
        except ImportError:
            text = Text(_(MISSING_PLOTEXT))
        self._cache = (size, text)
        return text
