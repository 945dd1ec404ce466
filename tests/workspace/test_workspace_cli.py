"""`tutor init | hint | reset | solution` as a learner types them."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.lessons import LessonSet
from tutor.present import CONTINUATION
from tutor.workspace import Workspace
from tutor.workspace.store import statuses_for

LESSONS_DIR = Path(__file__).parent / "lessons"


def test_init_says_where_and_what_it_wrote(tutor, root: Path) -> None:
    result = tutor("init")

    assert result.code == 0
    assert f"Workspace: {root}" in result.out
    assert "wrote    alpha/double.py" in result.out
    assert "4 written, 0 updated, 0 kept" in result.out
    assert (root / "beta" / "triple.py").is_file()


def test_a_long_workspace_path_is_printed_whole_on_one_line(tutor, tmp_path: Path) -> None:
    target = tmp_path / ("a-folder-with-a-long-name-" * 4) / "ws"
    result = tutor("init", str(target))
    assert result.out.splitlines()[0] == f"Workspace: {target}"


def test_init_into_a_named_directory_then_again_keeps_the_changed_file(tutor, tmp_path: Path) -> None:
    target = tmp_path / "course"
    tutor("init", str(target))
    (target / "alpha" / "double.py").write_text("mine\n")

    result = tutor("init", str(target))

    assert result.code == 0
    assert "kept     alpha/double.py" in result.out
    assert "0 written, 0 updated, 4 kept" in result.out
    assert (target / "alpha" / "double.py").read_text() == "mine\n"


def test_init_where_a_file_blocks_the_workspace_is_one_line_exit_2(tutor, tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("")
    result = tutor("init", str(tmp_path / "blocked"))
    assert result.code == 2
    assert result.err.startswith("tutor: ") and "blocked" in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_hint_counts_up_and_stays_on_the_last(tutor, root: Path) -> None:
    outs = [tutor("hint", "alpha/double").out for _ in range(4)]

    assert "hint 1 of 3" in outs[0] and "Multiply." in outs[0]
    assert "hint 2 of 3" in outs[1] and "By two." in outs[1]
    assert "hint 3 of 3 (the last one)" in outs[2]
    assert "hint 3 of 3 (the last one)" in outs[3] and "return 2 * x" in outs[3]
    assert Workspace(root, LessonSet()).progress("alpha/double").hints_shown == 3


def test_a_short_id_works_when_only_one_lesson_has_it(tutor) -> None:
    result = tutor("hint", "double")
    assert result.code == 0 and "alpha/double" in result.out


def test_an_ambiguous_short_id_names_both_exercises(tutor) -> None:
    result = tutor("hint", "shared")
    assert result.code == 2
    assert "ambiguous" in result.err and "alpha/shared" in result.err and "beta/shared" in result.err


@pytest.mark.parametrize("typo, suggestion", [("alpha/dubble", "alpha/double"), ("tripel", "beta/triple")])
def test_an_unknown_id_exits_2_with_close_matches(tutor, typo: str, suggestion: str) -> None:
    for command in ("hint", "solution", "reset"):
        result = tutor(command, typo)
        assert result.code == 2, command
        assert f"unknown exercise '{typo}'" in result.err
        assert suggestion in result.err


def test_an_id_like_nothing_points_to_tutor_list(tutor) -> None:
    result = tutor("hint", "zzzzzz")
    assert result.code == 2 and "tutor list" in result.err


def test_the_solution_stays_locked_until_the_exercise_passes(tutor, root: Path) -> None:
    locked = tutor("solution", "alpha/double")
    assert locked.code == 1
    assert "unlocks once your solution passes" in locked.err and "tutor grade alpha/double" in locked.err
    assert "return 2 * x" not in locked.out

    Workspace(root, LessonSet()).record_result("alpha/double", "pass")
    shown = tutor("solution", "alpha/double")

    assert shown.code == 0
    assert "def double(x):" in shown.out and "return 2 * x" in shown.out


def test_a_solution_once_passed_stays_available_after_a_reset(tutor, root: Path) -> None:
    Workspace(root, LessonSet()).record_result("alpha/double", "pass")
    tutor("reset", "alpha/double")
    assert tutor("solution", "alpha/double").code == 0


def test_reset_says_where_the_old_file_went(tutor, root: Path) -> None:
    tutor("init")
    (root / "alpha" / "double.py").write_text("my attempt\n")

    result = tutor("reset", "alpha/double")

    assert result.code == 0
    backups = list((root / "alpha").glob("double.py.bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == "my attempt\n"
    assert str(backups[0]) in result.out
    assert "# TODO" in (root / "alpha" / "double.py").read_text()


def test_reset_needs_exactly_one_of_an_id_or_all(tutor) -> None:
    assert tutor("reset").code == 2
    both = tutor("reset", "alpha/double", "--all", "--yes")
    assert both.code == 2 and "not both" in both.err


def test_reset_all_with_yes_resets_everything(tutor, root: Path) -> None:
    tutor("init")
    (root / "beta" / "triple.py").write_text("mine\n")

    result = tutor("reset", "--all", "--yes")

    assert result.code == 0
    assert result.out.count("reset ") == 4
    assert [p.read_text() for p in (root / "beta").glob("triple.py.bak-*")] == ["mine\n"]


def test_reset_all_refuses_without_yes_when_stdin_is_not_a_terminal(tutor, root: Path, monkeypatch) -> None:
    tutor("init")
    (root / "beta" / "triple.py").write_text("mine\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not a terminal, and no file handle to leak

    result = tutor("reset", "--all")

    assert result.code == 2 and "--yes" in result.err
    assert (root / "beta" / "triple.py").read_text() == "mine\n"


@pytest.mark.parametrize("answer, code, kept", [("n\n", 1, True), ("\n", 1, True), ("y\n", 0, False)])
def test_reset_all_asks_on_a_terminal(tutor, root: Path, monkeypatch, answer: str, code: int, kept: bool) -> None:
    tutor("init")
    (root / "beta" / "triple.py").write_text("mine\n")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal(answer))

    result = tutor("reset", "--all")

    assert result.code == code
    assert ((root / "beta" / "triple.py").read_text() == "mine\n") is kept


def test_a_corrupt_progress_file_is_a_warning_not_a_crash(tutor, root: Path) -> None:
    tutor("init")
    (root / ".tutor" / "progress.json").write_text("not json")

    result = tutor("hint", "beta/triple")

    assert result.code == 0 and "hint 1 of 1" in result.out
    assert "tutor: warning: progress file was corrupt" in result.err


@pytest.mark.parametrize("kind", ["link-to-dev-zero", "fifo", "huge"])
def test_a_progress_file_that_is_no_file_is_a_warning_not_a_hang(tutor, root: Path, kind: str) -> None:
    """A workspace handed in for grading may hold anything: a progress file linked to
    /dev/zero was once read until memory ran out, a FIFO would block for ever."""
    tutor("init")
    progress = root / ".tutor" / "progress.json"
    progress.unlink()
    if kind == "link-to-dev-zero":
        progress.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(progress)
    else:
        progress.write_bytes(b" " * (5 << 20))

    result = tutor("hint", "beta/triple")

    assert result.code == 0 and "hint 1 of 1" in result.out
    assert "tutor: warning: progress file was corrupt" in result.err
    assert statuses_for(root)["beta/triple"] == "not started"  # rebuilt, readable again


def test_workspace_option_before_or_after_the_command(tutor, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    tutor("--workspace", str(a), "hint", "beta/triple")
    tutor("hint", "beta/triple", "--workspace", str(b))
    tutor("hint", "beta/triple", "--workspace", str(b))
    assert Workspace(a, LessonSet()).progress("beta/triple").hints_shown == 1
    assert Workspace(b, LessonSet()).progress("beta/triple").hints_shown == 1


def test_the_installed_command_end_to_end(tmp_path: Path) -> None:
    """One real process: exit codes and streams as a shell script sees them."""
    env = {**os.environ, "TUTOR_WORKSPACE": str(tmp_path / "ws"), "NO_COLOR": "1"}
    base = [sys.executable, "-m", "tutor"]
    lessons = ["--lessons", str(LESSONS_DIR)]

    init = subprocess.run([*base, "init", *lessons], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    reset_all = subprocess.run([*base, "reset", "--all", *lessons], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    solution = subprocess.run([*base, "solution", "beta/triple", *lessons], env=env, capture_output=True, text=True)

    assert init.returncode == 0 and "4 written" in init.stdout
    assert reset_all.returncode == 2 and "--yes" in reset_all.stderr and "Traceback" not in reset_all.stderr
    assert solution.returncode == 1 and "unlocks" in solution.stderr
    assert "import torch" not in init.stderr


def test_the_workspace_commands_never_import_torch() -> None:
    code = "import sys, tutor.workspace, tutor.commands.workspace; print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_list_says_visible_checks_pass_until_tutor_grade_runs_the_hidden_ones(tutor, ws: Workspace) -> None:
    ws.record_result("alpha/double", "pass", hidden_unrun=1)  # the app's local check
    shown = tutor("list").out
    assert "alpha/double  Double it  visible checks pass" in shown
    assert "0/2 passed" in shown  # a pass of the visible checks only is not counted as passed
    ws.record_result("alpha/double", "pass")  # tutor grade ran them all
    assert "alpha/double  Double it  passed" in tutor("list").out


def test_a_solution_wider_than_the_terminal_is_wrapped_never_cropped(tmp_path: Path, root: Path, capsys,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    lessons = tmp_path / "lessons"
    shutil.copytree(LESSONS_DIR, lessons)
    alpha = lessons / "01-alpha.md"
    long_line = "    return torch.mul(torch.ones_like(x, dtype=x.dtype), 2) * x  # doubled, with every element kept"
    alpha.write_text(alpha.read_text().replace("    return 2 * x\n```", long_line + "\n```", 1))
    Workspace(root, LessonSet()).record_result("alpha/double", "pass")
    monkeypatch.setenv("COLUMNS", "40")
    assert main(["solution", "alpha/double", "--lessons", str(lessons)]) == 0
    out = capsys.readouterr().out
    shown = out.splitlines()[1:]
    assert all(len(line.rstrip()) <= 40 for line in shown)
    assert any(line.lstrip().startswith(CONTINUATION) for line in shown)  # the continuation says so
    # Nothing lost: the wrapped lines hold every character of the reference's line.
    assert "".join(line.strip().removeprefix(CONTINUATION) for line in shown).replace(" ", "") == \
        ("def double(x):" + long_line).replace(" ", "")
