"""``tutor`` with no command: the interactive app. The CLI reaches it by name
(``tutor.cli.COMMANDS``) and never imports the app package itself."""

from __future__ import annotations

import argparse
import gc
import os

from tutor.app.app import make_app
from tutor.lessons import default_lessons_dir, load_lessons
from tutor.workspace import Workspace, default_workspace


def main(args: argparse.Namespace) -> int:
    """Load lessons and the workspace, run the app until the learner quits."""
    lessons = load_lessons([args.lessons or default_lessons_dir()])
    workspace = Workspace(getattr(args, "workspace", None) or default_workspace(), lessons)
    web = os.environ.get("TUTOR_FRONT") == "web"  # in a browser page (tutor serve)
    relay = None
    if web:  # tutor serve lends its one sandbox through a relay (unless --sandbox-per-learner)
        from tutor.relay import RelayClient

        relay = RelayClient.from_environment()
    app = make_app(lessons, workspace, device=getattr(args, "device", "auto") or "auto",
                   client_factory=(lambda: relay) if relay is not None else None)
    if web:
        from tutor.app.browser import BrowserTutorApp

        app = BrowserTutorApp(app.session)
    app.run()
    # Everything the app built dies with the process. Left to the interpreter's last
    # garbage collection, tens of thousands of widgets and styles cost most of a second
    # before the shell prompt comes back (benchmarks/bench_quit.py); frozen, they are
    # simply released with the process.
    gc.freeze()
    return 0
