"""``tutor export lessons|gradescope|prairielearn|github-actions OUT``: kits for the
engines instructors grade with, and a public copy of a lesson set (``--public``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutor.commands.common import lessons_from
from tutor.errors import UsageError


def main(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a directory")
    if args.public and args.kind != "lessons":
        raise UsageError("--public goes with `tutor export lessons`")
    lessons = lessons_from(args)
    if args.kind == "lessons":
        from tutor.export.lessons import export_lessons

        written = export_lessons(lessons, out, public=args.public)
        which = "public copy (no hidden checks, no wrong answers)" if args.public else "copy"
        print(f"wrote a {which} of {len(written)} lesson(s) to {out}")
    elif args.kind == "gradescope":
        from tutor.export.gradescope import export_gradescope

        path = export_gradescope(lessons, out)
        print(f"wrote {path}: upload it as the autograder of a Gradescope programming assignment")
    elif args.kind == "prairielearn":
        from tutor.export.prairielearn import IMAGE, export_prairielearn

        export_prairielearn(lessons, out)
        print(f"wrote {len(lessons.exercises())} question(s) to {out}/questions/tutor; build the grader image with "
              f"`docker build -t {IMAGE} {out}/grader`")
    else:
        from tutor.export.github_actions import export_github_actions

        export_github_actions(lessons, out)
        print(f"wrote {out}/.github/workflows/tutor.yml and {out}/.grading/: commit them to the students' repository")
    return 0
