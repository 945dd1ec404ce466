"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse

from tutor.errors import LessonErrors
from tutor.lessons import LessonSet, load_lessons


def lessons_from(args: argparse.Namespace, *, strict: bool = True) -> LessonSet:
    """Load the lessons named by ``--lessons``; with ``strict``, any malformed file is a
    user error (exit 2) that lists every ``FILE:LINE: message``."""
    lessons = load_lessons([args.lessons] if args.lessons else None)
    if strict and lessons.errors:
        raise LessonErrors(lessons.errors)
    return lessons
