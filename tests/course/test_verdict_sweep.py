"""A sample of the verdict sweep (tests/course/verdict_sweep.py, run whole by hand): a few
exercises drawn at random, every answer of theirs graded under both CPU kernel sets and
five drawn seed sets. A reference that fails or a wrong answer that passes in any cell
fails the test, which names the exercises and seed bases to run again."""

from __future__ import annotations

import os
import random

import pytest
from verdict_sweep import sweep

from tutor.lessons import load_lessons

# Exercises per run: the whole sweep grades every answer 12 times; CI grades a few
# exercises that way on every run (a different few each time), the course tests the
# rest under the lessons' own seeds.
SAMPLE = 2
SEED_BASES = 5


@pytest.mark.slow
def test_a_sample_of_verdicts_holds_across_kernels_and_drawn_seeds(kernel_sandboxes):
    # TUTOR_SWEEP_SEED replays a failed run's draw.
    draw = int(os.environ.get("TUTOR_SWEEP_SEED") or random.randrange(2**31))
    rng = random.Random(draw)
    exercises = rng.sample(load_lessons().exercises(), SAMPLE)
    bases = [rng.randrange(2**31 - 1) for _ in range(SEED_BASES)]
    result = sweep(exercises, kernel_sandboxes, bases, with_lesson_seeds=False)
    assert len(result.cells) == sum(2 + len(e.wrong) for e in exercises) * len(kernel_sandboxes) * SEED_BASES
    assert not result.changes, (f"TUTOR_SWEEP_SEED={draw}: {[e.id for e in exercises]}\n{result.report()}\n"
                                f"again: .venv/bin/python tests/course/verdict_sweep.py --exercise {' '.join(e.id for e in exercises)} "
                                f"--base {' '.join(map(str, bases))}")
