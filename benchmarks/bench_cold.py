"""Cold ``tutor grade ID`` and ``tutor run FILE`` against a bare ``python -c "import
torch"``, measured side by side: the commands take turns, round after round, so a busy
moment of the machine falls on all of them alike.

Each command is a fresh process that starts its own sandbox server (nothing warm is
shared). The graded workspace holds the reference solution, so the grade is a pass.

Two exercises are measured: one whose code builds no optimizer and one that trains (an
optimizer's first use would import torch's compiler, 1.2 s, were it not deferred by
``tutor.sandbox.lazy_dynamo``). Target: <= 1.5x the bare import.

Run: ``.venv/bin/python benchmarks/bench_cold.py [--rounds N]``. Prints medians and
ratios, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tutor.lessons import default_lessons_dir, load_lessons

TARGET = 1.5
PLAIN_EXERCISE = "reshape-views/columns-first"
TRAINING_EXERCISE = "optimizers-schedules/epoch-loop"


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-1500:]}{done.stderr[-1500:]}")
    return elapsed


def workspace_with_references(root: Path, ids: list[str]) -> Path:
    lessons = load_lessons([default_lessons_dir()])
    for exercise_id in ids:
        exercise = lessons.resolve(exercise_id)
        path = root / exercise.lesson_id / f"{exercise.short_id}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(exercise.solution, encoding="utf-8")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds of every command (default 7)")
    args = parser.parse_args()
    tutor = [sys.executable, "-m", "tutor"]
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        workspace = workspace_with_references(Path(tmp) / "ws", [PLAIN_EXERCISE, TRAINING_EXERCISE])
        script = Path(tmp) / "hello.py"
        script.write_text("x = torch.ones(2, 3)\nprint(x.sum())\n", encoding="utf-8")
        commands = {
            "import torch": [sys.executable, "-c", "import torch"],
            f"tutor grade {PLAIN_EXERCISE}": [*tutor, "grade", "--workspace", str(workspace), "--device", "cpu", PLAIN_EXERCISE],
            f"tutor grade {TRAINING_EXERCISE}": [*tutor, "grade", "--workspace", str(workspace), "--device", "cpu",
                                                 TRAINING_EXERCISE],
            "tutor run hello.py": [*tutor, "run", "--device", "cpu", str(script)],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # one untimed round fills the page cache
            timed(command)
        for _ in range(args.rounds):
            for name, command in commands.items():
                times[name].append(timed(command))
    base = statistics.median(times["import torch"])
    result: dict[str, object] = {"rounds": args.rounds, "target_ratio": TARGET}
    for name, samples in times.items():
        median = statistics.median(samples)
        ratio = median / base
        verdict = "" if name == "import torch" else f"  {ratio:.2f}x  ({'met' if ratio <= TARGET else 'MISSED'})"
        print(f"{name:<45} median {median:.2f} s  (min {min(samples):.2f}, max {max(samples):.2f}){verdict}")
        result[name] = {"median_s": median, "ratio": ratio, "samples": samples}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
