"""Placeholder until its issue lands."""

from __future__ import annotations

import argparse

from tutor.errors import UsageError


def main(args: argparse.Namespace) -> int:
    raise UsageError(f"'tutor {args.command}' is not available yet in this build")
