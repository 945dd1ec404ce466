"""Rough edges found by trying the app: quitting gives the terminal back at once (the
figure is in benchmarks/bench_quit.py, not in a timed test), a missing solution file is
"not started" rather than "failed", and `tutor grade` shows a bar only where it helps."""

from __future__ import annotations

import os
import threading

import pytest

from tutor.app.app import TutorApp
from tutor.app.driver import QuickExitDriver, WakingEvent
from tutor.commands import grade as grade_command
from tutor.core import Tutor
from tutor.session import Session

from .fakes import FakeSandbox, fake_grade, sample_lessons, workspace_at
from .test_story import open_first_lesson


async def test_quitting_asks_the_sandbox_to_stop_without_waiting_for_it(app: TutorApp, sandbox) -> None:
    closing = threading.Event()
    release = threading.Event()

    def slow_close() -> None:  # a server that takes its time to shut down
        closing.set()
        release.wait(10)
        sandbox.closed = True

    sandbox.close = slow_close
    app.core._owns_client = True  # as with the real sandbox, which the core starts and stops
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first_lesson(app, pilot)
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running
    assert closing.wait(5)  # told to stop...
    assert not sandbox.closed  # ...and nobody waited for it
    release.set()


def test_the_core_can_still_wait_for_the_sandbox_to_stop() -> None:
    sandbox = FakeSandbox()
    core = Tutor(sample_lessons(), client=None, client_factory=lambda hide, device: sandbox, device="cpu")
    core.start()
    core.close(wait=True)
    assert sandbox.closed


def test_the_terminal_driver_is_the_quick_one_on_a_real_terminal(app: TutorApp) -> None:
    assert app.driver_class is QuickExitDriver


def test_the_input_thread_wakes_as_soon_as_input_is_disabled() -> None:
    """The stock driver's input thread polls every 0.1 s and sleeps one more poll on the
    way out; this one also waits on the exit event's pipe, so it ends once told to."""
    keys_r, keys_w = os.pipe()
    driver = QuickExitDriver.__new__(QuickExitDriver)
    driver.fileno = keys_r
    driver.exit_event = WakingEvent()
    driver._debug = False
    seen: list[object] = []
    driver.process_message = seen.append  # type: ignore[method-assign]
    thread = threading.Thread(target=driver.run_input_thread)
    thread.start()
    os.write(keys_w, b"a")
    for _ in range(200):
        if seen:
            break
        threading.Event().wait(0.01)
    assert [getattr(event, "key", None) for event in seen] == ["a"]
    driver.exit_event.set()
    thread.join(5)
    assert not thread.is_alive()
    os.write(keys_w, b"b")  # typed after the quit key: left for the shell
    assert os.read(keys_r, 10) == b"b"
    driver.exit_event.clear()
    assert not driver.exit_event.is_set()
    driver.exit_event.close()
    os.close(keys_r)
    os.close(keys_w)


def test_grading_a_missing_file_keeps_the_exercise_not_started(tmp_path) -> None:
    workspace = workspace_at(tmp_path / "ws")
    lessons = sample_lessons()
    [exercise] = lessons.exercises()
    core = Tutor(lessons, workspace, client=FakeSandbox(), grade=fake_grade, device="cpu")
    core.start()
    session = Session(core)
    [report] = session.grade([exercise])
    assert report.status == "error" and "no solution file" in report.message  # nothing handed in
    assert workspace.progress(exercise.id).status == "not started"
    workspace.ensure(exercise)  # the starter: now it is started, and it fails
    [report] = session.grade([exercise])
    assert report.status == "fail"
    assert workspace.progress(exercise.id).status == "failed"


@pytest.mark.parametrize(("total", "tty", "bar"), [(2, True, True), (1, True, False), (5, False, False)])
def test_grade_shows_a_bar_for_more_than_one_exercise_on_a_terminal(total, tty, bar, monkeypatch) -> None:
    monkeypatch.setattr("sys.stderr.isatty", lambda: tty)
    with grade_command._reporter(total, set()) as reporter:
        assert isinstance(reporter, grade_command._Bar) == bar
