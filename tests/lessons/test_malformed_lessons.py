"""An author's mistakes: every malformed fixture in tests/data/lessons/bad/ must be
reported by `tutor check-lessons` as one `FILE:LINE: message` line, exit 2, and never
a traceback.

The table below is the contract: the fixture, the line an author should jump to, and
words the message must contain so the author knows what to fix.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.lessons import load_lessons

REPO = Path(__file__).resolve().parents[2]
BAD = REPO / "tests" / "data" / "lessons" / "bad"


@dataclass(frozen=True)
class Malformed:
    """One fixture: ``path`` is relative to ``BAD``; it may be a directory of files."""

    path: str
    file: str  # the file the error names (relative to BAD)
    line: int
    words: str  # a recognisable part of the message


CASES = [
    Malformed("missing-id.md", "missing-id.md", 1, "metadata header has no 'id'"),
    Malformed("duplicate-lesson-id", "duplicate-lesson-id/b-second.md", 3, "duplicate lesson id 'twin'"),
    Malformed("unknown-topic.md", "unknown-topic.md", 5, "unknown topic key 'quantum-tensors'"),
    Malformed("unclosed-fence.md", "unclosed-fence.md", 10, "code fence opened here is never closed"),
    Malformed("exercise-without-checks.md", "exercise-without-checks.md", 8, "no 'toml checks' fence"),
    Malformed("exercise-without-solution.md", "exercise-without-solution.md", 8, "no 'python solution' fence"),
    Malformed("exercise-without-starter.md", "exercise-without-starter.md", 8, "no 'python starter' fence"),
    Malformed("exercise-without-hints.md", "exercise-without-hints.md", 8, "no 'hint' fence"),
    Malformed("malformed-header.md", "malformed-header.md", 4, "malformed metadata header"),
    Malformed("unclosed-header.md", "unclosed-header.md", 1, "never closed with '+++'"),
    Malformed("not-utf8.md", "not-utf8.md", 8, "not valid UTF-8 (byte 0xe9"),
    Malformed("empty.md", "empty.md", 1, "empty lesson file"),
    Malformed("unknown-header-key.md", "unknown-header-key.md", 6, "unknown metadata key 'author'"),
    Malformed("snippet-syntax-error.md", "snippet-syntax-error.md", 12, "syntax error in snippet"),
    Malformed("output-without-snippet.md", "output-without-snippet.md", 10, "'output' fence must follow a python snippet"),
    Malformed("unknown-check-key.md", "unknown-check-key.md", 35, "unknown check key 'tolerance'"),
    Malformed("malformed-checks.md", "malformed-checks.md", 33, "malformed checks"),
    Malformed("duplicate-exercise-id.md", "duplicate-exercise-id.md", 37, "duplicate exercise id 'double' (first at line 8)"),
    Malformed("starter-outside-exercise.md", "starter-outside-exercise.md", 10, "'starter' fence outside an exercise"),
    Malformed("bad-exercise-heading.md", "bad-exercise-heading.md", 8, "## Exercise: Title {#exercise-id}"),
    Malformed("unknown-comparison.md", "unknown-comparison.md", 35, "unknown comparison 'shapes'"),
    Malformed("solution-syntax-error.md", "solution-syntax-error.md", 18, "syntax error in solution: expected ':'"),
    Malformed("misspelt-fence-role.md", "misspelt-fence-role.md", 8, "unknown python fence option 'solutoin'"),
]
IDS = [case.path.removesuffix(".md") for case in CASES]

# A handful run as a real `tutor` process: the bytes a user sees, including the
# absence of a traceback. The rest run in-process, which is ~100x cheaper.
IN_SUBPROCESS = {"not-utf8.md", "empty.md", "malformed-header.md", "duplicate-lesson-id", "unknown-check-key.md"}


def test_every_fixture_has_an_expected_line():
    """A new fixture without a row here would silently go untested."""
    on_disk = {p.name for p in BAD.iterdir() if p.name != ".gitattributes"}
    assert on_disk == {case.path for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_check_lessons_names_the_file_and_line_of_the_mistake(case, capsys):
    assert main(["check-lessons", str(BAD / case.path)]) == 2

    captured = capsys.readouterr()
    [message] = captured.err.splitlines()
    location = f"{BAD / case.file}:{case.line}: "
    assert message.startswith(location), message
    assert case.words in message.removeprefix(location)
    assert captured.out == ""


@pytest.mark.parametrize("case", [c for c in CASES if c.path in IN_SUBPROCESS], ids=lambda case: case.path)
def test_a_real_tutor_process_prints_one_line_and_exits_2(case):
    relative = Path("tests/data/lessons/bad") / case.path
    result = subprocess.run(
        [sys.executable, "-m", "tutor", "check-lessons", str(relative)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    [message] = result.stderr.splitlines()
    assert message.startswith(f"tests/data/lessons/bad/{case.file}:{case.line}: ")
    assert case.words in message


def test_checking_the_whole_directory_reports_every_file_once(capsys):
    """Each file stops at its first problem, but one bad file does not hide the next."""
    assert main(["check-lessons", str(BAD)]) == 2

    lines = capsys.readouterr().err.splitlines()
    top_level = [c for c in CASES if c.path.endswith(".md")]  # directories are not searched recursively
    assert len(lines) == len(top_level)
    for case in top_level:
        assert sum(line.startswith(f"{BAD / case.file}:{case.line}: ") for line in lines) == 1, case.path


def test_a_good_lesson_next_to_a_bad_one_still_loads():
    good = REPO / "tests" / "data" / "lessons" / "good" / "basics.md"

    result = load_lessons([good, BAD / "empty.md"])

    assert [lesson.id for lesson in result.lessons] == ["basics"]
    assert [(e.path.name, e.line) for e in result.errors] == [("empty.md", 1)]
