"""``tutor serve``: the CLI reaches it by name (``tutor.cli.COMMANDS``), as it reaches
the app; ``tutor serve tokens issue|revoke|list`` are the instructor's commands."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tutor.atomic import atomic_write
from tutor.errors import UsageError


def data_dir(args: argparse.Namespace) -> Path:
    chosen = getattr(args, "data", None)
    if chosen is not None:
        return Path(chosen).expanduser()
    try:
        import platformdirs
    except ImportError:
        raise UsageError("tutor serve needs the web extra: pip install 'tutor[web]' (or pass --data DIR)") from None
    return Path(platformdirs.user_data_dir("tutor", appauthor=False)) / "serve"


def tokens_command(args: argparse.Namespace) -> int:
    from tutor.web.tokens import TokenStore

    store = TokenStore(data_dir(args))
    if args.tokens_action == "list":
        for name in store.names():
            print(name)
        return 0
    if args.tokens_action == "issue":
        # Printed once, here only: the server keeps hashes and cannot show a token again.
        for name in args.names:
            issued = store.issue(name)
            print(f"{issued.name}\t{issued.token}")
        return 0
    missing = [name for name in args.names if not store.revoke(name)]
    if missing:
        raise UsageError(f"no token to revoke for: {', '.join(missing)}")
    return 0


def main(args: argparse.Namespace) -> int:
    if getattr(args, "serve_action", None) == "tokens":
        return tokens_command(args)
    try:
        from tutor.web.server import ServeOptions, TutorServer
    except ImportError as exc:
        raise UsageError(f"tutor serve needs the web extra: pip install 'tutor[web]' ({exc.name} is missing)") from None
    from tutor.web.tokens import TokenStore, read_roster

    directory = data_dir(args)
    roster = read_roster(args.roster) if args.roster is not None else None
    if roster is not None:
        store = TokenStore(directory)
        held = set(store.names())
        new = [store.issue(name) for name in roster if name not in held]
        if new:
            # Into a file only its owner reads, not onto the console: a server's output
            # often ends up in a log (systemd's journal), and tokens are never logged.
            path = directory / time.strftime("new-tokens-%Y%m%d-%H%M%S.tsv")
            atomic_write(path, "".join(f"{issued.name}\t{issued.token}\n" for issued in new).encode(), mode=0o600)
            print(f"tutor: {len(new)} new sign-in tokens in {path}: hand them out, then delete the file")
            sys.stdout.flush()
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: not a port")
    options = ServeOptions(
        data_dir=directory, host=args.host, port=args.port, roster=roster,
        workspace=getattr(args, "workspace", None), lessons=args.lessons,
        device=getattr(args, "device", "auto") or "auto", public_url=args.public_url,
        shared_sandbox=not args.sandbox_per_learner, lang=getattr(args, "lang", None),
        instructors=tuple(args.instructor),
    )
    TutorServer(options).serve()
    return 0
