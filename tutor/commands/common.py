"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tutor.core import Tutor
from tutor.errors import LessonErrors, UsageError
from tutor.i18n import _
from tutor.lessons import LessonSet, load_lessons
from tutor.workspace import Workspace, default_workspace


def lessons_from(args: argparse.Namespace, *, strict: bool = True) -> LessonSet:
    """Load the lessons named by ``--lessons``; with ``strict``, any malformed file is a
    user error (exit 2) that lists every ``FILE:LINE: message``."""
    lessons = load_lessons([args.lessons] if args.lessons else None)
    if strict and lessons.errors:
        raise LessonErrors(lessons.errors)
    return lessons


def print_warnings(workspace: Workspace) -> None:
    """What the workspace repaired on the way (a corrupt progress file), on stderr."""
    for warning in workspace.warnings:
        print(_("tutor: warning: {warning}").format(warning=warning), file=sys.stderr)


def existing_workspace(args: argparse.Namespace, lessons: LessonSet) -> Workspace:
    """The workspace ``--workspace`` names (else the default); it must exist already."""
    root: Path = getattr(args, "workspace", None) or default_workspace()
    if not root.is_dir():
        raise UsageError(_("{root}: no workspace here (create one with `tutor init {root}`)").format(root=root))
    return Workspace(root, lessons)


def start_tutor(lessons: LessonSet, args: argparse.Namespace, workspace: Workspace | None = None, *,
                grading: bool = False) -> Tutor:
    """The headless core for one command, its sandbox started and device resolved
    (``--device cuda`` without CUDA is a usage error). Close it when done.

    ``grading``: refuse (exit 2) where the runs cannot hide the lessons, unless
    ``--allow-unhidden`` says the grader accepts that."""
    core = Tutor(lessons, workspace, device=getattr(args, "device", "auto") or "auto")
    try:
        core.start()
        if grading and not getattr(args, "allow_unhidden", False):
            core.require_hidden_lessons()
    except BaseException:
        core.close()
        raise
    return core
