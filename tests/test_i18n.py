"""The app's and the CLI's words in Simplified Chinese: every marked string has its
translation, none uses a character whose width terminals disagree on, and what a learner
reads from the CLI (`tutor --lang zh-CN list`, `grade`, `hint`) is in Chinese while the
JSON stays English."""

from __future__ import annotations

import ast
import json
import re
import shutil
import string
import unicodedata
from pathlib import Path

import polib
import pytest

from tutor import explain
from tutor import present as fmt
from tutor.cli import main
from tutor.i18n import _, catalogue_path, choose_language, compiled_is_current, translations

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "tutor"
LESSONS = REPO / "lessons"
SAMPLE = REPO / "tests" / "app" / "lessons"


def marked_strings() -> dict[tuple[str, str | None], str]:
    """Every string marked for the catalogue, by (msgid, plural), with where it is:
    ``_("...")``, ``N_("...")``, ``ngettext("...", "...", n)`` and a Textual
    ``Binding``'s description (the app's footer translates those when it draws them)."""
    found: dict[tuple[str, str | None], str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            texts = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            if node.func.id in ("_", "N_") and texts and texts[0] is not None:
                found.setdefault((texts[0], None), where)
            elif node.func.id == "ngettext" and len(texts) >= 2 and texts[0] is not None and texts[1] is not None:
                found.setdefault((texts[0], texts[1]), where)
            elif node.func.id == "Binding" and len(texts) >= 3 and texts[2]:
                found.setdefault((texts[2], None), where)
    return found


def catalogue() -> polib.POFile:
    return polib.pofile(str(catalogue_path("zh-CN")))


def translations_of(entry: polib.POEntry) -> list[str]:
    return [entry.msgstr] if not entry.msgid_plural else [entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural)]


@pytest.fixture
def chinese():
    choose_language("zh-CN")
    yield
    choose_language(None)


@pytest.fixture
def course(tmp_path) -> Path:
    """The app tests' two good lessons with their Chinese catalogues (the third is broken)."""
    root = tmp_path / "lessons"
    (root / "locale" / "zh_CN").mkdir(parents=True)
    for name in ("01-first-steps", "02-second"):
        shutil.copy(SAMPLE / f"{name}.md", root)
        for suffix in (".po", ".mo"):
            shutil.copy(SAMPLE / "locale" / "zh_CN" / f"{name}{suffix}", root / "locale" / "zh_CN")
    return root


# --- the catalogue -----------------------------------------------------------------------


def test_every_marked_string_has_a_chinese_translation():
    entries = {e.msgid: e for e in catalogue() if not e.obsolete}
    missing = [f"{where}: {msgid!r}" for (msgid, _plural), where in marked_strings().items()
               if msgid not in entries or "fuzzy" in entries[msgid].flags or not all(translations_of(entries[msgid]))]
    assert not missing, "untranslated in tutor/locale/zh_CN/LC_MESSAGES/tutor.po:\n" + "\n".join(missing)


def test_the_chinese_catalogue_uses_no_ambiguous_width_character():
    # · … — “ ” ○ ● × → are one cell in most terminals and two in a CJK one (and
    # xterm.js may draw them either way): a column laid out with them drifts.
    found = [f"{e.msgid!r}: {sorted(set(c for c in text if unicodedata.east_asian_width(c) == 'A'))}"
             for e in catalogue() for text in translations_of(e)
             if any(unicodedata.east_asian_width(c) == "A" for c in text)]
    assert not found, "\n".join(found)


def test_each_translation_keeps_the_placeholders_of_its_english():
    def fields(text: str) -> set[str]:
        return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}

    wrong = [e.msgid for e in catalogue() for text in translations_of(e) if "{" in e.msgid and fields(text) != fields(e.msgid)]
    assert not wrong


def test_the_compiled_catalogue_is_current():
    """The .mo the app loads matches the .po (`python -m tutor.i18n` recompiles it)."""
    assert compiled_is_current("zh-CN")
    assert translations("zh-CN").gettext("not started") == "未开始"


def test_the_explained_errors_name_their_lesson_sections_as_the_chinese_lessons_do(chinese):
    """"learn more" names a section by its heading: in Chinese, the heading the lesson's
    own catalogue gives it, so the learner finds it in the Chinese lesson."""
    headings = {e.msgid: e.msgstr for path in (LESSONS / "locale" / "zh_CN").glob("*.po") for e in polib.pofile(str(path))}
    for section in explain.SECTIONS:
        assert _(section.heading) == headings[section.heading]
    assert str(explain.BROADCASTING) == "第 5 课「广播」"


def test_an_explained_error_reads_in_chinese(chinese):
    from tutor.sandbox.api import ErrorInfo

    found = explain.explain(ErrorInfo("RuntimeError", "The size of tensor a (3) must match the size of tensor b (4) at "
                                                      "non-singleton dimension 1"))
    assert found is not None
    assert found.title == "大小 3 和 4 在第 1 维上无法广播"
    assert found.lines()[-1] == "详见：第 5 课「广播」"


def test_the_commonest_check_failures_read_in_chinese(chinese):
    message = ("result: values differ at index [0, 1]: expected 0.5, got -0.75 (3 of 12 elements differ; max abs diff 1.25; "
               "rtol=1.3e-06, atol=1e-05); looks like the right values transposed (yours.T matches)")
    assert fmt.judge_words(message) == ("result：索引 [0, 1] 处的值不同：期望 0.5，实际 -0.75（12 个元素中有 3 个不同；max abs diff 1.25; "
                                        "rtol=1.3e-06, atol=1e-05）；看起来像正确的值被转置了（yours.T 与之相符）")
    assert fmt.check_summary(message, {"expected_value": "0.5", "looks_like": "the right values transposed (yours.T matches)"}) == "result：值不同；看起来像正确的值被转置了（yours.T 与之相符）"
    assert fmt.judge_words("1 of 2 checks failed; first: small: result: dtype differs: expected torch.float32, got torch.int64") == (
        "2 项检查中 1 项未通过；第一项：small：result：数据类型不同：期望 torch.float32，实际 torch.int64")
    # One it does not know stays as the judge wrote it.
    assert fmt.judge_words("printed output differs at line 2") == "printed output differs at line 2"


def test_english_is_untouched_by_the_catalogue():
    assert fmt.judge_words("result: values differ") == "result: values differ"
    assert fmt.status_word("not started") == "not started"
    assert fmt.narrow("· …") == "· …"
    assert fmt.count(2, "check") == "2 checks"


# --- the CLI -------------------------------------------------------------------------------


def test_tutor_list_in_chinese(capsys, chinese, course, tmp_path):
    """Status words and progress in Chinese, the lessons' titles from their catalogues,
    and no ambiguous-width mark (the English '·' is '-' here)."""
    assert main(["--lang", "zh-CN", "list", "--lessons", str(course), "--workspace", str(tmp_path / "ws")]) == 0
    out = capsys.readouterr().out
    assert " 1  第一步  已通过 0/1" in out
    assert "    - first-steps/add-row  加上一行  未开始" in out
    assert not [c for c in out if unicodedata.east_asian_width(c) == "A"]


def test_tutor_list_json_keeps_its_english_keys_and_values(capsys, chinese, course, tmp_path):
    assert main(["--lang", "zh-CN", "list", "--json", "--lessons", str(course), "--workspace", str(tmp_path / "ws")]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["lessons"][0]["exercises"][0]["status"] == "not started"


def test_tutor_hint_in_chinese(capsys, chinese, course, tmp_path):
    workspace = tmp_path / "ws"
    assert main(["--lang", "zh-CN", "init", str(workspace), "--lessons", str(course)]) == 0
    capsys.readouterr()
    assert main(["--lang", "zh-CN", "hint", "first-steps/add-row", "--workspace", str(workspace), "--lessons", str(course)]) == 0
    out = capsys.readouterr().out
    assert "提示 1/2 | first-steps/add-row" in out
    assert "可以广播" in out


def test_grade_lines_pad_a_chinese_verdict_by_its_cells(chinese):
    from tutor.commands.grade import _line
    from tutor.grading.results import ExerciseReport

    failed = _line(ExerciseReport(id="first-steps/add-row", status="fail", message="all 2 checks passed", duration_ms=120), set())
    passed = _line(ExerciseReport(id="first-steps/add-row", status="pass", duration_ms=120), set())
    # 未通过 is six cells, 通过 four: the ids start in one column.
    assert re.match(r"^未通过 first-steps/add-row  \(0\.12 s\)\n      2 项检查全部通过$", failed)
    assert passed == "通过   first-steps/add-row  (0.12 s)"


# --- wide characters -----------------------------------------------------------------------


def test_tutor_watch_wraps_and_cuts_chinese_by_cells(chinese):
    """A CJK character is two cells: `tutor watch` fills its rows by cells, never past
    the width (textwrap counts characters, and Chinese has no spaces to break at)."""
    from rich.cells import cell_len

    from tutor.commands.watch import _fit, _wrap

    prompt = "写一个 `add_row(m, r)`，把行 `r` 加到 `m` 的每一行上。形状 (3, 4) 和 (4,) 可以广播，" * 4
    rows = [line.text for line in _wrap(prompt, 40)]
    assert len(rows) > 4 and all(cell_len(row) <= 40 for row in rows)
    assert "".join(rows).replace(" ", "") == " ".join(prompt.split()).replace(" ", "")  # nothing lost
    assert cell_len(_fit("练习：加上一行" * 10, 21)) <= 21 and _fit("练习：加上一行" * 10, 21).endswith("...")


def test_a_translated_code_comment_wraps_by_cells():
    from rich.cells import cell_len

    wrapped = fmt.wrap_code("x = 1  # 这是一个很长的中文注释，用来检查换行是否按照单元格宽度来计算而不是按照字符数", 40)
    assert all(cell_len(line) <= 40 for line in wrapped.splitlines())
    assert fmt.wrap_code("x = 1  # " + "a" * 60, 40) == "x = 1  #\n↪ " + "a" * 38 + "\n↪ " + "a" * 22


def test_a_chinese_string_value_is_cut_to_its_cells():
    from rich.cells import cell_len

    preview = fmt.one_line("'" + "张量的形状" * 20 + "'", 40)
    assert cell_len(preview) <= 40 and preview.endswith("…")
    assert fmt.one_line("x" * 50, 40) == "x" * 39 + "…"


def test_a_stale_compiled_catalogue_is_passed_over_for_the_po(tmp_path, monkeypatch):
    """An edited .po whose .mo was not recompiled is read itself, plurals included."""
    from tutor import i18n

    folder = tmp_path / "zh_CN" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = catalogue_path("zh-CN").read_text(encoding="utf-8").replace('msgstr "未开始"', 'msgstr "还没开始"')
    (folder / "tutor.po").write_text(po, encoding="utf-8")
    shutil.copy(catalogue_path("zh-CN").with_suffix(".mo"), folder / "tutor.mo")  # compiled from the other text
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        words = i18n.translations("zh-CN")
        assert words.gettext("not started") == "还没开始"
        assert words.ngettext("{n} check", "{n} checks", 3) == "{n} 项检查"
        assert not i18n.compiled_is_current("zh-CN")
    finally:
        i18n.translations.cache_clear()


def test_chinese_wraps_between_characters_and_other_text_as_before():
    """Rich breaks lines at spaces only; in Chinese the app lets it break between
    characters (never before a closing mark), and text without wide characters is divided
    exactly as Rich divides it."""
    import random

    from rich._wrap import divide_line

    fmt.wrap_chinese_by_character()
    old = re.compile(r"\s*\S+\s*")
    rng = random.Random(0)
    for _round in range(500):
        text = "".join(rng.choice(string.ascii_letters + string.punctuation + "   ") for _char in range(rng.randint(0, 80)))
        assert [m.span() for m in old.finditer(text)] == [m.span() for m in fmt.CJK_WORD.finditer(text)]
    text = "逐元素运算从右往左对齐两个形状。在第 1 维，一个张量的大小是 3，另一个是 4；两者都不是 1。"
    rows = [text[a:b] for a, b in zip([0, *divide_line(text, 30)], [*divide_line(text, 30), len(text)])]
    from rich.cells import cell_len

    # 28 cells: 状 would fit, but not with the full stop that must stay beside it.
    assert rows[0] == "逐元素运算从右往左对齐两个形" and rows[1].startswith("状。")
    assert all(cell_len(row.rstrip()) <= 30 for row in rows)
    assert not any(row.startswith(("，", "。", "；")) for row in rows)


# --- the command line's own words ------------------------------------------------------------


def help_of(capsys, monkeypatch, *argv: str) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_tutor_grade_help_in_chinese_fits_80_columns(capsys, monkeypatch, chinese):
    """--lang is read before the parser is built, so the help (argparse's own words too)
    is in Chinese; wrapped by cells, no row of Chinese passes 80 columns, and the usage's
    next rows line up under the command though 用法： is two cells a character."""
    from rich.cells import cell_len

    out = help_of(capsys, monkeypatch, "--lang", "zh-CN", "grade")
    rows = out.splitlines()
    assert rows[0].startswith("用法：tutor grade [-h]")
    assert rows[1].startswith(" " * cell_len("用法：tutor grade ") + "[")
    assert "\n位置参数：\n" in out and "\n选项：\n" in out  # argparse's headings, a full-width colon
    assert "显示这条帮助信息并退出" in out
    assert "同时评分的练习数（默认：CPU 核数）" in out
    assert "这次运行的随机种子（默认：随机抽取；" in out
    assert "with --batch: the gradebook" in out  # the instructors' options stay English
    wide = [row for row in rows if cell_len(row) != len(row)]
    assert wide and all(cell_len(row) <= 80 for row in wide)
    assert not any(row.lstrip().startswith(("，", "。", "；", "）")) for row in rows)
    assert not [c for c in out if unicodedata.east_asian_width(c) == "A"]


def test_tutor_lang_env_gives_chinese_help(capsys, monkeypatch):
    monkeypatch.setenv("TUTOR_LANG", "zh-CN")
    try:
        out = help_of(capsys, monkeypatch)
    finally:
        choose_language(None)
    assert "在终端里学习 PyTorch。不带命令时打开交互式教程。" in out
    assert "    hint                显示练习的下一条提示" in out


def test_english_help_is_unchanged(capsys, monkeypatch):
    monkeypatch.delenv("TUTOR_LANG", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    out = help_of(capsys, monkeypatch, "grade")
    assert out.startswith("usage: tutor grade [-h] [--lessons DIR] [--lang LANG] [--workspace DIR]\n"
                          "                   [--json FILE]")
    assert "\npositional arguments:\n" in out and "\noptions:\n" in out
    assert "  --jobs N              exercises graded at once (default: cores)\n" in out
    assert out.isascii()


def test_usage_errors_in_chinese(capsys, chinese, course, tmp_path):
    """A mistyped option (argparse's error) and a missing workspace (tutor's): one line
    each, exit 2, in Chinese."""
    with pytest.raises(SystemExit) as exited:
        main(["--lang", "zh-CN", "grade", "--bogus"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == "tutor: 错误：无法识别的参数：--bogus"
    missing = tmp_path / "nowhere"
    assert main(["--lang", "zh-CN", "grade", "--lessons", str(course), "--workspace", str(missing)]) == 2
    assert capsys.readouterr().err == f"tutor: {missing}：这里没有工作区（用 `tutor init {missing}` 创建一个）\n"
    assert main(["--lang", "zh-CN", "run", str(tmp_path / "absent.py")]) == 2
    assert capsys.readouterr().err == f"tutor: {tmp_path / 'absent.py'}：没有这个文件\n"
    assert main(["--lang", "zh-CN", "hint", "add-rows", "--lessons", str(course), "--workspace", str(missing)]) == 2
    assert capsys.readouterr().err == "tutor: 没有练习「add-rows」；你是不是要找 first-steps/add-row？\n"


def test_grading_failures_and_hidden_checks_read_in_chinese(chinese):
    assert fmt.judge_words("grading failed: RuntimeError: boom") == "评分失败：RuntimeError: boom"
    assert fmt.judge_words("timed out after 10 s (an endless loop, or too much work?)") == "10 秒后超时（死循环，还是计算量太大？）"
    assert fmt.judge_words("your code exited early with sys.exit(3) before the checks could run") == (
        "你的代码在检查运行之前就用 sys.exit(3) 提前退出了")
    assert fmt.judge_words("hidden check 2") == "隐藏检查 2"
