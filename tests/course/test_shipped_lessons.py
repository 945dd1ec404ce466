"""The course as shipped: every snippet prints what its lesson shows, every reference
passes its checks and every starter fails them, and the curriculum is covered."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from tutor.authoring.lesson_check import snippet_problem
from tutor.grading.grade import grade_source
from tutor.lessons import load_lessons
from tutor.lessons.topics import TOPICS
from tutor.sandbox.api import RunRequest

COURSE = load_lessons()
SNIPPETS = [(lesson, s) for lesson in COURSE.lessons for s in lesson.snippets if s.run]
EXERCISES = COURSE.exercises()
ROWS_1_TO_12 = list(TOPICS)[:12]
ALL_ROWS = list(TOPICS)


def test_the_shipped_lessons_parse_cleanly():
    assert COURSE.errors == []
    assert [l.order for l in COURSE.lessons] == sorted(l.order for l in COURSE.lessons)


@pytest.mark.slow
@pytest.mark.parametrize("lesson, snippet", SNIPPETS, ids=[f"{l.id}-{s.index + 1}" for l, s in SNIPPETS])
def test_every_snippet_prints_what_the_lesson_shows(sandbox, lesson, snippet):
    if snippet.missing():
        pytest.skip(f"needs {snippet.missing()}, which is not installed here")
    result = sandbox.run(RunRequest(code=snippet.code, filename=f"{lesson.id}-{snippet.index + 1}.py", timeout=30))
    assert snippet_problem(snippet, result) is None, f"{lesson.path}:{snippet.line}: {snippet_problem(snippet, result)}"


@pytest.mark.slow
@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_every_reference_passes_and_every_starter_and_wrong_answer_fails(sandbox, exercise):
    reference = grade_source(exercise, exercise.solution, sandbox, include_hidden=True)
    assert reference.status == "pass", reference.message
    # The starter and the wrong answers are graded at once: the server forks a child for each.
    answers = [("the starter", exercise.starter)] + [(f"wrong answer at line {w.line} ({w.reason})", w.code) for w in exercise.wrong]
    with ThreadPoolExecutor(max_workers=4) as pool:
        verdicts = list(pool.map(lambda a: grade_source(exercise, a[1], sandbox, include_hidden=True), answers))
    passing = [label for (label, _), verdict in zip(answers, verdicts) if verdict.status == "pass"]
    assert not passing, f"{exercise.id}: these pass every check and must fail: {passing}"


@pytest.mark.parametrize("topic", ROWS_1_TO_12)
def test_each_topic_of_rows_1_to_12_has_a_lesson_with_snippets_and_an_exercise(topic):
    lessons = [l for l in COURSE.lessons if topic in l.topics]
    assert lessons, f"no lesson declares {topic}"
    assert any(l.snippets for l in lessons), f"no snippet for {topic}"
    assert any(l.exercises for l in lessons), f"no exercise for {topic}"


@pytest.mark.parametrize("topic", ALL_ROWS)
def test_every_topic_of_the_curriculum_has_a_lesson_with_snippets_and_an_exercise(topic):
    lessons = [l for l in COURSE.lessons if topic in l.topics]
    assert lessons, f"no lesson declares {topic}"
    assert any(l.snippets for l in lessons), f"no snippet for {topic}"
    assert any(l.exercises for l in lessons), f"no exercise for {topic}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_every_exercise_meets_the_bar(exercise):
    """Two or more wrong answers (the lazy one and the beginner's), hints in three rungs,
    a hidden check and several seeds, so that a hard-coded answer fails."""
    assert len(exercise.wrong) >= 2, f"{exercise.id}: {len(exercise.wrong)} wrong answers"
    assert len(exercise.hints) == 3, f"{exercise.id}: {len(exercise.hints)} hints"
    assert exercise.hidden_count >= 1, exercise.id
    assert len(exercise.seeds) >= 2, exercise.id


def test_rows_1_to_12_have_at_least_twelve_exercises_each_with_two_hints_and_a_hidden_check():
    course = [e for l in COURSE.lessons if set(l.topics) & set(ROWS_1_TO_12) for e in l.exercises]
    assert len(course) >= 12
    for exercise in course:
        assert len(exercise.hints) >= 2, exercise.id
        assert exercise.hidden_count >= 1, exercise.id
        assert len(exercise.seeds) >= 2, exercise.id


# The fundamentals a beginner needs before any exercise relies on them (issue: "Part 1,
# revised"): each is taught in lessons 1-7 with a heading, a snippet, and an exercise
# whose reference uses it.
FUNDAMENTALS = {
    "indexing and slicing": (r"(?i)index|slic", r"\[\s*:\s*,\s*\d\s*\]|\[-1\]|\.\.\.,", "join-split-index/crop-border"),
    "reductions with dim and keepdim": (r"(?i)reduc", r"keepdim=True", "math-matmul/standardize"),
    "argmax along a dim": (r"(?i)reduc|argmax", r"argmax\(dim=", "math-matmul/accuracy"),
    ".item()": (r"\.item\(\)", r"\.item\(\)", "math-matmul/accuracy"),
    "changing dtypes": (r"(?i)dtype", r"\.float\(\)|\.long\(\)|\.to\(torch\.", "tensor-creation/blend"),
    "type promotion": (r"(?i)promotion", r"torch\.result_type", "tensor-creation/blend"),
}
PART_ONE = [l for l in COURSE.lessons if l.order <= 7]


@pytest.mark.parametrize("fundamental", list(FUNDAMENTALS))
def test_each_fundamental_is_taught_in_part_one_with_a_snippet_and_an_exercise(fundamental):
    heading, code, exercise_id = FUNDAMENTALS[fundamental]
    headings = [line for l in PART_ONE for b in l.blocks if hasattr(b, "markdown")
                for line in b.markdown.splitlines() if line.startswith("#")]
    assert any(re.search(heading, h) for h in headings), f"no heading in lessons 1-7 teaches {fundamental}"
    assert any(re.search(code, s.code) for l in PART_ONE for s in l.snippets), f"no snippet in lessons 1-7 shows {fundamental}"
    exercise = COURSE.exercise(exercise_id)
    assert exercise.lesson_id in {l.id for l in PART_ONE}
    assert re.search(r"\.long\(\)|\.to\(" if fundamental == "type promotion" else code, exercise.solution), exercise_id


def _outputs() -> str:
    return "\n".join(s.expected_output or "" for l in COURSE.lessons for s in l.snippets if s.run)


# Each value the curriculum quotes, as the installed torch prints it. The snippet test
# above proves each of these outputs is what the snippet really prints.
QUOTED = {
    "(t == 1).nonzero().squeeze() gives [0, 3, 6]": r"tensor\(\[0, 3, 6\]\)",
    "the gather example": r"tensor\(\[\[ 1,  3\],\s+\[ 9, 10\],\s+\[12, 15\]\]\)",
    "cat on dim 0 and dim 1": r"torch\.Size\(\[4, 1, 3\]\)[\s\S]*torch\.Size\(\[2, 2, 3\]\)",
    "stack adds a dim": r"torch\.Size\(\[2, 2, 1, 3\]\)",
    "chunk widths 3, 3, 1": r"\[3, 3, 1\]",
    "full((3, 3), 10) is int64": r"torch\.int64",
    "(3,4) @ (5,4,2) gives (5,3,2)": r"torch\.Size\(\[5, 3, 2\]\)",
    "bmm gives [[[2]], [[10]]]": r"tensor\(\[\[\[ 2\]\],\s+\[\[10\]\]\]\)",
    "softmax on dim=2 of the (2,1,3) tensor": r"tensor\(\[\[\[0\.2119, 0\.5761, 0\.2119\]\],\s+\[\[0\.3333, 0\.3333, 0\.3333\]\]\]\)",
    "gradient= weights give 7 and 9": r"tensor\(\[7\.\]\)\s*\ntensor\(\[9\.\]\)",
    "back to back with retain_graph gives 16": r"tensor\(\[16\.\]\)",
    "second derivative 6 then 2": r"\(tensor\(\[6\.\], grad_fn=<MulBackward0>\),\)\s*\n\(tensor\(\[2\.\]\),\)",
}


@pytest.mark.parametrize("what", list(QUOTED))
def test_each_value_the_curriculum_quotes_is_printed_by_a_snippet(what):
    assert re.search(QUOTED[what], _outputs()), f"no snippet output shows: {what}"
