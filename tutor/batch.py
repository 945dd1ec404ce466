"""Grade a class: one workspace per student folder, graded on one warm sandbox.

Headless (no Textual, no torch), built on the core. Each student's report is written
atomically as soon as that student is done, so a crash or Ctrl+C loses nothing: the next
run skips every student whose report is there. A submission that is empty, broken,
crashing or cheating costs only its own exercises; the batch goes on.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict, get_args

from tutor.atomic import atomic_write
from tutor.core import Tutor
from tutor.errors import UsageError, WorkspaceError
from tutor.grading.formats import to_json, to_junit
from tutor.grading.results import ExerciseReport, ExerciseStatus
from tutor.lessons import Exercise
from tutor.workspace import Workspace
from tutor.workspace.files import read_solution

GRADEBOOK_VERSION = 1

StudentStatus = Literal["graded", "error"]


class ExerciseScore(TypedDict):
    """One exercise's outcome in a gradebook row."""

    status: ExerciseStatus
    score: float
    max_score: float


class GradebookRow(TypedDict):
    """One student of the gradebook JSON (DESIGN.md), also saved in the student's report
    as ``student_result`` so that a later run resumes from it."""

    student: str
    status: StudentStatus
    score: float
    max_score: float
    exercises: dict[str, ExerciseScore]
    message: NotRequired[str]


def _exercise_score(data: object) -> ExerciseScore | None:
    """A saved exercise outcome, its numbers as they were saved, or ``None`` if it is not one."""
    if not isinstance(data, dict) or data.get("status") not in get_args(ExerciseStatus):
        return None
    score, max_score = data.get("score"), data.get("max_score")
    if isinstance(score, bool) or isinstance(max_score, bool):
        return None
    if not isinstance(score, (int, float)) or not isinstance(max_score, (int, float)):
        return None
    return ExerciseScore(status=data["status"], score=score, max_score=max_score)


@dataclass
class StudentResult:
    """One row of the gradebook: a student's score and each exercise's outcome."""

    student: str
    status: StudentStatus
    score: float = 0.0
    max_score: float = 0.0
    exercises: dict[str, ExerciseScore] = field(default_factory=dict)
    message: str = ""

    def to_json(self) -> GradebookRow:
        out: GradebookRow = {"student": self.student, "status": self.status, "score": self.score,
                             "max_score": self.max_score, "exercises": self.exercises}
        if self.message:
            out["message"] = self.message
        return out

    @classmethod
    def from_json(cls, data: Any) -> StudentResult | None:
        """A saved result, or ``None`` if the file is not one (it is graded again)."""
        if not isinstance(data, dict) or not isinstance(data.get("student"), str) or data.get("status") not in get_args(StudentStatus):
            return None
        saved = data.get("exercises")
        if not isinstance(saved, dict):
            return None
        exercises = {exercise_id: _exercise_score(outcome) for exercise_id, outcome in saved.items()}
        valid = {exercise_id: outcome for exercise_id, outcome in exercises.items() if outcome is not None}
        if len(valid) != len(exercises):
            return None
        try:
            return cls(data["student"], data["status"], float(data.get("score", 0)), float(data.get("max_score", 0)),
                       valid, str(data.get("message", "")))
        except (TypeError, ValueError):
            return None


def students_in(submissions: Path) -> list[Path]:
    """Every student folder of ``submissions`` (hidden folders aside), by name."""
    if not submissions.is_dir():
        raise UsageError(f"{submissions}: not a directory of student folders")
    folders = sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise UsageError(f"{submissions}: no student folders in it (one folder per student)")
    return folders


@dataclass(frozen=True)
class Submission:
    """A student's file for one exercise: its text, or why it cannot be graded."""

    source: str | None
    problem: str = ""
    #: No file at all (not even a broken link): a folder with none is no submission.
    missing: bool = False


def read_submission(path: Path) -> Submission:
    """A submission's text, or why it cannot be graded (a student's links are not followed)."""
    try:
        return Submission(read_solution(path, follow_symlinks=False))
    except WorkspaceError as exc:
        if not path.exists() and not path.is_symlink():
            return Submission(None, f"no solution file ({path.name})", missing=True)
        return Submission(None, exc.msg.replace(f"{path}: ", f"{path.name} "))


class Batch:
    """Grades every student folder under ``submissions`` into ``out`` (one JSON and one
    JUnit file per student), resumable."""

    def __init__(self, core: Tutor, submissions: Path, out: Path, exercises: list[Exercise], *,
                 budget: float | None = None, seed: int | None = None) -> None:
        self.core = core
        self.submissions = submissions
        self.out = out
        self.exercises = exercises
        self.budget = budget
        #: One seed for the whole class: every student meets the same inputs.
        self.seed = seed
        self._cancel = threading.Event()

    def report_path(self, student: str) -> Path:
        return self.out / f"{student}.json"

    def done(self, student: str) -> StudentResult | None:
        """The saved result of a student graded by an earlier run, if complete."""
        try:
            return StudentResult.from_json(json.loads(self.report_path(student).read_text(encoding="utf-8")).get("student_result"))
        except (OSError, ValueError, AttributeError):
            return None

    def run(self, jobs: int, on_student: Callable[[StudentResult, bool], None] | None = None) -> list[StudentResult]:
        """Grade every student not graded yet, ``jobs`` at a time; ``on_student(result,
        resumed)`` hears of each. Ctrl+C stops taking new students; those done are kept."""
        self.out.mkdir(parents=True, exist_ok=True)
        folders = students_in(self.submissions)
        results: dict[str, StudentResult] = {}
        todo = []
        for folder in folders:
            previous = self.done(folder.name)
            if previous is not None:
                results[folder.name] = previous
                if on_student:
                    on_student(previous, True)
            else:
                todo.append(folder)
        pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        try:
            futures = {pool.submit(self.grade_student, folder): folder for folder in todo}
            for future in as_completed(futures):
                result = future.result()
                results[result.student] = result
                if on_student:
                    on_student(result, False)
        except KeyboardInterrupt:
            self._cancel.set()
            self.core.cancel_all()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return [results[f.name] for f in folders if f.name in results]

    def grade_student(self, folder: Path) -> StudentResult:
        """Every exercise of one student, under the student's time budget; the result and
        the student's reports are on disk when this returns."""
        started = time.monotonic()
        handed_in: dict[str, ExerciseReport] = {}
        sources: list[tuple[Exercise, str, str]] = []
        workspace = Workspace(folder, self.core.lessons)
        missing = 0
        for exercise in self.exercises:
            path = workspace.path_for(exercise)
            submission = read_submission(path)
            missing += submission.missing
            if submission.source is None:
                handed_in[exercise.id] = ExerciseReport(id=exercise.id, status="error", message=submission.problem,
                                                        points=exercise.points)
            else:
                sources.append((exercise, submission.source, str(path)))

        def keep_going() -> str | None:
            if self._cancel.is_set():
                raise KeyboardInterrupt
            if self.budget is not None and time.monotonic() - started > self.budget:
                return f"not graded: the student's time budget of {self.budget:g} s was used up"
            return None

        try:
            graded = self.core.grade_together(sources, include_hidden=True, seed=self.seed, keep_going=keep_going)
        except Exception as exc:  # noqa: BLE001 - one submission never stops the batch (a cancel is no Exception)
            graded = [ExerciseReport(id=e.id, status="error", points=e.points,
                                     message=f"grading failed: {type(exc).__name__}: {exc}") for e, _, _ in sources]
        handed_in.update((r.id, r) for r in graded)
        reports = [handed_in[e.id] for e in self.exercises]
        if self._cancel.is_set():
            raise KeyboardInterrupt  # a student cut short is graded again next time
        empty = missing == len(self.exercises)
        result = StudentResult(
            student=folder.name, status="error" if empty else "graded",
            message="no solution files in this folder" if empty else "",
            score=sum(r.score for r in reports), max_score=sum(r.max_score for r in reports),
            exercises={r.id: {"status": r.status, "score": r.score, "max_score": r.max_score} for r in reports},
        )
        self._save(folder.name, result, reports)
        return result

    def _save(self, student: str, result: StudentResult, reports: list[ExerciseReport]) -> None:
        payload = {**to_json(reports), "student_result": result.to_json()}
        atomic_write(self.out / f"{student}.xml", to_junit(reports))
        # The JSON last: its presence is what marks the student as done.
        atomic_write(self.report_path(student), (json.dumps(payload, indent=2) + "\n").encode())


def gradebook_json(results: list[StudentResult]) -> bytes:
    """The ``tutor grade --batch --gradebook FILE.json`` contract (DESIGN.md)."""
    payload = {"version": GRADEBOOK_VERSION, "students": [r.to_json() for r in results]}
    return (json.dumps(payload, indent=2) + "\n").encode()


def gradebook_csv(results: list[StudentResult], exercises: list[Exercise]) -> bytes:
    """One row per student: student, score, max_score, then one score column per exercise."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "score", "max_score", *(e.id for e in exercises)])
    for r in results:
        writer.writerow([r.student, _number(r.score), _number(r.max_score),
                         *(_number(r.exercises[e.id]["score"] if e.id in r.exercises else 0) for e in exercises)])
    return buffer.getvalue().encode()


def _number(value: float) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"
