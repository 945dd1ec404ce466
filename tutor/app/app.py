"""A minimal app: the lesson list. The TUI issue replaces it with the full browser."""

from __future__ import annotations

import argparse

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, ListItem, ListView, Label

from tutor.lessons import LessonSet, load_lessons


class TutorApp(App[None]):
    TITLE = "tutor"
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, lessons: LessonSet) -> None:
        super().__init__()
        self.lessons = lessons

    def compose(self) -> ComposeResult:
        yield Header()
        items = [ListItem(Label(f"{l.order:>2}. {l.title}  [dim]({len(l.exercises)} exercises)[/]")) for l in self.lessons.lessons]
        items += [ListItem(Label(f"[red]broken:[/] {e.msg}")) for e in self.lessons.errors]
        yield ListView(*items)
        yield Footer()


def run_app(args: argparse.Namespace) -> int:
    TutorApp(load_lessons([args.lessons] if args.lessons else None)).run()
    return 0
