"""The judge: compares the learner's check data with the reference's.

Task entry point ``tutor.judging.judge:judge``: it runs in a fresh sandbox child forked
from the server, where no learner code has ever run, and receives both sides as data
(JSON + raw tensor bytes). Malformed learner data is an error, never a pass.
"""

from __future__ import annotations

from typing import Any

from tutor.checks.base import Sides, part
from tutor.checks.wire import specs_from_wire
from tutor.values.compare import Uncomparable
from tutor.values.encode import BadData


def judge(code: str, params: dict[str, Any], blobs: dict[str, bytes], ctx: Any) -> tuple[dict[str, Any], dict[str, bytes]]:
    """``params["exercises"]``: for each exercise, ``checks`` (wire checks,
    ``tutor.checks.wire``), ``expected`` and ``got`` (the harness data of each side).
    Exercise ``i``'s blobs are prefixed ``{i}e:`` (reference) and ``{i}g:`` (learner)."""
    exercises = params["exercises"]
    by_owner: dict[str, dict[str, bytes]] = {}
    for key, value in blobs.items():
        owner, _, name = key.partition(":")
        by_owner.setdefault(owner, {})[name] = value
    verdicts = []
    for index, exercise in enumerate(exercises):
        expected, got = _index(exercise["expected"]), _index(exercise["got"])
        eblobs, gblobs = by_owner.get(f"{index}e", {}), by_owner.get(f"{index}g", {})
        verdicts.append([judge_check(check, expected, got, eblobs, gblobs) for check in exercise["checks"]])
    return {"exercises": verdicts}, {}


def _index(data: Any) -> dict[tuple[str, int], dict[str, Any]]:
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return {}
    out = {}
    for item in data["results"]:
        if isinstance(item, dict) and isinstance(item.get("check"), str) and type(item.get("seed")) is int:
            out[(item["check"], item["seed"])] = item
    return out


def judge_check(check: dict[str, Any], expected: dict[tuple[str, int], dict[str, Any]], got: dict[tuple[str, int], dict[str, Any]],
                eblobs: dict[str, bytes], gblobs: dict[str, bytes]) -> dict[str, Any]:
    """One check's verdict: the first seed whose results differ decides it; every seed
    must match for a pass. Within a seed, the kinds judge in registry order."""
    name = check["name"]
    kinds = specs_from_wire(check)
    rtol, atol = check.get("rtol"), check.get("atol")
    for seed in check["seeds"]:
        ref = expected.get((name, seed))
        if ref is None or ref.get("error"):
            reason = ref["error"]["message"] if ref and ref.get("error") else "no result"
            return _verdict(name, "error", f"the reference solution failed this check ({reason})", seed)
        mine = got.get((name, seed))
        if mine is None:
            return _verdict(name, "error", "your code produced no result for this check (did it exit early?)", seed)
        if not isinstance(mine.get("error"), (dict, type(None))):
            return _verdict(name, "error", "malformed result", seed)
        if mine.get("error"):
            err = mine["error"]
            where = f" (line {err['line']})" if isinstance(err.get("line"), int) else ""
            stage = f" while {err['stage']}" if isinstance(err.get("stage"), str) else ""
            return _verdict(name, "error", f"{err.get('type', 'Error')}{where}{stage}: {err.get('message', '')}", seed)
        try:
            for kind, spec in kinds:
                sides = Sides(part(ref, kind.name), part(mine, kind.name), eblobs, gblobs, rtol, atol)
                diff = kind.judge(spec, sides)
                if diff is not None:
                    details = {**diff.details, "seed": seed}
                    return _verdict(name, "fail", diff.message, seed, diff.expected, diff.got, details)
        except BadData as exc:
            return _verdict(name, "error", f"your result could not be read: {exc}", seed)
        except Uncomparable as exc:
            return _verdict(name, "error", f"{exc}: please report this lesson bug (the check must return data such as "
                            "tensors, numbers, lists or dicts)", seed)
    return _verdict(name, "pass", "", None)


def _verdict(name: str, status: str, message: str, seed: int | None, expected: str = "", got: str = "",
             details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "status": status, "message": message, "seed": seed, "expected": expected, "got": got,
            "details": details or {}}
