"""Grade every shipped exercise's reference solution: through the warm sandbox server vs
one fresh ``python`` per exercise doing the same work (both sides' check runs and the
judge), measured side by side in one run.

Run: ``.venv/bin/python benchmarks/bench_grade.py [--repeat N] [--lessons DIR] [--no-cold]``. Prints the mean per
exercise of both, their ratio, and the wall time of a parallel pass (as ``tutor grade``
does). Target: <= 0.15 s per exercise through the warm server.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tutor.checks.outcome import OutcomeSpec
from tutor.core import GRADING_TASK_MODULES
from tutor.grading import grade as grading
from tutor.lessons import Exercise, load_lessons
from tutor.lessons.discover import default_lessons_dir
from tutor.sandbox.client import SandboxClient

# The cold side: a fresh interpreter imports torch, runs the checks for the learner and the
# reference (here both the reference solution) and judges, all in one process.
COLD = r"""
import json, sys
from pathlib import Path
from tutor.checks.wire import check_to_wire
from tutor.grading.grade import _harness_params
from tutor.judging.harness import run_checks
from tutor.judging.judge import judge
from tutor.lessons import load_lessons
exercise = load_lessons([Path(sys.argv[2])]).exercise(sys.argv[1])
params = _harness_params(exercise.checks, exercise, "cpu", "solution.py")
ref, rb = run_checks(exercise.solution, params, {}, None)
got, gb = run_checks(exercise.solution, params, {}, None)
blobs = {**{"e:" + k: v for k, v in rb.items()}, **{"g:" + k: v for k, v in gb.items()}}
checks = [check_to_wire(c, exercise.seeds) for c in exercise.checks]
verdict, _ = judge("", {"checks": checks, "expected": ref, "got": got}, blobs, None)
assert all(c["status"] == "pass" for c in verdict["checks"]), verdict
"""


def warm_once(exercise: Exercise, client: SandboxClient) -> float:
    grading._reference_cache.clear()  # a grading pass computes each reference once
    started = time.perf_counter()
    report = grading.grade_source(exercise, exercise.solution, client, include_hidden=True)
    elapsed = time.perf_counter() - started
    if report.status != "pass":
        raise SystemExit(f"{exercise.id}: the reference did not pass: {report.message}")
    return elapsed


def cold_once(exercise: Exercise, lessons_dir: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", COLD, exercise.id, str(lessons_dir)], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="warm passes over every exercise (default 3)")
    parser.add_argument("--lessons", type=Path, default=default_lessons_dir(), help="lesson directory (default: the course)")
    parser.add_argument("--no-cold", action="store_true", help="skip the fresh-python side (faster)")
    args = parser.parse_args()
    lessons = load_lessons([args.lessons])
    exercises = lessons.exercises()
    # Training exercises (checked on outcomes) are reported apart: they train a model.
    training = {e.id for e in exercises if any(isinstance(s, OutcomeSpec) for c in e.checks for s in c.specs)}
    with SandboxClient(hide_paths=[args.lessons], device="cpu", warm_modules=GRADING_TASK_MODULES) as client:
        client.wait_ready(60)
        warm_once(exercises[0], client)  # first-run costs (lazy imports in the server) aside
        warm = {e.id: statistics.median(warm_once(e, client) for _ in range(args.repeat)) for e in exercises}
        grading._reference_cache.clear()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(lambda e: warm_once(e, client), exercises))
        parallel = time.perf_counter() - started
    cold = {e.id: 0.0 for e in exercises} if args.no_cold else {e.id: cold_once(e, args.lessons) for e in exercises}

    warm_mean, cold_mean = statistics.mean(warm.values()), statistics.mean(cold.values())
    plain = [v for k, v in warm.items() if k not in training]
    trained = [v for k, v in warm.items() if k in training]
    width = max(len(i) for i in warm)
    print(f"{'exercise':{width}}  warm ms  cold ms")
    for exercise_id in warm:
        mark = "  (training)" if exercise_id in training else ""
        print(f"{exercise_id:{width}}  {warm[exercise_id] * 1000:7.1f}  {cold[exercise_id] * 1000:7.1f}{mark}")
    print()
    print(f"{len(exercises)} exercises, reference solutions, every check including hidden ones")
    print(f"warm server:  mean {warm_mean * 1000:.1f} ms per exercise (median of {args.repeat} passes), "
          f"max {max(warm.values()) * 1000:.1f} ms  (target <= 150 ms: {'met' if warm_mean <= 0.15 else 'MISSED'})")
    if plain and trained:
        print(f"  without training exercises: mean {statistics.mean(plain) * 1000:.1f} ms ({len(plain)}); "
              f"training exercises: mean {statistics.mean(trained) * 1000:.1f} ms ({len(trained)})")
    if not args.no_cold:
        print(f"fresh python: mean {cold_mean * 1000:.1f} ms per exercise")
        print(f"ratio fresh/warm: {cold_mean / warm_mean:.1f}x")
    print(f"parallel pass over all {len(exercises)} on {os.cpu_count()} cores: {parallel:.2f} s "
          f"({parallel / len(exercises) * 1000:.1f} ms per exercise)")
    print(json.dumps({"warm_mean_s": warm_mean, "cold_mean_s": cold_mean, "ratio": cold_mean / warm_mean,
                      "parallel_s": parallel, "exercises": len(exercises),
                      "plain_mean_s": statistics.mean(plain) if plain else None,
                      "training_mean_s": statistics.mean(trained) if trained else None}))


if __name__ == "__main__":
    main()
