"""The ``toml checks`` fence of an exercise: exercise-wide settings, ``[rules]`` and the
``[[check]]`` tables, validated into the model with errors at the key's own line.

Each check kind validates its own keys (``tutor.checks``); this module handles what every
check and every exercise has.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from tutor.checks import CHECK_KEYS, COMPARE_KINDS, Common, parse_specs
from tutor.checks.base import Table
from tutor.errors import LessonError
from tutor.lessons.model import Check, Rules

TOML_LINE_RE = re.compile(r"\(at line (\d+), column \d+\)")
# TOML allows spaces inside the brackets: ``[[ check ]]`` opens a table too.
CHECK_TABLE_RE = re.compile(r"^\s*\[\[\s*check\s*\]\]")
EXERCISE_KEYS = {"seeds", "requires", "timeout", "rules", "check"}
RULE_KEYS = {"banned", "no_loops", "required"}

Fail = Callable[..., LessonError]
"""Builds the :class:`LessonError` for a message and, optionally, a 1-based line of the fence."""


def find_key(lines: list[str], key: str) -> int | None:
    """1-based line in ``lines`` where TOML ``key`` is set (``key =`` or a ``[key]`` table)."""
    pattern = re.compile(rf"^\s*(?:{re.escape(key)}\s*=|\[+\s*{re.escape(key)}\s*\]+)")
    for number, line in enumerate(lines, start=1):
        if pattern.match(line):
            return number
    return None


def toml_error_line(exc: tomllib.TOMLDecodeError) -> tuple[int | None, str]:
    """The 1-based line tomllib names in its message, and the message without it."""
    match = TOML_LINE_RE.search(str(exc))
    return (int(match.group(1)) if match else None), TOML_LINE_RE.sub("", str(exc)).strip()


@dataclass(frozen=True)
class _TableSpan:
    """The lines of one ``[[check]]`` table in its fence, so errors can name the key's line."""

    lines: list[str]
    first: int | None  # 1-based fence line of the ``[[check]]`` header, if found

    def line_of(self, key: str | None = None) -> int | None:
        found = find_key(self.lines, key) if key else None
        if self.first is None:
            return None
        return self.first + found if found else self.first


class ExerciseSettings(TypedDict, total=False):
    """The exercise-wide keys of a checks fence, as keyword arguments for ``Exercise``."""

    seeds: tuple[int, ...]
    requires: tuple[str, ...]
    timeout: float
    rules: Rules


def parse_checks(content: str, where: str, fail: Fail, file_line: Callable[[int | None], int]) -> tuple[ExerciseSettings, tuple[Check, ...]]:
    """The exercise settings (keyword arguments for ``Exercise``) and the checks of one
    fence; ``fail(message, fence_line)`` builds the error and ``file_line(fence_line)``
    turns a 1-based fence line (``None``: the fence itself) into a file line."""
    lines = content.splitlines()
    try:
        data = tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        line, message = toml_error_line(exc)
        raise fail(f"malformed checks: {message}", line) from None
    check_lines = [i + 1 for i, l in enumerate(lines) if CHECK_TABLE_RE.match(l)]
    for key in data:
        if key not in EXERCISE_KEYS:
            raise fail(f"unknown key '{key}' in checks of {where} (known: {', '.join(sorted(EXERCISE_KEYS))})", find_key(lines, key))
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
        checks.append(_parse_check(table, span, file_line(at), fail, names))
    return meta, tuple(checks)


def _parse_check(table: Table, span: _TableSpan, line: int, fail: Fail, names: set[str]) -> Check:
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
            raise fail(f"check '{name}': unknown comparison '{kind}' (known: {', '.join(sorted(COMPARE_KINDS))})", at("compare"))
    tolerances = {}
    for key in ("rtol", "atol"):
        value = table.get(key)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0):
            raise fail(f"check '{name}': '{key}' must be a non-negative number", at(key))
        tolerances[key] = float(value) if value is not None else None
    if ("rtol" in table) != ("atol" in table):
        raise fail(f"check '{name}': give both 'rtol' and 'atol' or neither (torch.testing.assert_close rule)",
                   at("rtol" if "rtol" in table else "atol"))
    hidden = table.get("hidden", False)
    if not isinstance(hidden, bool):
        raise fail(f"check '{name}': 'hidden' must be true or false", at("hidden"))
    points = table.get("points", 1)
    if not isinstance(points, (int, float)) or isinstance(points, bool) or not 0 <= points <= 1000:
        raise fail(f"check '{name}': 'points' must be a number from 0 to 1000", at("points"))
    common = Common(name=name, compare=tuple(compare), rtol=tolerances["rtol"], atol=tolerances["atol"])

    def kind_fail(message: str, key: str | None = None) -> LessonError:
        return fail(message, at(key))

    specs = parse_specs(table, common, kind_fail)
    return Check(name=name, line=line, expr=expr.strip(), setup=setup, hidden=hidden, specs=specs, points=float(points),
                 table=dict(table), **tolerances)


def _exercise_settings(data: Table, lines: list[str], fail: Fail) -> ExerciseSettings:
    """The exercise-wide keys of a checks fence (``seeds``, ``requires``, ``timeout``,
    ``[rules]``), validated, as keyword arguments for ``Exercise``."""
    meta = ExerciseSettings()
    seeds = data.get("seeds", 3)
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds >= 1:
        meta["seeds"] = tuple(range(seeds))
    elif isinstance(seeds, list) and seeds and all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        meta["seeds"] = tuple(seeds)
    else:
        raise fail("'seeds' must be a positive count or a non-empty list of integers", find_key(lines, "seeds"))
    requires = data.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise fail("'requires' must be a list of package names", find_key(lines, "requires"))
    meta["requires"] = tuple(requires)
    timeout = data.get("timeout", 10.0)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise fail("'timeout' must be a positive number of seconds", find_key(lines, "timeout"))
    meta["timeout"] = float(timeout)
    rules = data.get("rules", {})
    if not isinstance(rules, dict) or set(rules) - RULE_KEYS:
        raise fail(f"[rules] takes only {', '.join(sorted(RULE_KEYS))}", find_key(lines, "rules"))
    if not isinstance(rules.get("no_loops", False), bool):
        raise fail("'no_loops' must be true or false", find_key(lines, "no_loops"))
    banned = rules.get("banned", [])
    if not isinstance(banned, list) or not all(isinstance(b, str) for b in banned):
        raise fail("'banned' must be a list of names such as \"torch.softmax\"", find_key(lines, "banned"))
    required = rules.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) and r.strip() for r in required):
        raise fail("'required' must be a list of calls such as \"Tensor.backward\" or \"torch.arange | torch.linspace\"",
                   find_key(lines, "required"))
    groups = tuple(tuple(part.strip() for part in r.split("|") if part.strip()) for r in required)
    if not all(groups) or not all("." in name for group in groups for name in group):
        raise fail("each 'required' call is a dotted name such as \"Tensor.backward\"", find_key(lines, "required"))
    meta["rules"] = Rules(banned=tuple(banned), no_loops=bool(rules.get("no_loops", False)), required=groups)
    return meta
