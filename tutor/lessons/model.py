"""The lesson model: plain, immutable data that the parser builds and everyone reads.

No torch here: the front process (CLI, TUI) loads lessons and must start fast.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NotRequired, TypedDict, TypeVar

from tutor.checks.base import Spec

S = TypeVar("S", bound=Spec)


@dataclass(frozen=True)
class Prose:
    """A run of Markdown between code cells."""

    markdown: str
    line: int


@dataclass(frozen=True)
class Snippet:
    """A runnable ``python`` fence in a lesson.

    ``expected_output`` is the text of the ``output`` fence that follows it, if any; the
    test suite runs the snippet and compares its stdout with it, numbers within a
    tolerance (``tutor.lessons.output_match``) unless the fence reads ``output exact``
    (``exact_output``).
    """

    index: int
    code: str
    line: int
    expected_output: str | None = None
    requires: tuple[str, ...] = ()
    run: bool = True
    exact_output: bool = False

    def missing(self) -> str | None:
        """The first package in ``requires`` that is not installed here, found without
        importing it (the front never imports what a snippet needs)."""
        return next((name for name in self.requires if importlib.util.find_spec(name) is None), None)


@dataclass(frozen=True)
class Check:
    """One ``[[check]]`` table of an exercise's ``checks`` fence.

    ``specs`` holds one spec per check kind the table switches on, in judging order
    (``tutor.checks``); ``line`` is the line of the ``[[check]]`` header in the file.
    """

    name: str
    line: int
    expr: str
    setup: str = ""
    rtol: float | None = None
    atol: float | None = None
    hidden: bool = False
    specs: tuple[Spec, ...] = ()
    #: What passing this check is worth (partial credit: an exercise scores the points of
    #: the checks it passes).
    points: float = 1.0
    #: The ``[[check]]`` table as the author wrote it (TOML data, comments gone): what a
    #: copy of the lesson is written from (``tutor.lessons.writer``).
    table: Mapping[str, object] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def spec(self, spec_type: type[S]) -> S | None:
        """This check's spec of one kind, or ``None`` when it does not use that kind."""
        return next((s for s in self.specs if isinstance(s, spec_type)), None)


@dataclass(frozen=True)
class WrongAnswer:
    """A ``python wrong`` fence: an answer the checks must reject, and why it is wrong."""

    code: str
    reason: str
    line: int


@dataclass(frozen=True)
class Rules:
    """Exercise-wide rules: what the solution must not do, and calls it must make."""

    banned: tuple[str, ...] = ()
    no_loops: bool = False
    #: Calls the solution must make at run time; each entry lists alternatives.
    required: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class StoredReference:
    """What a public copy of a lesson holds instead of the reference solution: the
    reference's harness record on the lesson's seeds for the visible checks (data and
    tensor bytes, the encoding the judge reads and never trusts), and how many hidden
    checks wait at grading. Written by ``tutor export lessons --public``."""

    #: The harness record as JSON text (``{"results": [...]}``).
    record: str
    #: Tensor bytes by blob name, in the order they were recorded.
    blobs: tuple[tuple[str, bytes], ...] = ()
    hidden_checks: int = 0
    hidden_points: float = 0.0
    #: The device the values were computed on.
    device: str = "cpu"
    #: The line of its fence (where a file holds one), for messages only.
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Exercise:
    """An exercise: a prompt, starter and reference code, hints and checks."""

    id: str
    short_id: str
    lesson_id: str
    title: str
    line: int
    prompt: str
    starter: str
    solution: str
    hints: tuple[str, ...]
    checks: tuple[Check, ...]
    seeds: tuple[int, ...] = (0, 1, 2)
    requires: tuple[str, ...] = ()
    timeout: float = 10.0
    rules: Rules = field(default_factory=Rules)
    starter_line: int = 0
    solution_line: int = 0
    checks_line: int = 0
    wrong: tuple[WrongAnswer, ...] = ()
    #: A public copy's stored reference values; then ``solution`` is empty.
    reference: StoredReference | None = None

    @property
    def visible_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.hidden)

    @property
    def hidden_count(self) -> int:
        return sum(1 for c in self.checks if c.hidden)

    @property
    def points(self) -> float:
        """Every check's points: the exercise's maximum score."""
        return sum(c.points for c in self.checks)

    @property
    def hidden_points(self) -> float:
        return sum(c.points for c in self.checks if c.hidden)


Block = Prose | Snippet | Exercise



class ExerciseEntryJson(TypedDict):
    """An exercise in ``tutor list --json``; the command adds the workspace's status."""

    id: str
    title: str
    checks: int
    hidden_checks: int
    hints: int
    requires: list[str]
    status: NotRequired[str]


class LessonJson(TypedDict):
    """A lesson in ``tutor list --json``."""

    id: str
    title: str
    order: int
    topics: list[str]
    path: str
    snippets: int
    exercises: list[ExerciseEntryJson]


@dataclass(frozen=True)
class Lesson:
    """One lesson file, parsed."""

    id: str
    title: str
    order: int
    topics: tuple[str, ...]
    path: Path
    blocks: tuple[Block, ...]
    summary: str = ""
    requires: tuple[str, ...] = ()

    @property
    def snippets(self) -> tuple[Snippet, ...]:
        return tuple(b for b in self.blocks if isinstance(b, Snippet))

    @property
    def exercises(self) -> tuple[Exercise, ...]:
        return tuple(b for b in self.blocks if isinstance(b, Exercise))

    def to_json(self) -> LessonJson:
        return LessonJson(
            id=self.id,
            title=self.title,
            order=self.order,
            topics=list(self.topics),
            path=str(self.path),
            snippets=len(self.snippets),
            exercises=[
                ExerciseEntryJson(
                    id=e.id,
                    title=e.title,
                    checks=len(e.visible_checks),
                    hidden_checks=e.hidden_count + (e.reference.hidden_checks if e.reference else 0),
                    hints=len(e.hints),
                    requires=list(e.requires),
                )
                for e in self.exercises
            ],
        )
