"""Fixtures for the browser front: a served tutor with a roster, in the test's loop.

The app processes are stand-ins here (a script that records the command line it was
given), so the server's rules are tested without the app; tests/web/test_browser.py
serves the real app to a real browser.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tutor.web.limits import SignInLimiter
from tutor.web.tokens import TokenStore

try:  # the web extra; without it the tests that serve skip with the reason
    from aiohttp.test_utils import TestClient, TestServer

    from tutor.web.server import PathOnlyAccessLogger, ServeOptions, TutorServer
except ImportError:
    pass

WEB_EXTRA = "tutor serve needs the web extra (pip install 'tutor[web]')"

#: Stands in for the app: writes its command line where the test can read it, then
#: answers textual-serve's greeting so the server treats it as a started app.
RECORDER = """
import json, os, sys
with open(os.environ["RECORD"], "a") as out:
    out.write(json.dumps(sys.argv[1:]) + "\\n")
out = sys.stdout.buffer
out.write(b"__GANGLION__\\n" + b"D" + (7).to_bytes(4, "big") + b"started")
out.flush()
while (chunk := sys.stdin.buffer.read1(4096)) and b"quit" not in chunk:
    pass
"""


#: Stands in for `tutor grade --batch DIR --gradebook FILE`: a gradebook row per folder.
GRADER = """
import os, sys
args = sys.argv[1:]
learners, book = args[args.index("--batch") + 1], args[args.index("--gradebook") + 1]
with open(book, "w") as out:
    out.write("student,score\\n" + "".join(f"{name},0\\n" for name in sorted(os.listdir(learners))))
"""


@dataclass
class Served:
    server: TutorServer  # noqa: F821 - with the web extra
    client: TestClient  # noqa: F821
    tokens: dict[str, str]
    record: Path

    async def sign_in(self, token: str, client: TestClient | None = None):
        return await (client or self.client).post("/signin", data={"token": token}, allow_redirects=False)

    def commands(self) -> list[list[str]]:
        import json

        return [json.loads(line) for line in self.record.read_text().splitlines()] if self.record.exists() else []


@pytest.fixture
async def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Served]:
    pytest.importorskip("textual_serve", reason=WEB_EXTRA)
    data = tmp_path / "data"
    store = TokenStore(data)
    tokens = {name: store.issue(name).token for name in ("alice", "bob", "carol")}
    record = tmp_path / "commands.jsonl"
    monkeypatch.setenv("RECORD", str(record))
    options = ServeOptions(
        data_dir=data, roster=("alice", "bob"), app_command=(sys.executable, "-c", RECORDER),
        instructors=("alice",), grade_command=(sys.executable, "-c", GRADER),
        limiter=SignInLimiter(failures=3, window=60.0),
    )
    server = TutorServer(options)
    test_server = TestServer(await server.make_app())
    await test_server.start_server(access_log_class=PathOnlyAccessLogger)  # as TutorServer.serve logs
    client = TestClient(test_server)
    await client.start_server()
    try:
        yield Served(server, client, tokens, record)
    finally:
        await client.close()
