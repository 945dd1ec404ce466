"""Make learner-produced text safe to show in a terminal.

Escape sequences from a snippet could move the cursor, retitle the window or paint
over the TUI, so every string that came out of a child loses them before the front
sees it. The rules are :mod:`tutor.textsafe`'s, the one home of them for every output;
these are the names the sandbox's callers know them by.
"""

from __future__ import annotations

from tutor.textsafe import for_json, for_terminal

#: ``text`` without terminal control sequences (``\\n`` and ``\\t`` kept).
clean_text = for_terminal
#: :func:`clean_text` applied to every string (keys included) inside JSON data.
clean = for_json
