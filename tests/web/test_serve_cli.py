"""The instructor's commands: `tutor serve tokens issue|revoke|list`, and `tutor serve`'s
refusals, through the CLI's entry point."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tutor.cli import main

from .conftest import WEB_EXTRA

pytest.importorskip("textual_serve", reason=WEB_EXTRA)


def test_tokens_are_shown_once_stored_hashed_and_revoked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    assert main(["serve", "tokens", "issue", "alice", "bob", "--data", str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    issued = dict(line.split("\t") for line in lines)
    assert sorted(issued) == ["alice", "bob"]
    stored = (data / "tokens.json").read_text()
    assert all(token not in stored for token in issued.values())
    assert sorted(json.loads(stored)) == ["alice", "bob"]

    assert main(["serve", "--data", str(data), "tokens", "revoke", "alice"]) == 0
    assert main(["serve", "tokens", "list", "--data", str(data)]) == 0
    assert capsys.readouterr().out.split() == ["bob"]


def test_bad_names_and_unknown_learners_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "data")
    assert main(["serve", "tokens", "issue", "../root", "--data", data]) == 2
    assert main(["serve", "tokens", "revoke", "nobody", "--data", data]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("tutor: '../root': a learner's name is")
    assert err[1] == "tutor: no token to revoke for: nobody"
    assert not (tmp_path / "data" / "tokens.json").exists()


def test_serving_everyone_one_workspace_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--data", str(tmp_path), "--host", "0.0.0.0"]) == 2
    assert "without --roster there is no sign-in" in capsys.readouterr().err


def test_the_server_imports_neither_torch_nor_textual() -> None:
    """The server only pipes bytes: a class's server process stays small and starts fast."""
    import subprocess
    import sys

    code = "import sys, tutor.web.launch, tutor.web.server; print(sorted({'torch', 'textual'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_tutor_serve_with_a_roster_hands_out_tokens_once_and_asks_for_them(tmp_path: Path) -> None:
    """The instructor's first start: tokens for the roster in a file only they read (a
    server's output often ends up in a log), never on the console; then the sign-in page."""
    import subprocess
    import sys
    import urllib.request

    from .browser import free_port

    roster = tmp_path / "class.txt"
    roster.write_text("alice\nbob\n")
    port = free_port()
    command = [sys.executable, "-m", "tutor", "serve", "--roster", str(roster), "--data", str(tmp_path / "data"),
               "--port", str(port), "--sandbox-per-learner"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        said = server.stdout.readline()
        assert said.startswith("tutor: 2 new sign-in tokens in ")
        handout = Path(said.split(" in ", 1)[1].split(":", 1)[0])
        assert stat.S_IMODE(handout.stat().st_mode) == 0o600
        issued = dict(line.split("\t") for line in handout.read_text().splitlines())
        assert sorted(issued) == ["alice", "bob"]
        assert "serving on" in server.stdout.readline()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as page:
            assert 'name="token"' in page.read().decode()
    finally:
        server.terminate()
        server.wait(30)
    # Started again: everyone already holds a token, none is printed.
    again = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert again.stdout is not None
        assert "serving on" in again.stdout.readline()
    finally:
        again.terminate()
        again.wait(30)
    output = "".join(stream.read() for process in (server, again) for stream in (process.stdout, process.stderr) if stream)
    assert all(token not in output + said for token in issued.values())
