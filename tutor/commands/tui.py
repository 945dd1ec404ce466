"""``tutor`` with no command: open the interactive app."""

from __future__ import annotations

import argparse


def main(args: argparse.Namespace) -> int:
    from tutor.app.app import run_app

    return run_app(args)
