"""Finding lessons: which files are read, in what order, and what a set refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.errors import UsageError
from tutor.lessons import default_lessons_dir, load_lessons

DATA = Path(__file__).resolve().parents[1] / "data" / "lessons"
GOOD = DATA / "good"


def write_lesson(directory: Path, name: str, lesson_id: str, order: int) -> Path:
    path = directory / name
    path.write_text(f'+++\nid = "{lesson_id}"\ntitle = "{lesson_id}"\norder = {order}\ntopics = ["norms"]\n+++\n\nProse.\n')
    return path


def test_a_directory_gives_its_lessons_in_order_without_the_readme():
    lessons = load_lessons(GOOD)

    assert lessons.errors == []
    assert [lesson.id for lesson in lessons.lessons] == ["basics", "views"]
    assert [e.id for e in lessons.exercises()] == ["views/flat"]


def test_lessons_with_the_same_order_are_listed_by_id(tmp_path):
    write_lesson(tmp_path, "1.md", "zeta", 3)
    write_lesson(tmp_path, "2.md", "alpha", 3)
    write_lesson(tmp_path, "3.md", "first", 1)

    assert [lesson.id for lesson in load_lessons(tmp_path).lessons] == ["first", "alpha", "zeta"]


def test_a_set_finds_its_lessons_and_exercises_by_id():
    lessons = load_lessons(GOOD)

    assert lessons.lesson("views").title == "Views and gradients"
    assert lessons.exercise("views/flat").short_id == "flat"
    with pytest.raises(KeyError):
        lessons.exercise("views/nope")
    with pytest.raises(KeyError):
        lessons.lesson("nope")


def test_a_duplicate_lesson_id_keeps_the_first_and_blames_the_second(tmp_path):
    first = write_lesson(tmp_path, "a.md", "twin", 1)
    second = write_lesson(tmp_path, "b.md", "twin", 2)

    lessons = load_lessons(tmp_path)

    assert [lesson.path for lesson in lessons.lessons] == [first]
    [error] = lessons.errors
    assert (error.path, error.line) == (second, 2)
    assert error.message == f"duplicate lesson id 'twin' (also in {first})"


def test_the_same_file_named_twice_is_read_once():
    lessons = load_lessons([GOOD / "basics.md", GOOD, GOOD / "basics.md"])

    assert lessons.errors == []
    assert [lesson.id for lesson in lessons.lessons] == ["basics", "views"]


def test_a_missing_path_or_a_directory_without_lessons_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such file or directory"):
        load_lessons(tmp_path / "missing")
    with pytest.raises(UsageError, match=r"no lesson files \(\*\.md\)"):
        load_lessons(tmp_path)


def test_subdirectories_are_not_searched():
    """bad/duplicate-lesson-id/ holds two lessons; checking bad/ must not read them."""
    lessons = load_lessons(DATA / "bad")

    assert lessons.lessons == []  # the twins are valid lessons: reading them would list them
    assert all(error.path.parent == DATA / "bad" for error in lessons.errors)


def test_tutor_lessons_overrides_the_shipped_lessons(monkeypatch, tmp_path):
    monkeypatch.setenv("TUTOR_LESSONS", str(tmp_path))
    assert default_lessons_dir() == tmp_path

    monkeypatch.delenv("TUTOR_LESSONS")
    assert (default_lessons_dir() / "README.md").is_file()
