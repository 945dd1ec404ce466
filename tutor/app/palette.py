"""The command palette's lesson search: titles, prose and code of every lesson. A hit
opens the lesson (or the exercise) at the match, as an editor's search does."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import Hit, Hits, Provider
from textual.containers import ScrollableContainer
from textual.screen import Screen
from textual.widget import Widget

from tutor.lessons import Prose, Snippet
from tutor.session import SearchHit

if TYPE_CHECKING:
    # Only for the type: tutor.app.app imports this module at load time.
    from tutor.app.app import TutorApp
    from tutor.app.screens.lesson import LessonScreen

#: Focus stops of a lesson: where keys act after a search lands.
LESSON_STOPS = "CodeCell, ExerciseCard"


class LessonSearch(Provider):
    """Hits open the lesson (or the exercise) that mentions the query, at the match."""

    @property
    def tutor(self) -> TutorApp:
        return cast("TutorApp", self.app)

    async def search(self, query: str) -> Hits:
        app = self.tutor
        for hit in app.session.search(query):
            title = hit.lesson.title + (f" › {hit.exercise.title}" if hit.exercise else "")
            yield Hit(
                score=1.0 if hit.where == "title" else 0.5,
                match_display=title,
                command=partial(open_hit, app, hit, query),
                text=title,
                help=f"{hit.where}: {hit.context}",
            )

    async def discover(self) -> Hits:
        app = self.tutor
        for lesson in app.session.lessons.lessons:
            yield Hit(1.0, f"{lesson.order}. {lesson.title}", partial(app.open_entry, lesson), help=lesson.summary or None)


def open_hit(app: TutorApp, hit: SearchHit, query: str) -> None:
    """Open what ``hit`` found and land on the match: the cell or paragraph of a lesson
    scrolled to the top with the nearest cell focused; in an exercise, the prompt
    scrolled to the matching line, or the editor's cursor on it."""
    # Imported here: the palette loads with the app, these screens only when opened.
    from tutor.app.screens.exercise import ExerciseScreen
    from tutor.app.screens.lesson import LessonScreen

    if hit.exercise is not None:
        app.open_entry(hit.exercise)
        screen = app.screen
        if isinstance(screen, ExerciseScreen):
            screen.show_match(query, hit.line, in_code=hit.where == "code")
        return
    app.open_entry(hit.lesson, snippet=hit.snippet)
    screen = app.screen
    if isinstance(screen, LessonScreen) and hit.block is not None:
        screen.run_worker(land_in_lesson(screen, hit), group="search-landing", exclusive=True)


async def land_in_lesson(screen: LessonScreen, hit: SearchHit) -> None:
    """Scroll the lesson to the block ``hit`` matched and focus the cell there (or the
    next one below the match). Runs as a worker: a freshly pushed lesson lays out its
    Markdown over several refreshes, and a scroll made before that lands short."""
    for _ in range(200):  # mounted within a few frames; give up after ~2 s
        if screen.is_mounted:
            break
        await asyncio.sleep(0.01)
    else:
        return
    await screen.wait_for_refresh()
    target = _widget_for(screen, hit)
    if target is None:
        return
    body = screen.query_one("#lesson-body", ScrollableContainer)
    focus = _stop_at_or_after(body, target)
    if focus is not None:
        focus.focus(scroll_visible=False)
    # Twice: the first scroll may render blocks (syntax, tables) that change heights.
    for _ in range(2):
        body.scroll_to_widget(target, top=True, animate=False)
        await screen.wait_for_refresh()


def _widget_for(screen: Screen[None], hit: SearchHit) -> Widget | None:
    """The widget showing the matching line: a code cell, or the Markdown block (a
    paragraph, a list, a heading) holding the line in a paragraph run."""
    from textual.widgets import Markdown
    from textual.widgets.markdown import MarkdownBlock

    from tutor.app.widgets.code_cell import CodeCell

    block = hit.block
    if isinstance(block, Snippet):
        return next((cell for cell in screen.query(CodeCell) if cell.snippet.index == block.index), None)
    if not isinstance(block, Prose):
        return None
    for markdown in screen.query(Markdown):
        if markdown.source != block.markdown:
            continue
        # The widget shows block.markdown, so hit.line counts its source lines.
        for child in markdown.children:
            if isinstance(child, MarkdownBlock) and child.source_range[0] <= hit.line < child.source_range[1]:
                return child
        return markdown
    return None


def _stop_at_or_after(body: Widget, target: Widget) -> Widget | None:
    """The first focus stop (a cell, an exercise card) at or after ``target`` in the
    lesson, else the last one before it: where the run key acts after a search."""
    stops = set(body.query(LESSON_STOPS))
    children = list(body.children)
    top = target
    while top.parent is not body and isinstance(top.parent, Widget):
        top = top.parent
    start = children.index(top) if top in children else 0
    after = [c for c in children[start:] if c in stops]
    before = [c for c in children[:start] if c in stops]
    return after[0] if after else (before[-1] if before else None)
