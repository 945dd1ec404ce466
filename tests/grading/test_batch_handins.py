"""An instructor's story: a class downloaded from an LMS, with a few hostile students in it.

Hand-ins arrive as LMSs deliver them (flat, a folder or two down, in a zip, saved with a
BOM or a coding line, never touched), beside students who try to be scored on someone
else's files (a linked folder, a linked lesson folder, a linked file), to stop a read
(a FIFO, a progress file linked to /dev/zero) or to stop the batch (a 240-byte name, a
name that is not UTF-8, a zip that climbs out or explodes). Every honest student scores
exactly what they score alone, every attacker costs only their own points, the gradebook
is written, and a second run resumes every student, the odd names too.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.lessons import load_lessons
from tutor.workspace.starters import starter_text

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
LESSONS = load_lessons([DATA])
SOFTMAX, LR = LESSONS.exercise("grading/softmax-rows"), LESSONS.exercise("grading/halve-lr")
RIGHT = {"softmax-rows": SOFTMAX.solution, "halve-lr": LR.solution}
LONG = "L" * 240
# A folder named as the long name's report files would be: neither may take the other's.
LOOKALIKE = f"{'L' * 40}-{hashlib.sha256(LONG.encode()).hexdigest()[:12]}"
NOT_UTF8 = os.fsdecode(b"caf\xe9")
# What each student scores: (softmax-rows, halve-lr) of (3, 2), and their status.
HONEST = ["alice", "flat", "nested", "deeper", "zipped", "bom", "coding", "progress", LONG, LOOKALIKE, NOT_UTF8, "=1+2"]
EXPECTED = {
    **{name: (3.0, 2.0, "graded") for name in HONEST},
    "starter": (0.0, 0.0, "graded"),
    "mallory": (0.0, 0.0, "error"),
    "linky": (0.0, 0.0, "error"),
    "filelink": (0.0, 2.0, "graded"),
    "fifo": (0.0, 2.0, "graded"),
    "zero": (0.0, 2.0, "graded"),
    "zipslip": (0.0, 0.0, "graded"),
    "zipbomb": (0.0, 2.0, "graded"),
}


def put(folder: Path, files: dict[str, str | bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.py").write_bytes(text if isinstance(text, bytes) else text.encode())


def zipped(members: dict[str, str | bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16  # a symbolic link, as zip -y stores one
            archive.writestr(info, target)
    return buffer.getvalue()


@pytest.fixture
def lms_class(tmp_path):
    root = tmp_path / "class"
    put(root / "alice" / "grading", RIGHT)  # as `tutor init` lays it out
    put(root / "flat", RIGHT)  # a drag-and-drop upload
    put(root / "nested" / "hw1" / "grading", RIGHT)  # a zip extracted with its own top folder
    put(root / "deeper" / "Archive" / "hw1", RIGHT)  # two folders down, flat
    (root / "zipped").mkdir()
    (root / "zipped" / "submission.zip").write_bytes(zipped({f"hw1/grading/{n}.py": t for n, t in RIGHT.items()}))
    put(root / "bom" / "grading", {n: codecs.BOM_UTF8 + t.encode() for n, t in RIGHT.items()})
    put(root / "coding" / "grading", {n: ("# -*- coding: latin-1 -*-\n# Zoë\n" + t).encode("latin-1") for n, t in RIGHT.items()})
    put(root / "__MACOSX" / "alice" / "grading", {"._softmax-rows": b"\x00\x05\x16\x07"})  # never a student
    put(root / ".git", {"hooks": "x"})  # nor is a dot folder
    put(root / "starter" / "grading", {"softmax-rows": starter_text(SOFTMAX), "halve-lr": starter_text(LR)})
    os.symlink("alice", root / "mallory")  # scored on alice's files, before
    (root / "linky").mkdir()
    os.symlink("../alice/grading", root / "linky" / "grading")
    put(root / "filelink" / "grading", {"halve-lr": LR.solution})
    os.symlink("../../alice/grading/softmax-rows.py", root / "filelink" / "grading" / "softmax-rows.py")
    put(root / "progress" / "grading", RIGHT)
    (root / "progress" / ".tutor").mkdir()
    os.symlink("/dev/zero", root / "progress" / ".tutor" / "progress.json")
    put(root / "fifo" / "grading", {"halve-lr": LR.solution})
    os.mkfifo(root / "fifo" / "grading" / "softmax-rows.py")
    put(root / "zero" / "grading", {"halve-lr": LR.solution})
    os.symlink("/dev/zero", root / "zero" / "grading" / "softmax-rows.py")
    put(root / LONG / "grading", RIGHT)
    put(root / LOOKALIKE / "grading", RIGHT)
    put(root / NOT_UTF8 / "grading", RIGHT)
    put(root / "=1+2" / "grading", RIGHT)
    (root / "zipslip").mkdir()
    (root / "zipslip" / "hand-in.zip").write_bytes(
        zipped({"../../../escaped/softmax-rows.py": SOFTMAX.solution}, links={"grading/halve-lr.py": "/etc/passwd"}))
    (root / "zipbomb").mkdir()
    (root / "zipbomb" / "hand-in.zip").write_bytes(
        zipped({"grading/softmax-rows.py": SOFTMAX.solution + " " * (4 << 20), "grading/halve-lr.py": LR.solution}))
    return root


def grade(root: Path, *extra: str) -> int:
    return main(["grade", "--lessons", str(DATA), "--batch", str(root), "--seed", "11", *extra])


def test_a_class_as_an_lms_delivers_it_with_hostile_students_in_it(lms_class, tmp_path, capsys, batch_on_shared_sandbox):
    book = tmp_path / "book.csv"
    assert grade(lms_class, "--gradebook", str(book)) == 1  # mallory and linky could not be graded
    out = capsys.readouterr().out
    assert f"{len(EXPECTED)} students graded" in out and "Traceback" not in out

    raw = book.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)  # Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    by_name = {row["student"]: row for row in rows}
    shown = {NOT_UTF8: "caf\\xe9", "=1+2": "'=1+2"}  # as the gradebook shows them: readable, no formula
    assert sorted(by_name) == sorted(shown.get(name, name) for name in EXPECTED)  # no __MACOSX, no .git
    for name, (softmax, lr, status) in EXPECTED.items():
        row = by_name[shown.get(name, name)]
        assert (float(row[SOFTMAX.id]), float(row[LR.id]), row["status"]) == (softmax, lr, status), name
        assert row["seed"] == "11" and row["tutor_version"] and row["lessons_hash"]

    reports = Path(f"{lms_class.resolve()}-reports")
    mallory = json.loads((reports / "mallory.json").read_text())
    assert "symbolic link" in mallory["student_result"]["message"]
    linky = json.loads((reports / "linky.json").read_text())
    assert linky["student_result"]["message"] == "no solution files in this folder (links are not followed: grading)"
    messages = {name: [e["message"] for e in json.loads((reports / f"{name}.json").read_text())["exercises"]]
                for name in ("linky", "filelink", "fifo", "zero", "zipslip", "zipbomb", "starter")}
    assert all("links are not followed: grading" in m for m in messages["linky"])
    assert "symbolic link" in messages["filelink"][0] and "symbolic link" in messages["zero"][0]
    assert "not a regular file" in messages["fifo"][0]
    assert "no solution file" in messages["zipslip"][0] and "symbolic link" in messages["zipslip"][1]
    assert "larger than" in messages["zipbomb"][0]
    assert all(m.startswith("not started") for m in messages["starter"])
    starter = json.loads((reports / "starter.json").read_text())["student_result"]
    assert {e["status"] for e in starter["exercises"].values()} == {"not_started"}
    assert not (lms_class.parent / "escaped").exists()

    # The odd names cost their owners nothing: short, stable report files of their own.
    long_reports = [p.name for p in reports.iterdir() if p.name.startswith("LLLL")]
    assert len(set(long_reports)) == 4 and all(len(n.encode()) < 80 for n in long_reports)
    assert sum(p.name.startswith("caf-") for p in reports.iterdir()) == 2

    # Every honest student scores exactly what alice scores alone, check by check.
    alone = tmp_path / "alone"
    put(alone / "alice" / "grading", RIGHT)
    assert grade(alone, "--gradebook", str(tmp_path / "alone.csv")) == 0
    capsys.readouterr()
    solo = next(csv.DictReader(io.StringIO((tmp_path / "alone.csv").read_text(encoding="utf-8-sig"))))
    assert solo["score"] == "5"
    for name in HONEST:
        row = by_name[shown.get(name, name)]
        assert [row[k] for k in ("score", SOFTMAX.id, LR.id, "status")] == [solo[k] for k in ("score", SOFTMAX.id, LR.id, "status")]
    checks = {n: [[(c["name"], c["status"], c["score"]) for c in e["checks"]] for e in json.loads(
        (Path(f"{p.resolve()}-reports") / "alice.json").read_text())["exercises"]] for n, p in (("alone", alone), ("class", lms_class))}
    assert checks["alone"] == checks["class"]
    honest = [json.loads(p.read_text()) for p in reports.glob("*.json") if not p.name.startswith(".")]
    assert sum(r["student_result"]["score"] == 5 for r in honest) == len(HONEST)

    # A rerun resumes everyone, the odd names too, and writes the same gradebook.
    assert grade(lms_class, "--gradebook", str(book)) == 1
    again = capsys.readouterr().out
    assert again.count("(graded earlier)") == len(EXPECTED) - 1  # mallory's link is refused again, at no cost
    assert book.read_bytes() == raw


def test_an_unchanged_starter_is_not_started_even_where_it_would_score(tmp_path, capsys, batch_on_shared_sandbox):
    """The shipped starter of reshape-views/snapshot passes 3 of its 5 points as it is: a
    student who never touched it is "not started" and scores 0, whatever it would pass."""
    snapshot = load_lessons().exercise("reshape-views/snapshot")
    root = tmp_path / "class"
    put(root / "idle" / "reshape-views", {"snapshot": starter_text(snapshot).replace("\n", "\r\n")})  # saved on Windows
    put(root / "busy" / "reshape-views", {"snapshot": snapshot.solution})
    book = tmp_path / "book.json"
    assert main(["grade", snapshot.id, "--batch", str(root), "--gradebook", str(book)]) == 0
    students = {s["student"]: s for s in json.loads(book.read_text())["students"]}
    assert students["idle"]["exercises"][snapshot.id] == {"status": "not_started", "score": 0.0, "max_score": snapshot.points}
    assert students["idle"]["message"] == "1 of 1 exercises not started"
    assert students["busy"]["score"] == snapshot.points > 0


def test_an_untouched_starter_is_not_started_in_either_language() -> None:
    """``tutor init --lang zh-CN`` writes the starters with their comments in Chinese; a
    class graded with the English lessons must still see them as untouched (and the
    other way round), while a solution is never a starter."""
    from tutor.batch.handin import is_starter
    from tutor.lessons import load_lessons
    from tutor.workspace.starters import starter_text

    english, chinese = load_lessons(None, lang="en"), load_lessons(None, lang="zh-CN")
    for exercise in english.exercises():
        translated = chinese.exercise(exercise.id)
        assert starter_text(translated) != starter_text(exercise)  # its comments are Chinese
        assert is_starter(exercise, starter_text(translated)), exercise.id
        assert is_starter(translated, starter_text(exercise)), exercise.id
        assert not is_starter(exercise, exercise.solution), exercise.id
