"""The course in Simplified Chinese: catalogues that hold only words, checked against the
English, and the language chosen by --lang, TUTOR_LANG or the locale.

Nothing here runs a snippet: a translation's code, outputs and checks are the English
lesson's, so checking a translation reads text only.
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import polib
import pytest

from tutor.cli import main
from tutor.lessons import Exercise, Prose, Snippet, load_lessons
from tutor.lessons.discover import default_lessons_dir
from tutor.lessons.translate import choose_language, compiled_is_current, extract

SHIPPED = default_lessons_dir()
LESSON_01 = SHIPPED / "01-tensor-attributes.md"
CATALOGUE_01 = SHIPPED / "locale" / "zh_CN" / "01-tensor-attributes.po"
#: The lessons whose Chinese is complete; `check-lessons --lang zh-CN` must pass on them.
TRANSLATED = sorted(p for p in SHIPPED.glob("*.md") if (SHIPPED / "locale" / "zh_CN" / f"{p.stem}.po").exists())


@pytest.fixture(autouse=True)
def english_environment(monkeypatch):
    """Each story starts with no language chosen, whatever the machine's locale, and leaves
    none chosen behind for the tests after it."""
    for name in ("TUTOR_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    choose_language(None)
    yield
    choose_language(None)


@pytest.fixture
def lesson_copy(tmp_path) -> Path:
    """A copy of lesson 01 with its catalogue, laid out as the course lays them out."""
    lessons = tmp_path / "lessons"
    (lessons / "locale" / "zh_CN").mkdir(parents=True)
    shutil.copy(LESSON_01, lessons / LESSON_01.name)
    shutil.copy(CATALOGUE_01, lessons / "locale" / "zh_CN" / CATALOGUE_01.name)
    shutil.copy(CATALOGUE_01.with_suffix(".mo"), lessons / "locale" / "zh_CN" / CATALOGUE_01.with_suffix(".mo").name)
    return lessons / LESSON_01.name


def line_of(path: Path, start: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.startswith(start))


def test_the_translated_lessons_check_clean(capsys):
    assert TRANSLATED, "no lesson has a zh-CN catalogue"
    assert main(["check-lessons", "--lang", "zh-CN", *map(str, TRANSLATED)]) == 0
    out = capsys.readouterr().out
    assert f"in {len(TRANSLATED)} lesson(s), none missing, stale or broken" in out


def test_a_changed_english_paragraph_is_reported_stale_at_its_line(lesson_copy, capsys):
    text = lesson_copy.read_text(encoding="utf-8")
    lesson_copy.write_text(text.replace("A fresh tensor has no history", "A new tensor has no history"), encoding="utf-8")
    line = line_of(lesson_copy, "A new tensor has no history")

    assert main(["check-lessons", "--lang", "zh-CN", str(lesson_copy)]) == 1
    err = capsys.readouterr().err
    assert f"{lesson_copy}:{line}: stale: the English of this paragraph in prose \"A new tensor has no history" in err
    assert err.count("stale") == 1 and "missing" not in err.replace("problem(s)", "")

    # Updating the catalogue keeps the old Chinese, marked fuzzy with the old English beside
    # it; it stays stale (and the learner reads the English) until a translator revises it.
    assert main(["check-lessons", "--lang", "zh-CN", "--update-catalogue", str(lesson_copy)]) == 1
    assert f"{lesson_copy}:{line}: stale: the translation of the paragraph in prose" in capsys.readouterr().err
    po = polib.pofile(str(lesson_copy.parent / "locale" / "zh_CN" / CATALOGUE_01.name))
    [entry] = [e for e in po if e.msgid.startswith("A new tensor has no history")]
    assert "fuzzy" in entry.flags and entry.previous_msgid.startswith("A fresh tensor has no history")
    assert entry.msgstr.startswith("新建的张量没有历史")
    assert not [e for e in po if e.obsolete], "the changed entry's old English stays only as its previous msgid"
    [lesson] = load_lessons([lesson_copy], lang="zh-CN").lessons
    assert any(isinstance(b, Prose) and "A new tensor has no history" in b.markdown for b in lesson.blocks)


def test_new_english_is_missing_and_broken_translations_are_named(lesson_copy, capsys):
    text = lesson_copy.read_text(encoding="utf-8")
    lesson_copy.write_text(text.replace("## `Variable` is gone", "Tensors print their fields.\n\n## `Variable` is gone"), encoding="utf-8")
    catalogue = lesson_copy.parent / "locale" / "zh_CN" / CATALOGUE_01.name
    po = polib.pofile(str(catalogue))
    po.find("Describe a tensor").msgstr = "描述张量…"
    po.find("field").msgstr = "字段 {name}"
    hint = next(e for e in po if e.msgid.startswith("Every value is an attribute"))
    hint.msgstr = hint.msgstr.replace("`grad_fn`", "grad_fn")
    # Every marker is there, yet CommonMark does not close ** after full-width punctuation
    # when a letter follows: the learner would read the asterisks.
    prompt = next(e for e in po if e.msgid.startswith("Write a function `describe(t)`"))
    prompt.msgstr = "写一个函数 `describe(t)`，为张量 `t` 返回一个**元组：**它由五个值组成"
    po.save(str(catalogue))

    assert main(["check-lessons", "--lang", "zh-CN", str(lesson_copy)]) == 1
    err = capsys.readouterr().err
    assert f"{lesson_copy}:{line_of(lesson_copy, 'Tensors print their fields.')}: missing: no entry for the paragraph" in err
    assert (f"{lesson_copy}:{line_of(lesson_copy, '## Exercise: Describe a tensor')}: the translation of the exercise title "
            "of 'describe' \"Describe a tensor\" has ambiguous-width characters: '…' (U+2026 HORIZONTAL ELLIPSIS)") in err
    assert "placeholders differ (the translation has '{name}')" in err
    assert f"{lesson_copy}:{line_of(lesson_copy, 'Every value is an attribute')}: " in err
    assert "code spans differ (the English has 'grad_fn')" in err
    [unclosed] = [line for line in err.splitlines() if "renders 0 bold where the English renders 1" in line]
    assert unclosed.startswith(f"{lesson_copy}:{line_of(lesson_copy, 'Write a function `describe(t)`')}: the translation "
                               "of the paragraph in the prompt of 'describe'")


def test_a_translation_changes_words_only(lesson_copy):
    [english] = load_lessons([lesson_copy], lang="en").lessons
    [chinese] = load_lessons([lesson_copy], lang="zh-CN").lessons

    assert (english.title, chinese.title) == ("What a tensor carries", "张量里装着什么")
    assert [type(b) for b in english.blocks] == [type(b) for b in chinese.blocks]
    for en, zh in zip(english.blocks, chinese.blocks, strict=True):
        if isinstance(en, Snippet):
            assert isinstance(zh, Snippet)
            assert ast.dump(ast.parse(en.code)) == ast.dump(ast.parse(zh.code))
            assert (en.expected_output, en.line, en.run) == (zh.expected_output, zh.line, zh.run)
        elif isinstance(en, Exercise):
            assert isinstance(zh, Exercise)
            assert (en.id, en.solution, en.checks, en.wrong) == (zh.id, zh.solution, zh.checks, zh.wrong)
            assert ast.dump(ast.parse(en.starter)) == ast.dump(ast.parse(zh.starter))
            assert "# TODO：返回" in zh.starter
            assert zh.hints[-1] == en.hints[-1], "the code rung of the hints is the English code"
            assert "`torch.Size`" in zh.hints[1] and "元组" in zh.hints[1]
        else:
            assert isinstance(zh, Prose) and en.markdown != zh.markdown
    # Every unit of the lesson is in its catalogue, once per text and context.
    po = polib.pofile(str(CATALOGUE_01))
    assert {(u.context, u.msgid) for u in extract(english)} == {(e.msgctxt, e.msgid) for e in po if not e.obsolete}


def test_the_language_comes_from_lang_then_tutor_lang_then_the_locale(capsys, monkeypatch, tmp_path, lesson_copy):
    course = ["--lessons", str(lesson_copy.parent), "--workspace", str(tmp_path)]

    def first_title(*args: str) -> str:
        assert main([*args, "list", "--json", *course]) == 0
        return json.loads(capsys.readouterr().out)["lessons"][0]["title"]

    assert first_title() == "What a tensor carries"
    assert first_title("--lang", "zh-CN") == "张量里装着什么"
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert first_title() == "张量里装着什么"
    monkeypatch.setenv("TUTOR_LANG", "en")
    assert first_title() == "What a tensor carries", "TUTOR_LANG comes before the locale"
    monkeypatch.setenv("TUTOR_LANG", "zh_Hans")
    assert first_title("--lang", "en") == "What a tensor carries", "--lang comes before TUTOR_LANG"
    assert first_title() == "张量里装着什么"

    # The table shows the Chinese titles; JSON keeps its English keys.
    assert main(["list", "--lang", "zh-CN", *course]) == 0
    assert "张量里装着什么" in capsys.readouterr().out
    assert main(["list", "--json", "--lang", "zh-CN", *course]) == 0
    lesson = json.loads(capsys.readouterr().out)["lessons"][0]
    assert set(lesson) >= {"id", "title", "order", "topics", "exercises"} and lesson["id"] == "tensor-attributes"


def test_an_unknown_language_is_a_usage_error(capsys, monkeypatch, tmp_path, lesson_copy):
    with pytest.raises(SystemExit) as exit_:
        main(["--lang", "klingon", "list"])
    assert exit_.value.code == 2
    assert "unknown language 'klingon' (known: en, zh-CN)" in capsys.readouterr().err
    monkeypatch.setenv("TUTOR_LANG", "tlh")
    assert main(["list", "--lessons", str(lesson_copy.parent), "--workspace", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == "tutor: TUTOR_LANG=tlh: unknown language (known: en, zh-CN)"


def test_check_lessons_checks_the_english_whatever_the_locale(capsys, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert main(["check-lessons", "--format-only", str(LESSON_01)]) == 0
    assert main(["check-lessons", "--update-catalogue", str(LESSON_01)]) == 2
    assert "--update-catalogue goes with --lang" in capsys.readouterr().err


def test_the_compiled_catalogue_is_used_only_while_it_matches_its_po(lesson_copy, capsys):
    catalogue = lesson_copy.parent / "locale" / "zh_CN" / CATALOGUE_01.name
    assert compiled_is_current(catalogue), "the shipped .mo is compiled from the shipped .po"
    [lesson] = load_lessons([lesson_copy], lang="zh-CN").lessons
    assert lesson.title == "张量里装着什么"

    # A translator edits the .po and does not recompile: the course shows the edit (the
    # stale .mo is ignored) and check-lessons says the compiled form is out of date.
    po = polib.pofile(str(catalogue))
    po.find("What a tensor carries").msgstr = "张量带着什么"
    po.save(str(catalogue))
    assert not compiled_is_current(catalogue)
    [lesson] = load_lessons([lesson_copy], lang="zh-CN").lessons
    assert lesson.title == "张量带着什么"
    assert main(["check-lessons", "--lang", "zh-CN", str(lesson_copy)]) == 0
    assert "its compiled form (.mo) is out of date" in capsys.readouterr().err

    assert main(["check-lessons", "--lang", "zh-CN", "--update-catalogue", str(lesson_copy)]) == 0
    assert compiled_is_current(catalogue)
    assert "out of date" not in capsys.readouterr().err
    [lesson] = load_lessons([lesson_copy], lang="zh-CN").lessons
    assert lesson.title == "张量带着什么"
