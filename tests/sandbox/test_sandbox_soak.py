"""A learner's hour, compressed: the cells of the later lessons run in order (as "Run
all" runs them) while, beside them, exercises are checked (as a learner checks in the
exercise screen). The sandbox must not die once, and nothing may need a restart.

The suite runs one round; ``TUTOR_SOAK_ROUNDS=20`` makes it the hour it stands for."""

from __future__ import annotations

import os
import threading
from collections import Counter

import pytest

from tutor.grading.grade import grade_source
from tutor.lessons import load_lessons
from tutor.sandbox.api import RunRequest
from tutor.sandbox.client import SandboxClient

pytestmark = pytest.mark.slow

ROUNDS = int(os.environ.get("TUTOR_SOAK_ROUNDS", "1"))
#: The lessons where learners saw the server die (data loading with worker processes;
#: training from scratch); a longer soak takes every later lesson.
LESSONS = ("15-", "18-") if ROUNDS == 1 else ("12-", "13-", "14-", "15-", "16-", "17-", "18-", "19-")


def test_an_hour_of_cells_and_checks_has_no_sandbox_death(sandbox: SandboxClient) -> None:
    lessons = [lesson for lesson in load_lessons(None).lessons if lesson.path.name.startswith(LESSONS)]
    assert len(lessons) == len(LESSONS)
    restarts_before = sandbox.restarts
    outcomes: Counter[str] = Counter()
    deaths: list[str] = []

    def run_all() -> None:
        for _ in range(ROUNDS):
            for lesson in lessons:
                for snippet in (s for s in lesson.snippets if s.run):
                    result = sandbox.run(RunRequest(code=snippet.code, filename=f"{lesson.id}/cell.py", timeout=30))
                    outcomes[f"cell {result.status}"] += 1
                    if result.error is not None and result.error.type == "SandboxDied":
                        deaths.append(f"{lesson.id} cell {snippet.index + 1}: {result.error.message}")

    def check_all() -> None:
        for _ in range(ROUNDS):
            for lesson in lessons:
                for exercise in lesson.exercises:
                    report = grade_source(exercise, exercise.solution, sandbox)
                    outcomes[f"check {report.status}"] += 1
                    if report.status != "pass":
                        deaths.append(f"{exercise.id}: {report.status}: {report.message}")

    threads = [threading.Thread(target=run_all), threading.Thread(target=check_all)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert deaths == [], deaths
    assert sandbox.restarts == restarts_before, sandbox.deaths
    assert outcomes["check pass"] == ROUNDS * sum(len(lesson.exercises) for lesson in lessons)
    # The cells that are meant to fail (to show an error) fail; none dies or times out.
    assert outcomes["cell timeout"] == 0 and outcomes["cell killed"] == 0, outcomes
