"""Search across every lesson: titles, prose and code. Pure data, no Textual."""

from __future__ import annotations

from dataclasses import dataclass

from tutor.lessons import Exercise, Lesson, LessonSet, Prose, Snippet

MAX_HITS = 50


@dataclass(frozen=True)
class SearchHit:
    """A place that mentions the query: a lesson, or one exercise in it."""

    lesson: Lesson
    exercise: Exercise | None
    #: Where the match is: "title", "prose", "code" or "exercise".
    where: str
    #: The matching line, trimmed, to show under the hit.
    context: str
    #: The snippet whose code matched, so the lesson can open on that cell.
    snippet: Snippet | None = None


def _texts(lesson: Lesson) -> list[tuple[Exercise | None, str, str, Snippet | None]]:
    texts: list[tuple[Exercise | None, str, str, Snippet | None]] = [
        (None, "title", lesson.title, None), (None, "prose", lesson.summary, None)]
    for block in lesson.blocks:
        if isinstance(block, Prose):
            texts.append((None, "prose", block.markdown, None))
        elif isinstance(block, Snippet):
            texts.append((None, "code", block.code, block))
        elif isinstance(block, Exercise):
            texts.append((block, "exercise", block.title, None))
            texts.append((block, "prose", block.prompt, None))
            texts.append((block, "code", block.starter, None))
    return texts


def search_lessons(lessons: LessonSet, query: str) -> list[SearchHit]:
    """Case-insensitive substring search; at most one hit per lesson or exercise part,
    titles first, so ``softmax`` lists the softmax lesson before passing mentions."""
    needle = query.strip().lower()
    if not needle:
        return []
    hits: list[SearchHit] = []
    for lesson in lessons.lessons:
        seen: set[tuple[str | None, str]] = set()
        for exercise, where, text, snippet in _texts(lesson):
            key = (exercise.id if exercise else None, where)
            if key in seen or needle not in text.lower():
                continue
            seen.add(key)
            line = next(l for l in text.splitlines() if needle in l.lower())
            hits.append(SearchHit(lesson, exercise, where, line.strip(), snippet))
    rank = {"title": 0, "exercise": 1, "prose": 2, "code": 3}
    hits.sort(key=lambda h: rank[h.where])
    return hits[:MAX_HITS]
