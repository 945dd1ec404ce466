"""The whole course on a GPU: every snippet prints what its lesson shows (the device suffix
ignored, numbers within the GPU's tolerance: ``tutor.lessons.output_match``), every
reference passes and every starter and wrong answer fails, reference and answer graded
on the same CUDA device. Skipped, with the reason, where the sandbox sees no CUDA device.

Each run is a child that initialises CUDA itself (the server never does), so the runs
are many and slow to start; they go ahead in parallel as the CPU tests' do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kernel_axis import Ahead

from tutor.authoring.lesson_check import snippet_problem
from tutor.cli import build_parser, main
from tutor.core import GRADING_TASK_MODULES
from tutor.grading.grade import Submission, grade_sources
from tutor.lessons import load_lessons
from tutor.sandbox.api import RunRequest
from tutor.sandbox.client import SandboxClient

COURSE = load_lessons()
SNIPPETS = [(lesson, s) for lesson in COURSE.lessons for s in lesson.snippets if s.run]
EXERCISES = COURSE.exercises()
# A child's first CUDA call costs about a second before the run's own work.
CUDA_TIMEOUT = 120.0


@pytest.fixture(scope="session")
def cuda_sandbox(sandbox: SandboxClient) -> Iterator[SandboxClient]:
    if not sandbox.cuda_available():
        pytest.skip("no CUDA device: torch.cuda.is_available() is false in the sandbox server")
    client = SandboxClient(hide_paths=sandbox.hide_paths, device="cuda", warm_modules=GRADING_TASK_MODULES)
    client.start()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def gpu_snippet_runs(request, cuda_sandbox, ahead_pool) -> Ahead:
    by_id = {(l.id, s.index): (l, s) for l, s in SNIPPETS}

    def key(item):
        if getattr(item, "originalname", None) != "test_every_snippet_prints_what_the_lesson_shows_on_cuda":
            return None
        return item.callspec.params["lesson"].id, item.callspec.params["snippet"].index

    def run(key):
        lesson, snippet = by_id[key]
        if snippet.missing():
            return None
        return cuda_sandbox.run(RunRequest(code=snippet.code, filename=f"{lesson.id}-{snippet.index + 1}.py", device="cuda",
                                           timeout=CUDA_TIMEOUT))

    return Ahead(request.session, ahead_pool, key, run)


@pytest.fixture(scope="session")
def gpu_verdicts(request, cuda_sandbox, ahead_pool) -> Ahead:
    def key(item):
        if getattr(item, "originalname", None) != "test_every_verdict_holds_on_cuda":
            return None
        return item.callspec.params["exercise"].id

    def grade(exercise_id):
        exercise = COURSE.exercise(exercise_id)
        answers = [("the reference", exercise.solution), ("the starter", exercise.starter)]
        answers += [(f"wrong answer at line {w.line} ({w.reason})", w.code) for w in exercise.wrong]
        reports = grade_sources([Submission(exercise, code) for _, code in answers], cuda_sandbox, include_hidden=True,
                                device="cuda")
        return [(label, report) for (label, _), report in zip(answers, reports)]

    return Ahead(request.session, ahead_pool, key, grade)


@pytest.mark.gpu
@pytest.mark.slow
def test_snippets_run_on_the_gpu(cuda_sandbox):
    result = cuda_sandbox.run(RunRequest(code="print(DEVICE, torch.ones(1, device=DEVICE).device)", device="cuda",
                                         timeout=CUDA_TIMEOUT))
    assert result.stdout.strip() == "cuda cuda:0", result


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.parametrize("lesson, snippet", SNIPPETS, ids=[f"{l.id}-{s.index + 1}" for l, s in SNIPPETS])
def test_every_snippet_prints_what_the_lesson_shows_on_cuda(gpu_snippet_runs, lesson, snippet):
    if snippet.missing():
        pytest.skip(f"needs {snippet.missing()}, which is not installed here")
    result = gpu_snippet_runs.result((lesson.id, snippet.index))
    assert result.device == "cuda"
    problem = snippet_problem(snippet, result)
    assert problem is None, f"{lesson.path}:{snippet.line}: {problem} (on CUDA)"


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_every_verdict_holds_on_cuda(gpu_verdicts, exercise):
    (_, reference), *others = gpu_verdicts.result(exercise.id)
    assert reference.status == "pass", f"{exercise.id} (on CUDA): {reference.message}"
    passing = [label for label, verdict in others if verdict.status == "pass"]
    assert not passing, f"{exercise.id}: these pass every check on CUDA and must fail: {passing}"


def test_check_lessons_runs_on_the_cpu_unless_told_otherwise():
    parse = build_parser().parse_args
    assert parse(["check-lessons"]).device == "cpu"
    assert parse(["check-lessons", "--device", "cuda"]).device == "cuda"
    assert parse(["check-lessons", "--watch", "--device", "auto"]).device == "auto"


@pytest.mark.slow
def test_check_lessons_on_cuda_without_a_gpu_is_one_line_and_exit_2(sandbox, capsys):
    if sandbox.cuda_available():
        pytest.skip("this machine has CUDA")
    lesson = next(l for l in COURSE.lessons if l.exercises)
    assert main(["check-lessons", "--device", "cuda", str(lesson.path)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == "tutor: --device cuda: no CUDA device is available on this machine"
