"""A real headless Chromium (the Debian package) driven through Selenium, and a
served tutor running in a thread of the test process."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

#: Runs before the page's own scripts: keeps the text of every frame the app sends,
#: so a test can wait for words on the terminal (the WebGL renderer leaves no DOM text).
COLLECT_OUTPUT = """
window.tutorOutput = "";
window.tutorGuard = [];
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    const decoder = new TextDecoder();
    this.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        window.tutorOutput += decoder.decode(event.data, {stream: true});
        return;
      }
      const [kind, value] = JSON.parse(event.data);
      if (kind !== "tutor_unsaved") return;
      // Once the page has taken the news: would leaving now ask "leave page?"?
      setTimeout(() => {
        const leaving = new Event("beforeunload", {cancelable: true});
        window.dispatchEvent(leaving);
        window.tutorGuard.push([value, leaving.defaultPrevented]);
      }, 0);
    });
  }
};
"""
ANSI = re.compile(r"\x1b\[[0-9;?<>]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(server: Any) -> Iterator[str]:
    """Run ``server`` (a TutorServer) on a free port in a thread; yield its URL."""
    from aiohttp import web

    port = free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    runner_box: list[web.AppRunner] = []

    async def start() -> None:
        runner = web.AppRunner(await server.make_app())
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runner_box.append(runner)
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True)
    thread.start()
    assert started.wait(30), "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        asyncio.run_coroutine_threadsafe(runner_box[0].cleanup(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


class Browser:
    """One learner's browser: a headless Chromium with its own profile (cookies)."""

    def __init__(self, shots: Path, name: str) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        options = Options()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800",
                         "--disable-dev-shm-usage"):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": COLLECT_OUTPUT})
        self.shots = shots
        self.name = name
        self.step = 0

    def close(self) -> None:
        self.driver.quit()

    def shot(self, what: str) -> Path:
        self.step += 1
        path = self.shots / f"{self.name}-{self.step:02d}-{what}.png"
        self.driver.save_screenshot(str(path))
        return path

    def screen_text(self) -> str:
        """Everything the app has drawn since the page loaded, escapes removed."""
        return ANSI.sub("", self.driver.execute_script("return window.tutorOutput || ''"))

    def wait_for(self, condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.1)
        self.shot("timeout")
        raise AssertionError(f"{self.name}: no {what} within {timeout} s; the screen said: {self.screen_text()[-2000:]!r}")

    def wait_text(self, needle: str, timeout: float = 30.0, *, since: int = 0) -> None:
        self.wait_for(lambda: needle in self.screen_text()[since:], repr(needle), timeout)

    def mark(self) -> int:
        """A position in the screen text: wait_text(..., since=mark) looks only at what came after."""
        return len(self.screen_text())

    def guard(self) -> list[list[bool]]:
        """Each time the app said its editor became unsaved (or saved): [unsaved, would the page ask before leaving]."""
        return list(self.driver.execute_script("return window.tutorGuard"))

    def keys(self, *keys: str) -> None:
        """Keys typed into the terminal (xterm.js listens on its hidden textarea)."""
        from selenium.webdriver.common.by import By

        area = self.driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea")
        for key in keys:
            area.send_keys(key)

    def sign_in(self, url: str, token: str) -> None:
        from selenium.webdriver.common.by import By

        self.driver.get(url)
        self.driver.find_element(By.ID, "token").send_keys(token)
        self.driver.find_element(By.ID, "signin").click()
