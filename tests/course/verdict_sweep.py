"""Verdicts that hold on every machine: grade every reference, starter and wrong answer of
the course under each CPU kernel set and under drawn seeds, and count the verdicts that
change. A reference must pass, a starter or a wrong answer must fail (or error), in every
cell of the grid; anything else is a verdict change, and the course must have none.

Run whole (minutes):

    .venv/bin/python tests/course/verdict_sweep.py [--seeds 5] [--base N ...] [--sample K | --exercise ID ...]
                                                   [--lessons DIR] [--jobs N] [--timeout-scale X]

It prints the grid's size and every change, and exits 1 if there is one. The seeds are
drawn as ``tutor grade`` draws them (``draw_seeds``) from bases printed in the report,
so ``--base`` reproduces a run. A timeout is a verdict change too (a reference that
times out does not pass): on a machine busy with other work, ``--timeout-scale`` gives
every run more time, since the sweep is about verdicts, not speed.
``tests/course/test_verdict_sweep.py`` runs a sample in CI.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from tutor.core import GRADING_TASK_MODULES
from tutor.grading.grade import Submission, draw_seeds, grade_sources
from tutor.lessons import Exercise, load_lessons
from tutor.lessons.discover import default_lessons_dir
from tutor.sandbox.api import SandboxClientProtocol
from tutor.sandbox.client import SandboxClient

#: The kernel sets: name -> the sandbox server's environment.
KERNELS: dict[str, dict[str, str]] = {"best": {}, "portable": {"ATEN_CPU_CAPABILITY": "default"}}


@dataclass(frozen=True)
class Answer:
    exercise: Exercise
    role: str  # "reference", "starter" or "wrong"
    code: str
    line: int

    @property
    def must_pass(self) -> bool:
        return self.role == "reference"

    def where(self) -> str:
        return f"{self.exercise.id} {self.role} (line {self.line})"


@dataclass(frozen=True)
class Cell:
    """One grading of one answer: its kernel set and seed base (``None``: the lesson's own seeds)."""

    answer: Answer
    kernels: str
    base: int | None
    status: str
    message: str


@dataclass
class SweepResult:
    cells: list[Cell]
    bases: list[int]
    kernels: list[str]
    with_lesson_seeds: bool
    seconds: float

    @property
    def changes(self) -> list[Cell]:
        """Every cell whose verdict is not what the answer's role demands."""
        return [c for c in self.cells if (c.status == "pass") != c.answer.must_pass]

    def counts(self) -> Counter[str]:
        """How many answers of each role were swept."""
        return Counter(answer.role for answer in dict.fromkeys(c.answer for c in self.cells))

    def report(self) -> str:
        roles = self.counts()
        lessons = "the lessons' own and " if self.with_lesson_seeds else ""
        lines = [
            f"{roles['reference']} references, {roles['starter']} starters, {roles['wrong']} wrong answers "
            f"x {len(self.kernels)} kernel sets ({', '.join(self.kernels)}) "
            f"x {len(self.bases) + self.with_lesson_seeds} seed sets ({lessons}{len(self.bases)} drawn from bases "
            f"{' '.join(map(str, self.bases))}): {len(self.cells)} gradings in {self.seconds:.0f} s",
        ]
        # Statuses that differ across the grid without changing a verdict (fail <-> error).
        by_answer: dict[Answer, set[str]] = {}
        for cell in self.cells:
            by_answer.setdefault(cell.answer, set()).add(cell.status)
        flips = [answer for answer, statuses in by_answer.items() if len(statuses) > 1 and not answer.must_pass]
        lines.append(f"verdict changes: {len(self.changes)}")
        for cell in self.changes:
            lines.append(f"  {cell.answer.where()}: {cell.status} with the {cell.kernels} kernels and {_seeds(cell)}: {cell.message}")
        lines.append(f"answers that always fail, but as 'fail' in some cells and 'error' in others: {len(flips)}")
        for answer in flips:
            errors = [c for c in self.cells if c.answer == answer and c.status == "error"]
            lines.append(f"  {answer.where()}: error in {len(errors)} of {sum(c.answer == answer for c in self.cells)} cells, "
                         f"e.g. with the {errors[0].kernels} kernels and {_seeds(errors[0])}: {errors[0].message}")
        return "\n".join(lines)


def _seeds(cell: Cell) -> str:
    return "the lesson's seeds" if cell.base is None else f"seed base {cell.base}"


def answers_of(exercises: Iterable[Exercise]) -> list[Answer]:
    out = []
    for exercise in exercises:
        out.append(Answer(exercise, "reference", exercise.solution, exercise.solution_line))
        out.append(Answer(exercise, "starter", exercise.starter, exercise.starter_line))
        out += [Answer(exercise, "wrong", w.code, w.line) for w in exercise.wrong]
    return out


def sweep(exercises: Sequence[Exercise], clients: Mapping[str, SandboxClientProtocol], bases: Sequence[int],
          jobs: int | None = None, with_lesson_seeds: bool = True) -> SweepResult:
    """Grade every answer of ``exercises`` on every client (a kernel set each), with the
    seeds drawn from each of ``bases`` and (``with_lesson_seeds``) the lesson's own. One
    task grades an exercise's answers together (one judge for them) for one kernel set
    and seed set."""
    started = time.perf_counter()
    seed_sets: list[int | None] = [None, *bases] if with_lesson_seeds else list(bases)
    tasks = [(exercise, kernels, base) for exercise in exercises for kernels in clients for base in seed_sets]

    def grade(task: tuple[Exercise, str, int | None]) -> list[Cell]:
        exercise, kernels, base = task
        answers = answers_of([exercise])
        seeds = None if base is None else draw_seeds(base, exercise)
        submissions = [Submission(exercise, a.code, f"{a.role}.py", seeds) for a in answers]
        reports = grade_sources(submissions, clients[kernels], include_hidden=True)
        return [Cell(a, kernels, base, r.status, r.message) for a, r in zip(answers, reports)]

    # One grading per core: more in flight only slow each down (towards its timeout).
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        cells = [cell for found in pool.map(grade, tasks) for cell in found]
    return SweepResult(cells, list(bases), list(clients), with_lesson_seeds, time.perf_counter() - started)


def start_clients(hide: Sequence[Path], kernels: Iterable[str]) -> dict[str, SandboxClient]:
    clients = {}
    for name in kernels:
        clients[name] = SandboxClient(hide_paths=hide, device="cpu", warm_modules=GRADING_TASK_MODULES, env=KERNELS[name])
        clients[name].start()
    return clients


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", type=Path, default=default_lessons_dir(), help="lesson directory (default: the course)")
    parser.add_argument("--seeds", type=int, default=5, help="seed bases to draw (default 5)")
    parser.add_argument("--base", type=int, nargs="+", default=None, help="these seed bases instead of drawn ones")
    parser.add_argument("--sample", type=int, default=None, help="this many exercises, drawn at random (default: all)")
    parser.add_argument("--exercise", nargs="+", default=None, metavar="ID", help="only these exercises")
    parser.add_argument("--jobs", type=int, default=None, help="gradings at once (default: one per core)")
    parser.add_argument("--timeout-scale", type=float, default=1.0, metavar="X",
                        help="multiply every exercise's timeout (a loaded machine: the sweep is about verdicts, not speed)")
    args = parser.parse_args(argv)
    lessons = load_lessons([args.lessons])
    if lessons.errors:
        print(f"verdict_sweep: {lessons.errors[0].msg}", file=sys.stderr)
        return 2
    exercises = lessons.exercises()
    if args.exercise:
        known = {e.id: e for e in exercises}
        unknown = [i for i in args.exercise if i not in known]
        if unknown:
            print(f"verdict_sweep: no exercise {unknown[0]!r} in {args.lessons}", file=sys.stderr)
            return 2
        exercises = [known[i] for i in args.exercise]
    if args.sample is not None:
        exercises = random.sample(exercises, min(args.sample, len(exercises)))
    if not args.timeout_scale > 0:
        print("verdict_sweep: --timeout-scale must be positive", file=sys.stderr)
        return 2
    exercises = [replace(e, timeout=e.timeout * args.timeout_scale) for e in exercises]
    bases = args.base or [random.randrange(2**31 - 1) for _ in range(args.seeds)]
    clients = start_clients([args.lessons], KERNELS)
    try:
        result = sweep(exercises, clients, bases, args.jobs)
    finally:
        for client in clients.values():
            client.close()
    print(result.report())
    return 1 if result.changes else 0


if __name__ == "__main__":
    raise SystemExit(main())
