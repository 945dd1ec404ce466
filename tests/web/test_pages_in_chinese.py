"""A class served in Chinese (`tutor serve --lang zh-CN`) signs in and works on pages in
Chinese; the English pages are as before."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tutor.i18n import translations
from tutor.web.limits import SignInLimiter
from tutor.web.tokens import TokenStore

from .conftest import RECORDER, WEB_EXTRA

pytest.importorskip("textual_serve", reason=WEB_EXTRA)

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402 - the web extra's

from tutor.web.server import ServeOptions, TutorServer  # noqa: E402

TEMPLATES = Path(__file__).resolve().parents[2] / "tutor" / "web" / "templates"


async def pages(tmp_path: Path, lang: str | None) -> tuple[str, str, str]:
    """The sign-in page, the page after a wrong token, and the signed-in page."""
    data = tmp_path / "data"
    token = TokenStore(data).issue("alice").token
    options = ServeOptions(data_dir=data, roster=("alice",), app_command=(sys.executable, "-c", RECORDER),
                           instructors=("alice",), limiter=SignInLimiter(failures=3, window=60.0), lang=lang)
    client = TestClient(TestServer(await TutorServer(options).make_app()))
    await client.start_server()
    try:
        signin = await (await client.get("/")).text()
        refused = await (await client.post("/signin", data={"token": "wrong"})).text()
        await client.post("/signin", data={"token": token})
        return signin, refused, await (await client.get("/")).text()
    finally:
        await client.close()


async def test_the_pages_of_a_class_served_in_chinese(tmp_path: Path) -> None:
    signin, refused, page = await pages(tmp_path, "zh-CN")
    assert '<html lang="zh-CN">' in signin
    assert "请用老师给你的令牌登录。" in signin and ">登录</button>" in signin
    assert "这个令牌在这里无效。" in refused
    assert "<title>tutor | alice</title>" in page
    assert "下载我的工作区（.zip）" in page and "全班成绩册（.csv）" in page and ">退出登录</button>" in page
    assert "会话已结束。你的代码已保存。" in page and "F9 检查或运行 | F8 重置 | F1 帮助" in page


async def test_the_pages_in_english_are_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUTOR_LANG", raising=False)
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    signin, refused, page = await pages(tmp_path, None)
    assert '<html lang="en">' in signin and "<title>tutor · sign in</title>" in signin
    assert "Sign in with the token your instructor gave you." in signin
    assert "That token is not valid here." in refused
    assert "download my workspace (.zip)" in page and "F9 check or run · F8 reset · F1 help" in page


def test_every_word_of_the_pages_has_a_chinese_translation() -> None:
    words = translations("zh-CN")
    marked = {m for path in TEMPLATES.glob("*.html") for m in re.findall(r'_\("((?:[^"\\]|\\.)*)"\)', path.read_text())}
    assert marked and not [m for m in marked if words.gettext(m) == m]
