"""The command palette's lesson search: titles, prose and code of every lesson."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import Hit, Hits, Provider

from tutor.app.search import search_lessons

if TYPE_CHECKING:
    # Only for the type: tutor.app.app imports this module at load time.
    from tutor.app.app import TutorApp


class LessonSearch(Provider):
    """Hits open the lesson (or the exercise) that mentions the query."""

    @property
    def tutor(self) -> TutorApp:
        return cast("TutorApp", self.app)

    async def search(self, query: str) -> Hits:
        app = self.tutor
        for hit in search_lessons(app.core.lessons, query):
            target = hit.exercise or hit.lesson
            title = hit.lesson.title + (f" › {hit.exercise.title}" if hit.exercise else "")
            yield Hit(
                score=1.0 if hit.where == "title" else 0.5,
                match_display=title,
                command=partial(app.open_entry, target, snippet=hit.snippet),
                text=title,
                help=f"{hit.where}: {hit.context}",
            )

    async def discover(self) -> Hits:
        app = self.tutor
        for lesson in app.core.lessons.lessons:
            yield Hit(1.0, f"{lesson.order}. {lesson.title}", partial(app.open_entry, lesson), help=lesson.summary or None)
