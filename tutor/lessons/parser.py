"""Parse one lesson file (Markdown with a TOML header) into a :class:`Lesson`.

The format is documented for authors in ``lessons/README.md``. Every problem is a
:class:`LessonError` that names the file and the 1-based line, so ``check-lessons`` can
print ``FILE:LINE: message`` and an author can jump straight to it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from tutor.errors import LessonError
from tutor.lessons.model import Block, Check, Exercise, Lesson, Prose, Rules, Snippet
from tutor.lessons.topics import TOPICS

HEADER_FENCE = "+++"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
EXERCISE_RE = re.compile(r"^Exercise:\s*(?P<title>.*?)\s*\{#(?P<id>[^}]*)\}\s*$")
FENCE_OPEN_RE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
TOML_LINE_RE = re.compile(r"\(at line (\d+), column \d+\)")
# TOML allows spaces inside the brackets: ``[[ check ]]`` opens a table too.
CHECK_TABLE_RE = re.compile(r"^\s*\[\[\s*check\s*\]\]")

HEADER_KEYS = {"id": str, "title": str, "order": int, "topics": list, "summary": str, "requires": list}
TYPE_NAMES = {str: "a string", int: "an integer", list: "a list"}
REQUIRED_HEADER_KEYS = ("id", "title", "order", "topics")
EXERCISE_KEYS = {"seeds", "requires", "timeout", "rules", "check"}
RULE_KEYS = {"banned", "no_loops"}
CHECK_KEYS = {"name", "expr", "setup", "compare", "grad", "rtol", "atol", "hidden", "view_of", "no_mutation"}
COMPARE_KINDS = frozenset(
    {
        "value", "shape", "dtype", "values", "grad", "stdout", "structure", "state_dict",
        "param_groups", "lr_schedule", "type",
    }
)
EXERCISE_FENCES = {"starter", "solution", "hint", "checks"}
# The words after ``python``/``toml`` that name a fence's role; any other word is an option.
FENCE_ROLES = {"starter", "solution", "checks"}
SNIPPET_OPTIONS = {"requires", "norun"}

_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


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
        match = TOML_LINE_RE.search(str(exc))
        line = int(match.group(1)) + 1 if match else 2
        message = TOML_LINE_RE.sub("", str(exc)).strip()
        raise LessonError(path, line, f"malformed metadata header: {message}") from None

    def key_line(key: str) -> int:
        found = _find_key(lines[1:end], key)
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


def _find_key(lines: list[str], key: str) -> int | None:
    """1-based line in ``lines`` where TOML ``key`` is set (``key =`` or a ``[key]`` table)."""
    pattern = re.compile(rf"^\s*(?:{re.escape(key)}\s*=|\[+\s*{re.escape(key)}\s*\]+)")
    for number, line in enumerate(lines, start=1):
        if pattern.match(line):
            return number
    return None


@dataclass(frozen=True)
class _TableSpan:
    """The lines of one ``[[check]]`` table in its fence, so errors can name the key's line."""

    lines: list[str]
    first: int | None  # 1-based fence line of the ``[[check]]`` header, if found

    def line_of(self, key: str | None = None) -> int | None:
        found = _find_key(self.lines, key) if key else None
        if self.first is None:
            return None
        return self.first + found if found else self.first


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


_Fail = Callable[..., LessonError]
"""Builds the :class:`LessonError` for a message and, optionally, a line of the checks fence."""


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
        if fence.lang in ("hint", "output"):
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
                f"unknown python fence option '{sorted(unknown)[0]}' (known: starter, solution, requires=..., norun)",
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
        self.pos = fence.end
        self.blocks[-1] = Snippet(**{**last.__dict__, "expected_output": fence.content})

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
        elif role == "checks":
            if fence.lang != "toml":
                raise self.error(fence.start, "the checks fence must be 'toml checks'")
            if ex.checks is not None:
                raise self.error(fence.start, f"exercise '{ex.short_id}' has two checks fences")
            ex.checks = fence

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
        if ex.solution is None:
            raise LessonError(self.path, ex.line, f"{where} has no 'python solution' fence")
        if not ex.hints:
            raise LessonError(self.path, ex.line, f"{where} has no 'hint' fence")
        if ex.checks is None:
            raise LessonError(self.path, ex.line, f"{where} has no 'toml checks' fence")
        meta, checks = self.parse_checks(ex.checks, where)
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
                solution=ex.solution.content,
                hints=tuple(ex.hints),
                checks=checks,
                starter_line=self.line(ex.starter.start),
                solution_line=self.line(ex.solution.start),
                checks_line=self.line(ex.checks.start),
                **meta,
            )
        )

    def parse_checks(self, fence: _Fence, where: str) -> tuple[dict[str, Any], tuple[Check, ...]]:
        lines = fence.content.splitlines()

        def file_line(toml_line: int) -> int:  # 1-based line inside the fence
            return self.line(fence.start + toml_line)

        try:
            data = tomllib.loads(fence.content)
        except tomllib.TOMLDecodeError as exc:
            match = TOML_LINE_RE.search(str(exc))
            at = file_line(int(match.group(1))) if match else self.line(fence.start)
            raise LessonError(self.path, at, f"malformed checks: {TOML_LINE_RE.sub('', str(exc)).strip()}") from None
        check_lines = [i + 1 for i, l in enumerate(lines) if CHECK_TABLE_RE.match(l)]

        def fail(message: str, toml_line: int | None = None) -> LessonError:
            at = file_line(toml_line) if toml_line else self.line(fence.start)
            return LessonError(self.path, at, message)

        for key in data:
            if key not in EXERCISE_KEYS:
                raise fail(
                    f"unknown key '{key}' in checks of {where} (known: {', '.join(sorted(EXERCISE_KEYS))})",
                    _find_key(lines, key),
                )
        tables = data.get("check", [])
        if not isinstance(tables, list) or not tables:
            raise fail(f"{where} has no [[check]] table")
        meta = _exercise_settings(data, lines, fail)

        checks = []
        names: set[str] = set()
        for n, table in enumerate(tables):
            at = check_lines[n] if n < len(check_lines) else None
            if not isinstance(table, dict):
                raise fail("'check' must be written as [[check]] tables")
            stop = check_lines[n + 1] - 1 if n + 1 < len(check_lines) else len(lines)
            span = _TableSpan(lines[at:stop] if at else [], at)
            line = file_line(at) if at else self.line(fence.start)
            checks.append(self.parse_check(table, span, line, fail, names))
        return meta, tuple(checks)

    def parse_check(self, table: dict[str, Any], span: _TableSpan, line: int, fail: _Fail, names: set[str]) -> Check:
        at = span.line_of
        for key in table:
            if key not in CHECK_KEYS:
                raise fail(f"unknown check key '{key}' (known: {', '.join(sorted(CHECK_KEYS))})", at(key))
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise fail("a check needs a 'name'", at("name"))
        if name in names:
            raise fail(f"two checks are named '{name}'", at("name"))
        names.add(name)
        expr = table.get("expr")
        if not isinstance(expr, str) or not expr.strip():
            raise fail(f"check '{name}' needs an 'expr': the expression whose value is compared", at())
        try:
            compile(expr, "<expr>", "eval")
        except SyntaxError as exc:
            raise fail(f"check '{name}': 'expr' is not a Python expression: {exc.msg}", at("expr")) from None
        setup = table.get("setup", "")
        if not isinstance(setup, str):
            raise fail(f"check '{name}': 'setup' must be a string of Python code", at("setup"))
        try:
            compile(setup, "<setup>", "exec")
        except SyntaxError as exc:
            raise fail(f"check '{name}': syntax error in 'setup': {exc.msg}", at("setup")) from None
        compare = table.get("compare", [])
        if isinstance(compare, str):
            compare = [compare]
        if not isinstance(compare, list) or not all(isinstance(c, str) for c in compare):
            raise fail(f"check '{name}': 'compare' must be a list of strings", at("compare"))
        for kind in compare:
            if kind not in COMPARE_KINDS:
                known = ", ".join(sorted(COMPARE_KINDS))
                raise fail(f"check '{name}': unknown comparison '{kind}' (known: {known})", at("compare"))
        grad = table.get("grad", [])
        no_mutation = table.get("no_mutation", [])
        for key, value in (("grad", grad), ("no_mutation", no_mutation)):
            if not isinstance(value, list) or not all(isinstance(v, str) and v.isidentifier() for v in value):
                raise fail(f"check '{name}': '{key}' must be a list of variable names from 'setup'", at(key))
        tolerances = {}
        for key in ("rtol", "atol"):
            value = table.get(key)
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0):
                raise fail(f"check '{name}': '{key}' must be a non-negative number", at(key))
            tolerances[key] = float(value) if value is not None else None
        if ("rtol" in table) != ("atol" in table):
            raise fail(
                f"check '{name}': give both 'rtol' and 'atol' or neither (torch.testing.assert_close rule)",
                at("rtol" if "rtol" in table else "atol"),
            )
        view_of = table.get("view_of")
        if view_of is not None and not (isinstance(view_of, str) and view_of.isidentifier()):
            raise fail(f"check '{name}': 'view_of' must name a variable from 'setup'", at("view_of"))
        hidden = table.get("hidden", False)
        if not isinstance(hidden, bool):
            raise fail(f"check '{name}': 'hidden' must be true or false", at("hidden"))
        return Check(
            name=name,
            line=line,
            expr=expr.strip(),
            setup=setup,
            compare=tuple(compare),
            grad=tuple(grad),
            hidden=hidden,
            view_of=view_of,
            no_mutation=tuple(no_mutation),
            **tolerances,
        )


def _exercise_settings(data: dict[str, Any], lines: list[str], fail: _Fail) -> dict[str, Any]:
    """The exercise-wide keys of a checks fence (``seeds``, ``requires``, ``timeout``,
    ``[rules]``), validated, as keyword arguments for :class:`Exercise`."""
    meta: dict[str, Any] = {}
    seeds = data.get("seeds", 3)
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds >= 1:
        meta["seeds"] = tuple(range(seeds))
    elif isinstance(seeds, list) and seeds and all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        meta["seeds"] = tuple(seeds)
    else:
        raise fail("'seeds' must be a positive count or a non-empty list of integers", _find_key(lines, "seeds"))
    requires = data.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise fail("'requires' must be a list of package names", _find_key(lines, "requires"))
    meta["requires"] = tuple(requires)
    timeout = data.get("timeout", 10.0)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise fail("'timeout' must be a positive number of seconds", _find_key(lines, "timeout"))
    meta["timeout"] = float(timeout)
    rules = data.get("rules", {})
    if not isinstance(rules, dict) or set(rules) - RULE_KEYS:
        raise fail(f"[rules] takes only {', '.join(sorted(RULE_KEYS))}", _find_key(lines, "rules"))
    if not isinstance(rules.get("no_loops", False), bool):
        raise fail("'no_loops' must be true or false", _find_key(lines, "no_loops"))
    banned = rules.get("banned", [])
    if not isinstance(banned, list) or not all(isinstance(b, str) for b in banned):
        raise fail("'banned' must be a list of names such as \"torch.softmax\"", _find_key(lines, "banned"))
    meta["rules"] = Rules(banned=tuple(banned), no_loops=bool(rules.get("no_loops", False)))
    return meta
