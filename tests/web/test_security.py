"""The class's server keeps learners apart (issue 30): tokens stored hashed and never
logged, wrong tokens refused and rate-limited, each learner's app and zip from their
own workspace whatever the URL says."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import stat
import sys
import zipfile
from pathlib import Path

import pytest

from tutor.errors import UsageError
from tutor.web.tokens import TokenStore, read_roster, token_hash

from .conftest import WEB_EXTRA, Served

pytest.importorskip("textual_serve", reason=WEB_EXTRA)

import aiohttp  # noqa: E402 - the web extra's

from tutor.web.server import COOKIE, ServeOptions, TutorServer  # noqa: E402


def test_the_token_file_holds_hashes_only_and_only_its_owner_reads_it(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "data")
    issued = store.issue("alice")
    text = store.path.read_text()
    assert issued.token not in text
    assert json.loads(text)["alice"]["sha256"] == token_hash(issued.token)
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.data_dir).st_mode) == 0o700  # runs as another uid read nothing here
    assert len(issued.token) >= 43  # 32 random bytes, URL-safe base64
    assert store.learner_for(issued.token) == "alice"
    assert store.learner_for(issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")) is None

    again = store.issue("alice")  # reissued: the old token stops working
    assert store.learner_for(issued.token) is None
    assert store.learner_for(again.token) == "alice"
    assert store.revoke("alice") and store.learner_for(again.token) is None
    assert not store.revoke("alice")


@pytest.mark.parametrize("name", ["../bob", "..", ".hidden", "a/b", "Alice", "", "x" * 65, "bob\x00"])
def test_a_name_is_always_one_plain_directory(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError):
        TokenStore(tmp_path).issue(name)


def test_a_roster_is_names_one_a_line(tmp_path: Path) -> None:
    roster = tmp_path / "class.csv"
    roster.write_text("name,email\n# the Monday group\nAlice,a@example.org\n\nbob\nalice\n")
    assert read_roster(roster) == ["alice", "bob"]
    roster.write_text("alice\n../etc\n")
    with pytest.raises(UsageError, match=r"class.csv:2:"):
        read_roster(roster)


def test_a_class_servers_data_is_its_owners_alone(tmp_path: Path) -> None:
    data = tmp_path / "existing"
    data.mkdir(mode=0o755)
    TutorServer(ServeOptions(data_dir=data, roster=["alice"]))
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700


def test_without_a_roster_the_server_only_listens_on_this_machine(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--roster"):
        TutorServer(ServeOptions(data_dir=tmp_path, host="0.0.0.0"))
    TutorServer(ServeOptions(data_dir=tmp_path, host="0.0.0.0", roster=["alice"]))  # a class: fine


async def test_a_wrong_token_is_refused_and_repeated_tries_are_rate_limited(served: Served) -> None:
    page = await served.client.get("/")
    assert 'name="token"' in await page.text()  # not signed in: the sign-in form, no app

    for _ in range(3):
        refused = await served.sign_in("not-a-token")
        assert refused.status == 403
        assert "not valid" in await refused.text()
    limited = await served.sign_in(served.tokens["alice"])  # even the right one, for a while
    assert limited.status == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert COOKIE not in limited.cookies

    served.server.limiter.clock = lambda: 1e12  # a minute later, as far as the limiter knows
    welcome = await served.sign_in(served.tokens["alice"])
    assert welcome.status == 303 and COOKIE in welcome.cookies
    cookie = welcome.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"


async def test_behind_a_proxy_each_client_address_has_its_own_limit(served: Served) -> None:
    """nginx on the same machine: every request comes from 127.0.0.1, the client's
    address in X-Forwarded-For (appended last by the proxy)."""
    async def sign_in(token: str, client: str):
        return await served.client.post("/signin", data={"token": token}, allow_redirects=False,
                                        headers={"X-Forwarded-For": f"6.6.6.6, {client}"})

    for _ in range(3):
        assert (await sign_in("wrong", "203.0.113.9")).status == 403
    assert (await sign_in(served.tokens["alice"], "203.0.113.9")).status == 429
    assert (await sign_in(served.tokens["bob"], "198.51.100.7")).status == 303  # the class can still sign in


async def test_a_learner_off_the_roster_cannot_sign_in(served: Served) -> None:
    assert (await served.sign_in(served.tokens["carol"])).status == 403


async def test_tokens_never_reach_the_logs(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await served.sign_in("wrong-" + served.tokens["bob"])
    await served.sign_in(served.tokens["alice"])
    await served.client.get("/?token=" + served.tokens["bob"])  # a secret in a query string (a Jupyter token)
    assert "signed in: alice" in caplog.text
    assert '"GET /" 200' in caplog.text  # the access log, without the query
    for token in served.tokens.values():
        assert token not in caplog.text


async def test_the_page_loads_nothing_from_other_hosts(served: Served) -> None:
    await served.sign_in(served.tokens["alice"])
    page = await served.client.get("/")
    html = await page.text()
    assert "static/js/textual.js" in html  # the app page, not the sign-in form
    assert not re.findall(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", html)
    assert "@import" not in html and "fonts.googleapis" not in html
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    font = await served.client.get("/static/fonts/RobotoMono-VariableFont_wght.ttf")
    assert font.status == 200


async def _connect(served: Served, session: aiohttp.ClientSession, **headers: str) -> None:
    """Open the app's WebSocket as the session's learner, wait for the app to start, close."""
    async with session.ws_connect(served.client.make_url("/ws?width=80&height=24"), headers=headers) as ws:
        assert (await ws.receive_bytes()) == b"started"


async def test_each_learner_app_opens_their_own_workspace_whatever_the_url(served: Served, tmp_path: Path) -> None:
    data = served.server.options.data_dir
    for name in ("alice", "bob"):
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            signed = await session.post(served.client.make_url("/signin"), data={"token": served.tokens[name]},
                                        allow_redirects=False)
            assert signed.status == 303
            await _connect(served, session)
    commands = served.commands()
    workspaces = [argv[argv.index("--workspace") + 1] for argv in commands]
    assert workspaces == [str(data / "learners" / "alice"), str(data / "learners" / "bob")]

    # Nothing in the URL picks a workspace: extra query parameters and paths are ignored or 404.
    await served.sign_in(served.tokens["alice"])
    (data / "learners" / "bob" / "01-basics").mkdir(parents=True)
    (data / "learners" / "bob" / "01-basics" / "secret.py").write_text("bob's answer")
    (data / "learners" / "alice" / "01-basics").mkdir(parents=True)
    (data / "learners" / "alice" / "01-basics" / "mine.py").write_text("alice's answer")
    for url in ("/workspace.zip", "/workspace.zip?workspace=../bob", "/workspace.zip?learner=bob"):
        response = await served.client.get(url)
        names = zipfile.ZipFile(io.BytesIO(await response.read())).namelist()
        assert names == ["01-basics/mine.py"], url
    for url in ("/static/../learners/bob/01-basics/secret.py", "/static/%2e%2e/learners/bob/01-basics/secret.py",
                "/learners/bob/01-basics/secret.py", "/download/..%2Flearners%2Fbob"):
        response = await served.client.get(url)
        assert response.status in (403, 404), url
        assert "bob's answer" not in await response.text()


async def test_without_sign_in_there_is_no_app_and_no_zip(served: Served) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(served.client.make_url("/ws"))
        assert refused.value.status == 403
    assert (await served.client.get("/workspace.zip")).status == 403
    assert served.commands() == []


async def test_another_sites_page_cannot_open_a_learners_app(served: Served) -> None:
    await served.sign_in(served.tokens["alice"])
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await served.client.ws_connect("/ws", headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403
    assert served.commands() == []


async def test_a_revoked_token_ends_the_sign_in(served: Served) -> None:
    await served.sign_in(served.tokens["alice"])
    assert (await served.client.get("/workspace.zip")).status == 200
    TokenStore(served.server.options.data_dir).revoke("alice")
    assert (await served.client.get("/workspace.zip")).status == 403
    assert 'name="token"' in await (await served.client.get("/")).text()


@pytest.mark.slow
def test_a_learners_run_sees_no_workspace_and_no_token_file(sandbox, tmp_path: Path) -> None:
    """What a learner's code can open: the sandbox's view of the machine holds no
    server data (the tests' shared sandbox, as every learner's app starts one alike)."""
    from tutor.sandbox.api import RunRequest

    store = TokenStore(tmp_path / "data")
    store.issue("bob")
    theirs = store.workspace_for("bob") / "lesson"
    theirs.mkdir(parents=True)
    (theirs / "answer.py").write_text("bob's answer")
    probe = (f"import os\nfor p in {[str(theirs / 'answer.py'), str(store.path), str(tmp_path)]!r}:\n"
             "    print(os.path.exists(p))\n")
    result = sandbox.run(RunRequest(code=probe, inspect=False))
    assert result.stdout.split() == ["False", "False", "False"], result


async def test_a_second_tab_ends_the_first_ones_app_before_its_own_starts(served: Served) -> None:
    """One place per learner: a reload or a second tab must not run two apps on one
    workspace; the first one quits (saving its editor) before the second starts."""
    await served.sign_in(served.tokens["alice"])
    first = await served.client.ws_connect("/ws")
    assert await first.receive_bytes() == b"started"
    second = await served.client.ws_connect("/ws")
    assert await second.receive_bytes() == b"started"
    closed = await first.receive()
    assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    assert len(served.commands()) == 2
    assert list(served.server.running) == ["alice"]
    await second.close()


def test_an_apps_command_line_comes_from_the_name_and_the_servers_options(tmp_path: Path) -> None:
    server = TutorServer(ServeOptions(data_dir=tmp_path, roster=["alice"], lang="zh-CN", device="cpu",
                                      app_command=("tutor",)))
    assert server.app_argv("alice") == ["tutor", "--workspace", str(tmp_path / "learners" / "alice"),
                                        "--device", "cpu", "--lang", "zh-CN"]
    with pytest.raises(UsageError):
        server.app_argv("../alice")


async def test_an_app_that_dies_closes_the_page_socket(served: Served) -> None:
    """A crash sends no exit packet: the page must still learn the session ended."""
    served.server.options.app_command = (sys.executable, "-c", "import sys; sys.exit(3)")
    await served.sign_in(served.tokens["alice"])
    ws = await served.client.ws_connect("/ws")
    message = await ws.receive(timeout=30)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)


async def test_only_an_instructor_downloads_the_gradebook(served: Served) -> None:
    learners = served.server.options.data_dir / "learners"
    for name in ("alice", "bob"):
        (learners / name).mkdir(parents=True)
    assert (await served.client.get("/gradebook.csv")).status == 403  # not signed in
    await served.sign_in(served.tokens["bob"])
    assert (await served.client.get("/gradebook.csv")).status == 403
    assert "gradebook.csv" not in await (await served.client.get("/")).text()
    await served.sign_in(served.tokens["alice"])
    assert "gradebook.csv" in await (await served.client.get("/")).text()
    book = await served.client.get("/gradebook.csv")
    assert book.status == 200 and book.headers["Content-Type"].startswith("text/csv")
    assert (await book.text()).splitlines() == ["student,score", "alice,0", "bob,0"]


def test_an_instructor_is_on_the_roster(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--instructor carol: not on the roster"):
        TutorServer(ServeOptions(data_dir=tmp_path, roster=["alice"], instructors=["carol"]))
