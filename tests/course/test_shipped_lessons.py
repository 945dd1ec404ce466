"""The course as shipped: every snippet prints what its lesson shows, every reference
passes its checks and every starter fails them, and the curriculum is covered."""

from __future__ import annotations

import re

import pytest
from kernel_axis import KERNELS, Ahead

from tutor.authoring.lesson_check import snippet_problem
from tutor.grading.grade import Submission, grade_sources
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


# Every snippet and every verdict under both CPU kernel sets (tests/course/conftest.py):
# an output or a verdict that depends on the CPU's vector width fails on any machine.
@pytest.fixture(scope="session")
def snippet_runs(request, kernel_sandboxes, ahead_pool) -> Ahead:
    by_id = {(l.id, s.index): (l, s) for l, s in SNIPPETS}

    def key(item):
        if getattr(item, "originalname", None) != "test_every_snippet_prints_what_the_lesson_shows":
            return None
        lesson, snippet = item.callspec.params["lesson"], item.callspec.params["snippet"]
        return item.callspec.params["kernels"], lesson.id, snippet.index

    def run(key):
        kernels, lesson_id, index = key
        lesson, snippet = by_id[lesson_id, index]
        if snippet.missing():
            return None
        return kernel_sandboxes[kernels].run(RunRequest(code=snippet.code, filename=f"{lesson.id}-{snippet.index + 1}.py", timeout=30))

    return Ahead(request.session, ahead_pool, key, run)


@pytest.fixture(scope="session")
def answer_verdicts(request, kernel_sandboxes, ahead_pool) -> Ahead:
    """Each exercise's answers graded on one kernel set: the reference, the starter and
    the wrong answers, together (one judge for them all, as ``tutor grade`` does)."""

    def key(item):
        if getattr(item, "originalname", None) != "test_every_reference_passes_and_every_starter_and_wrong_answer_fails":
            return None
        return item.callspec.params["kernels"], item.callspec.params["exercise"].id

    def grade(key):
        kernels, exercise_id = key
        exercise = COURSE.exercise(exercise_id)
        answers = [("the reference", exercise.solution), ("the starter", exercise.starter)]
        answers += [(f"wrong answer at line {w.line} ({w.reason})", w.code) for w in exercise.wrong]
        reports = grade_sources([Submission(exercise, code) for _, code in answers], kernel_sandboxes[kernels], include_hidden=True)
        return [(label, report) for (label, _), report in zip(answers, reports)]

    return Ahead(request.session, ahead_pool, key, grade)


@pytest.mark.slow
def test_each_kernel_set_is_the_one_its_sandbox_runs(kernel_sandboxes):
    """The axis is real: the portable server's children run torch's portable kernels."""
    code = "print(torch.backends.cpu.get_cpu_capability())"
    printed = {name: client.run(RunRequest(code=code)).stdout.strip() for name, client in kernel_sandboxes.items()}
    assert printed["portable"] == "DEFAULT", printed
    assert printed["best"], printed  # AVX512, AVX2... or DEFAULT on a CPU that has nothing wider


@pytest.mark.slow
@pytest.mark.parametrize("kernels", list(KERNELS))
@pytest.mark.parametrize("lesson, snippet", SNIPPETS, ids=[f"{l.id}-{s.index + 1}" for l, s in SNIPPETS])
def test_every_snippet_prints_what_the_lesson_shows(snippet_runs, lesson, snippet, kernels):
    if snippet.missing():
        pytest.skip(f"needs {snippet.missing()}, which is not installed here")
    result = snippet_runs.result((kernels, lesson.id, snippet.index))
    problem = snippet_problem(snippet, result)
    assert problem is None, f"{lesson.path}:{snippet.line}: {problem} (with the {kernels} CPU kernels)"


@pytest.mark.slow
@pytest.mark.parametrize("kernels", list(KERNELS))
@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_every_reference_passes_and_every_starter_and_wrong_answer_fails(answer_verdicts, exercise, kernels):
    (_, reference), *others = answer_verdicts.result((kernels, exercise.id))
    assert reference.status == "pass", f"{exercise.id} (with the {kernels} CPU kernels): {reference.message}"
    passing = [label for label, verdict in others if verdict.status == "pass"]
    assert not passing, f"{exercise.id}: these pass every check and must fail (with the {kernels} CPU kernels): {passing}"


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
