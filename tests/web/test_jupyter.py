"""JupyterHub past one machine (issue 30): a single-user Jupyter server with
jupyter-server-proxy finds tutor's entry point, lists it in its launcher, and serves
the app under its own prefix to a real Chromium. Skipped, with the reason, where
jupyter-server-proxy or the browser is not installed."""

from __future__ import annotations

import importlib.metadata
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .browser import Browser, browser_missing, free_port
from .conftest import WEB_EXTRA

pytest.importorskip("textual_serve", reason=WEB_EXTRA)
pytest.importorskip("jupyter_server_proxy", reason="jupyter-server-proxy is not installed (pip install jupyter-server-proxy)")
if not any(e.name == "tutor" for e in importlib.metadata.entry_points(group="jupyter_serverproxy_servers")):
    pytest.skip("tutor's jupyter_serverproxy_servers entry point is not installed (pip install -e .)", allow_module_level=True)
if reason := browser_missing():
    pytest.skip(reason, allow_module_level=True)

pytestmark = pytest.mark.slow
TOKEN = "jupyter-test-token"


def get(url: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except OSError:
        return 0, ""


def test_a_jupyter_server_launches_tutor_through_its_proxy(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
               f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={tmp_path}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    env = {**os.environ, "TUTOR_WORKSPACE": str(tmp_path / "workspace"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    log = (tmp_path / "jupyter.log").open("w")
    jupyter = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while get(base + "api/status")[0] != 200:
            assert jupyter.poll() is None and time.monotonic() < deadline, (tmp_path / "jupyter.log").read_text()
            time.sleep(0.2)
        status, info = get(base + "server-proxy/servers-info")
        assert status == 200 and '"name": "tutor"' in info and "tutor (PyTorch lessons)" in info

        browser = Browser(tmp_path, "jupyter")
        try:
            browser.driver.get(base + f"tutor/?token={TOKEN}")
            browser.wait_text("What a tensor carries", timeout=60)
            browser.wait_text("sandbox ready", timeout=60)
            browser.shot("through-the-proxy")
            assert browser.driver.current_url.startswith(base + "tutor/")
        finally:
            browser.close()
    finally:
        os.killpg(jupyter.pid, signal.SIGTERM)  # the server and the tutor it launched
        jupyter.wait(30)
        log.close()
    access = [line for line in (tmp_path / "jupyter.log").read_text().splitlines() if "aiohttp.access" in line]
    assert any('"GET /"' in line for line in access)
    assert not any(TOKEN in line for line in access)  # tutor's access log leaves the query out
