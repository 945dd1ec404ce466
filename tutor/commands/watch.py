"""``tutor watch [ID]``: work in your own editor; tutor checks every save.

Rustlings' watch mode: one warm sandbox for the whole session; the screen shows the
current exercise (its prompt, its file, the verdict of the last check, the last hint
asked for); every save of that file in the workspace is checked at once, and a pass
moves on to the next exercise not passed yet. Keys: ``h`` the next hint, ``l`` the
list of lessons and exercises, ``q`` quit; the arrows (or j k), PageUp/PageDown (or
space) and Home/End scroll a prompt longer than the screen, whole, never cut.

Plain ANSI over rich and termios, no Textual: it works over SSH and in any terminal of
80x24. The file and the verdict stay at the bottom; the prompt and the hint scroll
above them. :class:`WatchView` is the whole front without a terminal; :func:`main`
only draws it and reads keys.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import select
import shutil
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tutor import present as fmt
from tutor.commands.common import existing_workspace, lessons_from, start_tutor
from tutor.core import Tutor
from tutor.errors import TutorError
from tutor.grading.results import ExerciseReport
from tutor.i18n import N_, _
from tutor.lessons import Exercise
from tutor.session import Session
from tutor.session.status import MARKS
from tutor.stamps import FileStamp, file_stamp

if TYPE_CHECKING:
    from rich.text import Text

    from tutor.workspace import Workspace

#: Seconds between two looks at the exercise file (and at the keyboard).
POLL_SECONDS = 0.2
KEYS_LINE = N_("h hint · l list · q quit")
LIST_KEYS_LINE = N_("↑↓ j k choose · enter open · l back · q quit")
#: Arrow keys as terminals send them, read as the list's j and k; the paging keys as
#: names (xterm, VT220 and rxvt spellings of Home and End).
ARROWS = {"\x1b[A": "k", "\x1bOA": "k", "\x1b[B": "j", "\x1bOB": "j",
          "\x1b[5~": "pageup", "\x1b[6~": "pagedown", " ": "pagedown",
          "\x1b[H": "home", "\x1bOH": "home", "\x1b[1~": "home", "\x1b[7~": "home",
          "\x1b[F": "end", "\x1bOF": "end", "\x1b[4~": "end", "\x1b[8~": "end"}


#: Keys that scroll the prompt (after ARROWS has named them).
SCROLL_KEYS = frozenset({"j", "k", "pageup", "pagedown", "home", "end"})
#: A scroll past any end: the drawing clamps it to the last page (a new hint's).
HINT_SCROLL = 1 << 30


@dataclass(frozen=True)
class Line:
    """One screen row: text and a rich style."""

    text: str
    style: str = ""


class WatchView:
    """The watch front over a learner :class:`Session`: the current exercise, its last
    verdict and what the learner asked for; no terminal. :meth:`poll` checks the file
    when it changed, :meth:`key` handles a key. Every rule (recording, the next
    exercise, hints) is the session's."""

    def __init__(self, session: Session, exercise: Exercise) -> None:
        self.session = session
        self.workspace: Workspace = session.workspace
        self.exercise = exercise
        self.report: ExerciseReport | None = None
        self.hint: tuple[int, str] | None = None
        #: A line about what just happened ("passed: moving on"), shown once.
        self.note: str = ""
        #: "exercise" or "list".
        self.view = "exercise"
        #: A check is running (the screen says so).
        self.checking = False
        #: The exercise the list's cursor is on, and the next lesson's exercise that a
        #: pass offers (``n`` goes there) instead of moving into a lesson not yet read.
        self.chosen: Exercise = exercise
        self.offered: Exercise | None = None
        #: The first row of the prompt (and hint) shown, and how many rows they had
        #: and were shown at the last drawing: what the scrolling keys move.
        self.scroll = 0
        self._reading_rows = 0
        self._window = 10
        self._graded_text: str | None = None
        self._signature: FileStamp | None = None
        self._open(exercise)

    # -- the exercise ---------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self.session.path_for(self.exercise)

    def _open(self, exercise: Exercise) -> None:
        self.exercise = exercise
        self.report = None
        self.hint = None
        self.scroll = 0
        self._graded_text = None
        with contextlib.suppress(TutorError):
            self.session.open_exercise(exercise)  # the starter, if there is no file yet
        self.session.visit(exercise)
        self._signature = file_stamp(self.path)

    def pending(self) -> str | None:
        """The file's text if it changed since the last look and differs from what was
        checked last (an editor may save the same text twice); else ``None``."""
        signature = file_stamp(self.path)
        if signature == self._signature:
            return None
        self._signature = signature
        try:
            text = self.session.read(self.exercise)
        except TutorError as exc:
            self.note = exc.msg
            return None
        return None if text == self._graded_text else text

    def poll(self) -> bool:
        """Check the file if it changed since the last look; True if it was checked."""
        text = self.pending()
        if text is None:
            return False
        self.check(text)
        return True

    def check(self, text: str | None = None, *, first: bool = False) -> ExerciseReport:
        """Check the file (or ``text``) as the app does. A verdict on a save is recorded
        and a pass moves on; the ``first`` look at a file only shows where it stands."""
        if text is None:
            text = self.session.read(self.exercise)
        self._graded_text = text
        self.note = ""
        self.report = report = self.session.check(self.exercise, text, record=not first)
        if not first and report.status == "pass":
            self._move_on()
        return report

    def _move_on(self) -> None:
        """After a pass: on to the next exercise not passed; one in another lesson is
        offered (``n``), since the learner may not have read that lesson yet."""
        passed = self.exercise
        upcoming = self.session.next_exercise(passed)
        if upcoming is None:
            self.note = "✓ " + _("{id} passes, and so does every exercise. Well done!").format(id=passed.id)
            return
        if upcoming.lesson_id != passed.lesson_id:
            self.offered = upcoming
            title = self.session.lessons.lesson(upcoming.lesson_id).title
            self.note = "✓ " + _("{id} passes. Next: {next}, in the lesson \"{title}\": n goes on to it.").format(
                id=passed.id, next=upcoming.id, title=title)
            return
        self.go_to(upcoming)
        self.note = "✓ " + _("{id} passes. On to the next one.").format(id=passed.id)

    def go_to(self, exercise: Exercise) -> None:
        """Watch ``exercise`` from now on, showing where its file stands."""
        self._open(exercise)
        self.chosen, self.offered, self.view = exercise, None, "exercise"
        with contextlib.suppress(TutorError):
            self.check(first=True)  # usually its starter's verdict

    # -- keys -----------------------------------------------------------------------

    def key(self, key: str) -> bool:
        """Handle one key; False when the learner quits."""
        if key == "q":
            return False
        key = ARROWS.get(key, key)
        if key == "n" and self.offered is not None:
            self.go_to(self.offered)
            return True
        self.note = ""
        if key == "l":
            self.view = "list" if self.view == "exercise" else "exercise"
            self.chosen = self.exercise
        elif key == "\x1b":
            self.view = "exercise"
        elif self.view == "list" and key in ("j", "k"):
            exercises = self.session.lessons.exercises()
            at = exercises.index(self.chosen) if self.chosen in exercises else 0
            self.chosen = exercises[max(0, min(len(exercises) - 1, at + (1 if key == "j" else -1)))]
        elif self.view == "list" and key in ("\r", "\n"):
            if self.chosen != self.exercise:
                self.go_to(self.chosen)
            self.view = "exercise"
        elif self.view == "exercise" and key in SCROLL_KEYS:
            self._scroll(key)
        elif key == "h":
            self.view = "exercise"
            if not self.exercise.hints:
                self.note = _("This exercise has no hints.")
            else:
                with contextlib.suppress(TutorError):
                    shown = self.session.next_hint(self.exercise)
                    self.hint = (shown.number, shown.text)
                    self.scroll = HINT_SCROLL  # the hint just asked for is in view
        return True

    def _scroll(self, key: str) -> None:
        page = max(1, self._window - 1)  # a page keeps one row of the last in view
        step = {"j": 1, "k": -1, "pagedown": page, "pageup": -page, "home": -self._reading_rows,
                "end": self._reading_rows}[key]
        self.scroll = max(0, min(self.scroll + step, self._reading_rows - self._window))

    # -- the screen -------------------------------------------------------------------

    def lines(self, width: int, height: int) -> list[Line]:
        """The screen as rows of at most ``width`` columns, cut to ``height`` rows; the
        keys are always on the last row."""
        room = max(0, height - 2)
        body = self._list_lines(width, room) if self.view == "list" else self._exercise_lines(width, room)
        exercises = self.session.lessons.exercises()
        position = exercises.index(self.exercise) + 1 if self.exercise in exercises else 0
        passed = self.session.board().count_passed(exercises)
        head = Line(_fit(fmt.sep().join(("tutor watch", _("{id} ({n} of {total})").format(id=self.exercise.id, n=position, total=len(exercises)),
                                         _("{n} passed").format(n=passed))), width), "bold")
        if len(body) > room:
            body = body[: max(0, room - 1)] + [Line(fmt.narrow("…"), "dim")]
        keys = _(LIST_KEYS_LINE if self.view == "list" else KEYS_LINE)
        if self.view == "exercise" and self._reading_rows > self._window:
            first, last = self.scroll + 1, self.scroll + self._window
            keys = _("↑↓ PgUp PgDn: prompt {first}-{last} of {total}").format(first=first, last=last, total=self._reading_rows) + fmt.sep() + keys
        return [head, *body, *([Line("")] * (room - len(body))), Line(_fit(keys, width), "reverse")]

    def _exercise_lines(self, width: int, room: int) -> list[Line]:
        """Title, prompt and hint, then the file and the verdict at the bottom; the
        prompt and hint get the rows left over and scroll in them, never cut."""
        exercise = self.exercise
        from rich.cells import cell_len

        file_label = _("file: ")
        tail = [Line(""), Line(file_label + _short_path(self.path, width - cell_len(file_label)), "dim"),
                Line(_fit(_("save it in your editor and it is checked here"), width), "dim"), Line("")]
        if self.note:
            tail += _wrap(self.note, width, style="green" if self.note.startswith("✓") else "yellow", limit=2)
        tail += self._verdict_lines(width)
        reading = _wrap(fmt.plain_text(exercise.prompt.strip()), width)
        if self.hint is not None:
            number, text = self.hint
            reading += [Line(""), *_wrap(_("hint {n} of {total}: ").format(n=number, total=len(exercise.hints)) + fmt.plain_text(text), width,
                                         style="yellow")]
        window = max(3, room - 1 - len(tail))
        self._reading_rows, self._window = len(reading), window
        self.scroll = max(0, min(self.scroll, len(reading) - window))
        shown = reading[self.scroll:self.scroll + window]
        return [Line(_fit(exercise.title, width), "bold cyan"), *shown, *([Line("")] * (window - len(shown))), *tail]

    def _verdict_lines(self, width: int) -> list[Line]:
        report = self.report
        if self.checking:
            return [Line(fmt.narrow(_("checking…")), "yellow")]
        if report is None:
            return [Line(fmt.narrow(_("waiting for a save…")), "dim")]
        ran = [c for c in report.checks if c.status != "hidden"]
        passed = sum(1 for c in ran if c.status == "pass")
        if report.status == "pass":
            return [Line(_fit("✓ " + _("{n} of {checks} pass").format(n=passed, checks=fmt.count(len(ran), "check")), width), "green")]
        if report.status == "error" and not ran:
            return _wrap("! " + _("could not check: {message}").format(message=fmt.judge_words(report.message)), width, style="red", limit=4)
        out = [Line(_fit("✗ " + _("{n} of {checks} pass").format(n=passed, checks=fmt.count(len(ran), "check")), width), "red")]
        for check in ran:
            if check.status != "pass":
                message = fmt.check_summary(check.message, check.details)
                out += _wrap(f"{check.name}: {message}", width, style="red", indent="  ", limit=4)
                break
        if report.output:
            out += _wrap(_("output: ") + report.output.strip(), width, style="dim", limit=2)
        return out

    def _list_lines(self, width: int, room: int) -> list[Line]:
        """Every lesson with its count; the exercises of the lesson the cursor is in,
        the chosen one shown reversed (enter opens it)."""
        board = self.session.board()
        out: list[Line] = []
        current = 0
        for lesson in self.session.lessons.lessons:
            exercises = list(lesson.exercises)
            if not exercises:
                continue
            done = board.count_passed(exercises)
            out.append(Line(_fit(f"{lesson.order:>2}. {lesson.title}  {done}/{len(exercises)}", width),
                            "green" if done == len(exercises) else ""))
            if self.chosen in exercises:
                for exercise in exercises:
                    status = board.status(exercise)
                    here = exercise.id == self.exercise.id
                    chosen = exercise.id == self.chosen.id
                    if chosen:
                        current = len(out)
                    style = "reverse" if chosen else "bold" if here else "dim"
                    out.append(Line(_fit(f"    {fmt.narrow(MARKS[status])} {exercise.id}  {fmt.status_word(status)}"
                                         + (fmt.narrow(_("  ◀ watching")) if here else ""), width), style))
        if len(out) > room:  # keep the current exercise in view
            start = max(0, min(current - room // 2, len(out) - room))
            out = out[start:start + room]
        return out


def _short_path(path: Path, width: int) -> str:
    """``path`` as the learner would type it (relative to here, or from ~), its end
    kept when it must be cut: the file's name is the part that matters."""
    text = str(path)
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        with contextlib.suppress(ValueError):
            text = prefix + str(path.relative_to(base))
            break
    from rich.cells import cell_len

    if cell_len(text) <= width:
        return text
    mark = fmt.narrow("…")
    room = max(0, width - cell_len(mark))
    while text and cell_len(text) > room:  # a path is short: character by character is cheap
        text = text[1:]
    return mark + text


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells (a CJK character takes two), ending in "…" if cut."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) <= width:
        return text
    mark = fmt.narrow("…")
    return set_cell_size(text, max(0, width - cell_len(mark))).rstrip(" ") + mark


def _wrap_cells(paragraph: str, room: int, indent: str) -> list[str]:
    """``paragraph`` in rows of ``room`` cells, broken at spaces and between two CJK
    characters (Chinese has no spaces; each character takes two cells), never before a
    closing mark (the words of :data:`tutor.present.CJK_WORD`)."""
    from rich.cells import cell_len

    rows: list[str] = []
    row = ""
    for found in fmt.CJK_WORD.finditer(" ".join(paragraph.split())):
        word = found.group()
        if cell_len((row + word).rstrip()) <= room:
            row += word
            continue
        if row.strip():
            rows.append(row.rstrip())
        row = word.lstrip()
        while cell_len(row.rstrip()) > room:  # a word wider than a row
            n = fmt.chars_within(row, 0, room)
            rows.append(row[:n])
            row = row[n:]
    if row.strip() or not rows:
        rows.append(row.rstrip())
    return [indent + r for r in rows]


def _paragraphs(text: str) -> list[str]:
    """Markdown-ish text as paragraphs to wrap: the lines of a paragraph joined, each
    list item and each line of a code block on its own."""
    out: list[str] = []
    in_code = False
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.lstrip().startswith("```"):
            in_code = not in_code
            if not in_code:
                out.append("")  # what follows a code block is a paragraph of its own
            continue
        if in_code or not line.strip():
            out.append(line if in_code else "")
            continue
        starts_item = bool(re.match(r"\s*([-*+]|\d+[.)])\s", line))
        if out and out[-1] and not starts_item and not in_code:
            out[-1] += " " + line.strip()
        else:
            out.append(line.strip() if not starts_item else line)
    while out and not out[-1]:
        out.pop()
    return out or [""]


def _wrap(text: str, width: int, *, style: str = "", indent: str = "", limit: int | None = None) -> list[Line]:
    """Paragraphs reflowed to ``width``; at most ``limit`` rows, the last one ending "…"."""
    rows: list[str] = []
    for paragraph in _paragraphs(text):
        if paragraph.isascii():
            rows += textwrap.wrap(paragraph, width=max(10, width - len(indent)), initial_indent=indent,
                                  subsequent_indent=indent) or [""]
        else:
            rows += _wrap_cells(paragraph, max(10, width - len(indent)), indent)
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        rows[-1] = _fit(rows[-1] + " " + fmt.narrow("…"), width)
    return [Line(row, style) for row in rows]


# --- the terminal --------------------------------------------------------------------


@contextlib.contextmanager
def _keys() -> Iterator[int | None]:
    """The keyboard in cbreak mode (a key at a time, ctrl+c still interrupts); ``None``
    when stdin is not a terminal."""
    if not sys.stdin.isatty():
        yield None
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield fd
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _split_keys(typed: str) -> list[str]:
    """What a read of the keyboard holds, key by key: an arrow's or a paging key's
    escape sequence is one key."""
    return re.findall(r"\x1b\[[0-9]+~|\x1b[\[O][A-DHF]|.", typed, re.DOTALL)


def _draw(session: WatchView) -> None:
    from rich.console import Console
    from rich.text import Text

    size = shutil.get_terminal_size((80, 24))
    console = Console(highlight=False, width=size.columns)
    text: Text = Text("\n").join(Text(line.text, style=line.style) for line in session.lines(size.columns, size.lines))
    sys.stdout.write("\x1b[H\x1b[2J")  # home, clear: any ANSI terminal
    console.print(text, end="", soft_wrap=True)
    sys.stdout.flush()


def main(args: argparse.Namespace) -> int:
    lessons = lessons_from(args)
    workspace = existing_workspace(args, lessons)
    # The sandbox starts after the learner is told which exercise: it takes a second.
    exercise = Session(Tutor(lessons, workspace)).exercise_to_work_on(getattr(args, "id", None))
    print("tutor watch: " + fmt.narrow(_("starting the sandbox for {id}…")).format(id=exercise.id), flush=True)
    with start_tutor(lessons, args, workspace) as core:
        view = WatchView(Session(core), exercise)
        with contextlib.suppress(TutorError):
            view.check(first=True)  # where the file stands now
        return _loop(view)


def _loop(session: WatchView) -> int:
    size = None
    sys.stdout.write("\x1b[?1049h\x1b[?25l")  # the alternate screen, no cursor
    try:
        with _keys() as fd:
            while True:
                now = shutil.get_terminal_size((80, 24))
                if now != size:  # first, and after every resize
                    size = now
                    _draw(session)
                if fd is None:
                    time.sleep(POLL_SECONDS)
                elif select.select([fd], [], [], POLL_SECONDS)[0]:
                    for key in _split_keys(os.read(fd, 32).decode("utf-8", "replace")):
                        if not session.key(key):
                            return 0
                    _draw(session)
                text = session.pending()
                if text is not None:
                    session.checking = True
                    _draw(session)
                    try:
                        session.check(text)
                    finally:
                        session.checking = False
                    _draw(session)
    except KeyboardInterrupt:
        return 0
    finally:
        sys.stdout.write("\x1b[?25h\x1b[?1049l")
        sys.stdout.flush()
        exercises = session.session.lessons.exercises()
        passed = session.session.board().count_passed(exercises)
        print("tutor watch: " + _("{n} of {exercises} passed; `tutor watch` picks up at {id}.").format(
            n=passed, exercises=fmt.count(len(exercises), "exercise"), id=session.exercise.id))
