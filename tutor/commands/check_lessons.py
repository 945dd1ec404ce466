"""``tutor check-lessons [PATH ...]``: validate lesson files.

Format validation needs no sandbox. Then, unless ``--format-only``, every reference
solution must pass its checks, every starter must fail them and every snippet must print
its ``output`` fence (see ``tutor.authoring.lesson_check``). ``--watch`` validates again on
every save and prints what changed (``tutor.authoring.lesson_watch``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tutor.lessons import load_lessons
from tutor.lessons.discover import default_lessons_dir
from tutor.lessons.translate import ENGLISH


def main(args: argparse.Namespace) -> int:
    paths: list[Path] = list(args.paths) or [args.lessons or default_lessons_dir()]
    if args.watch:
        from tutor.authoring.lesson_watch import watch

        return watch(paths, format_only=args.format_only, device=args.device)
    lang = getattr(args, "lang", None) or ENGLISH
    if args.update_catalogue and lang == ENGLISH:
        print("tutor: --update-catalogue goes with --lang LANG (a language other than en)", file=sys.stderr)
        return 2
    # The English lessons are what is checked, whatever TUTOR_LANG or the locale say.
    lessons = load_lessons(paths, lang=ENGLISH)
    for error in lessons.errors:
        print(error.msg, file=sys.stderr)
    if lessons.errors:
        return 2
    exercises = lessons.exercises()
    print(f"{len(lessons.lessons)} lesson(s), {len(exercises)} exercise(s): format ok")
    if lang != ENGLISH:
        # A translation holds only words: its code, outputs and checks are the English
        # lesson's, checked without --lang. Nothing runs here.
        from tutor.authoring.lesson_check import check_translations

        return check_translations(lessons, lang, update=args.update_catalogue)
    runnable = [s for lesson in lessons.lessons for s in lesson.snippets if s.run]
    if args.format_only or not (exercises or runnable):
        return 0
    from tutor.authoring.lesson_check import check_exercises  # grading is loaded only past --format-only

    return check_exercises(lessons, args.device)
