"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import sys

from tutor.errors import LessonErrors
from tutor.lessons import LessonSet, load_lessons
from tutor.workspace import Workspace


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
        print(f"tutor: warning: {warning}", file=sys.stderr)
