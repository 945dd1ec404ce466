"""A class in the browser (issue 30), in a real headless Chromium: a learner signs in
with their token, opens a lesson, runs a cell and sees its tensor table, edits their
copy of it and reloads to find it there, types in an exercise, reloads the page and
lands where they were with their text kept, checks
with F9 and fails, takes a hint, passes; a wrong token is refused; a second learner
sees none of the first one's work. Screenshots of
each step are kept under the test's tmp_path (shots/)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .browser import Browser, browser_missing, serving
from .conftest import WEB_EXTRA

pytest.importorskip("textual_serve", reason=WEB_EXTRA)
if reason := browser_missing():
    pytest.skip(reason, allow_module_level=True)

from tutor.web.server import ServeOptions, TutorServer  # noqa: E402
from tutor.web.tokens import TokenStore  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
RIGHT = ("grad_fn = type(t.grad_fn).__name__ if t.grad_fn is not None else None\n"
         "    return (tuple(t.shape), t.dtype, t.requires_grad, t.is_leaf, grad_fn)")
pytestmark = pytest.mark.slow


def test_a_class_in_the_browser(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = TokenStore(data)
    alice, bob = store.issue("alice").token, store.issue("bob").token
    server = TutorServer(ServeOptions(data_dir=data, roster=("alice", "bob"), lessons=REPO / "lessons", device="cpu",
                                      app_command=(sys.executable, "-m", "tutor"), shared_sandbox=True))
    shots = tmp_path / "shots"
    shots.mkdir()
    with serving(server) as url:
        first = Browser(shots, "alice")
        try:
            first.sign_in(url, "not-" + alice)
            first.wait_for(lambda: "not valid" in first.driver.page_source, "refusal")
            first.shot("wrong-token")

            first.sign_in(url, alice)
            first.wait_text("What a tensor carries")
            first.wait_text("sandbox ready")
            first.shot("lesson-list")

            first.keys("\ue007")  # enter: open lesson 1
            first.wait_text("R Run all")
            seen = first.mark()
            first.keys("\ue007")  # enter: run the first cell
            first.wait_text("float64", since=seen)
            first.wait_text("(2, 3)", since=seen)
            first.shot("cell-result")

            first.keys("e")  # try it: the learner's own copy of the cell
            first.wait_text("Back to cell")
            first.keys("# tried in the browser")
            first.driver.refresh()  # at once: the copy is kept on the way out
            first.wait_text("What a tensor carries")
            first.wait_text("# tried in the browser")  # back in the lesson, their copy in the cell
            first.shot("lesson-after-reload")

            first.keys("x")  # the lesson's exercise
            first.wait_text("describe")
            first.keys("# my note")
            first.wait_for(lambda: [True, True] in first.guard(), "leave-page guard while unsaved")
            first.wait_for(lambda: first.guard()[-1] == [False, False], "autosave (and the guard lifted)")
            first.keys(" and my unsaved note", "\ue007")  # enter: the note keeps a line of its own
            first.shot("exercise-typed")
            first.driver.refresh()  # at once: the app saves on its way out
            first.wait_text("# my note and my unsaved note")
            first.shot("after-reload")
            answer = data / "learners" / "alice" / "tensor-attributes" / "describe.py"
            assert "# my note and my unsaved note" in answer.read_text()

            seen = first.mark()
            first.keys("\ue039")  # F9: check (ctrl+r would reload the page)
            first.wait_text("✗ Failed", since=seen)
            first.shot("failed")
            seen = first.mark()
            first.keys("\ue009g")  # ctrl+g: the next hint (a page may take it from the browser's find-next)
            first.wait_text("Hint 1 of", since=seen)
            first.shot("hint")
            seen = first.mark()
            answer.write_text(answer.read_text().replace("return (t.shape, t.dtype, False, True, None)", RIGHT))
            first.wait_text("✓ Passed", since=seen)  # saved from another editor: reloaded and checked
            first.shot("passed")
        finally:
            first.close()

        second = Browser(shots, "bob")
        try:
            second.sign_in(url, bob)
            second.wait_text("What a tensor carries")
            second.shot("second-learner")
            second.wait_text("0/1 passed")
            zip_names = second.driver.execute_async_script("""
                const done = arguments[0];
                fetch("workspace.zip").then(r => r.arrayBuffer()).then(b => done(new TextDecoder("latin1").decode(b)));
            """)
            assert "describe.py" not in zip_names and "my unsaved note" not in second.screen_text()
        finally:
            second.close()
    assert not (data / "learners" / "bob" / "tensor-attributes").exists()
    assert len(list(shots.glob("*.png"))) >= 6
