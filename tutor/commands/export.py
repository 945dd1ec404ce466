"""``tutor export lessons|gradescope|prairielearn|github-actions OUT``: kits for the
engines instructors grade with, and a copy of a lesson set (``--public``: the learners'
handout without the answers)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutor.commands.common import lessons_from, start_tutor
from tutor.errors import UsageError
from tutor.lessons import Exercise, LessonSet


def _selected(lessons: LessonSet, spec: str | None) -> list[Exercise]:
    """The exercises ``--exercises`` names (ids or lesson ids, comma-separated), in the
    course's order; every exercise without it."""
    if spec is None:
        return lessons.exercises()
    wanted: set[str] = set()
    for ident in (part.strip() for part in spec.split(",")):
        if not ident:
            continue
        try:
            wanted.update(e.id for e in lessons.select(ident))
        except (KeyError, LookupError):
            raise UsageError(f"--exercises: no exercise or lesson '{ident}'") from None
    if not wanted:
        raise UsageError("--exercises: name at least one exercise or lesson")
    return [e for e in lessons.exercises() if e.id in wanted]


def main(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a directory")
    if (args.public or args.keep_code_hints) and args.kind != "lessons":
        raise UsageError("--public and --keep-code-hints go with `tutor export lessons`")
    if args.keep_code_hints and not args.public:
        raise UsageError("--keep-code-hints goes with --public (a plain copy keeps every hint)")
    if args.image is not None and args.kind != "prairielearn":
        raise UsageError("--image goes with `tutor export prairielearn`")
    lessons = lessons_from(args)
    exercises = _selected(lessons, args.exercises)
    ids = {e.id for e in exercises}
    chosen = [lesson for lesson in lessons.lessons if any(e.id in ids for e in lesson.exercises)] \
        if args.exercises is not None else list(lessons.lessons)
    if args.kind == "lessons":
        from tutor.export.lessons import copy_lessons, refuse_own_source, write_public

        refuse_own_source(lessons, out, [args.lessons] if getattr(args, "lessons", None) else [])
        if args.public:
            with start_tutor(lessons, args) as core:
                written = write_public(chosen, out, core, keep_code_hints=args.keep_code_hints)
            hints = "every hint" if args.keep_code_hints else "hints without the code rung"
            print(f"wrote a public copy of {len(written)} lesson(s) to {out}: no solutions, wrong answers or hidden "
                  f"checks; the reference's values for the visible checks; {hints}")
        else:
            written = copy_lessons(chosen, out)
            print(f"wrote a copy of {len(written)} lesson(s) to {out}")
    elif args.kind == "gradescope":
        from tutor.export.gradescope import export_gradescope

        path = export_gradescope(lessons, exercises, out)
        print(f"wrote {path} ({len(exercises)} exercise(s)): upload it as the autograder of a Gradescope programming "
              "assignment")
    elif args.kind == "prairielearn":
        from tutor.export.prairielearn import IMAGE, export_prairielearn

        image = args.image or IMAGE
        export_prairielearn(lessons, exercises, out, image=image)
        print(f"wrote {len(exercises)} question(s) to {out}/questions/tutor; build the grader image with "
              f"`docker build -t {image} {out}/grader` and push it where PrairieLearn pulls images")
    else:
        from tutor.export.github_actions import export_github_actions

        with start_tutor(lessons, args) as core:
            export_github_actions(lessons, exercises, out, core)
        print(f"wrote {out}/.github/workflows/classroom.yml and {out}/.grading/ (the public copy of the lessons: "
              f"visible checks only): commit them to the students' repository; see {out}/.grading/README.md")
    return 0
