"""An instructor's story: a class list from the registrar and a gradebook the LMS takes.

With ``--roster`` every student on the list gets a row, those who handed in nothing too
("missing", never a silent 0); each row says its status and why; the CSV opens in a
spreadsheet as text (UTF-8 with a BOM, no formula) and Canvas imports its own format."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.lessons import load_lessons

DATA = Path(__file__).parent / "data"
LESSONS = load_lessons([DATA])
SOFTMAX, LR = LESSONS.exercise("grading/softmax-rows"), LESSONS.exercise("grading/halve-lr")
FORMULA = '=HYPERLINK("http://evil.example","Zoë")'
# Saved by Excel as "CSV UTF-8": with a BOM.
ROSTER = ("\ufeffid,name,email,folder,section,canvas_id\n"
          "s1,Alice Liddell,alice@example.edu,alice,A,101\n"
          f'z9,"{FORMULA.replace(chr(34), chr(34) * 2)}",zoe@example.edu,zoe,B,102\n'
          "g7,Gus Ghost,gus@example.edu,ghost,A,103\n")


def hand_in(root: Path, student: str, softmax: str) -> None:
    folder = root / student / "grading"
    folder.mkdir(parents=True)
    (folder / "softmax-rows.py").write_text(softmax)
    (folder / "halve-lr.py").write_text(LR.solution)


@pytest.fixture
def registrar(tmp_path):
    root = tmp_path / "class"
    hand_in(root, "alice", SOFTMAX.solution)
    hand_in(root, "zoe", "def softmax_rows(X):\n    return X * 0\n")
    hand_in(root, "walkin", SOFTMAX.solution)  # graded, though not on the roster
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    return root, roster


def grade(root: Path, *extra: str) -> int:
    return main(["grade", "--lessons", str(DATA), "--batch", str(root), "--seed", "2", *extra])


@pytest.mark.slow
def test_every_student_on_the_roster_has_a_row_in_every_gradebook(registrar, tmp_path, capsys, batch_on_shared_sandbox):
    root, roster = registrar
    assert grade(root, "--roster", str(roster), "--gradebook", str(tmp_path / "book.json")) == 1  # gus is missing
    out = capsys.readouterr().out
    assert "MISSING" in out and "(1 missing)" in out
    book = json.loads((tmp_path / "book.json").read_text())
    assert (book["seed"], book["version"]) == (2, 1) and book["lessons_hash"] and book["tutor_version"]
    rows = [(s["student"], s["status"], s["score"], s.get("id"), s.get("name")) for s in book["students"]]
    assert rows == [("alice", "graded", 5.0, "s1", "Alice Liddell"), ("zoe", "graded", 2.0, "z9", FORMULA),
                    ("ghost", "missing", 0.0, "g7", "Gus Ghost"), ("walkin", "graded", 5.0, None, None)]
    ghost = book["students"][2]
    assert ghost["message"] == "no folder for this student" and ghost["max_score"] == 5.0
    assert {e["status"] for e in ghost["exercises"].values()} == {"not_started"}

    # The CSV: DESIGN.md's columns, then status, message and the roster's; a BOM; no formula.
    assert grade(root, "--roster", str(roster), "--gradebook", str(tmp_path / "book.csv")) == 1
    raw = (tmp_path / "book.csv").read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == ["student", "score", "max_score", SOFTMAX.id, LR.id, "status", "message", "id", "name", "email",
                        "seed", "lessons_hash", "tutor_version", "late", "penalty"]
    assert [r[:8] for r in table[1:]] == [
        ["alice", "5", "5", "3", "2", "graded", "", "s1"], ["zoe", "2", "5", "0", "2", "graded", "", "z9"],
        ["ghost", "0", "5", "0", "0", "missing", "no folder for this student", "g7"],
        ["walkin", "5", "5", "3", "2", "graded", "not on the roster", ""]]
    assert table[2][8] == "'" + FORMULA  # shown as text, never run

    # Canvas: Student, ID, SIS User ID, Section, the assignment's points, after Points Possible.
    assert grade(root, "--roster", str(roster), "--gradebook", str(tmp_path / "canvas.csv"),
                 "--gradebook-format", "canvas", "--assignment", "Homework 1") == 1
    canvas = list(csv.reader(io.StringIO((tmp_path / "canvas.csv").read_bytes().decode("utf-8-sig"))))
    assert canvas[:3] == [["Student", "ID", "SIS User ID", "Section", "Homework 1"],
                          ["    Points Possible", "", "", "", "5"],
                          ["Alice Liddell", "101", "s1", "A", "5"]]
    assert canvas[3] == ["'" + FORMULA, "102", "z9", "B", "2"] and canvas[4] == ["Gus Ghost", "103", "g7", "A", "0"]


@pytest.mark.parametrize("roster, words", [
    ("name,email\nAl,al@x\n", "roster.csv:1: the roster needs the columns id, name, email, folder (missing: id)"),
    ("id,name,folder\n1,Al,al\n2,Bo,al\n", "roster.csv:3: the folder 'al' is already on line 2"),
    ("id,name,folder\n1,Al,../bo\n", "roster.csv:2: '../bo' is not a folder name"),
])
def test_a_roster_that_cannot_be_read_is_one_line_and_exit_2(roster, words, tmp_path, capsys):
    (tmp_path / "class" / "al").mkdir(parents=True)
    (tmp_path / "roster.csv").write_text(roster)
    assert main(["grade", "--lessons", str(DATA), "--batch", str(tmp_path / "class"), "--roster", str(tmp_path / "roster.csv")]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


@pytest.mark.parametrize("extra, words", [
    (["--gradebook", "book.json", "--gradebook-format", "canvas"], "a canvas gradebook must be a .csv file"),
    (["--gradebook", "book.csv", "--assignment", "HW"], "--assignment goes with --gradebook-format canvas"),
])
def test_a_gradebook_format_that_does_not_fit_is_one_line_and_exit_2(extra, words, tmp_path, capsys):
    (tmp_path / "class" / "al").mkdir(parents=True)
    assert main(["grade", "--lessons", str(DATA), "--batch", str(tmp_path / "class"), *extra]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


@pytest.mark.slow
def test_a_late_hand_in_loses_the_penalty_per_day_begun_and_an_extension_is_kept(tmp_path, capsys, batch_on_shared_sandbox):
    root = tmp_path / "class"
    due = datetime(2026, 12, 1, 23, 59).astimezone()
    for student, handed_in in (("ontime", due - timedelta(hours=2)), ("lara", due + timedelta(days=1, hours=3)),
                               ("ext", due + timedelta(days=1))):
        hand_in(root, student, SOFTMAX.solution)
        for path in (root / student / "grading").iterdir():
            os.utime(path, (handed_in.timestamp(), handed_in.timestamp()))
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,folder,due\n1,On Time,ontime,\n2,Lara Late,lara,\n3,Ext Ended,ext,2026-12-03\n")
    assert grade(root, "--roster", str(roster), "--gradebook", str(tmp_path / "book.json"),
                 "--due", "2026-12-01T23:59", "--late-penalty", "10%/day") == 0
    assert "lara  4/5 (late by 2 days: -20%, from 5)" in capsys.readouterr().out
    students = {s["student"]: s for s in json.loads((tmp_path / "book.json").read_text())["students"]}
    assert {name: s["score"] for name, s in students.items()} == {"ontime": 5.0, "lara": 4.0, "ext": 5.0}
    assert students["lara"]["late"]["days_late"] == 2 and students["lara"]["late"]["raw_score"] == 5.0
    assert students["lara"]["exercises"][SOFTMAX.id]["score"] == 3.0  # the exercises keep what they earned
    assert "late" not in students["ontime"] and "late" not in students["ext"]


def test_a_late_penalty_without_a_due_date_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "class" / "al").mkdir(parents=True)
    assert main(["grade", "--lessons", str(DATA), "--batch", str(tmp_path / "class"), "--late-penalty", "10%/day"]) == 2
    assert "--late-penalty needs a due date" in capsys.readouterr().err
