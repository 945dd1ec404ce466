"""Search across every lesson: titles, prose and code. Pure data, no Textual."""

from __future__ import annotations

from dataclasses import dataclass

from tutor.lessons import Exercise, Lesson, LessonSet, Prose, Snippet
from tutor.present import plain_text

MAX_HITS = 50
#: Hits of one kind (prose, code...) per lesson: a common word lists a few places in
#: each lesson rather than every paragraph of the first one.
MAX_PER_KIND = 3

Block = Prose | Snippet | Exercise


@dataclass(frozen=True)
class SearchHit:
    """A place that mentions the query: a block of a lesson, or one exercise in it."""

    lesson: Lesson
    exercise: Exercise | None
    #: Where the match is: "title", "prose", "code" or "exercise".
    where: str
    #: The matching line, trimmed, to show under the hit.
    context: str
    #: The snippet whose code matched, so the lesson can open on that cell.
    snippet: Snippet | None = None
    #: The block the match is in (a paragraph run, a snippet, an exercise); None for the
    #: lesson's title and summary.
    block: Block | None = None
    #: The matching line's index in the block's text (the prompt's, for an exercise).
    line: int = 0


def _texts(lesson: Lesson) -> list[tuple[Exercise | None, str, str, Block | None]]:
    texts: list[tuple[Exercise | None, str, str, Block | None]] = [(None, "title", lesson.title, None)]
    for block in lesson.blocks:
        if isinstance(block, Prose):
            texts.append((None, "prose", block.markdown, block))
        elif isinstance(block, Snippet):
            texts.append((None, "code", block.code, block))
        elif isinstance(block, Exercise):
            texts.append((block, "exercise", block.title, block))
            texts.append((block, "prose", block.prompt, block))
            texts.append((block, "code", block.starter, block))
    # The summary last: a hit in the lesson's body lands closer, so it stands alone only.
    texts.append((None, "summary", lesson.summary, None))
    return texts


def search_lessons(lessons: LessonSet, query: str) -> list[SearchHit]:
    """Case-insensitive substring search; one hit per block that mentions the query (a
    few of each kind per lesson), titles first, so ``softmax`` lists the softmax lesson
    before passing mentions. Each hit names its block and line, so the front can open
    the lesson at the match."""
    needle = query.strip().lower()
    if not needle:
        return []
    hits: list[SearchHit] = []
    for lesson in lessons.lessons:
        per_kind: dict[tuple[str | None, str], int] = {}
        for exercise, where, text, block in _texts(lesson):
            if needle not in text.lower():
                continue
            if where == "summary":
                if per_kind.get((None, "prose")):
                    continue
                where = "prose"
            key = (exercise.id if exercise else None, where)
            if per_kind.get(key, 0) >= (1 if exercise else MAX_PER_KIND):
                continue
            per_kind[key] = per_kind.get(key, 0) + 1
            row, line = next((n, l) for n, l in enumerate(text.splitlines()) if needle in l.lower())
            snippet = block if isinstance(block, Snippet) else None
            # Prose reads as plain words in a list of hits; code stays as written.
            context = line.strip() if where == "code" else plain_text(line).strip()
            hits.append(SearchHit(lesson, exercise, where, context, snippet, block, row))
    rank = {"title": 0, "exercise": 1, "prose": 2, "code": 3}
    hits.sort(key=lambda h: rank[h.where])
    return hits[:MAX_HITS]
