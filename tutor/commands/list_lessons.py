"""``tutor list [--json]``: lessons in order, their topics and exercises."""

from __future__ import annotations

import argparse
import json
import sys

from tutor.commands.common import lessons_from


def exercise_statuses(args: argparse.Namespace) -> dict[str, str]:
    """Status per exercise id from the workspace's progress, if the grading layer exists."""
    try:
        from tutor.progress import statuses_for
    except ImportError:
        return {}
    return statuses_for(getattr(args, "workspace", None))


def main(args: argparse.Namespace) -> int:
    lessons = lessons_from(args)
    statuses = exercise_statuses(args)
    if args.json:
        payload = {"lessons": [lesson.to_json() for lesson in lessons.lessons]}
        for lesson in payload["lessons"]:
            for exercise in lesson["exercises"]:
                exercise["status"] = statuses.get(exercise["id"], "not started")
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="tutor lessons", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("lesson")
    table.add_column("topics")
    table.add_column("exercises")
    for lesson in lessons.lessons:
        rows = [f"{e.id}  [dim]{statuses.get(e.id, 'not started')}[/]" for e in lesson.exercises]
        table.add_row(str(lesson.order), f"[b]{lesson.title}[/]\n[dim]{lesson.id}[/]", ", ".join(lesson.topics), "\n".join(rows) or "-")
    Console().print(table)
    return 0
