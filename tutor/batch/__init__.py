"""Grade a class: ``tutor grade --batch DIR``.

``handin`` finds and reads each student's files without trusting them, ``names`` turns a
folder name into report file names and shown text, ``roster`` reads the class list,
``grader`` grades and resumes, ``gradebook`` writes the class's grades.
"""

from tutor.batch.gradebook import (
    GRADEBOOK_VERSION,
    ExerciseScore,
    GradebookFormat,
    GradebookRow,
    Provenance,
    StudentResult,
    StudentStatus,
    gradebook_canvas,
    gradebook_csv,
    gradebook_json,
)
from tutor.batch.grader import Batch, Student, lessons_hash, saved_seed, students_in
from tutor.batch.roster import RosterEntry, read_roster

__all__ = [
    "GRADEBOOK_VERSION", "Batch", "ExerciseScore", "GradebookFormat", "GradebookRow", "Provenance", "RosterEntry",
    "Student", "StudentResult", "StudentStatus", "gradebook_canvas", "gradebook_csv", "gradebook_json",
    "lessons_hash", "read_roster", "saved_seed", "students_in",
]
