"""Parse one lesson file (Markdown with a TOML header) into a :class:`Lesson`.

The format is documented for authors in ``lessons/README.md``. Every problem is a
:class:`LessonError` that names the file and the 1-based line, so ``check-lessons`` can
print ``FILE:LINE: message`` and an author can jump straight to it.
"""

from __future__ import annotations

import base64
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from tutor.errors import LessonError
from tutor.lessons.checks_fence import find_key, parse_checks, toml_error_line
from tutor.lessons.model import Block, Exercise, Lesson, Prose, Snippet, StoredReference, WrongAnswer
from tutor.lessons.topics import TOPICS

HEADER_FENCE = "+++"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
EXERCISE_RE = re.compile(r"^Exercise:\s*(?P<title>.*?)\s*\{#(?P<id>[^}]*)\}\s*$")
FENCE_OPEN_RE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")

HEADER_KEYS = {"id": str, "title": str, "order": int, "topics": list, "summary": str, "requires": list}
TYPE_NAMES = {str: "a string", int: "an integer", list: "a list"}
REQUIRED_HEADER_KEYS = ("id", "title", "order", "topics")
EXERCISE_FENCES = {"starter", "solution", "hint", "checks", "wrong", "reference"}
#: The fence of a public copy that stands for the solution (``tutor.lessons.writer``).
REFERENCE_FENCE = "reference"
# The words after ``python``/``toml`` that name a fence's role; any other word is an option.
FENCE_ROLES = {"starter", "solution", "checks", "wrong"}
SNIPPET_OPTIONS = {"requires", "norun"}
# ``output exact``: compare the printed output character for character, not numbers
# within a tolerance (``tutor.lessons.output_match``).
OUTPUT_OPTIONS = {"exact"}

_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
# Only the block structure matters here (headings, fences, prose spans); inline parsing
# of every paragraph cost half the parse of the course and its result was never read.
_markdown.core.ruler.disable(["inline", "text_join"])


def parse_lesson_file(path: Path) -> Lesson:
    """Read and parse ``path``; raise :class:`LessonError` on the first problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LessonError(path, 1, f"cannot read file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LessonError(path, line, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    return parse_lesson_text(text, path)


def parse_lesson_text(text: str, path: Path) -> Lesson:
    """Parse lesson source ``text``; ``path`` is used for messages and the model."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise LessonError(path, 1, "empty lesson file (expected a '+++' metadata header)")
    lines = text.splitlines()
    header, body_start = _parse_header(lines, path)
    body = lines[body_start:]
    _check_fences_closed(body, body_start, path)
    return _LessonBuilder(path, header, body, body_start).build()


# --- header -------------------------------------------------------------------------


def _parse_header(lines: list[str], path: Path) -> tuple[dict[str, Any], int]:
    if lines[0].strip() != HEADER_FENCE:
        raise LessonError(path, 1, "a lesson must start with a '+++' line opening its TOML metadata header")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == HEADER_FENCE)
    except StopIteration:
        raise LessonError(path, 1, "metadata header opened here is never closed with '+++'") from None
    source = "\n".join(lines[1:end])
    try:
        header = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        at, message = toml_error_line(exc)
        raise LessonError(path, at + 1 if at else 2, f"malformed metadata header: {message}") from None

    def key_line(key: str) -> int:
        found = find_key(lines[1:end], key)
        return found + 1 if found else 1

    for key in header:
        if key not in HEADER_KEYS:
            known = ", ".join(HEADER_KEYS)
            raise LessonError(path, key_line(key), f"unknown metadata key '{key}' (known: {known})")
    for key in REQUIRED_HEADER_KEYS:
        if key not in header:
            raise LessonError(path, 1, f"metadata header has no '{key}'")
    for key, kind in HEADER_KEYS.items():
        if key in header and (not isinstance(header[key], kind) or isinstance(header[key], bool)):
            raise LessonError(path, key_line(key), f"'{key}' must be {TYPE_NAMES[kind]}")
    if not ID_RE.match(header["id"]):
        raise LessonError(path, key_line("id"), f"lesson id '{header['id']}' must be lowercase letters, digits and '-'")
    if not header["title"].strip():
        raise LessonError(path, key_line("title"), "'title' is empty")
    topics = header["topics"]
    if not topics:
        raise LessonError(path, key_line("topics"), "'topics' is empty: declare at least one topic key")
    for topic in topics:
        if topic not in TOPICS:
            raise LessonError(path, key_line("topics"), f"unknown topic key '{topic}' (see the topic table in lessons/README.md)")
    if len(set(topics)) != len(topics):
        raise LessonError(path, key_line("topics"), "a topic key is listed twice")
    for key in ("topics", "requires"):
        if not all(isinstance(v, str) for v in header.get(key, [])):
            raise LessonError(path, key_line(key), f"'{key}' must be a list of strings")
    header["_id_line"] = key_line("id")
    return header, end + 1


# --- fences ---------------------------------------------------------------------------


def _check_fences_closed(body: list[str], offset: int, path: Path) -> None:
    """CommonMark lets an unclosed fence run to the end of the file; for a lesson that is
    always a mistake (the rest of the lesson silently becomes code), so we reject it."""
    open_fence: tuple[str, int] | None = None
    for i, line in enumerate(body):
        if open_fence is None:
            m = FENCE_OPEN_RE.match(line)
            if m and not (m.group("fence")[0] == "`" and "`" in m.group("info")):
                open_fence = (m.group("fence"), i)
        else:
            fence, _ = open_fence
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence) and len(line) - len(line.lstrip()) <= 3:
                open_fence = None
    if open_fence is not None:
        raise LessonError(path, offset + open_fence[1] + 1, "code fence opened here is never closed")


@dataclass
class _Fence:
    lang: str
    role: str
    options: dict[str, str]
    content: str
    start: int  # 0-based body line of the opening fence
    end: int  # 0-based body line after the closing fence


def _split_info(info: str) -> tuple[str, str, dict[str, str]]:
    words = info.split()
    lang = words[0] if words else ""
    role = ""
    options: dict[str, str] = {}
    for word in words[1:]:
        key, equals, value = word.partition("=")
        # Only a known role word is a role: ``python norun`` is a snippet with an option,
        # not a fence whose role is "norun".
        if not equals and not role and word in FENCE_ROLES:
            role = word
        else:
            options[key] = value
    return lang, role, options


@dataclass
class _ExerciseDraft:
    short_id: str
    title: str
    line: int
    prompt_lines: list[str] = field(default_factory=list)
    starter: _Fence | None = None
    solution: _Fence | None = None
    hints: list[str] = field(default_factory=list)
    checks: _Fence | None = None
    wrong: list[WrongAnswer] = field(default_factory=list)
    reference: StoredReference | None = None


class _LessonBuilder:
    """One pass over the markdown-it tokens of a lesson body: headings open and close
    exercises, fences become snippets or exercise parts, the text between is prose."""

    def __init__(self, path: Path, header: dict[str, Any], body: list[str], offset: int) -> None:
        self.path = path
        self.header = header
        self.body = body
        self.offset = offset
        self.blocks: list[Block] = []
        self.exercise: _ExerciseDraft | None = None
        self.exercise_ids: dict[str, int] = {}
        self.pos = 0

    def line(self, body_index: int) -> int:
        """1-based file line of a 0-based body line."""
        return self.offset + body_index + 1

    def error(self, body_index: int, message: str) -> LessonError:
        return LessonError(self.path, self.line(body_index), message)

    def build(self) -> Lesson:
        tokens = _markdown.parse("\n".join(self.body))
        for i, token in enumerate(tokens):
            if token.level != 0 or token.map is None:
                continue
            start, end = token.map
            if token.type == "heading_open" and int(token.tag[1]) <= 2:
                self.on_heading(int(token.tag[1]), tokens[i + 1].content, start, end)
            elif token.type == "fence":
                lang, role, options = _split_info(token.info)
                fence = _Fence(lang, role, options, token.content, start, end)
                self.on_fence(fence)
        self.flush_text(len(self.body))
        self.finish_exercise()
        lesson_id = self.header["id"]
        return Lesson(
            id=lesson_id,
            title=self.header["title"].strip(),
            order=self.header["order"],
            topics=tuple(self.header["topics"]),
            path=self.path,
            blocks=tuple(self.blocks),
            summary=self.header.get("summary", "").strip(),
            requires=tuple(self.header.get("requires", [])),
        )

    # Text that is neither a consumed fence nor an exercise heading is prose (or, inside
    # an exercise, its prompt). ``pos`` marks where the pending text starts.
    def flush_text(self, upto: int) -> None:
        chunk = self.body[self.pos : upto]
        self.pos = upto
        if self.exercise is not None:
            self.exercise.prompt_lines.extend(chunk)
            return
        text = "\n".join(chunk).strip("\n")
        if text.strip():
            first = next(i for i, l in enumerate(chunk) if l.strip())
            self.blocks.append(Prose(markdown=text, line=self.line(upto - len(chunk) + first)))

    def on_heading(self, level: int, content: str, start: int, end: int) -> None:
        match = EXERCISE_RE.match(content.strip())
        is_exercise = level == 2 and content.strip().lower().startswith("exercise")
        self.flush_text(start)
        self.finish_exercise()
        if not is_exercise:
            return
        if match is None:
            raise self.error(start, "an exercise heading must read '## Exercise: Title {#exercise-id}'")
        short_id = match.group("id")
        if not ID_RE.match(short_id):
            raise self.error(start, f"exercise id '{short_id}' must be lowercase letters, digits and '-'")
        if short_id in self.exercise_ids:
            raise self.error(start, f"duplicate exercise id '{short_id}' (first at line {self.exercise_ids[short_id]})")
        if not match.group("title"):
            raise self.error(start, "exercise heading has no title")
        self.exercise_ids[short_id] = self.line(start)
        self.exercise = _ExerciseDraft(short_id, match.group("title"), self.line(start))
        self.pos = end

    def on_fence(self, fence: _Fence) -> None:
        role = fence.role if fence.lang in ("python", "toml") else fence.lang
        if fence.lang in ("hint", "output", REFERENCE_FENCE):
            role = fence.lang
        if self.exercise is None:
            if role in EXERCISE_FENCES:
                raise self.error(fence.start, f"'{role}' fence outside an exercise (put it under '## Exercise: ...')")
            if role == "output":
                self.attach_output(fence)
            elif fence.lang == "python" and not fence.role:
                self.add_snippet(fence)
            return
        if role in EXERCISE_FENCES:
            self.flush_text(fence.start)
            self.pos = fence.end
            self.add_exercise_fence(role, fence)
        elif fence.lang == "python" and not fence.role:
            # A plain python fence in an exercise is part of the prompt; an unknown word
            # after ``python`` is most likely a misspelt ``starter`` or ``solution``.
            self.check_snippet_options(fence)
        elif role == "output":
            raise self.error(fence.start, "'output' fence inside an exercise (outputs belong to lesson snippets)")

    def check_snippet_options(self, fence: _Fence) -> None:
        unknown = set(fence.options) - SNIPPET_OPTIONS
        if unknown:
            raise self.error(
                fence.start,
                f"unknown python fence option '{sorted(unknown)[0]}' (known: starter, solution, wrong, requires=..., norun)",
            )

    def add_snippet(self, fence: _Fence) -> None:
        self.check_snippet_options(fence)
        self.compile_python(fence.content, fence.start, "snippet")
        self.flush_text(fence.start)
        self.pos = fence.end
        requires = tuple(p for p in fence.options.get("requires", "").split(",") if p)
        index = sum(1 for b in self.blocks if isinstance(b, Snippet))
        self.blocks.append(
            Snippet(index=index, code=fence.content, line=self.line(fence.start), requires=requires, run="norun" not in fence.options)
        )

    def attach_output(self, fence: _Fence) -> None:
        pending = "\n".join(self.body[self.pos : fence.start]).strip()
        last = self.blocks[-1] if self.blocks else None
        if pending or not isinstance(last, Snippet):
            raise self.error(fence.start, "an 'output' fence must follow a python snippet directly")
        if last.expected_output is not None:
            raise self.error(fence.start, "this snippet already has an 'output' fence")
        unknown = sorted(set(fence.options) - OUTPUT_OPTIONS)
        if unknown:
            raise self.error(fence.start, f"unknown output fence option '{unknown[0]}' (known: exact)")
        self.pos = fence.end
        self.blocks[-1] = Snippet(**{**last.__dict__, "expected_output": fence.content, "exact_output": "exact" in fence.options})

    def add_exercise_fence(self, role: str, fence: _Fence) -> None:
        ex = self.exercise
        assert ex is not None
        if role in ("starter", "solution"):
            if fence.lang != "python":
                raise self.error(fence.start, f"the {role} fence must be 'python {role}'")
            if getattr(ex, role) is not None:
                raise self.error(fence.start, f"exercise '{ex.short_id}' has two {role} fences")
            self.compile_python(fence.content, fence.start, role)
            setattr(ex, role, fence)
        elif role == "hint":
            if not fence.content.strip():
                raise self.error(fence.start, "empty hint")
            ex.hints.append(fence.content.strip())
        elif role == "wrong":
            if fence.lang != "python":
                raise self.error(fence.start, "a wrong answer fence must be 'python wrong'")
            self.compile_python(fence.content, fence.start, "wrong answer")
            first = fence.content.lstrip("\n").split("\n", 1)[0].strip()
            if not first.startswith("#") or not first.lstrip("#").strip():
                raise self.error(fence.start, "a 'python wrong' fence starts with a comment line that says why the answer is wrong")
            ex.wrong.append(WrongAnswer(fence.content, first.lstrip("#").strip(), self.line(fence.start)))
        elif role == REFERENCE_FENCE:
            if ex.reference is not None:
                raise self.error(fence.start, f"exercise '{ex.short_id}' has two reference fences")
            ex.reference = self.stored_reference(fence)
        elif role == "checks":
            if fence.lang != "toml":
                raise self.error(fence.start, "the checks fence must be 'toml checks'")
            if ex.checks is not None:
                raise self.error(fence.start, f"exercise '{ex.short_id}' has two checks fences")
            ex.checks = fence

    def stored_reference(self, fence: _Fence) -> StoredReference:
        """A public copy's ``reference`` fence: JSON with the reference's harness record
        and its tensors' bytes (base64, in lines), written by ``tutor.lessons.writer``."""
        def bad(why: str) -> LessonError:
            return self.error(fence.start, f"malformed reference fence: {why}")

        try:
            data = json.loads(fence.content)
        except ValueError as exc:
            raise bad(str(exc)) from None
        if not isinstance(data, dict) or not isinstance(data.get("record"), dict):
            raise bad("it must be a JSON object with a 'record' object")
        blobs = data.get("blobs", {})
        if not isinstance(blobs, dict) or not all(isinstance(v, list) and all(isinstance(c, str) for c in v)
                                                  for v in blobs.values()):
            raise bad("'blobs' must map names to lists of base64 lines")
        try:
            decoded = tuple((str(k), base64.b64decode("".join(v), validate=True)) for k, v in blobs.items())
        except ValueError:
            raise bad("a blob is not base64") from None
        hidden, points, device = data.get("hidden_checks", 0), data.get("hidden_points", 0), data.get("device", "cpu")
        if type(hidden) is not int or hidden < 0 or type(points) not in (int, float) or points < 0 \
                or not isinstance(device, str):
            raise bad("'hidden_checks', 'hidden_points' and 'device' must be a count, a number and a name")
        return StoredReference(record=json.dumps(data["record"]), blobs=decoded, hidden_checks=hidden,
                               hidden_points=float(points), device=device, line=self.line(fence.start))

    def compile_python(self, code: str, fence_start: int, what: str) -> None:
        try:
            compile(code, f"<{what}>", "exec")
        except SyntaxError as exc:
            line = fence_start + (exc.lineno or 1)
            raise self.error(line, f"syntax error in {what}: {exc.msg}") from None

    def finish_exercise(self) -> None:
        ex = self.exercise
        if ex is None:
            return
        self.exercise = None
        where = f"exercise '{ex.short_id}'"
        if ex.starter is None:
            raise LessonError(self.path, ex.line, f"{where} has no 'python starter' fence")
        if ex.solution is None and ex.reference is None:
            raise LessonError(self.path, ex.line, f"{where} has no 'python solution' fence")
        if ex.solution is not None and ex.reference is not None:
            raise LessonError(self.path, ex.reference.line,
                              f"{where} has both a solution and stored reference values; keep one")
        if not ex.hints:
            raise LessonError(self.path, ex.line, f"{where} has no 'hint' fence")
        if ex.checks is None:
            raise LessonError(self.path, ex.line, f"{where} has no 'toml checks' fence")
        fence = ex.checks

        def file_line(toml_line: int | None) -> int:  # 1-based line inside the fence
            return self.line(fence.start + toml_line) if toml_line else self.line(fence.start)

        def fail(message: str, toml_line: int | None = None) -> LessonError:
            return LessonError(self.path, file_line(toml_line), message)

        meta, checks = parse_checks(fence.content, where, fail, file_line)
        lesson_id = self.header["id"]
        self.blocks.append(
            Exercise(
                id=f"{lesson_id}/{ex.short_id}",
                short_id=ex.short_id,
                lesson_id=lesson_id,
                title=ex.title,
                line=ex.line,
                prompt="\n".join(ex.prompt_lines).strip("\n"),
                starter=ex.starter.content,
                solution=ex.solution.content if ex.solution else "",
                hints=tuple(ex.hints),
                checks=checks,
                starter_line=self.line(ex.starter.start),
                solution_line=self.line(ex.solution.start) if ex.solution else ex.line,
                checks_line=self.line(ex.checks.start),
                wrong=tuple(ex.wrong),
                reference=ex.reference,
                **meta,
            )
        )
