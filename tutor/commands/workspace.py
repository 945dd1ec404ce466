"""``tutor init | hint | reset | solution``: the learner's workspace from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tutor.commands.common import lessons_from, print_warnings
from tutor.core import Tutor
from tutor.errors import UsageError
from tutor.i18n import _
from tutor.present import sep, wrap_code
from tutor.session import Session
from tutor.workspace import Workspace, default_workspace

if TYPE_CHECKING:
    from rich.console import Console


def workspace_root(args: argparse.Namespace) -> Path:
    """The workspace a command acts on: ``init``'s DIR, else ``--workspace``, else the default."""
    return getattr(args, "dir", None) or getattr(args, "workspace", None) or default_workspace()


def _console() -> Console:
    from rich.console import Console  # imported only when a command prints

    return Console(highlight=False)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def cmd_init(args: argparse.Namespace, workspace: Workspace) -> int:
    """``tutor init``: write the starters and say which files were written or kept."""
    report = workspace.init()
    console = _console()
    from rich.cells import cell_len
    from rich.markup import escape

    # soft_wrap: a long path stays on one line, whole, to copy or to read in a script.
    console.print(_("Workspace: {root}").format(root=f"[b]{escape(str(workspace.root))}[/]"), markup=True,
                  soft_wrap=True)
    for label, paths in ((_("wrote"), report.written), (_("updated"), report.updated), (_("kept"), report.kept)):
        for path in paths:
            padded = label + " " * max(0, 8 - cell_len(label))  # padded by cells: 写入 is four
            console.print(f"  {padded} {_relative(path, workspace.root)}", markup=False, soft_wrap=True)
    console.print(_("{written} written, {updated} updated, {kept} kept (files you changed are never overwritten).").format(
        written=len(report.written), updated=len(report.updated), kept=len(report.kept)))
    if report.written or report.updated:
        first = (report.written or report.updated)[0]
        console.print(_("Next: open {file} in your editor, then run `tutor grade`.").format(file=first), markup=False, soft_wrap=True)
    return 0


def cmd_hint(args: argparse.Namespace, workspace: Workspace) -> int:
    """``tutor hint ID``: show the next hint and remember that it was shown."""
    exercise = workspace.lessons.resolve(args.id)
    shown = _session(workspace).next_hint(exercise)
    number, text, total = shown.number, shown.text, shown.total
    from rich.markdown import Markdown
    from rich.panel import Panel

    last = _(" (the last one)") if number == total else ""
    title = _("hint {n} of {total}").format(n=number, total=total) + last + sep() + exercise.id
    _console().print(Panel(Markdown(text.strip()), title=title, title_align="left", expand=False))
    return 0


def cmd_reset(args: argparse.Namespace, workspace: Workspace) -> int:
    """``tutor reset ID | --all``: starters back, old files kept as backups."""
    if args.all == bool(args.id):
        raise UsageError(_("give one exercise id, or --all (not both)"))
    if args.id:
        targets = [workspace.lessons.resolve(args.id)]
    else:
        targets = workspace.lessons.exercises()
        if not args.yes and not _confirm(len(targets), workspace.root):
            print("tutor: " + _("nothing reset"), file=sys.stderr)
            return 1
    console = _console()
    for exercise in targets:
        backup = workspace.reset(exercise)
        path = workspace.path_for(exercise)
        if backup is None:
            console.print(_("reset {id}: starter at {path}").format(id=exercise.id, path=path), markup=False, soft_wrap=True)
        else:
            console.print(_("reset {id}: starter at {path}; your old file is kept at {backup}").format(id=exercise.id, path=path, backup=backup),
                          markup=False, soft_wrap=True)
    return 0


def _confirm(count: int, root: Path) -> bool:
    if not sys.stdin.isatty():
        raise UsageError(_("reset --all asks for confirmation; stdin is not a terminal, so pass --yes"))
    answer = input(_("Put the starter back in all {count} exercises in {root}? Changed files are kept as backups. [y/N] ").format(
        count=count, root=root))
    return answer.strip().lower() in ("y", "yes")


def cmd_solution(args: argparse.Namespace, workspace: Workspace) -> int:
    """``tutor solution ID``: the reference, only once the learner's solution has passed."""
    exercise = workspace.lessons.resolve(args.id)
    if exercise.reference is not None:
        raise UsageError(_("{id}: this copy of the lessons has no solutions (a public copy); "
                           "ask your instructor").format(id=exercise.id))
    if not _session(workspace).solution_unlocked(exercise):
        print(
            "tutor: " + _("the solution of {id} unlocks once your solution passes: "
                          "run `tutor grade {id}` (stuck? `tutor hint {id}`)").format(id=exercise.id),
            file=sys.stderr,
        )
        return 1
    from rich.syntax import Syntax

    console = _console()
    console.print(_("Reference solution of {id} ({title}):").format(id=exercise.id, title=exercise.title), markup=False, soft_wrap=True)
    # Wrapped by us, never cropped by the terminal: a lost `)` would show broken code.
    code = wrap_code(exercise.solution.rstrip("\n"), console.width)
    console.print(Syntax(code, "python", theme="ansi_dark", background_color="default"), crop=False, overflow="ignore")
    return 0


def _session(workspace: Workspace) -> Session:
    """The learner's session, for its rules; these commands never start the sandbox."""
    return Session(Tutor(workspace.lessons, workspace))


COMMANDS = {"init": cmd_init, "hint": cmd_hint, "reset": cmd_reset, "solution": cmd_solution}


def main(args: argparse.Namespace) -> int:
    lessons = lessons_from(args)
    workspace = Workspace(workspace_root(args), lessons)
    try:
        return COMMANDS[args.command](args, workspace)
    finally:
        print_warnings(workspace)
