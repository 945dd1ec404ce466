"""The app as ``tutor serve`` runs it in a browser page (``TUTOR_FRONT=web``).

A browser keeps some keys for itself: ctrl+r and F5 reload the page, ctrl+t opens a
tab, ctrl+w closes one, ctrl+n opens a window. The app's check and run key is ctrl+r
and its reset key ctrl+t, so here F9 and F8 do the same, and the footer and the help
say so. A page can also be closed or reloaded at any moment: the exercise editor is
saved a moment after typing stops and when the app ends, and the page is told when
unsaved text exists so it can ask before leaving.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Static, TextArea

from tutor.app.app import TutorApp
from tutor.app.screens.dialogs import HELP, HelpDialog
from tutor.app.screens.exercise import ExerciseScreen
from tutor.i18n import _

#: The browser's key -> the app's key it stands for.
BROWSER_KEYS = {"f9": "ctrl+r", "f8": "ctrl+t"}
SHOWN_AS = {app_key: browser_key.upper() for browser_key, app_key in BROWSER_KEYS.items()}
AUTOSAVE_DELAY = 0.4
#: The driver meta packet the server passes on to the page (tutor.web.server.UNSAVED_META).
UNSAVED_META = "tutor_unsaved"


def browser_help(text: str | None = None) -> str:
    """The help text (default: the app's, in the learner's language) with the browser's
    keys in place of the ones a browser keeps."""
    text = _(HELP) if text is None else text

    def swap(match: re.Match[str]) -> str:
        shown = SHOWN_AS[match[1]]
        return shown + " " * (len(match[0]) - len(shown)) if match[2] else shown

    text = re.sub(r"(ctrl\+[rt])(  +)?", swap, text)
    note = _("In the browser\n"
             "  F9           check (exercise) or run (tried cell): ctrl+r reloads the page\n"
             "  F8           reset / restore: ctrl+t opens a tab\n"
             "  Your editor is saved as you type.\n\n")
    return note + text


class BrowserHelpDialog(HelpDialog):
    def body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(browser_help()), classes="message")


class BrowserTutorApp(TutorApp):
    """``TutorApp`` with keys a browser passes through and an editor saved as it goes."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._autosave: Timer | None = None
        self._unsaved = False
        #: Seconds after the last keystroke before the editor is saved.
        self.autosave_delay = AUTOSAVE_DELAY

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and event.key in BROWSER_KEYS:
            key = BROWSER_KEYS[event.key]
            event = events.Key(key, chr(ord(key[-1]) - ord("a") + 1))
        await super().on_event(event)

    def get_key_display(self, binding: Binding) -> str:
        if binding.key in SHOWN_AS:
            return SHOWN_AS[binding.key]
        return super().get_key_display(binding)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpDialog):
            self.push_screen(BrowserHelpDialog())

    # -- the editor, saved as it goes ---------------------------------------------

    @on(TextArea.Changed, "#editor")
    def _editor_changed(self) -> None:
        self._tell_unsaved(self._editor_unsaved())
        if self._autosave is not None:
            self._autosave.stop()
        self._autosave = self.set_timer(self.autosave_delay, self.save_editor)

    def _exercise_screen(self) -> ExerciseScreen | None:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ExerciseScreen):
                return screen
        return None

    def _editor_unsaved(self) -> bool:
        screen = self._exercise_screen()
        # The screen marks its editor -modified when the text differs from the file's.
        return screen is not None and screen.is_mounted and screen.editor.has_class("-modified")

    @property
    def autosave_pending(self) -> bool:
        """Whether a save waits for typing to stop."""
        return self._autosave is not None

    def save_editor(self) -> None:
        """Save the exercise editor if it holds unsaved text."""
        self._autosave = None
        screen = self._exercise_screen()
        if screen is not None and self._editor_unsaved():
            screen.action_save()
        self._tell_unsaved(self._editor_unsaved())

    def _tell_unsaved(self, unsaved: bool) -> None:
        if unsaved == self._unsaved:
            return
        self._unsaved = unsaved
        driver = self._driver
        if driver is not None and driver.is_web:
            driver.write_meta({"type": UNSAVED_META, "unsaved": unsaved})  # type: ignore[attr-defined]

    def on_exit_app(self) -> None:
        """The page closed or reloaded (the server's quit), or the learner quit: keep
        what was typed. Runs before Textual's own handler closes the screens."""
        self.save_editor()
