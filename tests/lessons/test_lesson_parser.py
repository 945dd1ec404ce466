"""What the parser makes of a lesson: the model every other part reads.

The miniature lesson set in tests/data/lessons/good/ is the main story; short inline
lessons pin down the corners (defaults, ordering, what a prompt keeps).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tutor.checks.grad import GradSpec
from tutor.checks.mutation import NoMutationSpec
from tutor.checks.value import ValueSpec
from tutor.checks.view import ViewSpec
from tutor.errors import LessonError
from tutor.lessons import Check, Exercise, Prose, Rules, Snippet, parse_lesson_file, parse_lesson_text

GOOD = Path(__file__).resolve().parents[1] / "data" / "lessons" / "good"

HEADER = '+++\nid = "demo"\ntitle = "Demo"\norder = 1\ntopics = ["tensor-math"]\n+++\n'
BODY_LINE = 7  # the first line after HEADER


def parse(body: str) -> list:
    """Parse HEADER + the dedented ``body``; return the lesson's blocks."""
    return list(parse_lesson_text(HEADER + textwrap.dedent(body), Path("demo.md")).blocks)


def exercise_body(checks: str = '[[check]]\nname = "c"\nexpr = "f(1)"', prompt: str = "Write `f`.") -> str:
    return (
        "## Exercise: Write f {#f}\n\n"
        f"{prompt}\n\n"
        "```python starter\ndef f(x):\n    return x\n```\n\n"
        "```python solution\ndef f(x):\n    return x + 1\n```\n\n"
        "```hint\nAdd one.\n```\n\n"
        f"```toml checks\n{checks}\n```\n"
    )


# --- the miniature lesson set ------------------------------------------------------


def test_a_lesson_keeps_prose_and_snippets_in_reading_order():
    lesson = parse_lesson_file(GOOD / "basics.md")

    assert (lesson.id, lesson.title, lesson.order) == ("basics", "Tensor basics", 1)
    assert lesson.topics == ("tensor-creation", "tensor-math")
    assert lesson.summary == "Make a tensor, add to it."
    assert [type(block).__name__ for block in lesson.blocks] == [
        "Prose", "Snippet", "Prose", "Snippet", "Snippet", "Prose",
    ]
    first, _, between, _, _, closing = lesson.blocks
    assert first == Prose("# Tensor basics\n\nA first paragraph of prose.", line=9)
    assert between.markdown.startswith("Prose between snippets")
    assert "```text\nnot code, just text\n```" in between.markdown  # non-Python fences stay prose
    assert closing.markdown.startswith("## Where to go next")
    assert [s.index for s in lesson.snippets] == [0, 1, 2]


def test_a_snippet_carries_its_code_line_and_expected_output():
    snippet = parse_lesson_file(GOOD / "basics.md").snippets[0]

    assert snippet == Snippet(
        index=0, code="t = torch.arange(3)\nprint(t + 1)\n", line=13,
        expected_output="tensor([1, 2, 3])\n", requires=(), run=True,
    )


def test_snippet_options_declare_packages_or_opt_out_of_running():
    _, needs_vision, norun = parse_lesson_file(GOOD / "basics.md").snippets

    assert needs_vision.requires == ("torchvision", "scipy")
    assert needs_vision.run is True
    assert norun.run is False
    assert norun.code == "while True:\n    pass\n"
    assert needs_vision.expected_output is None


def test_an_exercise_carries_every_part_of_its_section():
    lesson = parse_lesson_file(GOOD / "autograd-views.md")
    [exercise] = lesson.exercises

    assert isinstance(lesson.blocks[-1], Exercise)
    assert (exercise.id, exercise.short_id, exercise.lesson_id) == ("views/flat", "flat", "views")
    assert (exercise.title, exercise.line) == ("Flatten without copying", 23)
    assert exercise.prompt == "Write `flat(m)` that returns the values of `m` as a 1-D **view** of `m`."
    assert exercise.starter == "def flat(m):\n    # TODO: return a 1-D view of m\n    return m\n"
    assert exercise.solution == "def flat(m):\n    return m.view(-1)\n"
    assert exercise.hints == ("`m.view(-1)` lets PyTorch work out the length.", "`reshape` may copy; `view` never does.")
    assert (exercise.starter_line, exercise.solution_line, exercise.checks_line) == (27, 33, 46)


def test_exercise_settings_come_from_the_checks_fence():
    [exercise] = parse_lesson_file(GOOD / "autograd-views.md").exercises

    assert exercise.seeds == (3, 17)
    assert exercise.timeout == 5.0
    assert exercise.rules == Rules(banned=("torch.flatten",), no_loops=True)


def test_every_check_key_reaches_the_model_with_the_line_of_its_table():
    [exercise] = parse_lesson_file(GOOD / "autograd-views.md").exercises
    values, storage, gradients = exercise.checks

    assert values == Check(
        name="a 2x3 matrix", line=54, expr="flat(m)", setup="m = torch.randn(2, 3)",
        rtol=0.0, atol=0.0, specs=(ValueSpec(aspects=("shape", "dtype", "values")), NoMutationSpec(names=("m",))),
    )
    assert (storage.name, storage.line, storage.spec(ViewSpec), storage.spec(ValueSpec)) == (
        "shares storage", 63, ViewSpec(of="m"), ValueSpec(aspects=("shape",)))
    assert (gradients.line, gradients.spec(GradSpec), gradients.hidden) == (70, GradSpec(names=("m",)), True)
    assert gradients.rtol is None and gradients.atol is None
    assert exercise.visible_checks == (values, storage)
    assert exercise.hidden_count == 1


# --- defaults and corners ----------------------------------------------------------


def test_wrong_answers_reach_the_model_with_their_reason_and_line():
    [exercise] = parse(exercise_body(prompt="Write `f`.\n\n```python wrong\n# returns x unchanged\ndef f(x):\n    return x\n```"))

    [wrong] = exercise.wrong
    assert (wrong.reason, wrong.line) == ("returns x unchanged", 11)
    assert "python wrong" not in exercise.prompt and "unchanged" not in exercise.prompt


def test_required_calls_keep_their_alternatives():
    checks = '[rules]\nrequired = ["Tensor.backward | torch.autograd.grad", "torch.arange"]\n[[check]]\nname = "c"\nexpr = "f(1)"'
    [exercise] = parse(exercise_body(checks))

    assert exercise.rules.required == (("Tensor.backward", "torch.autograd.grad"), ("torch.arange",))


def test_an_exercise_runs_under_seeds_0_1_2_unless_told_otherwise():
    [exercise] = parse(exercise_body())

    assert exercise.seeds == (0, 1, 2)
    assert exercise.timeout == 10.0
    assert exercise.rules == Rules()
    assert exercise.requires == ()
    assert exercise.checks[0].specs == (ValueSpec(aspects=()),)


def test_a_seed_count_means_the_first_n_seeds():
    [exercise] = parse(exercise_body('seeds = 2\n[[check]]\nname = "c"\nexpr = "f(1)"'))

    assert exercise.seeds == (0, 1)


def test_the_prompt_keeps_prose_and_example_fences_but_not_the_exercise_fences():
    prompt = "Write `f`.\n\n### An example\n\n```python\nf(1)  # 2\n```\n\nThat is all."
    [exercise] = parse(exercise_body(prompt=prompt))

    assert exercise.prompt.startswith("Write `f`.\n\n### An example\n\n```python\nf(1)  # 2\n```")
    assert exercise.prompt.rstrip().endswith("That is all.")
    for fence in ("python starter", "python solution", "hint", "toml checks", "return x + 1"):
        assert fence not in exercise.prompt


def test_prose_between_two_hints_belongs_to_the_prompt():
    body = exercise_body().replace("```hint\nAdd one.\n```\n", "```hint\nOne.\n```\n\nStuck?\n\n```hint\nTwo.\n```\n")
    [exercise] = parse(body)

    assert exercise.hints == ("One.", "Two.")
    assert "Stuck?" in exercise.prompt


def test_an_exercise_ends_at_the_next_level_two_heading():
    blocks = parse(exercise_body() + "\n## Afterwards\n\nBack to prose.\n\n```python\nx = 1\n```\n")

    assert [type(b).__name__ for b in blocks] == ["Exercise", "Prose", "Snippet"]
    assert blocks[1].markdown == "## Afterwards\n\nBack to prose."
    assert "Afterwards" not in blocks[0].prompt


def test_prose_blocks_keep_their_order_and_first_line():
    blocks = parse("""
        # One

        First.

        ```python
        a = 1
        ```

        Second.

        ## Two

        Third.
        """)

    assert [(type(b).__name__, b.line) for b in blocks] == [
        ("Prose", BODY_LINE + 1), ("Snippet", BODY_LINE + 5), ("Prose", BODY_LINE + 9), ("Prose", BODY_LINE + 11),
    ]
    assert [b.markdown for b in blocks if isinstance(b, Prose)] == ["# One\n\nFirst.", "Second.", "## Two\n\nThird."]


def test_a_byte_order_mark_and_windows_line_endings_are_accepted():
    text = "\ufeff" + (HEADER + "Prose.\n\n```python\nx = 1\n```\n").replace("\n", "\r\n")

    lesson = parse_lesson_text(text, Path("demo.md"))

    assert lesson.id == "demo"
    assert lesson.snippets[0].code.strip() == "x = 1"
    assert lesson.snippets[0].line == BODY_LINE + 2


# --- mistakes the fixtures do not cover ---------------------------------------------

MISTAKES = {
    "two outputs for one snippet": (
        "```python\nx = 1\n```\n\n```output\n1\n```\n\n```output\n1\n```\n", 15, "already has an 'output' fence",
    ),
    "output after prose": ("```python\nx = 1\n```\n\nProse.\n\n```output\n1\n```\n", 13, "must follow a python snippet"),
    "output inside an exercise": (exercise_body(prompt="```output\n1\n```"), 9, "'output' fence inside an exercise"),
    "empty hint": (exercise_body().replace("Add one.", " "), 21, "empty hint"),
    "two starters": (exercise_body(prompt="```python starter\npass\n```"), 13, "has two starter fences"),
    "starter in toml": (exercise_body().replace("python starter", "toml starter"), 11, "must be 'python starter'"),
    "hint outside an exercise": ("```hint\nno\n```\n", 7, "'hint' fence outside an exercise"),
    "exercise id in capitals": ("## Exercise: Shout {#SHOUT}\n", 7, "exercise id 'SHOUT'"),
    "no [[check]] table": (exercise_body("seeds = 2"), 25, "has no [[check]] table"),
    "seeds zero": (exercise_body('seeds = 0\n[[check]]\nname = "c"\nexpr = "f(1)"'), 26, "'seeds' must be"),
    "no_loops not a bool": (
        exercise_body('[rules]\nno_loops = "yes"\n[[check]]\nname = "c"\nexpr = "f(1)"'), 27, "'no_loops' must be true or false",
    ),
    "misspelt exercise key": (exercise_body('seed = 3\n[[check]]\nname = "c"\nexpr = "f(1)"'), 26, "unknown key 'seed'"),
    "rtol without atol": (exercise_body('[[check]]\nname = "c"\nexpr = "f(1)"\nrtol = 0.1'), 29, "give both 'rtol' and 'atol'"),
    "hidden not a bool": (exercise_body('[[check]]\nname = "c"\nexpr = "f(1)"\nhidden = 1'), 29, "'hidden' must be true or false"),
    "two checks with one name": (
        exercise_body('[[check]]\nname = "c"\nexpr = "f(1)"\n\n[[check]]\nname = "c"\nexpr = "f(2)"'), 31, "two checks are named 'c'",
    ),
    "check without expr": (exercise_body('[[check]]\nname = "c"'), 26, "needs an 'expr'"),
    "expr not an expression": (exercise_body('[[check]]\nname = "c"\nexpr = "x = 1"'), 28, "'expr' is not a Python expression"),
    "spaced table header, second check wrong": (
        exercise_body('[[ check ]]\nname = "a"\nexpr = "f(1)"\n\n[[check]]\nname = "b"\nexpr = "f(2)"\nbogus = 1'),
        33, "unknown check key 'bogus'",
    ),
    # each check kind validates its own keys, at the key's line
    "points below zero": (exercise_body('[[check]]\nname = "c"\nexpr = "f(1)"\npoints = -1'), 29, "'points' must be a number from 0 to 1000"),
    "unknown module aspect": (exercise_body('[[check]]\nname = "c"\nexpr = "f(1)"\nmodule = ["weights"]'), 29, "unknown module aspect 'weights'"),
    "module output without input": (exercise_body('[[check]]\nname = "c"\nexpr = "f(1)"\nmodule = ["output"]'), 29, "need an 'input'"),
    "outcome not an expression": (exercise_body('[[check]]\nname = "c"\nexpr = "f(1)"\noutcome = ["loss <"]'), 29, "outcome 'loss <' is not a Python expression"),
    "artifact outside the run": (exercise_body('[[check]]\nname = "c"\nexpr = "f(1)"\nartifact = "../x.pt"'), 29, "relative file name inside the run's directory"),
    "keys without artifact": (exercise_body('[[check]]\nname = "c"\nexpr = "f(1)"\nkeys = ["a"]'), 29, "'keys' belongs to an 'artifact' check"),
    "grad_flow not a name": (exercise_body('[[check]]\nname = "c"\nexpr = "f(1)"\ngrad_flow = 3'), 29, "'grad_flow' must name a module"),
    "strict_types not a bool": (exercise_body('[[check]]\nname = "c"\nexpr = "f(1)"\nstrict_types = "yes"'), 29, "'strict_types' must be true or false"),
    "required not a dotted name": (
        exercise_body('[rules]\nrequired = ["backward"]\n[[check]]\nname = "c"\nexpr = "f(1)"'), 27, "dotted name such as",
    ),
    "wrong answer without its reason": (
        exercise_body(prompt="```python wrong\ndef f(x):\n    return x\n```"), 9, "starts with a comment line that says why",
    ),
    "wrong answer with a syntax error": (
        exercise_body(prompt="```python wrong\n# off by one\ndef f(x) return x\n```"), 11, "syntax error in wrong answer",
    ),
}


@pytest.mark.parametrize("body, line, words", MISTAKES.values(), ids=MISTAKES.keys())
def test_each_mistake_names_its_line(body, line, words):
    with pytest.raises(LessonError) as caught:
        parse(body)

    assert (caught.value.line, str(caught.value.path)) == (line, "demo.md"), caught.value.msg
    assert words in caught.value.message
    assert caught.value.msg == f"demo.md:{line}: {caught.value.message}"


@pytest.mark.parametrize(
    "header_line, line, words",
    [
        ('order = "1"', 4, "'order' must be an integer"),
        ('id = "Has Spaces"', 2, "lesson id 'Has Spaces'"),
        ("topics = []", 5, "'topics' is empty"),
        ('topics = ["norms", "norms"]', 5, "listed twice"),
        ('title = "  "', 3, "'title' is empty"),
    ],
)
def test_each_header_mistake_names_the_line_of_its_key(header_line, line, words):
    key = header_line.split("=")[0].strip()
    lines = HEADER.splitlines()
    text = "\n".join(header_line if l.startswith(key + " ") else l for l in lines) + "\n"

    with pytest.raises(LessonError) as caught:
        parse_lesson_text(text, Path("demo.md"))

    assert caught.value.line == line
    assert words in caught.value.message


def test_an_unknown_header_table_is_reported_at_its_own_line():
    text = HEADER.replace('topics = ["tensor-math"]\n', 'topics = ["tensor-math"]\n[extra]\na = 1\n')

    with pytest.raises(LessonError) as caught:
        parse_lesson_text(text, Path("demo.md"))

    assert (caught.value.line, caught.value.message.split(" (")[0]) == (6, "unknown metadata key 'extra'")
