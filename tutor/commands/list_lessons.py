"""``tutor list [--json]``: lessons in order, their topics and exercises."""

from __future__ import annotations

import argparse
import json
import sys

from tutor.commands.common import lessons_from
from tutor.i18n import N_, _
from tutor.present import narrow, sep, status_word
from tutor.session.status import MARKS
from tutor.workspace import default_workspace, labels_for, read_visit, statuses_for
from tutor.workspace.store import NOT_STARTED, StatusLabel

#: Beside the lesson or exercise `tutor` opens on: where the learner left off.
LAST_VISITED = N_("  ◀ you left off here")
STATUS_STYLES: dict[StatusLabel, str] = {"passed": "green", "visible checks pass": "green", "failed": "red",
                                         "not started": "dim"}


def main(args: argparse.Namespace) -> int:
    lessons = lessons_from(args)
    statuses = statuses_for(getattr(args, "workspace", None))
    # In words: a pass that left hidden checks unrun (the app's) is "visible checks pass".
    labels = labels_for(getattr(args, "workspace", None))
    visit = read_visit(getattr(args, "workspace", None) or default_workspace())
    if args.json:
        entries = [lesson.to_json() for lesson in lessons.lessons]
        for entry in entries:
            for item in entry["exercises"]:
                item["status"] = statuses.get(item["id"], NOT_STARTED)
        last = {"kind": visit.kind, "id": visit.id, "cell": visit.cell} if visit else None
        json.dump({"lessons": entries, "last_visited": last}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    last_visited = _(LAST_VISITED)
    for lesson in lessons.lessons:
        exercises = lesson.exercises
        passed = sum(labels.get(e.id) == "passed" for e in exercises)
        here = visit is not None and visit.kind == "lesson" and visit.id == lesson.id
        progress = "  " + _("{done}/{total} passed").format(done=passed, total=len(exercises)) if exercises else ""
        console.print(Text.assemble((f"{lesson.order:>2}  ", "dim"), (lesson.title, "bold"), (progress, "dim"),
                                    (last_visited if here else "", "bold cyan")))
        console.print(Text(f"    {lesson.id}{sep()}{', '.join(lesson.topics)}", style="dim"))
        for exercise in exercises:
            status = labels.get(exercise.id, NOT_STARTED)
            mark, style = narrow(MARKS[status]), STATUS_STYLES[status]
            here = visit is not None and visit.kind == "exercise" and visit.id == exercise.id
            console.print(Text.assemble("    ", (mark, style), f" {exercise.id}  ", (exercise.title, "italic"), "  ",
                                        (status_word(status), style), (last_visited if here else "", "bold cyan")))
    return 0

