"""An instructor's class, one student at a time: a student's whole hand-in is graded as
one job. Each source still runs alone, beside its reference; one judge decides them all,
and a spent time budget stops the rest without losing what was graded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.grading.grade import JUDGE_TASK, JUDGE_TIMEOUT, Submission, grade_source, grade_sources
from tutor.lessons import load_lessons
from tutor.sandbox.api import RunRequest, RunResult

pytestmark = pytest.mark.slow

LESSONS = load_lessons([Path(__file__).parent / "data"])
SOFTMAX = LESSONS.exercise("grading/softmax-rows")
HALVE = LESSONS.exercise("grading/halve-lr")
NAIVE = "def softmax_rows(X):\n    e = X.exp()\n    return e / e.sum(dim=1, keepdim=True)\n"


class Counting:
    """The shared sandbox, counting the tasks it is asked to run."""

    def __init__(self, sandbox, judge_fails: bool = False) -> None:
        self.sandbox = sandbox
        self.tasks: list[str] = []
        self.judge_fails = judge_fails

    def run(self, request: RunRequest) -> RunResult:
        self.tasks.append(request.task)
        if self.judge_fails and request.task == JUDGE_TASK:
            return RunResult(status="timeout", device="cpu")
        return self.sandbox.run(request)


def test_a_hand_in_is_judged_once_and_each_verdict_is_the_one_it_gets_alone(sandbox):
    client = Counting(sandbox)
    hand_in = [Submission(SOFTMAX, NAIVE), Submission(HALVE, HALVE.solution), Submission(SOFTMAX, "def softmax_rows(X) return X\n")]
    reports = grade_sources(hand_in, client, include_hidden=True)
    assert [r.id for r in reports] == [SOFTMAX.id, HALVE.id, SOFTMAX.id]
    assert [r.status for r in reports] == ["fail", "pass", "error"]
    assert client.tasks.count(JUDGE_TASK) == 1
    alone = grade_source(SOFTMAX, NAIVE, sandbox, include_hidden=True)
    assert [(c.name, c.status, c.message) for c in reports[0].checks] == [(c.name, c.status, c.message) for c in alone.checks]
    assert (reports[0].score, reports[1].score) == (2.0, HALVE.points)


def test_a_spent_budget_stops_the_rest_and_keeps_what_was_graded(sandbox):
    asked = []

    def keep_going() -> str | None:
        asked.append(1)
        return "not graded: the budget was used up" if len(asked) > 1 else None

    reports = grade_sources([Submission(HALVE, HALVE.solution), Submission(SOFTMAX, NAIVE), Submission(HALVE, "")],
                            sandbox, include_hidden=True, keep_going=keep_going)
    assert [r.status for r in reports] == ["pass", "error", "error"]
    assert [r.message for r in reports[1:]] == ["not graded: the budget was used up"] * 2


def test_a_judge_that_fails_fails_each_exercise_it_held_and_says_so(sandbox):
    reports = grade_sources([Submission(HALVE, HALVE.solution), Submission(SOFTMAX, NAIVE)], Counting(sandbox, judge_fails=True),
                            include_hidden=True)
    assert [r.status for r in reports] == ["error", "error"]
    # In the judge's own words: the learner's "an endless loop?" would point at their code.
    assert [r.message for r in reports] == [f"the judge failed: timed out after {JUDGE_TIMEOUT:g} s"] * 2


def test_two_students_needing_one_reference_at_once_run_it_once(sandbox):
    """Two students graded side by side reach each exercise together: the second waits
    for the reference the first is computing instead of running it again."""
    import threading
    import time
    from dataclasses import replace

    from tutor.grading.grade import HARNESS_TASK, reference_result

    class Slow(Counting):
        def run(self, request: RunRequest) -> RunResult:
            time.sleep(0.3)  # both threads are inside before the first finishes
            return super().run(request)

    client = Slow(sandbox)
    exercise = replace(HALVE, seeds=(int(time.time_ns() % 1_000_000),))  # a reference no test computed yet
    results: list[RunResult] = []
    threads = [threading.Thread(target=lambda: results.append(reference_result(client, exercise, exercise.checks, "cpu")))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert client.tasks.count(HARNESS_TASK) == 1
    assert len(results) == 2 and results[0] is results[1] and results[0].ok
