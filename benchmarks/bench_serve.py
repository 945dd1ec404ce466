"""A class on one machine: N learners on `tutor serve`, each running a cell every 10 s.

    .venv/bin/python benchmarks/bench_serve.py [--learners N] [--interval S] [--runs K]

Targets (issue 30): 30 learners on this machine's 2 cores, p95 from key to result
under 1 s, under 80 MB per learner beyond a shared sandbox server.

Each simulated learner is what a browser is to the server: it signs in with its token
(HTTP), opens the app's WebSocket, and sends keys as textual.js does (["stdin", ...]).
It waits for "sandbox ready", opens the one-cell lesson (enter), then every
``--interval`` seconds (starts spread over the interval) presses enter on the cell and
times until the result's status line ("ran on cpu") arrives on the socket: the key's
round trip through the server, the learner's app process and its sandbox, and the
repaint, as a learner sees it less the browser's drawing.

Memory: every connection starts its own app process. With ``--shared-sandbox`` (what
``tutor serve`` does by default) every app's runs go to the server's one sandbox;
without it each app starts its own sandbox server and forker (``tutor serve
--sandbox-per-learner``). Reported per learner: the proportional set size (PSS, shared
pages split between the processes that share them) of the app process and of its own
sandbox processes, and the shared sandbox's once, read from /proc/PID/smaps_rollup once
all learners are warm.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402 - the web extra's
from aiohttp import web  # noqa: E402
from bench_startup import TRIVIAL_LESSON  # noqa: E402 - the same one-cell lesson

from tutor.web.limits import SignInLimiter  # noqa: E402
from tutor.web.server import ServeOptions, TutorServer  # noqa: E402
from tutor.web.tokens import TokenStore  # noqa: E402

ENTER = "\r"


def pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    """Every descendant of ``pid``."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Learner:
    def __init__(self, name: str, token: str, url: str) -> None:
        self.name, self.token, self.url = name, token, url
        self.latencies: list[float] = []
        self.seen = ""
        self.news = asyncio.Event()

    async def read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.seen += message.data.decode("utf-8", "replace")
                self.news.set()

    async def wait_for(self, needle: str, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while needle not in self.seen:
            self.news.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"{self.name}: no {needle!r} within {timeout} s")
            try:
                await asyncio.wait_for(self.news.wait(), left)
            except TimeoutError:
                pass

    async def run(self, runs: int, interval: float, offset: float, ready: asyncio.Event, warm: list[str]) -> None:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            signed = await session.post(self.url + "signin", data={"token": self.token}, allow_redirects=False)
            assert signed.status == 303, signed.status
            async with session.ws_connect(self.url + "ws?width=100&height=30", max_msg_size=0) as ws:
                reader = asyncio.create_task(self.read(ws))
                await self.wait_for("sandbox ready", 120)
                await ws.send_json(["stdin", ENTER])  # open the lesson
                await self.wait_for("Run all", 60)
                warm.append(self.name)
                await ready.wait()
                await asyncio.sleep(offset)
                for _ in range(runs):
                    started = time.perf_counter()
                    self.seen = ""
                    await ws.send_json(["stdin", ENTER])  # run the focused cell
                    await self.wait_for("ran on", 30)
                    self.latencies.append(time.perf_counter() - started)
                    await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))
                reader.cancel()


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        lessons = Path(tmp) / "lessons"
        lessons.mkdir()
        (lessons / "01-bench.md").write_text(TRIVIAL_LESSON)
        data = Path(tmp) / "data"
        store = TokenStore(data)
        names = [f"learner{i:02d}" for i in range(args.learners)]
        tokens = {name: store.issue(name).token for name in names}
        server = TutorServer(ServeOptions(data_dir=data, roster=names, lessons=lessons, device="cpu",
                                          limiter=SignInLimiter(failures=1000), shared_sandbox=args.shared_sandbox))
        runner = web.AppRunner(await server.make_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        url = f"http://127.0.0.1:{port}/"
        learners = [Learner(name, tokens[name], url) for name in names]
        ready = asyncio.Event()
        warm: list[str] = []
        started = time.perf_counter()
        tasks = [asyncio.create_task(learner.run(args.runs, args.interval, args.interval * i / len(learners), ready, warm))
                 for i, learner in enumerate(learners)]
        while len(warm) < len(learners):
            await asyncio.sleep(0.2)
            for task in tasks:
                if task.done() and task.exception():
                    raise task.exception()  # type: ignore[misc]
        warm_seconds = time.perf_counter() - started

        apps, sandboxes, servers = [], [], []
        for service in server.running.values():
            assert service.pid is not None
            apps.append(pss_kb(service.pid))
            descendants = children(service.pid)
            sandboxes.append(sum(pss_kb(child) for child in descendants))
            # The app's direct children: the sandbox server; below it, its forker.
            direct = set(descendants) - {grandchild for child in descendants for grandchild in children(child)}
            servers.append(sum(pss_kb(child) for child in direct))
        shared = 0
        if server.relay is not None:  # the one sandbox server and its forker, in this process's tree
            shared = sum(pss_kb(child) for child in children(os.getpid()) if child not in
                         {service.pid for service in server.running.values()} | {c for s in server.running.values()
                                                                                  for c in children(s.pid or 0)})
        ready.set()
        await asyncio.gather(*tasks)
        await runner.cleanup()

    latencies = sorted(x for learner in learners for x in learner.latencies)
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    return {
        "learners": args.learners, "interval_s": args.interval, "runs_each": args.runs,
        "shared_sandbox": args.shared_sandbox,
        "shared_sandbox_mb": round(shared / 1024, 1),
        "all_warm_after_s": round(warm_seconds, 1),
        "each_ms": {learner.name: [round(x * 1000) for x in learner.latencies] for learner in learners} if args.verbose else None,
        "key_to_result_ms": {"p50": round(statistics.median(latencies) * 1000), "p95": round(quantiles[94] * 1000),
                              "max": round(latencies[-1] * 1000), "n": len(latencies)},
        "mb_per_learner": {
            "app_process_pss": round(statistics.mean(apps) / 1024, 1),
            "own_sandbox_pss": round(statistics.mean(sandboxes) / 1024, 1),
            "of_which_sandbox_server": round(statistics.mean(servers) / 1024, 1),
            "of_which_forker": round(statistics.mean(s - v for s, v in zip(sandboxes, servers)) / 1024, 1),
            "total_pss": round(statistics.mean(a + s for a, s in zip(apps, sandboxes)) / 1024, 1),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between a learner's runs")
    parser.add_argument("--runs", type=int, default=6, help="runs per learner")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="every learner's latencies too")
    parser.add_argument("--shared-sandbox", action="store_true", help="one sandbox for all (tutor serve's default)")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
