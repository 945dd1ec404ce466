"""Grade a class: one hand-in per student folder, graded on one warm sandbox.

Headless (no Textual, no torch), built on the core. Each student's report is written
atomically as soon as that student is done, so a crash or Ctrl+C loses nothing. A report
records the hash of what it graded (the hand-in's files, the lessons, the seed): the next
run keeps a report whose hash still matches and grades again a student who handed in
something new or whose lessons changed. The class's seed is kept beside the reports, so
a resumed run draws the same inputs. A submission that is empty, broken, crashing or
cheating costs only its own exercises; the batch goes on.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from tutor import __version__
from tutor.atomic import atomic_write
from tutor.batch.gradebook import ExerciseScore, Provenance, ScoreStatus, StudentResult
from tutor.batch.handin import JUNK_FOLDERS, HandIn, NotAFolder, read_handin
from tutor.batch.late import LateRule, lateness
from tutor.batch.names import report_stem, report_stems, shown_name
from tutor.batch.roster import RosterEntry
from tutor.core import Tutor, draw_seed
from tutor.errors import UsageError
from tutor.grading.formats import to_json, to_junit
from tutor.grading.results import CheckResult, ExerciseReport
from tutor.lessons import Exercise, LessonSet

#: Beside the reports: the class's seed, so that a resumed run grades with the same inputs.
#: A dot name, which no student's report file can have.
STATE_NAME = ".tutor-batch.json"


@dataclass(frozen=True)
class Student:
    """A student of the class: their folder (``None``: on the roster, no folder) and
    their roster columns."""

    name: str
    folder: Path | None
    roster: dict[str, str] = field(default_factory=dict)

    @property
    def shown(self) -> str:
        return shown_name(self.name)


def students_in(submissions: Path, roster: list[RosterEntry] | None = None) -> list[Student]:
    """Every student of the class: the roster's in its order (with or without a folder),
    then every other folder of ``submissions`` by name. Dot folders and ``__MACOSX`` are
    never students; a link is listed, to be refused when graded."""
    if not submissions.is_dir():
        raise UsageError(f"{submissions}: not a directory of student folders")
    folders: dict[str, Path] = {}
    with os.scandir(submissions) as entries:
        for entry in entries:
            if entry.name.startswith(".") or entry.name in JUNK_FOLDERS:
                continue
            if entry.is_symlink() or entry.is_dir(follow_symlinks=False):
                folders[entry.name] = Path(entry.path)
    students = [Student(e.folder, folders.pop(e.folder, None), e.columns) for e in roster or []]
    students += [Student(name, path) for name, path in sorted(folders.items(), key=lambda item: os.fsencode(item[0]))]
    if not students:
        raise UsageError(f"{submissions}: no student folders in it (one folder per student)")
    return students


def lessons_hash(lessons: LessonSet, exercises: list[Exercise]) -> str:
    """A hash of the lesson files the exercises come from: a fixed lesson changes it."""
    h = hashlib.sha256()
    for lesson_id in sorted({e.lesson_id for e in exercises}):
        lesson = lessons.lesson(lesson_id)
        try:
            body = lesson.path.read_bytes()
        except OSError:
            body = repr([e for e in exercises if e.lesson_id == lesson_id]).encode()
        h.update(lesson_id.encode() + b"\0" + hashlib.sha256(body).digest())
    h.update(("\0".join(sorted(e.id for e in exercises))).encode())
    return h.hexdigest()[:16]


def saved_seed(out: Path) -> int | None:
    """The seed an earlier run of this class graded with, if any."""
    try:
        seed = json.loads((out / STATE_NAME).read_text(encoding="utf-8")).get("seed")
    except (OSError, ValueError, AttributeError):
        return None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


class Batch:
    """Grades every student of ``submissions`` into ``out`` (one JSON and one JUnit file
    per student), resumable."""

    def __init__(self, core: Tutor, submissions: Path, out: Path, exercises: list[Exercise], *,
                 budget: float | None = None, seed: int | None = None, roster: list[RosterEntry] | None = None,
                 regrade: bool = False, due: datetime | None = None, dues: dict[str, datetime] | None = None,
                 late_rule: LateRule | None = None) -> None:
        self.core = core
        self.submissions = submissions
        self.out = out
        self.exercises = exercises
        self.budget = budget
        self.roster = roster
        self.regrade = regrade
        #: The due date, each roster student's own (an extension) where it says, and the penalty.
        self.due = due
        self.dues = dues or {}
        self.late_rule = late_rule
        #: One seed for the whole class: every student meets the same inputs. Without
        #: ``seed``, the seed an earlier run recorded, else a new one.
        recorded = saved_seed(out)
        self.seed: int = seed if seed is not None else recorded if recorded is not None else draw_seed()
        self.provenance = Provenance(self.seed, lessons_hash(core.lessons, exercises), __version__)
        self._cancel = threading.Event()
        self._stems: dict[str, str] = {}

    def report_path(self, student: str) -> Path:
        return self.out / f"{self._stems.get(student) or report_stem(student)}.json"

    def students(self) -> list[Student]:
        """The class, each student's report file name decided (no two students share one)."""
        students = students_in(self.submissions, self.roster)
        self._stems = report_stems([s.name for s in students])
        return students

    def saved(self, student: str) -> dict[str, Any] | None:
        """The report an earlier run saved for a student, if it reads as one."""
        try:
            report = json.loads(self.report_path(student).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return report if isinstance(report, dict) else None

    def done(self, student: str) -> StudentResult | None:
        """The saved result of a student graded by an earlier run, if complete."""
        report = self.saved(student)
        result = StudentResult.from_json(report.get("student_result")) if report else None
        return result if result is not None and result.status != "incomplete" else None

    def run(self, jobs: int, on_student: Callable[[StudentResult, bool], None] | None = None) -> list[StudentResult]:
        """Grade every student whose hand-in was not graded as it is now, ``jobs`` at a
        time; ``on_student(result, resumed)`` hears of each. Ctrl+C stops taking new
        students; those done are kept."""
        students = self.students()
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            atomic_write(self.out / STATE_NAME, (json.dumps(self.provenance.to_json(), indent=2) + "\n").encode())
        except OSError as exc:
            raise UsageError(f"{self.out}: cannot write the reports ({exc.strerror or exc})") from None
        results: dict[int, StudentResult] = {}
        pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        try:
            futures = {pool.submit(self.grade_student, student): index for index, student in enumerate(students)}
            for future in as_completed(futures):
                result, resumed = future.result()
                result = self._finish(students[futures[future]], result)
                results[futures[future]] = result
                if on_student:
                    on_student(result, resumed)
        except KeyboardInterrupt:
            self._cancel.set()
            self.core.cancel_all()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return [results[i] for i in sorted(results)]

    def grade_student(self, student: Student) -> tuple[StudentResult, bool]:
        """One student: their result, and whether it is an earlier run's (their hand-in,
        the lessons and the seed unchanged). A graded result is on disk when this returns."""
        if self._cancel.is_set():
            raise KeyboardInterrupt
        if student.folder is None:
            return StudentResult(student=student.shown, status="missing", message="no folder for this student",
                                 max_score=sum(e.points for e in self.exercises), roster=student.roster,
                                 exercises={e.id: {"status": "not_started", "score": 0.0, "max_score": e.points}
                                            for e in self.exercises}), False
        try:
            handin = read_handin(student.folder, self.exercises)
        except NotAFolder as exc:
            reports = [ExerciseReport(id=e.id, status="error", message=str(exc), points=e.points) for e in self.exercises]
            result = self._result(student, reports, {e.id: "error" for e in self.exercises}, "error", str(exc))
            self._save(student, result, reports, key=hashlib.sha256(str(exc).encode()).hexdigest())
            return result, False
        key = self._key(handin)
        previous = None if self.regrade else self.saved(student.name)
        kept: dict[str, tuple[ExerciseReport, ScoreStatus]] = {}
        if previous is not None and previous.get("grading_key") == key:
            earlier = StudentResult.from_json(previous.get("student_result"))
            if earlier is not None and earlier.status != "incomplete":
                earlier.student, earlier.roster = student.shown, student.roster
                submitted = previous.get("submitted_at")
                earlier.submitted = float(submitted) if isinstance(submitted, (int, float)) else None
                return earlier, True
            if earlier is not None:
                kept = _kept_reports(previous, earlier)
        return self._grade(student, handin, key, kept), False

    def _grade(self, student: Student, handin: HandIn, key: str,
               kept: dict[str, tuple[ExerciseReport, ScoreStatus]]) -> StudentResult:
        started = time.monotonic()
        reports = {exercise_id: report for exercise_id, (report, _) in kept.items()}
        statuses = {exercise_id: status for exercise_id, (_, status) in kept.items()}
        sources: list[tuple[Exercise, str, str]] = []
        for exercise in self.exercises:
            found = handin.files[exercise.id]
            if exercise.id in kept:
                continue
            if found.source is None or found.unchanged:
                reports[exercise.id] = ExerciseReport(id=exercise.id, status="error", message=found.problem,
                                                      points=exercise.points)
                if found.missing or found.unchanged:
                    statuses[exercise.id] = "not_started"
            else:
                assert student.folder is not None
                sources.append((exercise, found.source, str(student.folder / found.where)))
        stopped = f"not graded: the student's time budget of {self.budget or 0:g} s was used up; the next run grades it"

        def keep_going() -> str | None:
            if self._cancel.is_set():
                raise KeyboardInterrupt
            if self.budget is not None and time.monotonic() - started > self.budget:
                return stopped
            return None

        try:
            graded = self.core.grade_together(sources, include_hidden=True, seed=self.seed, keep_going=keep_going)
        except Exception as exc:  # noqa: BLE001 - one submission never stops the batch (a cancel is no Exception)
            graded = [ExerciseReport(id=e.id, status="error", points=e.points,
                                     message=f"grading failed: {type(exc).__name__}: {exc}") for e, _, _ in sources]
        if self._cancel.is_set():
            raise KeyboardInterrupt  # a student cut short is graded again next time
        for report in graded:
            reports[report.id] = report
            if report.message == stopped:
                statuses[report.id] = "not_graded"
        ordered = [reports[e.id] for e in self.exercises]
        unreached = sum(s == "not_graded" for s in statuses.values())
        if handin.empty:
            links = f" (links are not followed: {', '.join(handin.links)})" if handin.links else ""
            status, message = "error", f"no solution files in this folder{links}"
        elif unreached:
            status, message = "incomplete", (f"{unreached} of {len(self.exercises)} exercises not graded: the time budget "
                                             "ran out; run again to grade them")
        else:
            not_started = sum(s == "not_started" for s in statuses.values())
            status, message = "graded", f"{not_started} of {len(self.exercises)} exercises not started" if not_started else ""
        result = self._result(student, ordered, statuses, status, message)
        result.submitted = handin.newest_mtime
        self._save(student, result, ordered, key=key, handin=handin.digest())
        return result

    def _result(self, student: Student, reports: list[ExerciseReport], statuses: dict[str, ScoreStatus],
                status: Any, message: str) -> StudentResult:
        exercises: dict[str, ExerciseScore] = {
            r.id: {"status": statuses.get(r.id, r.status), "score": r.score, "max_score": r.max_score} for r in reports}
        return StudentResult(student=student.shown, status=status, message=message, roster=student.roster,
                             score=sum(r.score for r in reports), max_score=sum(r.max_score for r in reports),
                             exercises=exercises)

    def _finish(self, student: Student, result: StudentResult) -> StudentResult:
        """The result as the gradebook shows it: a folder the roster does not know said so,
        and the late penalty taken where a due date applies (the saved report keeps the
        score as graded: a changed roster or due date needs no grading again)."""
        if self.roster is not None and not student.roster and student.folder is not None:
            result = replace(result, message="; ".join(m for m in (result.message, "not on the roster") if m))
        late = lateness(result.submitted, self.dues.get(student.name, self.due), self.late_rule)
        if late is None or result.status == "missing":
            return result
        kept = round(result.score * (1 - late.penalty), 6)
        return replace(result, score=kept, late={**late.to_json(), "raw_score": result.score})

    def _key(self, handin: HandIn) -> str:
        """What a grade depends on: the hand-in, the lessons, the seed."""
        made = self.provenance
        return hashlib.sha256(f"{handin.digest()}\0{made.lessons_hash}\0{made.seed}".encode()).hexdigest()

    def _save(self, student: Student, result: StudentResult, reports: list[ExerciseReport], *, key: str,
              handin: str = "") -> None:
        payload = {**to_json(reports), **self.provenance.to_json(), "handin_hash": handin, "grading_key": key,
                   "submitted_at": result.submitted, "student_result": result.to_json()}
        stem = self.report_path(student.name).stem
        atomic_write(self.out / f"{stem}.xml", to_junit(reports))
        # The JSON last: its presence is what marks the student as done.
        atomic_write(self.report_path(student.name), (json.dumps(payload, indent=2) + "\n").encode())


def _kept_reports(previous: dict[str, Any], result: StudentResult) -> dict[str, tuple[ExerciseReport, ScoreStatus]]:
    """The exercises an interrupted (time-budgeted) grading did decide, read back from
    its report, so that the next run grades only the rest."""
    kept: dict[str, tuple[ExerciseReport, ScoreStatus]] = {}
    saved = previous.get("exercises")
    for data in saved if isinstance(saved, list) else []:
        report = _report_from_json(data)
        if report is None or report.id not in result.exercises:
            continue
        status = result.exercises[report.id]["status"]
        if status != "not_graded":
            kept[report.id] = (report, status)
    return kept


def _report_from_json(data: Any) -> ExerciseReport | None:
    try:
        checks = [CheckResult(name=str(c["name"]), status=c["status"], message=str(c.get("message", "")),
                              expected=str(c.get("expected", "")), got=str(c.get("got", "")), seed=c.get("seed"),
                              hidden=bool(c.get("hidden")), max_score=float(c["max_score"]))
                  for c in data.get("checks", [])]
        return ExerciseReport(id=str(data["id"]), status=data["status"], message=str(data.get("message", "")),
                              output=str(data.get("output", "")), checks=checks, seeds=tuple(data.get("seeds", ())),
                              points=None if checks else float(data["max_score"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
