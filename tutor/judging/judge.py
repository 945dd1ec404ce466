"""The judge: compares the learner's check data with the reference's.

Task entry point ``tutor.judging.judge:judge``: it runs in a fresh sandbox child forked
from the server, where no learner code has ever run, and receives both sides as data
(JSON + raw tensor bytes). Malformed learner data is an error, never a pass.
"""

from __future__ import annotations

from typing import Any

from tutor.checks.base import Sides, part
from tutor.checks.wire import CheckVerdict, JudgeData, Verdict, WireCheck, judge_params, specs_from_wire
from tutor.sandbox.protocol import Json, JsonObject
from tutor.values.compare import Uncomparable
from tutor.values.details import Details
from tutor.values.encode import BadData

#: One side's harness results by (check, seed). The learner's code ran where they were
#: written, so each is read field by field as JSON.
Index = dict[tuple[str, int], JsonObject]


def judge(code: str, wire: JsonObject, blobs: dict[str, bytes], ctx: Any) -> tuple[JudgeData, dict[str, bytes]]:
    """``wire``: :class:`tutor.checks.wire.JudgeParams`, checked here first: for each
    exercise, ``checks`` (wire checks), ``expected`` and ``got`` (the harness records of
    each side). Exercise ``i``'s blobs are prefixed ``{i}e:`` (reference) and ``{i}g:``
    (learner)."""
    exercises = judge_params(wire)["exercises"]
    by_owner: dict[str, dict[str, bytes]] = {}
    for key, value in blobs.items():
        owner, _, name = key.partition(":")
        by_owner.setdefault(owner, {})[name] = value
    verdicts = []
    for index, exercise in enumerate(exercises):
        expected, got = _index(exercise["expected"]), _index(exercise["got"])
        eblobs, gblobs = by_owner.get(f"{index}e", {}), by_owner.get(f"{index}g", {})
        verdicts.append([judge_check(check, expected, got, eblobs, gblobs) for check in exercise["checks"]])
    return JudgeData(exercises=verdicts), {}


def _index(data: Json) -> Index:
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        return {}
    out: Index = {}
    for item in results:
        if isinstance(item, dict):
            check, seed = item.get("check"), item.get("seed")
            if isinstance(check, str) and type(seed) is int:
                out[(check, seed)] = item
    return out


def judge_check(check: WireCheck, expected: Index, got: Index,
                eblobs: dict[str, bytes], gblobs: dict[str, bytes]) -> CheckVerdict:
    """One check's verdict: the first seed whose results differ decides it; every seed
    must match for a pass. Within a seed, the kinds judge in registry order."""
    name = check["name"]
    kinds = specs_from_wire(check)
    rtol, atol = check["rtol"], check["atol"]
    for seed in check["seeds"]:
        ref = expected.get((name, seed))
        if ref is None or ref.get("error"):
            ref_error = ref.get("error") if ref else None
            reason = ref_error["message"] if isinstance(ref_error, dict) else "no result"
            return _verdict(name, "error", f"the reference solution failed this check ({reason})", seed)
        mine = got.get((name, seed))
        if mine is None:
            return _verdict(name, "error", "your code produced no result for this check (did it exit early?)", seed)
        err = mine.get("error")
        if not isinstance(err, (dict, type(None))):
            return _verdict(name, "error", "malformed result", seed)
        if err:
            line, stage = err.get("line"), err.get("stage")
            where = f" (line {line})" if isinstance(line, int) else ""
            during = f" while {stage}" if isinstance(stage, str) else ""
            message = str(err.get("message", ""))
            for kind, spec in kinds:
                message = kind.explain_error(spec, message) or message
            return _verdict(name, "error", f"{err.get('type', 'Error')}{where}{during}: {message}", seed)
        try:
            for kind, spec in kinds:
                sides = Sides(part(ref, kind.name), part(mine, kind.name), eblobs, gblobs, rtol, atol)
                diff = kind.judge(spec, sides)
                if diff is not None:
                    details: Details = {**diff.details, "seed": seed}
                    return _verdict(name, "fail", diff.message, seed, diff.expected, diff.got, details)
        except BadData as exc:
            return _verdict(name, "error", f"your result could not be read: {exc}", seed)
        except Uncomparable as exc:
            return _verdict(name, "error", f"{exc}: please report this lesson bug (the check must return data such as "
                            "tensors, numbers, lists or dicts)", seed)
    return _verdict(name, "pass", "", None)


def _verdict(name: str, status: Verdict, message: str, seed: int | None, expected: str = "", got: str = "",
             details: Details | None = None) -> CheckVerdict:
    return CheckVerdict(name=name, status=status, message=message, seed=seed, expected=expected, got=got,
                        details=details or {})
