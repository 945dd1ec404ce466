"""``tutor list [--json]``: lessons in order, their topics and exercises."""

from __future__ import annotations

import argparse
import json
import sys

from tutor.commands.common import lessons_from
from tutor.workspace import labels_for, statuses_for

STATUS_MARKS = {"passed": ("✓", "green"), "visible checks pass": ("✓", "green"), "failed": ("✗", "red"),
                "not started": ("·", "dim")}


def main(args: argparse.Namespace) -> int:
    lessons = lessons_from(args)
    statuses = statuses_for(getattr(args, "workspace", None))
    # In words: a pass that left hidden checks unrun (the app's) is "visible checks pass".
    labels = labels_for(getattr(args, "workspace", None))
    if args.json:
        payload = {"lessons": [lesson.to_json() for lesson in lessons.lessons]}
        for entry in payload["lessons"]:
            for exercise in entry["exercises"]:
                exercise["status"] = statuses.get(exercise["id"], "not started")
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    for lesson in lessons.lessons:
        exercises = lesson.exercises
        passed = sum(labels.get(e.id) == "passed" for e in exercises)
        console.print(Text.assemble((f"{lesson.order:>2}  ", "dim"), (lesson.title, "bold"),
                                    (f"  {passed}/{len(exercises)} passed" if exercises else "", "dim")))
        console.print(Text(f"    {lesson.id} · {', '.join(lesson.topics)}", style="dim"))
        for exercise in exercises:
            status = labels.get(exercise.id, "not started")
            mark, style = STATUS_MARKS.get(status, ("·", "dim"))
            console.print(Text.assemble("    ", (mark, style), f" {exercise.id}  ", (exercise.title, "italic"), "  ", (status, style)))
    return 0

