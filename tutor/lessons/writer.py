"""Write a lesson model back as a lesson file: the Markdown that :mod:`tutor.lessons.parser`
reads into the same model.

A copy of a lesson (the learners' public copy) is made by changing the parsed model and
writing it here, never by deleting lines of the author's file: what the model does not
hold (a comment in a checks fence, a stray line) cannot leak into the copy, and what it
does hold (a ``[rules]`` table after a hidden check) cannot be dropped with a neighbour.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping

from tutor.lessons.model import Exercise, Lesson, Prose, Snippet, StoredReference

#: The seeds an exercise has when its checks fence names none.
DEFAULT_SEEDS = (0, 1, 2)
DEFAULT_TIMEOUT = 10.0
BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
#: Characters a TOML multi-line literal string cannot hold (controls other than tab and
#: newline), so such a string is written as an escaped basic string.
TOML_LITERAL_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]|'''|'$|\r")
BLOB_LINE = 76


def toml_value(value: object) -> str:
    """``value`` (what ``tomllib`` returns for a value) as TOML text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"not a TOML value: {type(value).__name__}")


def toml_string(text: str) -> str:
    """A code string with lines (a ``setup``) as a readable multi-line literal; anything
    else as a basic string with JSON's escapes, which TOML shares (DEL escaped too)."""
    if "\n" in text and not TOML_LITERAL_UNSAFE.search(text):
        return "'''\n" + text + "'''"
    return json.dumps(text).replace("\x7f", "\\u007f")


def toml_key(key: str) -> str:
    return key if BARE_KEY.match(key) else toml_string(key)


def _fence(info: str, content: str) -> str:
    """A backtick fence around ``content`` that no backtick run inside it can close."""
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    ticks = "`" * max(3, longest + 1)
    body = content if content.endswith("\n") or not content else content + "\n"
    return f"{ticks}{info}\n{body}{ticks}\n"


def _header(lesson: Lesson) -> str:
    lines = ["+++", f"id = {toml_string(lesson.id)}", f"title = {toml_string(lesson.title)}", f"order = {lesson.order}",
             f"topics = {toml_value(list(lesson.topics))}"]
    if lesson.summary:
        lines.append(f"summary = {toml_string(lesson.summary)}")
    if lesson.requires:
        lines.append(f"requires = {toml_value(list(lesson.requires))}")
    return "\n".join([*lines, "+++"]) + "\n"


def _snippet(snippet: Snippet) -> str:
    info = "python"
    if snippet.requires:
        info += " requires=" + ",".join(snippet.requires)
    if not snippet.run:
        info += " norun"
    text = _fence(info, snippet.code)
    if snippet.expected_output is not None:
        text += "\n" + _fence("output exact" if snippet.exact_output else "output", snippet.expected_output)
    return text


def checks_toml(exercise: Exercise) -> str:
    """The checks fence of ``exercise``: its settings, ``[rules]`` and each check's table."""
    lines = []
    if exercise.seeds != DEFAULT_SEEDS:
        lines.append(f"seeds = {toml_value(list(exercise.seeds))}")
    if exercise.requires:
        lines.append(f"requires = {toml_value(list(exercise.requires))}")
    if exercise.timeout != DEFAULT_TIMEOUT:
        lines.append(f"timeout = {toml_value(exercise.timeout)}")
    rules = exercise.rules
    if rules.banned or rules.no_loops or rules.required:
        lines += ["", "[rules]"]
        if rules.banned:
            lines.append(f"banned = {toml_value(list(rules.banned))}")
        if rules.no_loops:
            lines.append("no_loops = true")
        if rules.required:
            lines.append(f"required = {toml_value([' | '.join(group) for group in rules.required])}")
    for check in exercise.checks:
        lines += ["", "[[check]]"]
        lines += [f"{toml_key(key)} = {toml_value(value)}" for key, value in check.table.items()]
    return "\n".join(lines).strip("\n") + "\n"


def reference_json(reference: StoredReference) -> str:
    """The ``reference`` fence's JSON: a line per setting and per result, then each blob
    in base64 lines."""
    def dump(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))

    record = json.loads(reference.record)
    results = record.pop("results", []) if isinstance(record, dict) else []
    lines = ["{",
             ' "about": ' + dump("the reference's values for the visible checks on this lesson's seeds; the judge "
                                 "compares your answer with them (no code)") + ",",
             f' "hidden_checks": {reference.hidden_checks},',
             f' "hidden_points": {dump(reference.hidden_points)},',
             f' "device": {dump(reference.device)},',
             ' "record": {' + "".join(f"{dump(k)}: {dump(v)}, " for k, v in record.items()) + '"results": [']
    lines += [f"  {dump(result)}," for result in results]
    if results:
        lines[-1] = lines[-1].rstrip(",")
    lines += [" ]},", ' "blobs": {']
    blobs = []
    for name, data in reference.blobs:
        text = base64.b64encode(data).decode("ascii")
        chunks = [f'   "{text[i:i + BLOB_LINE]}"' for i in range(0, len(text), BLOB_LINE)]
        blobs.append(f"  {dump(name)}: [\n" + ",\n".join(chunks) + "\n  ]")
    lines += [",\n".join(blobs)] if blobs else []
    lines += [" }", "}"]
    return "\n".join(lines) + "\n"


def _exercise(exercise: Exercise) -> str:
    parts = [f"## Exercise: {exercise.title} {{#{exercise.short_id}}}\n"]
    if exercise.prompt.strip():
        parts.append(exercise.prompt.strip("\n") + "\n")
    parts.append(_fence("python starter", exercise.starter))
    if exercise.reference is None:
        parts.append(_fence("python solution", exercise.solution))
    parts += [_fence("hint", hint + "\n") for hint in exercise.hints]
    parts += [_fence("python wrong", wrong.code) for wrong in exercise.wrong]
    parts.append(_fence("toml checks", checks_toml(exercise)))
    if exercise.reference is not None:
        parts.append(_fence("reference", reference_json(exercise.reference)))
    return "\n".join(parts)


def lesson_markdown(lesson: Lesson) -> str:
    """The lesson file that parses into ``lesson`` (up to line numbers)."""
    parts = [_header(lesson)]
    for block in lesson.blocks:
        if isinstance(block, Prose):
            parts.append(block.markdown.strip("\n") + "\n")
        elif isinstance(block, Snippet):
            parts.append(_snippet(block))
        else:
            parts.append(_exercise(block))
    return "\n".join(parts)
