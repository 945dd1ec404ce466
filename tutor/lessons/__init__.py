"""Lessons: the model, the parser and discovery. Imports no torch."""

from tutor.lessons.discover import LessonSet, default_lessons_dir, load_lessons
from tutor.lessons.model import Check, Exercise, Lesson, Prose, Rules, Snippet
from tutor.lessons.parser import parse_lesson_file, parse_lesson_text

__all__ = [
    "Check", "Exercise", "Lesson", "LessonSet", "Prose", "Rules", "Snippet",
    "default_lessons_dir", "load_lessons", "parse_lesson_file", "parse_lesson_text",
]
