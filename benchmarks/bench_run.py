"""A trivial snippet through the warm sandbox server vs a fresh ``python snippet.py``.

Run: ``.venv/bin/python benchmarks/bench_run.py [--runs N]``. Prints p50/p95 of both,
their ratio (target >= 50), the warm run against a bare fork+op+exit of a torch process
measured in the same run (target <= 1.5x), the server's RSS and one child's unique
memory (USS).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tutor.sandbox.api import RunRequest
from tutor.sandbox.client import SandboxClient

SNIPPET = "x = torch.ones(3)\nprint((x * 2).sum().item())\n"
# For the cold side the snippet must set up what the sandbox predefines.
COLD = "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n" + SNIPPET


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def kb(path: Path, field: str) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child_uss_mb(client: SandboxClient) -> float:
    """USS of a child that holds still: start one that blocks on a FIFO, measure it."""
    import os

    # A run sees only the server's filesystem view, where of /tmp only the work root is.
    assert client.workroot is not None
    directory = Path(tempfile.mkdtemp(dir=client.workroot, prefix="shared-bench-"))
    directory.chmod(0o755)
    fifo = directory / "go"
    os.mkfifo(fifo, 0o666)
    fifo.chmod(0o666)
    code = SNIPPET + f"open({str(fifo)!r}, 'w').write('x')\nopen({str(fifo)!r}).read()\n"
    thread = threading.Thread(target=client.run, args=(RunRequest(code=code, timeout=30),))
    thread.start()
    fifo.read_text()  # the child is running and has done its work
    forker = client.forker_pid  # every run's child is forked by the server's forker
    children = Path(f"/proc/{forker}/task/{forker}/children").read_text().split()
    rollup = Path(f"/proc/{children[0]}/smaps_rollup")
    uss = (kb(rollup, "Private_Clean") + kb(rollup, "Private_Dirty")) / 1024
    fifo.write_text("done")
    thread.join()
    return uss


# The floor a warm run is measured against: a process that has imported torch forks, the
# child does the snippet's op and exits, the parent waits. Run in a process of its own so
# that this one stays free of torch, like the front.
BARE_FORK = """
import os, sys, time, torch
x = torch.ones(3)
times = []
for _ in range(int(sys.argv[1]) + 1):
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        (x * 2).sum().item()
        os._exit(0)
    os.waitpid(pid, 0)
    times.append((time.perf_counter() - t) * 1000)
print(" ".join(f"{v:.3f}" for v in times[1:]))
"""


def bare_fork_ms(runs: int) -> list[float]:
    done = subprocess.run([sys.executable, "-c", BARE_FORK, str(runs)], capture_output=True, text=True, check=True)
    return [float(v) for v in done.stdout.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs

    with SandboxClient(device="cpu") as client:
        started = time.perf_counter()
        client.wait_ready()
        ready_s = time.perf_counter() - started
        client.run(RunRequest(code=SNIPPET))  # first fork pays for page-table copies once
        warm = []
        for _ in range(runs):
            t = time.perf_counter()
            result = client.run(RunRequest(code=SNIPPET))
            warm.append((time.perf_counter() - t) * 1000)
            assert result.ok and result.stdout == "6.0\n", result
        server_rss = kb(Path(f"/proc/{client.server_pid}/status"), "VmRSS") / 1024
        uss = child_uss_mb(client)

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "snippet.py"
        script.write_text(COLD)
        cold = []
        for _ in range(runs):
            t = time.perf_counter()
            done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
            cold.append((time.perf_counter() - t) * 1000)
            assert done.stdout == "6.0\n"

    fork = bare_fork_ms(runs)
    w50, w95, c50, c95 = percentile(warm, .5), percentile(warm, .95), percentile(cold, .5), percentile(cold, .95)
    f50, f95 = percentile(fork, .5), percentile(fork, .95)
    print(f"runs each:             {runs}")
    print(f"server start (ready):  {ready_s * 1000:8.1f} ms")
    print(f"warm server    p50 {w50:8.1f} ms   p95 {w95:8.1f} ms   mean {statistics.mean(warm):8.1f} ms")
    print(f"fresh python   p50 {c50:8.1f} ms   p95 {c95:8.1f} ms   mean {statistics.mean(cold):8.1f} ms")
    print(f"bare fork+op+exit p50 {f50:8.1f} ms   p95 {f95:8.1f} ms   (a torch process forks, the child runs the op)")
    print(f"ratio (p50):           {c50 / w50:8.1f}x   (target >= 50)")
    print(f"warm / bare fork (p50):{w50 / f50:8.2f}x   (target <= 1.5)")
    print(f"p50 through server:    {'OK' if w50 <= 20 else 'OVER'} (target <= 20 ms)")
    print(f"server RSS:            {server_rss:8.1f} MB")
    print(f"child USS:             {uss:8.1f} MB")


if __name__ == "__main__":
    main()
