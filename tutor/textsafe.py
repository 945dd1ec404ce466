"""Text from a hand-in is data, never layout: one sanitiser for every place it is shown.

A folder name, an exception's type name or message, or a program's output is written by
whoever handed the work in. Printed or written as it is, it could forge lines (a name
holding ``\\nGRADED zed  7/7``), drive the terminal (escape sequences), reorder what a
reader sees (bidi controls), run a CI log command (``::notice::``), turn a spreadsheet
cell into a formula (``=HYPERLINK(...)``), or make a report unparseable (U+FFFF in XML, a
lone surrogate in JSON). Each function here makes text safe for one target; every output
format calls the one for its target, so the rules live in one place:

- :func:`for_terminal`: text of many lines for a terminal (run output, a message).
- :func:`for_terminal_line`: one field of one line for a terminal or a CI log (a name).
- :func:`for_log`: text of many lines for a CI log (a GitHub Actions step's output).
- :func:`for_xml` / :func:`for_xml_line`: element text / an attribute in XML 1.0 (JUnit).
- :func:`for_csv_cell`: a spreadsheet cell that is never a formula.
- :func:`for_markdown`: one line of inert Markdown (a GitHub job summary's table cell).
- :func:`for_json`: every string inside JSON data (reports, Gradescope, PrairieLearn).
"""

from __future__ import annotations

import re
from typing import TypeVar, cast

T = TypeVar("T")

# Escape sequences: CSI/OSC/DCS.../two-byte, 7- and 8-bit. They could move the cursor,
# retitle the window or paint over the TUI.
_ESCAPES = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]            # CSI ... final byte
    | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)? # OSC ... BEL or ST
    | \x1b[PX^_][^\x1b]*(?:\x1b\\)?      # DCS, SOS, PM, APC ... ST
    | \x1b[ -/]*[0-~]?                   # other two-byte escapes, or a lone ESC
    | \x9b[0-?]*[ -/]*[@-~]              # 8-bit CSI
    """,
    re.VERBOSE,
)
# C0 controls but tab and newline, DEL, C1; and the bidi controls, which reorder what a
# reader sees (U+202E before "gnp.exe" shows "exe.png"): LRE..RLO, LRI..PDI, LRM, RLM, ALM.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
# Lone surrogates cannot be encoded; U+FFFE and U+FFFF are no characters at all (and
# make an XML file unparseable): each becomes U+FFFD.
_NOT_TEXT = re.compile("[\ud800-\udfff\ufffe\uffff]")
# Unicode's own line breaks, which str.splitlines and many viewers honour.
_LINE_SEPARATORS = re.compile("[\u2028\u2029]")
# GitHub's runner reads a workflow command (``::notice::``, ``::add-mask::``) from a line
# that starts with ``::`` after any Unicode white space (.NET's TrimStart), and a legacy
# one (``##[set-output ...]``) from ``##[`` anywhere in a line.
_LOG_COMMAND = re.compile(r"^([^\S\n]*)::", re.MULTILINE)
_LEGACY_LOG_COMMAND = "##["
# Not XML 1.0 characters (surrogates, U+FFFE and U+FFFF are already U+FFFD by then).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# A spreadsheet reads a cell that starts with one of these as a formula (full-width
# forms included: some spreadsheets fold them).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Markdown's ASCII punctuation: each may be backslash-escaped (CommonMark 2.4), which
# leaves it a literal character.
_MARKDOWN_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")

#: What a line break inside a one-line field shows as.
LINE_BREAK = "\\n"


def for_terminal(text: str) -> str:
    """``text`` of many lines, safe to print on a terminal: no escape sequences, no
    control characters but newline and tab, no bidi controls; carriage returns and
    Unicode line separators become newlines (progress bars stay readable); a lone
    surrogate (``\\udc80``, from JSON escapes or ``surrogateescape``), U+FFFE and U+FFFF
    become U+FFFD, so the text encodes to UTF-8 and fits in XML."""
    if text.isprintable():  # the common case, fast: False for every character below, and newline
        return text
    text = _NOT_TEXT.sub("\ufffd", text)
    text = _LINE_SEPARATORS.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def _disarm_log_commands(text: str) -> str:
    return _LOG_COMMAND.sub(r"\1\\::", text).replace(_LEGACY_LOG_COMMAND, "##\\[")


def for_log(text: str) -> str:
    """``text`` of many lines for a CI log: :func:`for_terminal`, and no line holds a
    GitHub Actions workflow command (a backslash goes before a line's leading ``::``, and
    into every ``##[``). Its ``%0A`` escapes mean something only inside a command, so
    none is left to decode."""
    return _disarm_log_commands(for_terminal(text))


def for_terminal_line(text: str) -> str:
    """One field of one line (a student's folder name, an exception's type name, a
    one-line message), safe on a terminal and in a CI log: :func:`for_log`, with each
    line break shown as a visible ``\\n`` and tabs as spaces, so the field can never
    start a line of its own."""
    return for_log(text).replace("\n", LINE_BREAK).replace("\t", " ")


def for_xml(text: str) -> str:
    """Element text for an XML 1.0 file (JUnit): :func:`for_log` (a CI server shows it
    in logs), then only the characters XML 1.0 allows (no C0 controls, U+FFFE, U+FFFF);
    a parser reads the file back. Markup characters are the XML writer's to escape."""
    return _NOT_XML.sub("\ufffd", for_log(text))


def for_xml_line(text: str) -> str:
    """An XML attribute that is one field of one line (a test's name, a failure's
    message): :func:`for_terminal_line`, XML-valid."""
    return _NOT_XML.sub("\ufffd", for_terminal_line(text))


def for_csv_cell(text: str) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs: one line
    (:func:`for_terminal_line`), and a cell that would start a formula (``=``, ``+``,
    ``-``, ``@``, tab, carriage return) gets a leading ``'``, as OWASP advises. Quoting
    is the CSV writer's (``csv.writer``)."""
    text = for_terminal_line(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def for_markdown(text: str) -> str:
    """One line of Markdown that renders as the text itself (a GitHub job summary's
    table cell): :func:`for_terminal_line`, then every ASCII punctuation character
    backslash-escaped, so no link, image, HTML tag, emphasis, heading, code span or
    table column can start in it."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", for_terminal_line(text))


def for_json(value: T) -> T:
    """Every string in JSON data (keys included) made :func:`for_terminal`-safe, so the
    report is valid UTF-8 JSON with no lone surrogate, and whoever prints a field prints
    no escape sequence; the data keeps its shape. A one-line field (a name) is the
    caller's to pass through :func:`for_terminal_line` first."""
    if isinstance(value, str):
        return cast(T, for_terminal(value))
    if isinstance(value, list):
        return cast(T, [for_json(v) for v in value])
    if isinstance(value, tuple):
        return cast(T, tuple(for_json(v) for v in value))
    if isinstance(value, dict):
        return cast(T, {for_terminal(k) if isinstance(k, str) else k: for_json(v) for k, v in value.items()})
    return value
