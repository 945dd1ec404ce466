"""Author tools, through the entry point: `tutor new lesson|exercise` scaffolds that pass
`check-lessons --format-only` and fail the full check until the reference is written, and
`tutor check-lessons --watch`, which validates again on every save and prints only what
changed.

The watch tests run `main([... "--watch"])` in the test's thread, as a user would; an
"author" thread edits the files, reads what the watch prints and ends it with a real
SIGINT (Ctrl+C).
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tutor.authoring import lesson_watch
from tutor.authoring.lesson_watch import LessonWatcher
from tutor.authoring.scaffold import REFERENCE_PLACEHOLDER
from tutor.cli import main
from tutor.lessons import parse_lesson_file
from tutor.lessons.topics import TOPICS

REPO = Path(__file__).resolve().parents[2]
GOOD = REPO / "tests" / "data" / "lessons" / "good"  # basics.md (order 1), autograd-views.md (order 2)


@pytest.fixture
def lessons(tmp_path: Path) -> Path:
    """A private lesson directory: a copy of the miniature good set."""
    root = tmp_path / "lessons"
    shutil.copytree(GOOD, root)
    return root


def new(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["new", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- tutor new lesson -----------------------------------------------------------------


def test_new_lesson_writes_the_next_numbered_file_with_a_valid_header(lessons, capsys):
    code, out, err = new(capsys, "lesson", "broadcasting-rules", "--lessons", str(lessons))

    assert (code, err) == (0, "")
    path = lessons / "03-broadcasting-rules.md"
    assert f"wrote {path}: lesson 'broadcasting-rules' (order 3)" in out
    assert f"tutor check-lessons --watch {path}" in out
    lesson = parse_lesson_file(path)
    assert (lesson.id, lesson.title, lesson.order) == ("broadcasting-rules", "Broadcasting rules", 3)
    assert lesson.topics and set(lesson.topics) <= set(TOPICS)
    assert lesson.summary
    [snippet] = lesson.snippets
    assert snippet.run and snippet.expected_output
    [exercise] = lesson.exercises
    assert exercise.id == "broadcasting-rules/first-exercise"
    assert_exercise_scaffold(exercise, "first_exercise")


def assert_exercise_scaffold(exercise, function: str) -> None:
    assert exercise.prompt.startswith("TODO") and f"`{function}(x)`" in exercise.prompt
    assert f"def {function}(x):" in exercise.starter
    assert exercise.solution.strip() == f"def {function}(x):\n    {REFERENCE_PLACEHOLDER}"
    assert len(exercise.wrong) == 2 and all(w.reason for w in exercise.wrong)
    assert [h.split(":")[0] for h in exercise.hints] == ["TODO where to look", "TODO which concept", "TODO the code"]
    assert [(c.expr, c.hidden) for c in exercise.checks] == [(f"{function}(x)", False), (f"{function}(x)", True)]


def test_the_first_lesson_of_an_empty_directory_is_number_one(tmp_path, capsys):
    code, _, _ = new(capsys, "lesson", "intro", "--lessons", str(tmp_path))

    assert code == 0
    assert [p.name for p in tmp_path.iterdir()] == ["01-intro.md"]
    assert parse_lesson_file(tmp_path / "01-intro.md").order == 1


def test_a_scaffold_passes_format_validation(lessons, capsys):
    assert new(capsys, "lesson", "broadcasting-rules", "--lessons", str(lessons))[0] == 0
    assert new(capsys, "exercise", "broadcasting-rules", "add-row", "--lessons", str(lessons))[0] == 0

    assert main(["check-lessons", "--format-only", str(lessons)]) == 0
    assert capsys.readouterr().out.strip() == "3 lesson(s), 3 exercise(s): format ok"


# --- tutor new exercise ---------------------------------------------------------------


def test_new_exercise_appends_to_the_lesson_and_rewrites_nothing(lessons, capsys):
    path = lessons / "autograd-views.md"  # the lesson 'views', one exercise
    before = path.read_text()

    code, out, err = new(capsys, "exercise", "views", "add-row", "--lessons", str(lessons))

    assert (code, err) == (0, "")
    after = path.read_text()
    assert after.startswith(before)
    heading = after.splitlines().index("## Exercise: Add row {#add-row}") + 1
    assert f"added the exercise 'views/add-row' to {path} at line {heading}" in out
    lesson = parse_lesson_file(path)
    assert [e.id for e in lesson.exercises] == ["views/flat", "views/add-row"]
    assert lesson.exercises[1].line == heading
    assert_exercise_scaffold(lesson.exercises[1], "add_row")


def test_an_exercise_id_that_is_no_python_name_still_gives_a_function(lessons, capsys):
    assert new(capsys, "exercise", "views", "2d-sum", "--lessons", str(lessons))[0] == 0

    exercise = parse_lesson_file(lessons / "autograd-views.md").exercises[-1]
    assert exercise.short_id == "2d-sum"
    assert_exercise_scaffold(exercise, "solve_2d_sum")


# --- bad input: one line, exit 2, nothing written ---------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    (["lesson", "basics"], "{lessons}/basics.md:2: a lesson with id 'basics' is already here; choose another id"),
    (["lesson", "Bad_Id"], "lesson id 'Bad_Id' must be lowercase letters, digits and '-'"),
    (["lesson", "über"], "lesson id 'über' must be lowercase letters, digits and '-'"),
    (["exercise", "views", "flat"], "{lessons}/autograd-views.md:23: lesson 'views' already has an exercise 'flat'"),
    (["exercise", "views", "No Spaces"], "exercise id 'No Spaces' must be lowercase letters, digits and '-'"),
    (["exercise", "viewz", "more"], "{lessons}: no lesson with id 'viewz'; did you mean views?"),
], ids=["taken-lesson-id", "bad-lesson-id", "non-ascii-id", "taken-exercise-id", "bad-exercise-id", "unknown-lesson"])
def test_bad_input_is_one_line_and_exit_2_and_writes_nothing(lessons, capsys, args, expected):
    before = {p.name: p.read_bytes() for p in lessons.iterdir()}

    code, out, err = new(capsys, *args, "--lessons", str(lessons))

    assert code == 2
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("tutor: " + expected.format(lessons=lessons)), line
    assert {p.name: p.read_bytes() for p in lessons.iterdir()} == before


def test_a_missing_lessons_directory_is_one_line_and_exit_2(tmp_path, capsys):
    missing = tmp_path / "nowhere"

    code, out, err = new(capsys, "lesson", "intro", "--lessons", str(missing))

    assert (code, out) == (2, "")
    assert err.splitlines() == [f"tutor: {missing}: no such directory (create it first, or name another with --lessons DIR)"]
    assert not missing.exists()


def test_an_existing_file_is_never_overwritten(tmp_path, capsys):
    squatter = tmp_path / "01-intro.md"
    squatter.write_text("notes, not a lesson\n")  # no header: no id, no order

    code, _, err = new(capsys, "lesson", "intro", "--lessons", str(tmp_path))

    assert code == 2
    assert err.splitlines() == [f"tutor: {squatter}: already exists; never overwritten (move it, or choose another id)"]
    assert squatter.read_text() == "notes, not a lesson\n"


def test_a_malformed_lesson_keeps_its_id_and_order(tmp_path, capsys):
    broken = tmp_path / "07-broken.md"
    broken.write_text('+++\nid = "broken"\norder = 7\ntopics = ["nope"]\n+++\n')

    assert new(capsys, "lesson", "broken", "--lessons", str(tmp_path))[2].splitlines() == [
        f"tutor: {broken}:2: a lesson with id 'broken' is already here; choose another id"]
    code, _, err = new(capsys, "exercise", "broken", "more", "--lessons", str(tmp_path))
    assert code == 2 and err.startswith(f"tutor: {broken}:") and "fix the lesson before adding an exercise" in err
    assert new(capsys, "lesson", "fixed", "--lessons", str(tmp_path))[0] == 0
    assert (tmp_path / "08-fixed.md").is_file()


def test_new_needs_a_kind(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["new"])
    assert exc.value.code == 2


# --- the full check fails until the reference is written ------------------------------


@pytest.mark.slow
def test_the_full_check_fails_on_the_scaffold_naming_the_reference(tmp_path, capsys):
    assert new(capsys, "lesson", "intro", "--lessons", str(tmp_path))[0] == 0
    path = tmp_path / "01-intro.md"
    solution_line = parse_lesson_file(path).exercises[0].solution_line

    assert main(["check-lessons", str(path)]) == 1

    err = capsys.readouterr().err
    # The only problem: the snippet prints its output, the starter and the wrong answers
    # are not graded against a reference that does not run.
    assert [line for line in err.splitlines() if line.startswith(str(path))] == [
        f"{path}:{solution_line}: exercise 'intro/first-exercise': the reference solution does not pass: "
        "it is still the placeholder of `tutor new` (raise NotImplementedError); write the reference"]
    assert "1 problem(s)" in err


# --- tutor check-lessons --watch ------------------------------------------------------


class Feed:
    """``sys.stdout`` for a watch under test: every line also goes to a queue that the
    author thread reads."""

    def __init__(self) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.text: list[str] = []
        self._partial = ""

    def write(self, text: str) -> int:
        self.text.append(text)
        self._partial += text
        while "\n" in self._partial:
            line, self._partial = self._partial.split("\n", 1)
            self.lines.put(line)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class Author(threading.Thread):
    """Edits lesson files while `main` watches them, each step once the watch printed the
    step's line (the whole line: paths hold words too); then presses Ctrl+C (SIGINT to
    this process)."""

    def __init__(self, feed: Feed, steps: list[tuple[Callable[[], None], str]], timeout: float = 60) -> None:
        super().__init__(daemon=True)
        self.feed, self.steps, self.timeout = feed, steps, timeout
        self.failure: str | None = None
        self.main_returned = threading.Event()

    def wait_for(self, expected: str, prefix: bool = False) -> bool:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                line = self.feed.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if line == expected or (prefix and line.startswith(expected)):
                return True
        self.failure = f"the watch never printed {expected!r}"
        return False

    def run(self) -> None:
        if self.wait_for("watching ", prefix=True):
            for action, line in self.steps:
                action()
                if not self.wait_for(line):
                    break
        elif self.main_returned.is_set():
            return  # the watch never looped: no Ctrl+C into a test that moved on
        os.kill(os.getpid(), signal.SIGINT)


def watch(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str],
          steps: list[tuple[Callable[[], None], str]]) -> tuple[list[str], str]:
    """Run `tutor check-lessons --watch ...` until the author's steps are done; its lines."""
    monkeypatch.setattr(lesson_watch, "POLL_SECONDS", 0.05)
    monkeypatch.setattr(lesson_watch, "SETTLE_SECONDS", 0.02)
    feed = Feed()
    monkeypatch.setattr(sys, "stdout", feed)
    author = Author(feed, steps)
    # The author stops the watch with Ctrl+C: make sure it arrives as KeyboardInterrupt
    # even where this process was started with SIGINT ignored (a background job).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    author.start()
    try:
        code = main(["check-lessons", "--watch", *argv])
    finally:
        author.main_returned.set()
        signal.signal(signal.SIGINT, previous)
    author.join(timeout=10)
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert author.failure is None, "".join(feed.text) + err
    assert code == 0
    assert "Traceback" not in "".join(feed.text) + err
    return "".join(feed.text).splitlines(), err


def edit(path: Path, old: str, new: str) -> Callable[[], None]:
    def action() -> None:
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))
    return action


def test_watch_shows_a_new_problem_after_an_edit_and_fixed_after_the_fix(lessons, monkeypatch, capsys):
    path = lessons / "basics.md"
    lines, err = watch(monkeypatch, capsys, ["--format-only", str(lessons)], [
        (edit(path, "order = 1", 'order = "one"'), "1 problem"),
        (edit(path, 'order = "one"', "order = 1"), "OK"),
        (lambda: os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9)), "still OK"),
    ])

    assert err == ""
    assert lines[:2] == ["2 lessons, 1 exercise: format OK", "watching 2 files for changes (Ctrl+C stops)"]
    assert lines[-1] == "stopped watching"
    runs = "\n".join(lines[2:-1]).split("\n[")
    assert len(runs) == 3
    broken, fixed, touched = (run.splitlines() for run in runs)
    assert broken[0].endswith(f"] changed: {path}")
    assert broken[1:] == [f"{path}:4: 'order' must be an integer", "1 problem"]
    assert fixed[1:] == [f"fixed: {path}:4: 'order' must be an integer", "OK"]
    assert touched[1:] == ["still OK"]


def test_watch_reports_a_problem_that_only_moved_as_unchanged(lessons, monkeypatch, capsys):
    path = lessons / "autograd-views.md"
    lines, _ = watch(monkeypatch, capsys, ["--format-only", str(path)], [
        (edit(path, "```hint\n", "```hint\n\n```\n\n```hint\n"), "1 problem"),  # an empty hint
        (edit(path, "## Exercise", "More prose.\n\n## Exercise"), "still 1 problem"),
        (edit(path, "```hint\n\n```\n\n", ""), "OK"),
    ])

    body = [line for line in lines if not line.startswith("[")]
    problem = next(line for line in body if line.endswith(": empty hint"))
    moved = int(problem.split(":")[-2]) + 2
    assert body[2:] == [
        problem, "1 problem",
        "still 1 problem",  # two lines lower now, the same problem: not fixed, not new
        f"fixed: {path}:{moved}: empty hint", "OK",
        "stopped watching",
    ]


def test_watch_notices_added_and_removed_files(lessons, capsys):
    """The loop itself (LessonWatcher.loop): a stop after a number of runs, no terminal."""
    extra = lessons / "extra.md"
    broken = lessons / "broken.md"
    steps = [
        lambda: broken.write_text('+++\nid = "broken"\n+++\n'),
        lambda: broken.unlink(),
        lambda: extra.write_text((lessons / "basics.md").read_text().replace('id = "basics"', 'id = "extra"')),
    ]
    out = Feed()

    def on_run(n: int, problems: list) -> None:
        if n <= len(steps):
            steps[n - 1]()

    code = LessonWatcher([lessons], format_only=True, out=out).loop(max_runs=4, interval=0.02, settle=0, on_run=on_run)

    assert code == 0
    runs = "".join(out.text).split("\n[")[1:]
    assert [run.splitlines()[1:] for run in runs] == [
        [f"{broken}:1: metadata header has no 'title'", "1 problem"],
        ["OK"],  # a removed file's problems are gone, not "fixed"
        ["still OK"],
    ]
    assert [run.split("] ")[1].splitlines()[0] for run in runs] == [
        f"added: {broken}", f"removed: {broken}", f"added: {extra}"]


def test_watch_of_a_missing_path_is_one_line_and_exit_2(tmp_path, capsys):
    missing = tmp_path / "nope.md"

    assert main(["check-lessons", "--watch", str(missing)]) == 2

    assert capsys.readouterr().err.splitlines() == [f"tutor: {missing}: no such file or directory"]


@pytest.mark.slow
def test_watch_runs_the_sandbox_checks_of_the_changed_file_only(tmp_path, monkeypatch, capsys):
    """The real sandbox: the scaffold's reference fails, the author writes it, the problem
    is fixed; the other lesson, unchanged, is checked once."""
    other, intro = tmp_path / "01-other.md", tmp_path / "02-intro.md"
    assert new(capsys, "lesson", "other", "--lessons", str(tmp_path))[0] == 0
    edit(other, REFERENCE_PLACEHOLDER, "return x * 2")()
    assert new(capsys, "lesson", "intro", "--lessons", str(tmp_path))[0] == 0
    solution_line = parse_lesson_file(intro).exercises[0].solution_line

    lines, _ = watch(monkeypatch, capsys, [str(tmp_path)], [
        (edit(intro, REFERENCE_PLACEHOLDER, "return x + 1"), "OK"),
    ])

    reference = (f"{intro}:{solution_line}: exercise 'intro/first-exercise': the reference solution does not pass: "
                 "it is still the placeholder of `tutor new` (raise NotImplementedError); write the reference")
    assert lines[0] == f"checking 2 exercises and 2 snippets of {other}, {intro} in the sandbox..."
    assert lines[1:4] == [reference, "2 lessons, 2 exercises: 1 problem", "watching 2 files for changes (Ctrl+C stops)"]
    assert lines[4].endswith(f"] changed: {intro}")
    assert lines[5:] == [f"checking 1 exercise and 1 snippet of {intro} in the sandbox...", f"fixed: {reference}", "OK",
                         "stopped watching"]
