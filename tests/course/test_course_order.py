"""The course read in order: an exercise asks for more than the lesson just above it
shows, and no snippet or reference uses a torch name before some lesson introduces it.

Both tests read the lessons only (no sandbox), so they run in a moment.

**Copied fixes.** The lines a reference changes from its starter (``difflib`` over the
stripped, non-blank lines of both; a line with no letter or digit, such as ``)``, does
not count) are the exercise's fix. The share of them that stand verbatim (stripped) in
the lesson text above the exercise (its prose, its snippets and the prompts of earlier
exercises of the same lesson) must not pass one third: above that, the exercise tests
copying the snippet above it rather than applying the idea in a new setting. A changed
line that the starter already holds (a line the fix moves) is not copied from the lesson.

**Names before their lesson.** A name is an attribute chain rooted at ``torch``, ``nn``
or ``F`` in a snippet or a reference, as the Python ``ast`` reads it (``torch.einsum``,
``nn.GRU``, ``F.one_hot``, ``torch.optim.SGD``, ``torch.distributions.Beta``), spelled
the short way (``torch.nn.functional.relu`` is ``F.relu``, ``torch.nn.Linear`` is
``nn.Linear``). Method calls on tensors (``x.sum()``) and names imported with ``from``
are out of scope: what an attribute of an arbitrary object is cannot be told from the
source. A use is *introduced* when, earlier in the course (an earlier lesson, or the same
lesson above the use):

- the prose (Markdown, tables, headings, non-Python fences, the prompts of exercises)
  names it in code: in backticks, qualified (`` `nn.Linear` ``, `` `torch.nn.Linear` ``),
  by its path below the root (`` `optim.SGD` ``), or by its last part standing alone
  (`` `Linear` ``, `` `einsum(...)` ``; not `` `x.einsum` ``, which names a method); or
- an earlier snippet uses it (the learner ran it and read about it).

A snippet may also be introduced by the prose directly after it (show, then explain),
and a reference may use what its own starter already uses (the learner is handed it).
Hints never introduce a name: a hint that gives the code is not a lesson. The allowlist
below holds the exceptions, each with its reason; an entry that no longer matches a use
fails too, so the list cannot rot.
"""

from __future__ import annotations

import ast
import difflib
import re
from pathlib import Path

import pytest

from tutor.lessons import load_lessons
from tutor.lessons.model import Exercise, Lesson, Prose, Snippet

COURSE = load_lessons()
EXERCISES = [(lesson, block) for lesson in COURSE.lessons for block in lesson.blocks if isinstance(block, Exercise)]

#: The most of an exercise's fix that may stand verbatim in the lesson above it.
MAX_COPIED_SHARE = 1 / 3

ROOTS = ("torch", "nn", "F")
#: Long spellings and the short one the course uses (longest first).
SPELLINGS = (("torch.nn.functional.", "F."), ("nn.functional.", "F."), ("torch.nn.", "nn."))

#: (lesson id, name) -> why the use may come before an introduction.
ALLOWED: dict[tuple[str, str], str] = {
    ("tensor-attributes", "torch.zeros"): "lesson 1 needs a tensor to show its attributes; lesson 2 teaches creation and says so",
    ("tensor-attributes", "torch.float64"): "shown as a value of the dtype attribute this lesson's table introduces",
    ("tensor-attributes", "torch.tensor"): "lesson 1 needs a tensor to show its attributes; lesson 2 teaches creation",
    ("tensor-attributes", "torch.ones"): "lesson 1 needs a tensor to show its attributes; lesson 2 teaches creation",
    ("tensor-creation", "torch.equal"): "a yes/no comparison that reads as English in a snippet about seeds; not an exercise skill",
    ("join-split-index", "torch.rand"): "the uniform sibling of torch.randn (lesson 2), to fill sample images",
}


# ---------------------------------------------------------------------------
# Copied fixes


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _counts(line: str) -> bool:
    return re.search(r"[A-Za-z0-9]", line) is not None


def changed_lines(starter: str, solution: str) -> list[str]:
    """The stripped lines the reference has in place of, or beyond, the starter's."""
    old, new = _lines(starter), _lines(solution)
    changed: list[str] = []
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag in ("replace", "insert"):
            changed += new[j1:j2]
    return [line for line in changed if _counts(line)]


def text_above(lesson: Lesson, exercise: Exercise) -> set[str]:
    """Every stripped line of the lesson above the exercise a learner reads: prose,
    snippets and the prompts of earlier exercises."""
    seen: set[str] = set()
    for block in lesson.blocks:
        if block is exercise:
            break
        if isinstance(block, Prose):
            seen.update(_lines(block.markdown))
        elif isinstance(block, Snippet):
            seen.update(_lines(block.code))
        else:
            seen.update(_lines(block.prompt))
    return seen


@pytest.mark.parametrize("lesson, exercise", EXERCISES, ids=[e.id for _, e in EXERCISES])
def test_an_exercise_fix_is_not_copied_from_the_lesson_above(lesson: Lesson, exercise: Exercise):
    changed = changed_lines(exercise.starter, exercise.solution)
    above = text_above(lesson, exercise)
    handed = set(_lines(exercise.starter))
    copied = [line for line in changed if line in above and line not in handed]
    share = len(copied) / len(changed) if changed else 0.0
    assert share <= MAX_COPIED_SHARE, (
        f"{lesson.path}:{exercise.line}: exercise '{exercise.id}': {len(copied)} of the {len(changed)} lines "
        f"its reference changes from the starter ({share:.0%}, more than a third) stand verbatim in the lesson "
        f"above it: {copied}. Ask the learner to apply the idea in a new setting (another shape, layer or loss)")


def test_the_copied_share_counts_verbatim_changed_lines():
    starter = "def f(x):\n    # TODO\n    return x\n"
    solution = "def f(x):\n    y = x * 2\n    z = y + 1\n    return (\n        z\n    )\n"
    assert changed_lines(starter, solution) == ["y = x * 2", "z = y + 1", "return (", "z"]
    assert changed_lines(starter, starter) == []


# ---------------------------------------------------------------------------
# Names before their lesson


def _short(parts: list[str]) -> str:
    name = ".".join(parts)
    for long, short in SPELLINGS:
        if name.startswith(long):
            return short + name[len(long):]
    return name


def _chain(node: ast.AST) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in ROOTS and parts:
        return [node.id, *reversed(parts)]
    return None


def code_names(code: str) -> dict[str, int]:
    """Each torch/nn/F name the code uses, with the line (1-based) of its first use."""
    tree = ast.parse(code)
    inner = {id(parent.value) for parent in ast.walk(tree) if isinstance(parent, ast.Attribute)}
    found: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:
            chain = _chain(node)
            if chain:
                name = _short(chain)
                found[name] = min(found.get(name, node.lineno), node.lineno)
    return found


_SPAN = re.compile(r"`([^`\n]+)`")
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
_DOTTED = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def prose_mentions(markdown: str) -> set[str]:
    """What prose names in code: short spellings of rooted names (``nn.Linear``), and
    every other dotted name or bare identifier, marked ``~`` (``~optim.SGD``, ``~Linear``)."""
    spans = _FENCE.findall(markdown) + _SPAN.findall(_FENCE.sub("", markdown))
    found: set[str] = set()
    for span in spans:
        for match in _DOTTED.findall(span):
            parts = match.split(".")
            found.add(_short(parts) if parts[0] in ROOTS and len(parts) > 1 else "~" + match)
    return found


def introduced(name: str, known: set[str]) -> bool:
    below_root = name.split(".", 1)[1]
    return name in known or "~" + below_root in known or "~" + name.rsplit(".", 1)[-1] in known


def uses_before_introduction(lessons: list[Lesson]) -> list[tuple[str, str, str]]:
    """(lesson id, name, ``FILE:LINE: ...``) for every use no earlier text introduces."""
    known: set[str] = set()
    problems: list[tuple[str, str, str]] = []
    for lesson in lessons:
        blocks = lesson.blocks
        for i, block in enumerate(blocks):
            if isinstance(block, Prose):
                known |= prose_mentions(block.markdown)
            elif isinstance(block, Snippet):
                after = blocks[i + 1] if i + 1 < len(blocks) else None
                explained = prose_mentions(after.markdown) if isinstance(after, Prose) else set()
                names = code_names(block.code)
                for name, line in names.items():
                    if not introduced(name, known | explained):
                        problems.append((lesson.id, name, f"{lesson.path}:{block.line + line}: a snippet uses `{name}`"))
                known |= set(names)
            else:
                known |= prose_mentions(block.prompt)
                handed = set(code_names(block.starter))
                for name, line in code_names(block.solution).items():
                    if name not in handed and not introduced(name, known):
                        problems.append((lesson.id, name, f"{lesson.path}:{block.solution_line + line}: "
                                                          f"the reference of '{block.id}' uses `{name}`"))
    return problems


PROBLEMS = uses_before_introduction(COURSE.lessons)


@pytest.mark.parametrize("lesson", COURSE.lessons, ids=[l.id for l in COURSE.lessons])
def test_no_torch_name_is_used_before_a_lesson_introduces_it(lesson: Lesson):
    unexplained = [where for lesson_id, name, where in PROBLEMS if lesson_id == lesson.id and (lesson_id, name) not in ALLOWED]
    assert not unexplained, (
        "used before any lesson (or this lesson above it) introduces it; name it in the prose above (in "
        "backticks), point ahead explicitly, or move the use after its lesson:\n" + "\n".join(unexplained))


def test_every_allowed_early_use_still_happens():
    used = {(lesson_id, name) for lesson_id, name, _ in PROBLEMS}
    assert [key for key in ALLOWED if key not in used] == []
    assert all(reason.strip() for reason in ALLOWED.values())


def test_the_name_walk_reads_code_and_prose_as_documented(tmp_path: Path):
    assert code_names("y = torch.nn.functional.relu(x)\nm = nn.GRU(2, 3)\nz = x.sum()\nd = torch.distributions.Beta(1, 1)") == {
        "F.relu": 1, "nn.GRU": 2, "torch.distributions.Beta": 4}
    mentions = prose_mentions("Use `torch.nn.Linear` or `optim.SGD(params)`; not `x.einsum`.\n\n```text\nF.one_hot\n```\n")
    assert {"nn.Linear", "~optim.SGD", "F.one_hot"} <= mentions and "~einsum" not in mentions
    assert introduced("torch.optim.SGD", {"~optim.SGD"}) and introduced("nn.Linear", {"~Linear"})
    assert not introduced("torch.einsum", {"~x.einsum"})
