"""The app without a working sandbox: it says so and keeps going."""

from __future__ import annotations

from tutor.app.app import make_app
from tutor.app.screens.lesson import LessonScreen
from tutor.app.widgets.code_cell import CodeCell

from .fakes import fake_grade, sample_lessons, workspace_at


def broken_factory():
    raise ImportError("No module named 'tutor.sandbox.client'")


async def test_a_missing_sandbox_shows_unavailable_and_running_says_why(tmp_path) -> None:
    app = make_app(sample_lessons(), workspace_at(tmp_path), client_factory=broken_factory, grade=fake_grade, device="cpu")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.sub_title == "cpu · sandbox unavailable"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        await pilot.press("enter")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        assert not app.screen.query_one(CodeCell).has_class("-running")
        messages = [n.message for n in app._notifications]
        assert any("No module named 'tutor.sandbox.client'" in m for m in messages)


async def test_auto_device_resolves_once_the_sandbox_is_up(tmp_path) -> None:
    from .fakes import FakeSandbox

    app = make_app(sample_lessons(), workspace_at(tmp_path), FakeSandbox(), grade=fake_grade, device="auto")
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.sub_title.startswith("auto · ")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.sub_title == "cpu · sandbox ready"
