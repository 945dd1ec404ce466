"""The gradebook: one row per student, as JSON (DESIGN.md), CSV or a CSV Canvas imports.

Every file says what produced it (the seed, a hash of the lessons, the tutor version), so
that a grade can be defended and reproduced. The CSVs open cleanly in a spreadsheet: UTF-8
with a BOM (Excel reads "Zoë", not "ZoÃ«"), and no cell a spreadsheet would run as a
formula (a name starting with ``=``, ``+``, ``-`` or ``@`` is quoted with a ``'``, by
:func:`tutor.textsafe.for_csv_cell`).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypedDict, get_args

from tutor.grading.results import ExerciseStatus
from tutor.lessons import Exercise
from tutor.textsafe import for_csv_cell

GRADEBOOK_VERSION = 1
#: ``graded``: every exercise decided; ``error``: the folder could not be graded (a link,
#: nothing in it); ``missing``: on the roster, no folder; ``incomplete``: the time budget
#: left exercises to the next run.
StudentStatus = Literal["graded", "error", "missing", "incomplete"]
#: An exercise's outcome: the judge's verdict, or ``not_started`` (no file, or still the
#: starter) or ``not_graded`` (the time budget ran out before it; the next run grades it).
ScoreStatus = ExerciseStatus | Literal["not_started", "not_graded"]
GradebookFormat = Literal["json", "csv", "canvas"]


class ExerciseScore(TypedDict):
    """One exercise's outcome in a gradebook row."""

    status: ScoreStatus
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
    id: NotRequired[str]
    name: NotRequired[str]
    email: NotRequired[str]
    late: NotRequired[dict[str, Any]]


@dataclass(frozen=True)
class Provenance:
    """What a grade was made with: the same three give the same grades."""

    seed: int
    lessons_hash: str
    tutor_version: str

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "lessons_hash": self.lessons_hash, "tutor_version": self.tutor_version}


def _exercise_score(data: object) -> ExerciseScore | None:
    """A saved exercise outcome, its numbers as they were saved, or ``None`` if it is not one."""
    if not isinstance(data, dict) or data.get("status") not in (*get_args(ExerciseStatus), "not_started", "not_graded"):
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
    #: The roster's columns for this student (empty without a roster).
    roster: dict[str, str] = field(default_factory=dict)
    #: When the hand-in's files were last changed (seconds since the epoch), if known.
    submitted: float | None = None
    #: How late the hand-in was and what it cost, where a due date says (``score`` is
    #: then after the penalty, ``late["raw_score"]`` before it).
    late: dict[str, Any] | None = None

    def to_json(self) -> GradebookRow:
        out: GradebookRow = {"student": self.student, "status": self.status, "score": self.score,
                             "max_score": self.max_score, "exercises": self.exercises}
        if self.message:
            out["message"] = self.message
        if self.late:
            out["late"] = self.late
        for key in ("id", "name", "email"):
            if self.roster.get(key):
                out[key] = self.roster[key]
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


def gradebook_json(results: list[StudentResult], provenance: Provenance | None = None) -> bytes:
    """The ``tutor grade --batch --gradebook FILE.json`` contract (DESIGN.md), with what
    made it at the top."""
    payload = {"version": GRADEBOOK_VERSION, **(provenance.to_json() if provenance else {}),
               "students": [r.to_json() for r in results]}
    return (json.dumps(payload, indent=2) + "\n").encode()


#: Columns after DESIGN.md's (student, score, max_score, one per exercise), in this order.
EXTRA_COLUMNS = ("status", "message", "id", "name", "email", "seed", "lessons_hash", "tutor_version", "late", "penalty")


def gradebook_csv(results: list[StudentResult], exercises: list[Exercise], provenance: Provenance | None = None) -> bytes:
    """One row per student: student, score, max_score, then one score column per exercise
    (DESIGN.md), then :data:`EXTRA_COLUMNS`."""
    rows: list[list[str]] = [["student", "score", "max_score", *(e.id for e in exercises), *EXTRA_COLUMNS]]
    made = provenance.to_json() if provenance else {}
    for r in results:
        rows.append([for_csv_cell(r.student), _number(r.score), _number(r.max_score),
                     *(_number(r.exercises[e.id]["score"] if e.id in r.exercises else 0) for e in exercises),
                     r.status, for_csv_cell(r.message), *(for_csv_cell(r.roster.get(k, "")) for k in ("id", "name", "email")),
                     str(made.get("seed", "")), str(made.get("lessons_hash", "")), str(made.get("tutor_version", "")),
                     _late_cell(r.late), _number(r.late["penalty"]) if r.late else ""])
    return _csv_bytes(rows)


def gradebook_canvas(results: list[StudentResult], assignment: str) -> bytes:
    """Canvas's gradebook import: Student, ID, SIS User ID, Section, then the assignment's
    points, after a "Points Possible" row. ``ID`` is the roster's ``canvas_id``,
    ``SIS User ID`` its ``id``."""
    possible = max((r.max_score for r in results), default=0)
    rows = [["Student", "ID", "SIS User ID", "Section", for_csv_cell(assignment)],
            ["    Points Possible", "", "", "", _number(possible)]]
    for r in results:
        rows.append([for_csv_cell(r.roster.get("name") or r.student), for_csv_cell(r.roster.get("canvas_id", "")),
                     for_csv_cell(r.roster.get("id", "")), for_csv_cell(r.roster.get("section", "")), _number(r.score)])
    return _csv_bytes(rows)


def _late_cell(late: dict[str, Any] | None) -> str:
    if not late:
        return ""
    unit = "days" if "days_late" in late else "hours"
    return f"{late[f'{unit}_late']} {unit[:-1] if late[f'{unit}_late'] == 1 else unit}"


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    # With a BOM, so that Excel reads the file as UTF-8.
    return buffer.getvalue().encode("utf-8-sig")


def _number(value: float) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"
