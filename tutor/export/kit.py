"""What every kit ships: tutor's own source (so the engine can ``pip install`` it) and
the private lessons the instructor grades with."""

from __future__ import annotations

import shutil
from pathlib import Path

import tutor
from tutor.lessons import LessonSet

SOURCE_ROOT = Path(tutor.__file__).resolve().parent.parent
#: The torch the kits install: the build the project tests, CPU-only (grading needs no GPU).
TORCH_INSTALL = "pip3 install --quiet torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"


def copy_tutor_source(target: Path) -> None:
    """tutor's package and build files, without caches, into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(SOURCE_ROOT / name, target / name)
    shutil.copytree(SOURCE_ROOT / "tutor", target / "tutor", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # The wheel's data files come from lessons/*.md: an empty folder keeps the build happy.
    (target / "lessons").mkdir(exist_ok=True)


def copy_lessons(lessons: LessonSet, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for lesson in lessons.lessons:
        shutil.copy2(lesson.path, target / lesson.path.name)


def write_script(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
