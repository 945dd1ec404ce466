"""The command line: argument parsing and dispatch to ``tutor.commands``.

Kept light on purpose: importing this module imports neither torch nor Textual, so
``tutor list`` answers at once. Each subcommand's module is imported only when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tutor import __version__
from tutor.errors import TutorError
from tutor.export import KINDS as EXPORT_KINDS
from tutor.grading import GRADESCOPE_HIDDEN_DEFAULT, GRADESCOPE_VISIBILITIES
from tutor.i18n import N_, _, ngettext
from tutor.lessons.translate import LANGUAGES, choose_language, language_tag

DEVICES = ("auto", "cpu", "cuda")
LESSONS_HELP = N_("lessons directory (default: the lessons that ship with tutor)")
WORKSPACE_HELP = N_("workspace of your solutions (default: $TUTOR_WORKSPACE, else ~/tutor-workspace)")
LANG_HELP = N_("the course's language: {languages} (default: $TUTOR_LANG, else the locale)")
DEVICE_HELP = N_("where code runs (default: auto)")
DATA_HELP = N_("the server's data: tokens and learners' workspaces (default: the user data directory)")

# argparse's own words (usage:, options, its errors) go through gettext's module-level
# functions, bound when argparse was imported: pointed at tutor's catalogue, they are
# English as before and Chinese under --lang zh-CN (its messages are in tutor.po too).
argparse._ = _  # type: ignore[attr-defined]
argparse.ngettext = ngettext  # type: ignore[attr-defined]


def _language(text: str) -> str:
    tag = language_tag(text)
    if tag is None:
        raise argparse.ArgumentTypeError(
            _("unknown language {text} (known: {languages})").format(text=repr(text), languages=", ".join(LANGUAGES)))
    return tag


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("not a number: {text}").format(text=repr(text))) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(_("must be positive: {text}").format(text=repr(text)))
    return value


def language_in(argv: list[str]) -> str | None:
    """The language ``--lang`` names in ``argv`` (``--lang X``, ``--lang=X`` or an
    abbreviation argparse accepts), read before the parser is built so that its help is
    in that language; ``None`` where none is given or it is unknown (the parser says so)."""
    found = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        name, eq, value = arg.partition("=")
        if len(name) >= 4 and "--lang".startswith(name):
            if not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
            found = language_tag(value) or found
    return found


def _cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# A piece of help that wraps as one: a run of narrow non-space characters (a word, an
# option), one wide character, or spaces. Chinese has no spaces to break at.
_PIECE = re.compile(r"[^\s\u1100-\uffff]+|\S|\s+")
# Never at a row's start: a closing mark.
_CLOSING = tuple("，。；：）、！？」』")
# A section's heading: a line of its own, unindented, its last word wide, then ':'.
_WIDE_HEADING = re.compile(r"^(\S[^\n]*[\u1100-\uffff]):$", re.MULTILINE)


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, laying out wide characters by cells (two a character):
    text without them is formatted exactly as argparse does."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        if _cells(text) == len(text):
            return super()._split_lines(text, width)
        rows: list[str] = []
        row = ""
        for piece in _PIECE.findall(" ".join(text.split())):
            if row and _cells(row + piece.rstrip()) > width and not piece.isspace() and not piece.startswith(_CLOSING):
                rows.append(row.rstrip())
                row = ""
            if row or not piece.isspace():
                row += piece
        return [*rows, row.rstrip()] if row.strip() else rows

    def format_help(self) -> str:
        # argparse ends a section's heading with ':'; a Chinese heading takes a full-width one.
        return _WIDE_HEADING.sub("\\1：", super().format_help())

    def _format_usage(self, usage: str | None, actions: Iterable[argparse.Action],
                      groups: Iterable[argparse._MutuallyExclusiveGroup], prefix: str | None) -> str:
        prefix = _("usage: ") if prefix is None else prefix
        text = super()._format_usage(usage, actions, groups, prefix)
        wider = _cells(prefix) - len(prefix)
        if not wider:
            return text
        # argparse indents the usage's next rows by the prefix's characters, not its cells.
        first, *rest = text.split("\n")
        return "\n".join([first, *(" " * wider + row if row.startswith(" ") else row for row in rest)])


class _Parser(argparse.ArgumentParser):
    """A parser (and its subcommands') laid out by :class:`_Formatter`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line (DESIGN.md's contract); argparse itself exits 2 on bad usage."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--lessons", type=Path, metavar="DIR", default=argparse.SUPPRESS,
        help=_(LESSONS_HELP),
    )
    common.add_argument("--lang", type=_language, metavar="LANG", default=argparse.SUPPRESS, help=_(LANG_HELP).format(languages=", ".join(LANGUAGES)))
    parser = _Parser(
        prog="tutor",
        description=_("Learn PyTorch in the terminal. With no command, opens the interactive tutor."),
    )
    # Options accepted before and after the command are SUPPRESSed in the subparsers,
    # else a subparser's default would erase `tutor --workspace W hint ID`.
    parser.add_argument("--lessons", type=Path, metavar="DIR", default=None, help=_(LESSONS_HELP))
    parser.add_argument("--lang", type=_language, metavar="LANG", default=None, help=_(LANG_HELP).format(languages=", ".join(LANGUAGES)))
    parser.add_argument("--version", action="version", version=f"tutor {__version__}",
                        help=_("show program's version number and exit"))
    parser.add_argument("--workspace", type=Path, metavar="DIR", default=None, help=_(WORKSPACE_HELP))
    parser.add_argument("--device", choices=DEVICES, default="auto", help=_(DEVICE_HELP))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", parents=[common], help=_("lessons and exercises, with each exercise's status"))
    p.add_argument("--json", action="store_true", help=_("print JSON instead of a table"))
    p.add_argument("--workspace", type=Path, metavar="DIR", default=argparse.SUPPRESS, help=_(WORKSPACE_HELP))

    p = sub.add_parser("run", parents=[common], help=_("run Python files in the sandbox and inspect the results"))
    p.add_argument("files", nargs="+", type=Path, metavar="FILE.py", help=_("the files to run, each in a sandboxed run of its own"))
    p.add_argument("--json", action="store_true", help=_("one JSON object per file, one per line"))
    p.add_argument("--device", choices=DEVICES, default=argparse.SUPPRESS, help=_(DEVICE_HELP))
    p.add_argument("--timeout", type=_positive_float, default=10.0, metavar="S", help=_("wall-clock limit per file (default 10)"))

    p = sub.add_parser("grade", parents=[common], help=_("grade your solutions headless"))
    p.add_argument("ids", nargs="*", metavar="ID", help=_("exercises to grade: lesson/exercise, the exercise alone where unique, or a lesson id for all of its exercises (default: all)"))
    p.add_argument("--workspace", type=Path, metavar="DIR", default=argparse.SUPPRESS, help=_(WORKSPACE_HELP))
    p.add_argument("--json", type=Path, metavar="FILE", dest="json_file", default=None,
                   help=_("also write the report as JSON"))
    p.add_argument("--junit", type=Path, metavar="FILE", default=None, help=_("also write a JUnit XML report"))
    p.add_argument("--gradescope", type=Path, metavar="FILE", default=None,
                   help=_("also write Gradescope's results.json"))
    p.add_argument("--gradescope-hidden-visibility", choices=GRADESCOPE_VISIBILITIES, default=None,
                   help=f"with --gradescope: when students see hidden checks' tests (default: {GRADESCOPE_HIDDEN_DEFAULT})")
    p.add_argument("--device", choices=DEVICES, default=argparse.SUPPRESS, help=_(DEVICE_HELP))
    p.add_argument("--jobs", type=int, default=None, metavar="N", help=_("exercises graded at once (default: cores)"))
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help=_("the run's seed (default: drawn; the report says which, to grade again alike; "
                        "with --batch, the seed the class was first graded with)"))
    p.add_argument("--batch", type=Path, metavar="DIR", default=None,
                   help="grade a class: one hand-in per student folder in DIR, resumable")
    p.add_argument("--gradebook", type=Path, metavar="FILE", default=None,
                   help="with --batch: the gradebook, .json or .csv (default: DIR-gradebook.json)")
    p.add_argument("--allow-unhidden", action="store_true",
                   help="grade even where student code could read the lessons (no mount namespace, and "
                        "the lessons readable by other users)")
    p.add_argument("--budget", type=_positive_float, default=None, metavar="S",
                   help="with --batch: seconds of grading per student at most (the rest is graded by the next run)")
    p.add_argument("--roster", type=Path, metavar="CSV", default=None,
                   help="with --batch: the class list (columns id, name, email, folder): a gradebook row for every student on it")
    p.add_argument("--regrade", action="store_true",
                   help="with --batch: grade every student again (default: only those whose hand-in or lessons changed)")
    p.add_argument("--gradebook-format", choices=("json", "csv", "canvas"), default=None,
                   help="with --batch: the gradebook's format (default: from its suffix; canvas: a CSV Canvas imports)")
    p.add_argument("--assignment", metavar="NAME", default=None,
                   help="with --gradebook-format canvas: the assignment's column (default: tutor)")
    p.add_argument("--due", metavar="WHEN", default=None,
                   help="with --batch: the due date (ISO 8601, e.g. 2026-12-01T23:59); a roster's due column overrides it")
    p.add_argument("--late-penalty", metavar="RULE", default=None,
                   help="with --batch: what a late hand-in loses, e.g. 10%%/day or 2%%/hour (by its files' modification times)")

    p = sub.add_parser("watch", parents=[common],
                       help=_("check an exercise on every save from your own editor, then move on to the next"))
    p.add_argument("id", nargs="?", metavar="ID", help=_("the exercise to start at (default: where you left off)"))
    p.add_argument("--workspace", type=Path, metavar="DIR", default=argparse.SUPPRESS, help=_(WORKSPACE_HELP))
    p.add_argument("--device", choices=DEVICES, default=argparse.SUPPRESS, help=_(DEVICE_HELP))

    p = sub.add_parser("init", parents=[common], help=_("write a workspace of starter files"))
    p.add_argument("dir", nargs="?", type=Path, default=None, metavar="DIR",
                   help=_("where (default: --workspace, $TUTOR_WORKSPACE, else ~/tutor-workspace)"))

    p = sub.add_parser("hint", parents=[common], help=_("show the next hint of an exercise"))
    p.add_argument("id", metavar="ID", help=_("the exercise"))
    p.add_argument("--workspace", type=Path, metavar="DIR", default=argparse.SUPPRESS, help=_(WORKSPACE_HELP))

    p = sub.add_parser("reset", parents=[common], help=_("put the starter back (the old file is kept as a backup)"))
    p.add_argument("id", nargs="?", metavar="ID", help=_("the exercise to reset"))
    p.add_argument("--all", action="store_true", help=_("reset every exercise"))
    p.add_argument("--yes", "-y", action="store_true", help=_("do not ask for confirmation"))
    p.add_argument("--workspace", type=Path, metavar="DIR", default=argparse.SUPPRESS, help=_(WORKSPACE_HELP))

    p = sub.add_parser("solution", parents=[common], help=_("show the reference solution of a passed exercise"))
    p.add_argument("id", metavar="ID", help=_("the exercise"))
    p.add_argument("--workspace", type=Path, metavar="DIR", default=argparse.SUPPRESS, help=_(WORKSPACE_HELP))

    p = sub.add_parser("export", parents=[common], help=_("kits for Gradescope, PrairieLearn, GitHub Actions; lesson copies"))
    p.add_argument("kind", choices=EXPORT_KINDS, metavar="KIND",
                   help=f"{', '.join(EXPORT_KINDS[:-1])} or {EXPORT_KINDS[-1]}")
    p.add_argument("out", type=Path, metavar="OUT", help=_("the directory to write into"))
    p.add_argument("--public", action="store_true",
                   help="lessons: the learners' copy: no solutions, wrong answers or hidden checks; the reference's "
                        "values for the visible checks instead (runs the references in the sandbox)")
    p.add_argument("--keep-code-hints", action="store_true",
                   help="lessons --public: keep each exercise's last hint, the code (left out by default)")
    p.add_argument("--exercises", metavar="ID,ID", default=None,
                   help="kits: grade only these exercises (ids, or lesson ids for all of a lesson's exercises)")
    p.add_argument("--image", metavar="NAME", default=None,
                   help="prairielearn: the grader image the questions name (default: tutor-grader); build and push "
                        "it under this name")

    p = sub.add_parser("check-lessons", parents=[common], help=_("validate lesson files"))
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                   help="lesson files or directories (default: the --lessons directory)")
    p.add_argument("--format-only", action="store_true", help="only validate the file format (no sandbox)")
    p.add_argument("--watch", action="store_true",
                   help="validate, then again on every save, printing only what changed (Ctrl+C stops)")
    # Here the default is the CPU, the device every learner has, whatever `tutor --device` says.
    p.add_argument("--device", choices=DEVICES, default=argparse.SUPPRESS,
                   help="where the snippets and exercises run (default: cpu; cuda proves the course on a GPU)")
    p.add_argument("--update-catalogue", action="store_true",
                   help="with --lang: bring the lessons' catalogues up to date with the English first")
    p.set_defaults(device="cpu")

    p = sub.add_parser("serve", parents=[common], help=_("serve the app to browsers; a class signs in with tokens (--roster)"))
    data = _Parser(add_help=False)
    data.add_argument("--data", type=Path, metavar="DIR", default=argparse.SUPPRESS, help=_(DATA_HELP))
    p.add_argument("--data", type=Path, metavar="DIR", default=None, help=_(DATA_HELP))
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1; put a reverse proxy in front for HTTPS)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--roster", type=Path, metavar="FILE", default=None,
                   help="the learners who may sign in, one name a line; each without a token is issued one")
    p.add_argument("--public-url", metavar="URL", default=None, help="the address learners use (https://... makes the cookie Secure)")
    p.add_argument("--instructor", action="append", default=[], metavar="NAME",
                   help="a name on the roster whose page offers the class's gradebook (repeatable)")
    p.add_argument("--sandbox-per-learner", action="store_true",
                   help="each learner's app starts its own sandbox (default: one warm sandbox for all, taken in turns)")
    p.add_argument("--workspace", type=Path, metavar="DIR", default=argparse.SUPPRESS, help="without --roster: the one workspace served")
    p.add_argument("--device", choices=DEVICES, default=argparse.SUPPRESS, help=_(DEVICE_HELP))
    actions = p.add_subparsers(dest="serve_action", metavar="ACTION")
    q = actions.add_parser("tokens", help="issue, revoke and list learners' sign-in tokens (instructors)")
    tokens = q.add_subparsers(dest="tokens_action", metavar="ACTION", required=True)
    r = tokens.add_parser("issue", parents=[data], help="a new token for each NAME (an older one stops working); shown once")
    r.add_argument("names", nargs="+", metavar="NAME",
                   help="learners' names: lowercase letters, digits, '.', '_' and '-' (their workspace's folder)")
    r = tokens.add_parser("revoke", parents=[data], help="NAME can no longer sign in (their workspace stays)")
    r.add_argument("names", nargs="+", metavar="NAME", help="the learners whose tokens stop working")
    tokens.add_parser("list", parents=[data], help="the names that hold a token")

    p = sub.add_parser("new", parents=[common], help=_("scaffold a lesson or an exercise (authors)"))
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    q = kinds.add_parser("lesson", parents=[common], help="write DIR/NN-ID.md: a lesson with one exercise to fill in")
    q.add_argument("id", metavar="ID", help="the new lesson's id: lowercase letters, digits and '-'")
    q = kinds.add_parser("exercise", parents=[common], help="append an exercise to fill in to a lesson")
    q.add_argument("lesson", metavar="LESSON", help="the id of the lesson to append to")
    q.add_argument("id", metavar="ID", help="the new exercise's id: lowercase letters, digits and '-'")
    return parser


COMMANDS = {
    None: "tutor.app.launch",  # the TUI: a front of its own, reached by name
    "list": "tutor.commands.list_lessons",
    "run": "tutor.commands.run",
    "grade": "tutor.commands.grade",
    "watch": "tutor.commands.watch",
    "grade --batch": "tutor.commands.batch",
    "init": "tutor.commands.workspace",
    "hint": "tutor.commands.workspace",
    "reset": "tutor.commands.workspace",
    "solution": "tutor.commands.workspace",
    "check-lessons": "tutor.commands.check_lessons",
    "export": "tutor.commands.export",
    "new": "tutor.commands.new",
    "serve": "tutor.web.launch",  # the browser front: a front of its own, reached by name
}


def main(argv: list[str] | None = None) -> int:
    """Run one command; a :class:`TutorError` becomes one stderr line and its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    # The help and argparse's errors are in the course's language, so it is chosen first.
    choose_language(language_in(argv))
    args = build_parser().parse_args(argv)
    choose_language(args.lang)
    batch_only = ("gradebook", "budget", "roster", "regrade", "gradebook_format", "assignment", "due", "late_penalty")
    if args.command == "grade" and args.batch is None and any(getattr(args, name) for name in batch_only):
        print("tutor: --gradebook, --budget, --roster, --regrade, --gradebook-format, --assignment, --due and "
              "--late-penalty go with --batch DIR", file=sys.stderr)
        return 2
    if args.command == "grade" and args.gradescope_hidden_visibility and not args.gradescope:
        print("tutor: --gradescope-hidden-visibility goes with --gradescope FILE", file=sys.stderr)
        return 2
    command = "grade --batch" if args.command == "grade" and args.batch is not None else args.command
    module = importlib.import_module(COMMANDS[command])
    try:
        return int(module.main(args) or 0)
    except TutorError as exc:
        print(f"tutor: {exc.msg}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(_("tutor: interrupted"), file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. piped into `head`): not an error worth a traceback.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
