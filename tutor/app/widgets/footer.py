"""Textual's footer with the keys' descriptions in the learner's language.

A binding's description is a class attribute, made when its module is imported, which
may be before ``--lang`` is read; so the descriptions are marked where they are written
(:func:`tutor.i18n.N_`) and translated here, when the footer is drawn.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey

from tutor.i18n import N_, _, is_english

#: Textual's own words that a footer shows.
TEXTUAL_WORDS = (N_("palette"),)


class Footer(TextualFooter):
    """The footer of every screen of the app."""

    def compose(self) -> ComposeResult:
        english = is_english()
        for widget in super().compose():
            if not english and isinstance(widget, FooterKey):
                widget.description = _(widget.description)
                if widget.tooltip:
                    widget.tooltip = _(str(widget.tooltip))
            yield widget
