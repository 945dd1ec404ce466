"""A learner who reads Chinese solves an exercise: the lessons from their catalogues
(tests/app/lessons/locale/zh_CN), the app's words from tutor's, over the fake sandbox."""

from __future__ import annotations

import unicodedata

import pytest
from textual.widgets import Markdown, Static, TextArea, Tree

from tutor.app.app import TutorApp, make_app
from tutor.app.screens.exercise import ExerciseScreen
from tutor.app.widgets.check_report import CheckReport
from tutor.app.widgets.info_table import InfoTable
from tutor.i18n import choose_language

from .fakes import FakeSandbox, fake_grade, sample_lessons, workspace_at


@pytest.fixture
def chinese_app(tmp_path) -> TutorApp:
    choose_language("zh-CN")  # before the lessons load: they are read in the chosen language
    yield make_app(sample_lessons(), workspace_at(tmp_path / "ws"), FakeSandbox(), grade=fake_grade, device="cpu",
                   watch_interval=0.05)
    choose_language(None)


def shown(widget, selector: str) -> list[str]:
    return [str(w.render()) for w in widget.query(selector)]


def ambiguous(text: str) -> set[str]:
    return {c for c in text if unicodedata.east_asian_width(c) == "A"}


async def test_a_learner_solves_an_exercise_in_chinese(chinese_app: TutorApp) -> None:
    app = chinese_app
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.format_title(app.title, app.sub_title).plain == "tutor | cpu | 沙箱就绪"  # no em dash
        tree = app.screen.query_one(Tree)
        first = tree.root.children[0]
        assert str(first.label) == " 1. 第一步  已通过 0/1"
        assert [str(n.label) for n in first.children] == ["- 练习：加上一行  未开始"]

        await pilot.press("down", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExerciseScreen)
        editor = screen.query_one("#editor", TextArea)
        assert "# TODO：把 r 加到 m 的每一行上" in editor.text  # the starter's comment, translated
        assert "把行 `r` 加到 `m` 的每一行上" in screen.query_one("#prompt", Markdown).source

        await pilot.press("ctrl+r")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        report = screen.query_one(CheckReport)
        assert shown(report, ".headline") == ["✗ 未通过：检查通过 0/2"]  # the app runs the hidden check too
        assert shown(report, ".check") == ["✗ a 3x4 matrix", "✗ secret（隐藏）"]
        assert [list(r) for r in report.query_one(".difference", InfoTable).rows] == [["(0, 1) 处的值", "0.5", "-0.75"]]
        details = " ".join(shown(report, ".detail"))
        assert "result" not in details and "最大绝对误差 1.25 | 最大相对误差 1 | 形状 (3, 4) 和数据类型 float32 都相同" in details
        assert shown(report, ".hint") == ["卡住了？ctrl+g 显示下一条提示。"]

        await pilot.press("ctrl+g")
        await pilot.pause()
        assert [h.source for h in screen.query(".hint").results(Markdown)] == ["**提示 1/2。** 形状 (3, 4) 和 (4,) 可以广播。"]

        editor.text = editor.text.replace("    return m\n", "    return m + r\n")
        await pilot.press("ctrl+r")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert shown(report, ".headline") == ["✓ 通过：2/2 项检查"]
        assert "ctrl+l 把你的答案与参考答案对照。" in shown(report, ".note")
        words = [*shown(report, "Static"), str(screen.editor.border_title), str(screen.editor.border_subtitle)]
        assert not ambiguous("".join(words))

        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        label = str(app.screen.query_one(Tree).root.children[0].children[0].label)
        assert label == "✓ 练习：加上一行  已通过"
        assert app.screen.query_one("#details", Static) is not None


def test_tutor_watch_lays_out_a_chinese_exercise_in_80x24(tmp_path) -> None:
    """A shipped exercise with a long Chinese prompt, checked and failed, then with its
    first hint and the list: every row within 80 cells, in Chinese, with no character
    of ambiguous width (the keys line, the marks and the cuts included)."""
    from rich.cells import cell_len

    from tutor.commands.watch import WatchView
    from tutor.core import Tutor
    from tutor.lessons import load_lessons
    from tutor.lessons.discover import default_lessons_dir
    from tutor.session import Session
    from tutor.workspace import Workspace

    choose_language("zh-CN")
    try:
        lessons = load_lessons([default_lessons_dir()])
        core = Tutor(lessons, Workspace(tmp_path / "ws", lessons), client=FakeSandbox(), grade=fake_grade, device="cpu")
        core.start()
        view = WatchView(Session(core), lessons.resolve("autograd/zero-grad"))
        view.check(first=True)
        screens = [view.lines(80, 24)]
        for key in ("h", "l"):
            view.key(key)
            screens.append(view.lines(80, 24))
    finally:
        choose_language(None)
    for rows in screens:
        assert len(rows) == 24 and all(cell_len(row.text) <= 80 for row in rows)
        assert not ambiguous("".join(row.text for row in rows))
    exercise = "\n".join(row.text for row in screens[0])
    assert "tutor watch | autograd/zero-grad" in exercise and "在你的编辑器里保存，这里就会检查" in exercise
    assert "✗ 通过 0/" in exercise
    assert "提示 1/" in "\n".join(row.text for row in screens[1])
    assert "◂ 正在监视" in "\n".join(row.text for row in screens[2])
