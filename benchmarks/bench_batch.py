"""Grade a simulated class: N students x every shipped exercise through ``tutor grade
--batch`` (one warm sandbox, each reference computed once per exercise) vs. the same
workspaces through one fresh ``tutor grade`` process per student, measured side by side
in one run.

Student i hands in the reference solution of most exercises and the starter of some
(about one in ten, a deterministic pattern that differs per student). Both sides grade
with the same seed, so their scores must agree.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--students N] [--lessons DIR]
[--no-baseline]``. Prints students per minute of both, their ratio, and the projected
wall time for 500 students on one machine of this one's cores (the target machine has 2),
then one JSON line. Target: >= 30 students per minute with the whole course on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from tutor.lessons import Exercise, load_lessons
from tutor.lessons.discover import default_lessons_dir

SEED = 1234
CLASS_SIZE = 500
TARGET_PER_MINUTE = 30.0


def hands_in_starter(student: int, exercise: int) -> bool:
    """About one exercise in ten, a different set for each student; student 0 is perfect."""
    return student > 0 and (student * 7 + exercise * 3) % 10 == 0


def write_class(root: Path, students: int, exercises: list[Exercise]) -> dict[str, float]:
    """One workspace per student under ``root``; returns what each student should score
    at least (the points of the exercises handed in as the reference)."""
    floor = {}
    for i in range(students):
        name = f"student{i:03d}"
        floor[name] = 0.0
        for j, exercise in enumerate(exercises):
            starter = hands_in_starter(i, j)
            path = root / name / exercise.lesson_id / f"{exercise.short_id}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(exercise.starter if starter else exercise.solution, encoding="utf-8")
            floor[name] += 0.0 if starter else exercise.points
    return floor


def tutor(*args: str) -> list[str]:
    return [sys.executable, "-m", "tutor", *args]


def run_batch(root: Path, lessons: Path, gradebook: Path) -> tuple[float, list[float], dict[str, float]]:
    """``tutor grade --batch`` as an instructor runs it: wall time (process start to exit),
    the time each student's line appeared, and the gradebook's scores."""
    started = time.perf_counter()
    proc = subprocess.Popen(tutor("grade", "--lessons", str(lessons), "--batch", str(root), "--gradebook", str(gradebook),
                                  "--device", "cpu", "--seed", str(SEED)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    marks = []
    for line in proc.stdout:
        if line.startswith(("GRADED", "ERROR")):
            marks.append(time.perf_counter() - started)
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"tutor grade --batch exited {proc.returncode}: {err.strip()[-2000:]}")
    scores = {s["student"]: s["score"] for s in json.loads(gradebook.read_text())["students"]}
    return wall, marks, scores


def slowest(reports: Path, count: int = 5) -> list[tuple[str, float]]:
    """The exercises that cost the batch most, by mean seconds per student (from the
    students' JUnit reports; two students graded at once share the cores)."""
    times: dict[str, list[float]] = defaultdict(list)
    for path in reports.glob("*.xml"):
        for case in ET.parse(path).getroot().iter("testcase"):
            times[f"{case.get('classname')}/{case.get('name')}"].append(float(case.get("time") or 0))
    means = sorted(((k, sum(v) / len(v)) for k, v in times.items()), key=lambda kv: -kv[1])
    return means[:count]


def run_baseline(root: Path, lessons: Path, reports: Path) -> tuple[float, dict[str, float]]:
    """One fresh ``tutor grade`` process per student, one after the other (each grades
    its exercises in parallel on every core, as it does by default)."""
    scores = {}
    started = time.perf_counter()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        report = reports / f"{folder.name}.json"
        done = subprocess.run(tutor("grade", "--lessons", str(lessons), "--workspace", str(folder), "--device", "cpu",
                                    "--seed", str(SEED), "--json", str(report)), capture_output=True, text=True)
        if done.returncode not in (0, 1):
            raise SystemExit(f"tutor grade on {folder.name} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
        scores[folder.name] = json.loads(report.read_text())["score"]
    return time.perf_counter() - started, scores


def per_minute(students: int, seconds: float) -> float:
    return students / seconds * 60 if seconds > 0 else float("inf")


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.2f} h"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50, help="simulated students (default 50)")
    parser.add_argument("--lessons", type=Path, default=default_lessons_dir(), help="lesson directory (default: the course)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the fresh-process side (faster)")
    args = parser.parse_args()
    if args.students < 1:
        parser.error("--students must be at least 1")
    lessons = load_lessons([args.lessons])
    exercises = lessons.exercises()
    cores = os.cpu_count() or 1

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        root = Path(tmp) / "class"
        floor = write_class(root, args.students, exercises)
        starters = sum(hands_in_starter(i, j) for i in range(args.students) for j in range(len(exercises)))
        batch_wall, marks, batch_scores = run_batch(root, args.lessons, Path(tmp) / "gradebook.json")
        costly = slowest(Path(f"{root}-reports"))
        if args.no_baseline:
            base_wall, base_scores = 0.0, {}
        else:
            (Path(tmp) / "baseline").mkdir()
            base_wall, base_scores = run_baseline(root, args.lessons, Path(tmp) / "baseline")

    # A reference answer that lost points means the grading is wrong, not slow.
    short = {s: (batch_scores.get(s, 0.0), f) for s, f in floor.items() if batch_scores.get(s, 0.0) < f}
    disagree = sorted(s for s in base_scores if base_scores[s] != batch_scores.get(s))
    batch_rate = per_minute(args.students, batch_wall)
    # After the first round of students (process start, sandbox start, the references),
    # what each further student costs.
    first = min(cores, len(marks)) - 1
    steady = per_minute(len(marks) - 1 - first, marks[-1] - marks[first]) if len(marks) - 1 > first else None
    print(f"{args.students} students x {len(exercises)} exercises ({starters} starters handed in, the rest references), "
          f"{cores} cores, seed {SEED}")
    print(f"tutor grade --batch (one warm sandbox): {batch_wall:.1f} s, {batch_rate:.1f} students/min"
          + (f" (after the first {first + 1}: {steady:.1f}/min)" if steady else "")
          + f"  (target >= {TARGET_PER_MINUTE:g}/min: {'met' if batch_rate >= TARGET_PER_MINUTE else 'MISSED'})")
    print("  slowest exercises (mean s per student): " + ", ".join(f"{k} {v:.2f}" for k, v in costly))
    result: dict[str, object] = {
        "students": args.students, "exercises": len(exercises), "cores": cores, "starters": starters,
        "batch_s": batch_wall, "batch_per_min": batch_rate, "batch_steady_per_min": steady,
        "batch_500_s": CLASS_SIZE / batch_rate * 60, "reference_answers_short": len(short),
        "slowest": dict(costly),
    }
    if not args.no_baseline:
        base_rate = per_minute(args.students, base_wall)
        print(f"one fresh tutor grade per student:      {base_wall:.1f} s, {base_rate:.1f} students/min")
        print(f"ratio batch/fresh: {batch_rate / base_rate:.1f}x; scores agree for "
              f"{args.students - len(disagree)} of {args.students} students")
        result.update(baseline_s=base_wall, baseline_per_min=base_rate, ratio=batch_rate / base_rate,
                      baseline_500_s=CLASS_SIZE / base_rate * 60, scores_disagree=disagree)
    print(f"projected for {CLASS_SIZE} students on one {cores}-core machine: batch {minutes(CLASS_SIZE / batch_rate * 60)}"
          + ("" if args.no_baseline else f", one process per student {minutes(CLASS_SIZE / per_minute(args.students, base_wall) * 60)}"))
    if short:
        print(f"WRONG: {len(short)} students lost points on reference answers: {dict(list(short.items())[:5])}")
    if disagree:
        print(f"WRONG: batch and fresh processes disagree on {disagree[:5]}: "
              f"{[(batch_scores.get(s), base_scores[s]) for s in disagree[:5]]}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
