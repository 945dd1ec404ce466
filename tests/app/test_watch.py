"""`tutor watch`: one warm sandbox, the current exercise on screen, a check on every
save in the workspace, and on to the next exercise after a pass; h hint, l list, q
quit, within 80x24. Told headless against the fake sandbox and grader, then once in a
real terminal (a pseudo-terminal) against the real sandbox."""

from __future__ import annotations

import os
import pty
import re
import select
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tutor.commands.watch import WatchView
from tutor.core import Tutor
from tutor.lessons import load_lessons
from tutor.session import Session
from tutor.workspace import Workspace

from .fakes import LESSONS_DIR, FakeSandbox, fake_grade

RIGHT = "def add_row(m, r):\n    return m + r\n"


def two_exercises(tmp_path) -> Path:
    """The first sample lesson and a second lesson with an exercise of its own."""
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    first = (LESSONS_DIR / "01-first-steps.md").read_text()
    (lessons / "01-first-steps.md").write_text(first)
    second = first.replace('id = "first-steps"', 'id = "more"').replace('title = "First steps"', 'title = "More"')
    second = second.replace("order = 1", "order = 2").replace("{#add-row}", "{#add-again}")
    (lessons / "02-more.md").write_text(second)
    return lessons


def first_exercise(lessons, workspace, ident):
    return Session(Tutor(lessons, workspace, client=FakeSandbox())).exercise_to_work_on(ident)


def session_at(tmp_path) -> WatchView:
    lessons = load_lessons([two_exercises(tmp_path)])
    workspace = Workspace(tmp_path / "ws", lessons)
    core = Tutor(lessons, workspace, client=FakeSandbox(), grade=fake_grade, device="cpu")
    core.start()
    session = WatchView(Session(core), first_exercise(lessons, workspace, None))
    session.check(first=True)
    return session


def screen_text(session: WatchView) -> str:
    rows = session.lines(80, 24)
    assert len(rows) == 24 and all(len(row.text) <= 80 for row in rows)  # fits 80x24
    return "\n".join(row.text for row in rows)


def test_a_save_is_checked_and_a_pass_moves_on(tmp_path) -> None:
    session = session_at(tmp_path)
    assert session.exercise.id == "first-steps/add-row"
    assert session.path.exists()  # the starter, written for the learner to edit
    text = screen_text(session)
    assert "tutor watch · first-steps/add-row (1 of 2) · 0 passed" in text
    assert "Write add_row(m, r)" in text
    assert re.search(r"^file: .*/ws/first-steps/add-row\.py$", text, re.MULTILINE)
    assert "✗ 0 of 2 checks pass" in text
    assert session.workspace.progress("first-steps/add-row").status == "not started"  # a look is not an attempt

    assert session.poll() is False  # nothing saved yet
    session.path.write_text("def add_row(m, r):\n    return m\n")  # a save from another editor
    assert session.poll() is True
    assert session.report is not None and session.report.status == "fail"
    assert session.workspace.progress("first-steps/add-row").status == "failed"

    session.path.write_text(RIGHT)
    assert session.poll() is True
    assert session.workspace.progress("first-steps/add-row").status == "passed"
    # The next exercise is in a lesson the learner may not have read: offered, not opened.
    assert session.exercise.id == "first-steps/add-row"
    assert 'Next: more/add-again, in the lesson "More": n goes on to it.' in " ".join(screen_text(session).split())
    assert session.key("n") is True
    assert session.exercise.id == "more/add-again"  # moved on
    text = screen_text(session)
    assert "tutor watch · more/add-again (2 of 2) · 1 passed" in text
    assert session.workspace.last_visit().id == "more/add-again"  # `tutor` opens here too

    session.path.write_text(RIGHT)
    session.poll()
    assert "passes, and so does every exercise" in screen_text(session)


def test_h_shows_the_next_hint_l_the_list_and_q_quits(tmp_path) -> None:
    session = session_at(tmp_path)
    assert session.key("h") is True
    assert "hint 1 of 2: Shapes (3, 4) and (4,) broadcast." in screen_text(session)
    assert session.workspace.progress("first-steps/add-row").hints_shown == 1
    session.key("h")
    assert "hint 2 of 2" in screen_text(session)
    session.key("l")
    text = screen_text(session)
    assert "· first-steps/add-row  not started  ◀ watching" in text and " 2. More  0/1" in text
    session.key("l")
    assert "Write add_row(m, r)" in screen_text(session)
    assert session.key("q") is False


def test_saving_the_same_text_again_is_not_checked_twice(tmp_path) -> None:
    session = session_at(tmp_path)
    session.path.write_text("def add_row(m, r):\n    return m\n")
    assert session.poll() is True
    session.path.write_text("def add_row(m, r):\n    return m\n")
    assert session.poll() is False


def test_the_list_chooses_an_exercise_with_the_arrows_and_enter_opens_it(tmp_path) -> None:
    session = session_at(tmp_path)
    session.key("l")
    assert "enter open" in screen_text(session)
    session.key("\x1b[B")  # down: the second lesson's exercise, its lesson unfolded
    rows = session.lines(80, 24)
    [chosen] = [row for row in rows if row.style == "reverse" and "add-again" in row.text]
    assert "· more/add-again  not started" in chosen.text
    session.key("\r")
    assert session.exercise.id == "more/add-again" and session.view == "exercise"
    assert session.workspace.last_visit().id == "more/add-again"
    session.key("l")
    session.key("k")
    session.key("k")  # past the first exercise: stays there
    session.key("\r")
    assert session.exercise.id == "first-steps/add-row"


def test_watch_starts_in_the_lesson_the_learner_was_reading(tmp_path) -> None:
    lessons = load_lessons([two_exercises(tmp_path)])
    workspace = Workspace(tmp_path / "ws", lessons)
    workspace.record_visit("lesson", "more", 0)
    assert first_exercise(lessons, workspace, None).id == "more/add-again"
    workspace.record_result("more/add-again", "pass")
    assert first_exercise(lessons, workspace, None).id == "first-steps/add-row"  # that lesson is done


def test_watch_starts_where_the_learner_left_off(tmp_path) -> None:
    lessons = load_lessons([two_exercises(tmp_path)])
    workspace = Workspace(tmp_path / "ws", lessons)
    workspace.record_visit("exercise", "more/add-again")
    assert first_exercise(lessons, workspace, None).id == "more/add-again"
    workspace.record_result("more/add-again", "pass")
    assert first_exercise(lessons, workspace, None).id == "first-steps/add-row"  # the first not passed
    assert first_exercise(lessons, workspace, "add-again").id == "more/add-again"


# --- in a real terminal -------------------------------------------------------------------

GRADING = Path(__file__).resolve().parents[1] / "grading" / "data"
RIGHT_SOFTMAX = """
def softmax_rows(X):
    e = (X - X.max(dim=1, keepdim=True).values).exp()
    return e / e.sum(dim=1, keepdim=True)
"""


class Terminal:
    """`tutor watch` on an 80x24 pseudo-terminal; ``screen`` is what it wrote, without
    escape sequences."""

    def __init__(self, *args: str) -> None:
        import fcntl
        import termios

        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["TERM"] = "xterm-256color"
            os.execv(sys.executable, [sys.executable, "-m", "tutor", *args])
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.raw = b""

    @property
    def screen(self) -> str:
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.raw.decode("utf-8", "replace"))

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            assert time.monotonic() < deadline, f"never saw {text!r} in:\n{self.screen[-2000:]}"
            if select.select([self.fd], [], [], 0.1)[0]:
                try:
                    self.raw += os.read(self.fd, 65536)
                except OSError:
                    break

    def press(self, key: str) -> None:
        os.write(self.fd, key.encode())

    def close(self) -> int:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if select.select([self.fd], [], [], 0.1)[0]:
                try:
                    self.raw += os.read(self.fd, 65536)
                except OSError:
                    pass
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        os.close(self.fd)
        raise AssertionError("tutor watch did not quit")


@pytest.mark.slow
def test_watch_in_a_terminal_checks_a_save_moves_on_and_quits(tmp_path) -> None:
    workspace = tmp_path / "ws"
    subprocess.run([sys.executable, "-m", "tutor", "init", str(workspace), "--lessons", str(GRADING)],
                   check=True, capture_output=True)
    terminal = Terminal("watch", "--lessons", str(GRADING), "--workspace", str(workspace), "--device", "cpu")
    try:
        terminal.wait_for("tutor watch · grading/softmax-rows (1 of 2)")
        terminal.wait_for("✗ 0 of 3 checks pass")  # the starter's verdict, hidden checks included, at once
        terminal.wait_for("h hint · l list · q quit")
        (workspace / "grading" / "softmax-rows.py").write_text(RIGHT_SOFTMAX)  # saved in another editor
        terminal.wait_for("✓ grading/softmax-rows passes. On to the next one.")
        terminal.wait_for("tutor watch · grading/halve-lr (2 of 2) · 1 passed")
        terminal.press("h")
        terminal.wait_for("hint 1 of 2")
    finally:
        terminal.press("q")
        code = terminal.close()
    assert code == 0
    assert "tutor watch: 1 of 2 exercises passed; `tutor watch` picks up at grading/halve-lr." in terminal.screen


def long_prompt_view(tmp_path) -> WatchView:
    """Watching an exercise whose prompt is longer than a 24-row screen."""
    from .fakes import LONG_LESSONS_DIR

    lessons = load_lessons([LONG_LESSONS_DIR])
    workspace = Workspace(tmp_path / "ws", lessons)
    core = Tutor(lessons, workspace, client=FakeSandbox(), grade=fake_grade, device="cpu")
    core.start()
    view = WatchView(Session(core), lessons.exercises()[0])
    view.check(first=True)
    return view


def test_a_long_prompt_scrolls_whole_and_the_verdict_stays_in_view(tmp_path) -> None:
    view = long_prompt_view(tmp_path)
    text = screen_text(view)
    prompt = text.split("file: ")[0]
    assert "Write scale(x, factor)" in prompt and "…" not in prompt  # nothing is cut
    assert "last paragraph" not in text  # below the fold...
    keys = view.lines(80, 24)[-1].text
    assert keys.startswith("↑↓ PgUp PgDn: prompt 1-") and "h hint" in keys  # ...and the keys line says so
    assert "✗ 0 of 1 check pass" in text and "file: " in text
    view.key("\x1b[6~")  # PageDown
    assert view.scroll > 0 and "Write scale(x, factor)" not in screen_text(view)
    view.key("\x1b[F")  # End: the prompt's last rows, the verdict still under them
    text = screen_text(view)
    assert "This is the last paragraph of the prompt, the one at the very bottom of it." in " ".join(text.split())
    assert "✗ 0 of 1 check pass" in text
    view.key("\x1b[A")  # up a row
    view.key("\x1b[H")  # Home
    assert view.scroll == 0 and "Write scale(x, factor)" in screen_text(view)
    view.key("h")  # a hint asked for is scrolled into view, whole
    assert "hint 1 of 1: Multiplication broadcasts a 0-d tensor over every element." in " ".join(
        screen_text(view).split())


def test_paging_keys_arrive_as_one_key_each() -> None:
    from tutor.commands.watch import _split_keys

    assert _split_keys("\x1b[5~\x1b[6~\x1b[Ah\x1bOF") == ["\x1b[5~", "\x1b[6~", "\x1b[A", "h", "\x1bOF"]
