"""The foundation's command-line contract: `tutor list` and `tutor check-lessons`.

Most tests call `tutor.cli.main([...])` in-process (fast); the few that must prove
something about a fresh interpreter (what it imports, what a real user sees) start one.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.lessons.discover import default_lessons_dir
from tutor.lessons.topics import TOPICS

REPO = Path(__file__).resolve().parents[1]
GOOD = REPO / "tests" / "data" / "lessons" / "good"
SHIPPED = default_lessons_dir()
EXERCISE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$")


def list_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["list", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


# --- tutor list --json -------------------------------------------------------------


def test_list_json_describes_the_miniature_lesson_set(capsys, tmp_path):
    payload = list_json(capsys, "--lessons", str(GOOD), "--workspace", str(tmp_path))

    basics, views = payload["lessons"]
    assert (basics["id"], basics["title"], basics["order"]) == ("basics", "Tensor basics", 1)
    assert basics["topics"] == ["tensor-creation", "tensor-math"]
    assert basics["snippets"] == 3  # the plain one, the `requires=` one and the `norun` one
    assert basics["exercises"] == []

    assert (views["id"], views["order"], views["topics"]) == ("views", 2, ["tensor-reshape", "autograd-basics"])
    [flat] = views["exercises"]
    assert flat["id"] == "views/flat"
    assert flat["title"] == "Flatten without copying"
    assert (flat["checks"], flat["hidden_checks"], flat["hints"]) == (2, 1, 2)
    assert flat["status"] == "not started"


def test_list_json_orders_lessons_by_order_not_by_file_name(capsys):
    payload = list_json(capsys, "--lessons", str(GOOD))

    # autograd-views.md sorts first by name, but its lesson has order = 2.
    assert [lesson["id"] for lesson in payload["lessons"]] == ["basics", "views"]
    assert [Path(lesson["path"]).name for lesson in payload["lessons"]] == ["basics.md", "autograd-views.md"]


def test_list_json_on_the_shipped_lessons_is_a_consistent_catalogue(capsys, tmp_path):
    payload = list_json(capsys, "--workspace", str(tmp_path))
    lessons = payload["lessons"]

    files = [p for p in SHIPPED.glob("*.md") if p.name != "README.md"]
    assert len(lessons) == len(files) >= 1
    assert lessons == sorted(lessons, key=lambda lesson: (lesson["order"], lesson["id"]))
    assert len({lesson["id"] for lesson in lessons}) == len(lessons)
    exercise_ids = []
    for lesson in lessons:
        assert lesson["topics"] and set(lesson["topics"]) <= set(TOPICS), lesson["id"]
        for exercise in lesson["exercises"]:
            assert EXERCISE_ID_RE.match(exercise["id"]), exercise["id"]
            assert exercise["id"].startswith(lesson["id"] + "/")
            assert exercise["checks"] + exercise["hidden_checks"] >= 1
            assert exercise["hints"] >= 1
            exercise_ids.append(exercise["id"])
    assert len(set(exercise_ids)) == len(exercise_ids)


def test_list_prints_a_table_naming_every_lesson_and_exercise(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")  # a narrow terminal would wrap the titles
    assert main(["list", "--lessons", str(GOOD), "--workspace", str(tmp_path)]) == 0
    out = capsys.readouterr().out

    for text in ("Tensor basics", "Views and gradients", "views/flat", "tensor-reshape"):
        assert text in out
    assert out.index("Tensor basics") < out.index("Views and gradients")


# --- --lessons DIR ------------------------------------------------------------------


@pytest.mark.parametrize("command", [["list"], ["list", "--json"], ["check-lessons", "--format-only"]])
def test_a_lessons_dir_that_does_not_exist_is_one_line_and_exit_2(capsys, tmp_path, command):
    missing = tmp_path / "no-such-lessons"

    assert main([*command, "--lessons", str(missing)]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"tutor: {missing}: no such file or directory"]


def test_a_lessons_dir_without_lesson_files_is_a_usage_error(capsys, tmp_path):
    (tmp_path / "README.md").write_text("# not a lesson\n")

    assert main(["list", "--lessons", str(tmp_path)]) == 2

    assert capsys.readouterr().err.splitlines() == [f"tutor: {tmp_path}: no lesson files (*.md) in this directory"]


def test_check_lessons_validates_the_dir_given_by_lessons(capsys):
    assert main(["check-lessons", "--format-only", "--lessons", str(GOOD)]) == 0

    assert capsys.readouterr().out.strip() == "2 lesson(s), 1 exercise(s): format ok"


def test_check_lessons_validates_the_shipped_lessons_by_default(capsys):
    assert main(["check-lessons", "--format-only"]) == 0

    assert capsys.readouterr().out.rstrip().endswith("format ok")


def test_check_lessons_accepts_single_files(capsys):
    assert main(["check-lessons", "--format-only", str(GOOD / "basics.md")]) == 0

    assert capsys.readouterr().out.strip() == "1 lesson(s), 0 exercise(s): format ok"


def test_a_file_named_twice_is_not_its_own_duplicate(capsys):
    assert main(["check-lessons", "--format-only", str(GOOD / "basics.md"), str(GOOD)]) == 0

    assert capsys.readouterr().out.strip() == "2 lesson(s), 1 exercise(s): format ok"


def test_list_refuses_a_malformed_lesson_set_naming_file_and_line(capsys, tmp_path):
    broken = tmp_path / "broken.md"
    broken.write_text('+++\nid = "broken"\ntitle = "Broken"\norder = 1\ntopics = ["nope"]\n+++\n')

    assert main(["list", "--json", "--lessons", str(tmp_path)]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{broken}:5: unknown topic key 'nope'" in captured.err


# --- a fresh interpreter: what `tutor` imports ---------------------------------------

IMPORT_PROBE = """
import json, sys
import tutor.cli
code = tutor.cli.main(sys.argv[1:])
heavy = sorted(name for name in ("torch", "textual") if name in sys.modules)
print(json.dumps({"exit": code, "heavy": heavy}), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "argv",
    [["list"], ["list", "--json"], ["check-lessons", "--format-only"]],
    ids=["list", "list-json", "check-lessons-format-only"],
)
def test_the_front_commands_never_import_torch_or_textual(argv, tmp_path):
    """The front process must start fast: torch costs ~1 s to import, Textual is for the TUI."""
    workspace = ["--workspace", str(tmp_path)] if argv[0] == "list" else []
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, *argv, *workspace],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )

    report = json.loads(result.stderr.splitlines()[-1])
    assert report == {"exit": 0, "heavy": []}, result.stderr


def _every_parser(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(parser.prog, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += _every_parser(sub)
    return found


def test_every_option_and_argument_of_every_command_says_what_it_is_for() -> None:
    """`tutor grade --help` once listed --workspace, --json, --junit and --gradescope bare."""
    from tutor.cli import build_parser

    bare = [f"{prog}: {'/'.join(action.option_strings) or action.dest}"
            for prog, parser in _every_parser(build_parser()) for action in parser._actions
            if not isinstance(action, argparse._SubParsersAction) and not action.help
            and action.dest not in ("help", "version")]
    assert bare == []
