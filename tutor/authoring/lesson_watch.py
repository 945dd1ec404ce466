"""``tutor check-lessons --watch [PATH ...]``: validate, then validate again on every save.

The files are polled (mtime, inode and size, every half second; no dependency). After the
first report, each run prints only what changed: the problems that appeared, those fixed
(``fixed: FILE:LINE: ...``), or ``still OK``. The sandbox checks (references pass,
starters and wrong answers fail, snippets print their output) run only for the lessons
whose file changed since they were last checked, on one sandbox started once.

:class:`LessonWatcher` is the behaviour; :meth:`LessonWatcher.loop` takes a stop event and
a number of runs, so tests drive it without a terminal.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tutor.lessons import Lesson, LessonSet, load_lessons
from tutor.lessons.discover import SKIP_NAMES, lesson_files
from tutor.stamps import FileStamp, file_stamp

if TYPE_CHECKING:
    from tutor.core import Tutor
    from tutor.sandbox.api import SandboxClientProtocol

POLL_SECONDS = 0.5
#: After a change is seen, the files must stay alike this long before they are read (an
#: editor's save in several writes is read once, whole).
SETTLE_SECONDS = 0.1



@dataclass(frozen=True)
class Problem:
    """One ``FILE:LINE: message``. Its identity leaves the line out, so a problem that only
    moved (lines added above it) is neither fixed nor new."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"

    @property
    def key(self) -> tuple[str, str]:
        return str(self.path), self.message


def watched_files(paths: list[Path]) -> dict[Path, FileStamp]:
    """The lesson files under ``paths`` now (a directory's ``*.md`` but its README), each
    with its signature; a file that vanished in between is left out."""
    files: dict[Path, FileStamp] = {}
    seen: set[Path] = set()
    for path in paths:
        candidates = sorted(p for p in path.glob("*.md") if p.name not in SKIP_NAMES) if path.is_dir() else [path]
        for file in candidates:
            stamp = file_stamp(file)
            try:
                real = file.resolve()
            except OSError:
                continue
            if stamp is not None and real not in seen:
                seen.add(real)
                files[file] = stamp
    return files


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class LessonWatcher:
    """Validates the lessons under ``paths`` and reports, run after run, what changed."""

    def __init__(self, paths: list[Path], *, format_only: bool = False, out: TextIO | None = None,
                 client: SandboxClientProtocol | None = None, device: str = "cpu") -> None:
        self.paths = paths
        self.format_only = format_only
        self.device = device
        self.out = out or sys.stdout
        self.files: dict[Path, FileStamp] = {}
        self.problems: list[Problem] | None = None
        self._checked: dict[Path, tuple[FileStamp, list[Problem]]] = {}
        self._client = client
        self._core: Tutor | None = None

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    # --- one run ---------------------------------------------------------------------

    def check(self, files: dict[Path, FileStamp]) -> tuple[LessonSet, list[Problem]]:
        """Validate ``files``: the format of all (cheap), the sandbox checks of the
        lessons not yet checked at their current signature."""
        lessons = load_lessons(list(files)) if files else LessonSet(roots=self._roots())
        problems = [Problem(e.path, e.line, e.message) for e in lessons.errors]
        if not self.format_only:
            problems += self._sandbox_problems(lessons, files)
        self.files = files
        return lessons, problems

    def _sandbox_problems(self, lessons: LessonSet, files: dict[Path, FileStamp]) -> list[Problem]:
        todo = [lesson for lesson in lessons.lessons if self._checked.get(lesson.path, (None, []))[0] != files[lesson.path]]
        runnable = [lesson for lesson in todo if lesson.exercises or any(s.run for s in lesson.snippets)]
        found: list[str] = []
        if runnable:
            exercises = sum(len(lesson.exercises) for lesson in runnable)
            snippets = sum(1 for lesson in runnable for s in lesson.snippets if s.run)
            where = ", ".join(str(lesson.path) for lesson in runnable) if len(runnable) <= 3 else _count(len(runnable), "lesson")
            self.say(f"checking {_count(exercises, 'exercise')} and {_count(snippets, 'snippet')} of {where} in the sandbox...")
            from tutor.authoring.lesson_check import lesson_problems  # the grading side loads only when needed

            found = lesson_problems(runnable, self.core())
        for lesson in todo:
            self._checked[lesson.path] = (files[lesson.path], [_problem(text, lesson) for text in found
                                                              if text.startswith(f"{lesson.path}:")])
        parsed = {lesson.path for lesson in lessons.lessons}
        for path in [p for p in self._checked if p not in parsed]:
            del self._checked[path]  # a file that no longer parses is checked again once it does
        return [p for lesson in lessons.lessons for p in self._checked[lesson.path][1]]

    def core(self) -> Tutor:
        """One sandbox for the whole watch, started on the first sandbox check."""
        if self._core is None:
            from tutor.core import Tutor

            self._core = Tutor(LessonSet(roots=self._roots()), device=self.device, client=self._client)
            self._core.start()
        return self._core

    def _roots(self) -> list[Path]:
        return [p if p.is_dir() else p.parent for p in self.paths]

    def close(self) -> None:
        if self._core is not None:
            self._core.close()
            self._core = None

    # --- reports ---------------------------------------------------------------------

    def first_report(self, lessons: LessonSet, problems: list[Problem]) -> None:
        self.problems = problems
        for problem in problems:
            self.say(str(problem))
        summary = f"{_count(len(lessons.lessons), 'lesson')}, {_count(len(lessons.exercises()), 'exercise')}"
        if problems:
            self.say(f"{summary}: {_count(len(problems), 'problem')}")
        elif self.format_only:
            self.say(f"{summary}: format OK")
        else:
            self.say(f"{summary}: OK (every reference passes; starters, wrong answers fail; snippets print their output)")

    def files_report(self, after: dict[Path, FileStamp]) -> None:
        """Which files changed since the last run, with the time."""
        before = self.files
        parts = [f"{word}: {', '.join(str(p) for p in paths)}" for word, paths in (
            ("changed", [p for p in after if p in before and after[p] != before[p]]),
            ("added", [p for p in after if p not in before]),
            ("removed", [p for p in before if p not in after]),
        ) if paths]
        self.say(f"[{time.strftime('%H:%M:%S')}] {'; '.join(parts)}")

    def change_report(self, problems: list[Problem]) -> None:
        """What changed since the last run: the problems that appeared, those fixed, or
        that nothing did."""
        after = self.files
        previous = self.problems or []
        self.problems = problems
        old = {p.key for p in previous}
        new = {p.key for p in problems}
        appeared = [p for p in problems if p.key not in old]
        # The problems of a removed file are gone, not fixed.
        fixed = [p for p in previous if p.key not in new and p.path in after]
        for problem in appeared:
            self.say(str(problem))
        for problem in fixed:
            self.say(f"fixed: {problem}")
        if not problems:
            self.say("still OK" if not previous else "OK")
        elif not appeared and not fixed:
            self.say(f"still {_count(len(problems), 'problem')}")
        else:
            self.say(_count(len(problems), "problem"))

    # --- the loop --------------------------------------------------------------------

    def loop(self, *, stop: threading.Event | None = None, max_runs: int | None = None,
             interval: float | None = None, settle: float | None = None,
             on_run: Callable[[int, list[Problem]], None] | None = None) -> int:
        """Validate, then poll every ``interval`` seconds (:data:`POLL_SECONDS`) and
        validate again after each change, until ``stop`` is set, ``max_runs`` validations
        are done, or Ctrl+C (which ends it quietly); ``on_run(n, problems)`` follows each
        validation. Returns 0. A path that does not exist at the start is a
        :class:`~tutor.errors.UsageError`, as for ``check-lessons``."""
        interval = POLL_SECONDS if interval is None else interval
        settle = SETTLE_SECONDS if settle is None else settle
        lesson_files(self.paths)  # a missing path or an empty directory: exit 2 before watching
        runs = 0
        try:
            lessons, problems = self.check(watched_files(self.paths))
            self.first_report(lessons, problems)
            runs += 1
            self.say(f"watching {_count(len(self.files), 'file')} for changes (Ctrl+C stops)")
            if on_run:
                on_run(runs, problems)
            while max_runs is None or runs < max_runs:
                if stop is not None:
                    if stop.wait(interval):
                        break
                else:
                    time.sleep(interval)
                current = watched_files(self.paths)
                if current == self.files:
                    continue
                current = self._settle(current, settle)
                if current == self.files:
                    continue  # changed and changed back while settling
                self.files_report(current)
                _, problems = self.check(current)
                self.change_report(problems)
                runs += 1
                if on_run:
                    on_run(runs, problems)
        except KeyboardInterrupt:
            self.say("stopped watching")
        finally:
            self.close()
        return 0

    def _settle(self, current: dict[Path, FileStamp], settle: float) -> dict[Path, FileStamp]:
        for _ in range(20):
            if settle <= 0:
                break
            time.sleep(settle)
            again = watched_files(self.paths)
            if again == current:
                break
            current = again
        return current


def _problem(text: str, lesson: Lesson) -> Problem:
    """A sandbox check's ``FILE:LINE: message`` line of ``lesson``, as a :class:`Problem`."""
    rest = text.removeprefix(f"{lesson.path}:")
    line, _, message = rest.partition(": ")
    return Problem(lesson.path, int(line), message) if line.isdigit() else Problem(lesson.path, 1, rest)


def watch(paths: list[Path], *, format_only: bool = False, out: TextIO | None = None, device: str = "cpu") -> int:
    """``tutor check-lessons --watch``: runs until Ctrl+C, then exits 0."""
    return LessonWatcher(paths, format_only=format_only, out=out, device=device).loop()
