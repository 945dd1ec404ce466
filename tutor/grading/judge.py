"""The judge: compares the learner's check data with the reference's.

Task entry point ``tutor.grading.judge:judge``: it runs in a fresh sandbox child forked
from the server, where no learner code has ever run, and receives both sides as data
(JSON + raw tensor bytes). Malformed learner data is an error, never a pass.
"""

from __future__ import annotations

from typing import Any

from tutor.grading.compare import Difference, compare_values, preview
from tutor.grading.encode import BadData, TensorData, decode


def judge(code: str, params: dict[str, Any], blobs: dict[str, bytes], ctx: Any) -> tuple[dict[str, Any], dict[str, bytes]]:
    """``params``: ``checks`` (name, compare, grad, rtol, atol, view_of, no_mutation),
    ``expected`` and ``got`` (the harness data of each side); blobs are prefixed
    ``e:`` and ``g:``."""
    expected_blobs = {k[2:]: v for k, v in blobs.items() if k.startswith("e:")}
    got_blobs = {k[2:]: v for k, v in blobs.items() if k.startswith("g:")}
    expected = _index(params["expected"])
    got = _index(params["got"])
    verdicts = [judge_check(check, expected, got, expected_blobs, got_blobs) for check in params["checks"]]
    return {"checks": verdicts}, {}


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
    must match for a pass."""
    name = check["name"]
    compare = set(check.get("compare") or [])
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
            diff = _compare_seed(check, compare, ref, mine, eblobs, gblobs, rtol, atol)
        except BadData as exc:
            return _verdict(name, "error", f"your result could not be read: {exc}", seed)
        if diff is not None:
            details = {**diff.details, "seed": seed}
            return _verdict(name, "fail", diff.message, seed, diff.expected, diff.got, details)
    return _verdict(name, "pass", "", None)


def _compare_seed(check: dict[str, Any], compare: set[str], ref: dict[str, Any], mine: dict[str, Any],
                  eblobs: dict[str, bytes], gblobs: dict[str, bytes], rtol: float | None, atol: float | None) -> Difference | None:
    value_aspects = compare - {"grad", "stdout"}
    if value_aspects or not compare:
        diff = compare_values(decode(ref.get("value"), eblobs), decode(mine.get("value"), gblobs), "result", value_aspects, rtol, atol)
        if diff:
            return diff
    if "stdout" in compare:
        e, g = str(ref.get("stdout", "")), str(mine.get("stdout", ""))
        if _norm(e) != _norm(g):
            return _stdout_difference(e, g)
    for name in check.get("grad", []):
        e = decode(ref.get("grads", {}).get(name), eblobs)
        g_node = mine.get("grads", {}).get(name) if isinstance(mine.get("grads"), dict) else None
        g = decode(g_node, gblobs)
        what = f"{name}.grad"
        if isinstance(e, TensorData) and g is None:
            return Difference(what, f"{what} is None: no gradient reached {name} (was the graph cut, or backward never called?)",
                              preview(e.tensor), "None", {"what": what})
        diff = compare_values(e, g, what, {"value"}, rtol, atol)
        if diff:
            return diff
    if check.get("view_of") and mine.get("is_view") is not True:
        return Difference("result", f"the result is not a view of {check['view_of']}: it does not share its memory (a copy was made)",
                          f"a view of {check['view_of']}", "a copy", {"what": "result"})
    mutated = mine.get("mutated") or []
    if check.get("no_mutation") and (not isinstance(mutated, list) or mutated):
        names = ", ".join(str(m) for m in mutated) if isinstance(mutated, list) else "an input"
        return Difference("input", f"your code modified its input {names} in place; it must leave it unchanged",
                          "input unchanged", f"{names} changed", {"what": "input"})
    return None


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def _stdout_difference(expected: str, got: str) -> Difference:
    e, g = _norm(expected).splitlines(), _norm(got).splitlines()
    for i in range(max(len(e), len(g))):
        a = e[i] if i < len(e) else "<end of output>"
        b = g[i] if i < len(g) else "<end of output>"
        if a != b:
            return Difference("printed output", f"printed output differs at line {i + 1}: expected {a!r}, got {b!r}",
                              "\n".join(e[:20]), "\n".join(g[:20]), {"what": "stdout", "first_index": [i + 1]})
    return Difference("printed output", "printed output differs", expected, got, {"what": "stdout"})


def _verdict(name: str, status: str, message: str, seed: int | None, expected: str = "", got: str = "",
             details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "status": status, "message": message, "seed": seed, "expected": expected, "got": got,
            "details": details or {}}
