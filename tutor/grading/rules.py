"""Source-level rules (no torch): banned names and "no Python loops", checked on the
learner's AST in the front process. A runtime tripwire in the harness catches the names
that the source hides."""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass

from tutor.lessons.model import Rules

#: Builtins that run code the AST check never sees (a loop in a string).
HIDES_CODE = frozenset({"exec", "eval", "compile", "__import__"})
#: Functions that loop over an iterable in Python as a ``for`` would.
LOOPING_CALLS = frozenset({"map", "filter", "reduce", "functools.reduce", "itertools.starmap", "itertools.accumulate"})
#: Modules a solution may import where loops are banned: any other module could hold
#: a loop this check never reads (one the answer wrote to a file and imported).
IMPORTS_WITHOUT_LOOPS = frozenset({"torch", "numpy", "math", "__future__", "typing", "collections", "dataclasses",
                                   "functools"})
# CPython 3.11 keeps the AST builder's recursion depth in interpreter-wide state, so two
# threads parsing at once (tutor grade, check-lessons and the course tests grade in
# threads) can fail with "SystemError: AST constructor recursion depth mismatch"
# (python/cpython#106905): one parse at a time.
_PARSE_LOCK = threading.Lock()
LOOP_NODES: tuple[type[ast.AST], ...] = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class Violation:
    """A rule the source breaks, at a 1-based line, in words for the learner."""

    line: int
    message: str


def _dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if parts:  # e.g. (x + 1).softmax: the receiver is an expression
        parts.append("<expr>")
        return ".".join(reversed(parts))
    return None


def _matches(dotted: str, banned: str) -> bool:
    """``torch.softmax`` bans exactly that path; ``x.softmax`` (a method) or
    ``Tensor.softmax`` bans the method on any receiver."""
    if dotted == banned:
        return True
    head, _, attr = banned.rpartition(".")
    if head and head.split(".")[0] not in ("torch", "F", "nn") and dotted.rsplit(".", 1)[-1] == attr and "." in dotted:
        return dotted.split(".")[0] not in ("torch", "F", "nn")
    if banned.startswith("torch.nn.functional.") and dotted == "F." + banned.removeprefix("torch.nn.functional."):
        return True
    if banned.startswith("F.") and dotted == "torch.nn.functional." + banned.removeprefix("F."):
        return True
    return False


def check_rules(source: str, rules: Rules) -> list[Violation]:
    """Violations of ``rules`` in ``source``; a syntax error is reported as one violation."""
    try:
        with _PARSE_LOCK:
            tree = ast.parse(source)
    except SyntaxError as exc:
        return [Violation(exc.lineno or 1, f"syntax error: {exc.msg}")]
    found: list[Violation] = []
    banned = set(rules.banned)
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                imported[alias.asname or alias.name] = full
                if any(_matches(full, b) for b in banned):
                    found.append(Violation(node.lineno, f"imports {full}, which this exercise bans"))
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted and any(_matches(dotted, b) for b in banned):
                found.append(Violation(node.lineno, f"uses {dotted}, which this exercise bans"))
        if isinstance(node, ast.Name) and node.id in imported and any(_matches(imported[node.id], b) for b in banned):
            found.append(Violation(node.lineno, f"uses {node.id} ({imported[node.id]}), which this exercise bans"))
        if rules.no_loops and isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in HIDES_CODE:
            found.append(Violation(node.lineno, f"calls {node.func.id}(), which could run a loop this check cannot see; "
                                   "this exercise asks for tensor operations without Python loops"))
        if rules.no_loops and isinstance(node, ast.Call):
            called = _dotted(node.func) or ""
            if imported.get(called, called) in LOOPING_CALLS or called in LOOPING_CALLS:
                found.append(Violation(node.lineno, f"calls {called}(), a Python loop over the items; "
                                       "this exercise asks for tensor operations without Python loops"))
        if rules.no_loops and isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or "."]
            for module in names:
                if module.split(".")[0] not in IMPORTS_WITHOUT_LOOPS:
                    found.append(Violation(node.lineno, f"imports {module}, whose code this check cannot read for "
                                           "loops; this exercise asks for tensor operations without Python loops"))
        if rules.no_loops and isinstance(node, LOOP_NODES):
            kind = "a comprehension" if "Comp" in type(node).__name__ or isinstance(node, ast.GeneratorExp) else f"a '{type(node).__name__.lower()}' loop"
            found.append(Violation(getattr(node, "lineno", 1), f"uses {kind}; this exercise asks for tensor operations without Python loops"))
    unique = {(v.line, v.message): v for v in found}
    return sorted(unique.values(), key=lambda v: v.line)
