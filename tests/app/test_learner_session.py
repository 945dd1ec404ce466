"""The learner's day through :class:`tutor.session.Session` alone: a plain-text front of
a few dozen lines gets every rule (check and record, hints, the next exercise, the
solution, resume) from the session, as the TUI and `tutor watch` do."""

from __future__ import annotations

from pathlib import Path

from tutor.core import Tutor
from tutor.lessons import Exercise, load_lessons
from tutor.session import Event, HintShown, LessonPlace, Notice, ProgressChanged, SandboxChanged, Session
from tutor.workspace import Workspace

from .fakes import LESSONS_DIR, FakeSandbox, fake_grade


class PlainFront:
    """A whole front: prints what the session tells it and forwards the learner's keys."""

    def __init__(self, session: Session) -> None:
        self.session, self.lines = session, []
        session.subscribe(self.hear)
        session.start_sandbox()
        place = session.resume()
        self.exercise: Exercise = place if isinstance(place, Exercise) else session.exercise_to_work_on()
        self.open(self.exercise)

    def hear(self, event: Event) -> None:
        if isinstance(event, SandboxChanged):
            self.lines.append(f"sandbox {event.state} on {event.device}")
        elif isinstance(event, HintShown):
            self.lines.append(f"hint {event.number}/{event.total}: {event.text}")
        elif isinstance(event, ProgressChanged):
            self.lines.append(f"recorded {event.exercise_id}: {self.session.state(self.exercise).label}")
        elif isinstance(event, Notice):
            self.lines.append(f"! {event.message}")

    def open(self, exercise: Exercise) -> None:
        self.exercise = exercise
        self.session.visit(exercise)
        self.lines.append(f"open {exercise.id}: {self.session.open_exercise(exercise).splitlines()[-1].strip()}")

    def type_and_check(self, source: str) -> None:
        self.session.save(self.exercise, source)
        report = self.session.check(self.exercise, source)
        self.lines.append(f"{report.status} {self.exercise.id}")
        if report.status == "pass":
            upcoming = self.session.next_exercise(self.exercise)
            self.lines.append(f"solution: {'open' if self.session.solution_unlocked(self.exercise) else 'locked'}")
            if upcoming is not None:
                self.open(upcoming)

    def hint(self) -> None:
        self.session.next_hint(self.exercise)


def test_a_learner_fails_takes_a_hint_passes_moves_on_and_resumes_after_a_restart(tmp_path: Path) -> None:
    root = tmp_path / "lessons"
    root.mkdir()
    first = (LESSONS_DIR / "01-first-steps.md").read_text()
    (root / "01-first-steps.md").write_text(first)
    (root / "02-more.md").write_text(first.replace('id = "first-steps"', 'id = "more"').replace("order = 1", "order = 2")
                                     .replace("{#add-row}", "{#add-again}"))
    lessons = load_lessons([root])

    def start() -> PlainFront:
        core = Tutor(lessons, Workspace(tmp_path / "ws", lessons), client=FakeSandbox(), grade=fake_grade, device="cpu")
        return PlainFront(Session(core))

    front = start()
    assert front.lines == ["sandbox ready on cpu", "open first-steps/add-row: return m"]  # the starter's last line
    assert not front.session.solution_unlocked(front.exercise)

    front.type_and_check("def add_row(m, r):\n    return m\n")
    front.hint()
    front.type_and_check("def add_row(m, r):\n    return m + r\n")
    assert front.lines[2:] == [
        "recorded first-steps/add-row: failed", "fail first-steps/add-row",
        "hint 1/2: Shapes (3, 4) and (4,) broadcast.",
        "recorded first-steps/add-row: passed", "pass first-steps/add-row",
        "solution: open", "open more/add-again: return m",
    ]

    again = start()  # a restart: the same workspace, a new process's session
    assert again.exercise.id == "more/add-again"  # where the learner left off
    assert again.session.hints_shown(lessons.resolve("first-steps/add-row")) == 1
    assert again.session.solution_unlocked(lessons.resolve("first-steps/add-row"))
    place = again.session.resume()
    assert place == lessons.resolve("more/add-again") and not isinstance(place, LessonPlace)


class DyingSandbox(FakeSandbox):
    """A sandbox whose server dies after it started, and tells, as the real client does."""

    def on_state_change(self, listener) -> None:
        self.tell = listener

    def die(self) -> None:
        self.state = "dead"
        self.tell()


async def test_a_sandbox_that_dies_is_told_to_the_front_without_polling(tmp_path: Path) -> None:
    from tutor.app.app import make_app

    sandbox = DyingSandbox()
    app = make_app(load_lessons([LESSONS_DIR]), Workspace(tmp_path / "ws", load_lessons([LESSONS_DIR])), sandbox,
                   grade=fake_grade, device="cpu")
    heard: list[Event] = []
    async with app.run_test() as pilot:
        app.session.subscribe(heard.append)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.sub_title == "cpu · sandbox ready"
        heard.clear()
        sandbox.die()  # nothing polls: the client's word is the only way the app can know
        await pilot.pause()
        assert heard == [SandboxChanged("dead", "cpu")]
        assert app.sub_title == "cpu · sandbox dead"
