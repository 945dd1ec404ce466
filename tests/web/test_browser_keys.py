"""The app as a browser page runs it (TUTOR_FRONT=web): F9 checks and F8 resets where
the terminal uses ctrl+r and ctrl+t (keys a browser keeps for itself), the footer and
the help say so, and the editor is saved as the learner types and when the app ends."""

from __future__ import annotations

from pathlib import Path

from app.fakes import FakeSandbox, fake_grade, sample_lessons, workspace_at  # tests/app's fakes
from textual.widgets import Footer, TextArea

from tutor.app.app import make_app
from tutor.app.browser import BrowserTutorApp, browser_help
from tutor.app.screens.dialogs import HELP, HelpDialog
from tutor.app.screens.exercise import ExerciseScreen
from tutor.app.widgets.check_report import CheckReport


def browser_app(root: Path) -> BrowserTutorApp:
    app = make_app(sample_lessons(), workspace_at(root), FakeSandbox(), grade=fake_grade, device="cpu", watch_interval=0.05)
    return BrowserTutorApp(app.session, watch_interval=0.05)


async def open_exercise(app: BrowserTutorApp, pilot) -> ExerciseScreen:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.press("down", "enter")
    await pilot.pause()
    assert isinstance(app.screen, ExerciseScreen)
    return app.screen


def footer_keys(app: BrowserTutorApp) -> str:
    footer = app.screen.query_one(Footer)
    return " ".join(str(key.render()) for key in footer.query("FooterKey"))


async def test_f9_checks_and_the_footer_shows_it(tmp_path: Path) -> None:
    app = browser_app(tmp_path / "ws")
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_exercise(app, pilot)
        assert "F9" in footer_keys(app) and "F8" in footer_keys(app)
        assert "^r" not in footer_keys(app)
        await pilot.press("f9")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.query_one(CheckReport).report is not None  # checked
        assert screen.query_one(CheckReport).report.status == "fail"

        await pilot.press("f8")  # reset asks first
        await pilot.pause()
        assert "Put the starter back" in str(app.screen.query_one(".message").render())


async def test_the_help_names_the_browser_keys(tmp_path: Path) -> None:
    app = browser_app(tmp_path / "ws")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpDialog)
        text = str(app.screen.query_one(".message").render())
        assert "F9           save and check" in text
        assert "ctrl+r" not in text.split("In the browser", 1)[1].split("\n\n", 1)[1]
    assert browser_help().count("F9") == HELP.count("ctrl+r") + 1


async def test_typed_text_is_saved_as_it_goes_and_when_the_app_ends(tmp_path: Path) -> None:
    app = browser_app(tmp_path / "ws")
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_exercise(app, pilot)
        path = screen.path
        editor = screen.query_one("#editor", TextArea)
        editor.insert("# first\n")
        await pilot.pause()
        assert app.autosave_pending and app._unsaved
        app.save_editor()  # what the timer calls once typing stops
        assert "# first" in path.read_text()
        assert not app.autosave_pending and not app._unsaved
        assert not editor.has_class("-modified")

        editor.insert("# last words\n")
        await pilot.pause()
        assert "# last words" not in path.read_text()  # not yet: the page then asks before leaving
        assert app._unsaved
        app.exit()  # what the server's quit does when the page goes away
    assert "# last words" in path.read_text()
