"""Grade exercises: run the learner's code and the reference in separate sandbox
children, then let a clean child, where no learner code ever ran, judge the data (one
judge for all the exercises graded together). No torch in this module.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import cast

from tutor.checks.heldout import HeldoutSpec
from tutor.checks.wire import (
    VERDICTS,
    CheckVerdict,
    HarnessParams,
    JudgeExercise,
    JudgeParams,
    check_to_wire,
    learner_wire,
)
from tutor.grading.results import RULES_CHECK, CheckResult, ExerciseReport, ExerciseStatus
from tutor.grading.rules import Violation, check_rules
from tutor.lessons.model import Check, Exercise, Rules
from tutor.sandbox.api import RunRequest, RunResult, SandboxClientProtocol
from tutor.sandbox.protocol import Json, JsonObject
from tutor.values.details import DETAIL_TYPES

HARNESS_TASK = "tutor.judging.harness:run_checks"
JUDGE_TASK = "tutor.judging.judge:judge"
HELDOUT_TASK = "tutor.judging.heldout:predict"
JUDGE_TIMEOUT = 60.0

_reference_cache: dict[tuple[str, str, str], RunResult] = {}
_computing: dict[tuple[str, str, str], Future[RunResult]] = {}
_cache_lock = threading.Lock()


def _harness_params(checks: tuple[Check, ...], exercise: Exercise, device: str, filename: str,
                    blob_prefix: str = "b", learner: bool = False) -> HarnessParams:
    wires = [check_to_wire(c, exercise.seeds) for c in checks]
    return HarnessParams(
        checks=[learner_wire(w) for w in wires] if learner else wires,
        banned=list(exercise.rules.banned),
        required=[name for group in exercise.rules.required for name in group],
        device=device,
        filename=filename,
        blob_prefix=blob_prefix,
    )


def _run_side(client: SandboxClientProtocol, exercise: Exercise, code: str, checks: tuple[Check, ...], device: str,
              filename: str, blob_prefix: str = "b", learner: bool = False) -> RunResult:
    return client.run(RunRequest(
        code=code, filename=filename, task=HARNESS_TASK, device=device, timeout=exercise.timeout,
        params=_harness_params(checks, exercise, device, filename, blob_prefix, learner), inspect=False,
    ))


#: The harness record's lists of names, read from each of a learner's runs and joined.
_NAME_LISTS = ("tripwire", "called", "kernels", "produced", "used")


def _learner_runs(client: SandboxClientProtocol, exercise: Exercise, source: str, checks: tuple[Check, ...],
                  device: str, filename: str, pool: ThreadPoolExecutor) -> RunResult:
    """The learner's runs: visible checks in one child and hidden ones in another, so
    that no process that runs a visible check (whose message a learner may see before
    the due date) holds a hidden check's name or setup. Read back as one record."""
    visible = tuple(c for c in checks if not c.hidden)
    hidden = tuple(c for c in checks if c.hidden)
    if not visible or not hidden:
        return _run_side(client, exercise, source, checks, device, filename, learner=True)
    later = pool.submit(_run_side, client, exercise, source, hidden, device, filename, "h", True)
    first = _run_side(client, exercise, source, visible, device, filename, "b", True)
    return _joined(first, later.result(), [c.name for c in checks])


def _with_heldout(client: SandboxClientProtocol, exercise: Exercise, source: str, checks: tuple[Check, ...],
                  device: str, filename: str, mine: RunResult, ref: RunResult) -> RunResult:
    """The learner's record with each held-out check's part replaced by what a fresh
    child, holding the learner's code, trained state and the reference's held-out
    inputs only, predicted (``tutor.judging.heldout``); visible and hidden checks in
    children of their own. Whatever the learner's process wrote there is dropped."""
    specs = {c.name: spec for c in checks for spec in c.specs if isinstance(spec, HeldoutSpec)}
    if not specs:
        return mine
    refs = {(r.get("check"), r.get("seed")): r for r in _objects(ref.data.get("results"))}
    results = [dict(r) for r in _objects(mine.data.get("results"))]
    blobs = dict(mine.blobs)
    for prefix, hidden in (("p", False), ("q", True)):
        group = {c.name for c in checks if c.hidden == hidden and c.name in specs}
        items, owners = [], []
        for result in results:
            if result.get("check") not in group or result.get("error"):
                continue
            name, parts = cast(str, result["check"]), result.get("parts")
            ours = _part(refs.get((name, result.get("seed"))), "heldout")
            theirs = parts.get("heldout") if isinstance(parts, dict) else None
            if not isinstance(parts, dict) or not isinstance(theirs, dict) or ours is None:
                continue
            spec = specs[name]
            items.append({"check": name, "seed": result.get("seed"), "build": spec.build, "predict": spec.predict,
                          "state": theirs.get("state"), "inputs": ours.get("inputs")})
            owners.append(result)
            result["parts"] = {**parts, "heldout": {"error": "no predictions came back"}}
        if not items:
            continue
        run = client.run(RunRequest(
            code=source, filename=filename, task=HELDOUT_TASK, device=device, timeout=exercise.timeout, inspect=False,
            params={"items": cast(list[Json], items), "device": device, "filename": filename, "blob_prefix": prefix},
            blobs={**{f"g:{k}": v for k, v in mine.blobs.items()}, **{f"e:{k}": v for k, v in ref.blobs.items()}},
        ))
        answers = _objects(run.data.get("items")) if run.ok else []
        for owner, answer in zip(owners, answers):
            if answer.get("check") == owner.get("check") and answer.get("seed") == owner.get("seed"):
                kept: JsonObject = {k: answer[k] for k in ("predictions", "error") if k in answer}
                owner["parts"] = {**cast(JsonObject, owner["parts"]), "heldout": kept}
        if not run.ok:
            why = _failure_message(run, exercise.timeout)
            for owner in owners:
                owner["parts"] = {**cast(JsonObject, owner["parts"]), "heldout": {"error": why}}
        blobs.update({k: v for k, v in run.blobs.items() if k.startswith(prefix)})
    return replace(mine, data={**mine.data, "results": cast(list[Json], results)}, blobs=blobs)


def _part(result: JsonObject | None, kind: str) -> JsonObject | None:
    parts = result.get("parts") if result else None
    found = parts.get(kind) if isinstance(parts, dict) else None
    return found if isinstance(found, dict) else None


def _joined(first: RunResult, second: RunResult, order: list[str]) -> RunResult:
    """One record of two runs of the same code on disjoint checks: the first failed run
    stands for both; else the results in the checks' order, each list of names joined,
    and each run's own blobs (a run sends only blobs under its own prefix)."""
    for run in (first, second):
        if not run.ok:
            return run
    rank = {name: i for i, name in enumerate(order)}
    results = [r for run in (first, second) for r in _objects(run.data.get("results"))]
    results.sort(key=lambda r: rank.get(str(r.get("check")), len(rank)))
    data: JsonObject = {"results": cast(list[Json], results),
                        "tampered": first.data.get("tampered") is True or second.data.get("tampered") is True}
    for key in _NAME_LISTS:
        data[key] = cast(list[Json], list(dict.fromkeys(_strings(first.data.get(key)) + _strings(second.data.get(key)))))
    blobs = {**{k: v for k, v in first.blobs.items() if k.startswith("b")},
             **{k: v for k, v in second.blobs.items() if k.startswith("h")}}
    return replace(first, data=data, blobs=blobs, duration_ms=max(first.duration_ms, second.duration_ms))


def _objects(value: object) -> list[JsonObject]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def reference_result(client: SandboxClientProtocol, exercise: Exercise, checks: tuple[Check, ...], device: str) -> RunResult:
    """The reference's check data, computed once per process for each exercise: a
    thread that needs it while another computes it waits for that one (a class graded
    two students at a time ran every reference twice)."""
    # Everything the reference's data depends on: the same id and solution with other
    # checks (a public copy without its hidden checks) is another entry, and so is a
    # server started with other kernels (``SandboxClient.env``: ATEN_CPU_CAPABILITY).
    if exercise.reference is not None:
        return stored_reference(exercise)
    wire = json.dumps([check_to_wire(c, exercise.seeds) for c in checks], sort_keys=True)
    server = json.dumps(getattr(client, "env", {}), sort_keys=True)
    key = (exercise.id, hashlib.sha256((exercise.solution + wire + server).encode()).hexdigest(), device)
    with _cache_lock:
        cached = _reference_cache.get(key)
        if cached is not None:
            return cached
        pending = _computing.get(key)
        mine = pending is None
        if mine:
            pending = _computing[key] = Future()
    assert pending is not None
    if not mine:
        return pending.result()
    try:
        result = _run_side(client, exercise, exercise.solution, checks, device, "reference.py")
    except BaseException as exc:
        with _cache_lock:
            del _computing[key]
        pending.set_exception(exc)
        raise
    with _cache_lock:
        if result.ok:
            _reference_cache[key] = result
        del _computing[key]
    pending.set_result(result)
    return result


def stored_reference(exercise: Exercise) -> RunResult:
    """A public copy's reference: the values ``tutor export lessons --public`` stored
    (the judge decodes them as it decodes any side: trusting nothing)."""
    assert exercise.reference is not None
    record = json.loads(exercise.reference.record)
    return RunResult(status="ok", data=record if isinstance(record, dict) else {}, blobs=dict(exercise.reference.blobs),
                     device=exercise.reference.device)


def _sandbox_died(result: RunResult) -> bool:
    return result.error is not None and result.error.type == "SandboxDied"


def _failure_message(result: RunResult, timeout: float, whose: str = "your code") -> str:
    """Why a run gave no result, in words for ``whose`` run: the learner's own (the
    default) hears what may be wrong with their code; the reference's or the judge's,
    only what happened."""
    if result.status == "timeout":
        guess = " (an endless loop, or too much work?)" if whose == "your code" else ""
        return f"timed out after {timeout:g} s{guess}"
    if result.status == "killed":
        reason = result.error.message if result.error else "killed"
        return f"{whose} was stopped: {reason}"
    if result.error is not None and result.error.type == "SystemExit":
        return f"{whose} exited early with sys.exit({result.error.message}) before the checks could run"
    if result.error is not None:
        where = f" (line {result.error.line})" if result.error.line else ""
        return f"{result.error.type}{where}: {result.error.message}"
    return f"{whose} did not produce a result"


def draw_seeds(base: int, exercise: Exercise) -> tuple[int, ...]:
    """As many seeds as the exercise lists, derived from ``base`` and the exercise's id:
    a grading run draws ``base``, so a table of answers keyed by the lesson's own seeds
    fails, and the same ``base`` (``tutor grade --seed``) reproduces a grade."""
    out = []
    for i in range(len(exercise.seeds)):
        digest = hashlib.sha256(f"{base}:{exercise.id}:{i}".encode()).digest()
        out.append(int.from_bytes(digest[:4], "big") % (2**31 - 1))
    return tuple(out)


@dataclass
class Submission:
    """One exercise's source, to grade with others (:func:`grade_sources`)."""

    exercise: Exercise
    source: str
    filename: str = "solution.py"
    #: Seeds drawn for this grading run; ``None`` keeps the lesson's own.
    seeds: tuple[int, ...] | None = None


@dataclass
class _Ran:
    """An exercise whose two sides ran and whose verdict waits for the judge."""

    exercise: Exercise
    checks: tuple[Check, ...]
    violations: list[Violation]
    mine: RunResult
    ref: RunResult
    finish: Callable[..., ExerciseReport]

    def judge_params(self) -> JudgeExercise:
        return JudgeExercise(checks=[check_to_wire(c, self.exercise.seeds) for c in self.checks],
                             expected=self.ref.data, got=self.mine.data)

    def judge_blobs(self, index: int) -> dict[str, bytes]:
        return {**{f"{index}e:{k}": v for k, v in self.ref.blobs.items()},
                **{f"{index}g:{k}": v for k, v in self.mine.blobs.items()}}


def grade_source(exercise: Exercise, source: str, client: SandboxClientProtocol, *, include_hidden: bool = False,
                 device: str = "cpu", filename: str = "solution.py", seeds: tuple[int, ...] | None = None) -> ExerciseReport:
    """Grade ``source`` as a solution of ``exercise``.

    ``include_hidden`` is the instructor's mode (``tutor grade``); locally, hidden checks
    are counted but never run and never shown. ``seeds`` replace the lesson's own (the
    learner's local checks keep those).
    """
    return grade_sources([Submission(exercise, source, filename, seeds)], client, include_hidden=include_hidden,
                         device=device)[0]


def grade_sources(submissions: Sequence[Submission], client: SandboxClientProtocol, *, include_hidden: bool = False,
                  device: str = "cpu", keep_going: Callable[[], str | None] | None = None) -> list[ExerciseReport]:
    """Grade several sources, one after the other, with one judge for them all (a judge
    child costs as much as a run's; one per exercise was a fifth of grading a class).

    Each source still runs in a child of its own, beside its reference. ``keep_going``
    is asked before each run: a reason (a spent time budget) stops running and marks
    the rest of the sources as not graded with that reason."""
    reports: list[ExerciseReport | None] = []
    waiting: list[tuple[int, _Ran]] = []
    stopped: str | None = None
    for submission in submissions:
        stopped = stopped or (keep_going() if keep_going else None)
        if stopped:
            exercise = submission.exercise
            reports.append(ExerciseReport(id=exercise.id, status="error", message=stopped, points=exercise.points))
            continue
        outcome = _run_both(submission, client, include_hidden, device)
        if isinstance(outcome, _Ran):
            waiting.append((len(reports), outcome))
            reports.append(None)
        else:
            reports.append(outcome)
    judged = _judge(client, [ran for _, ran in waiting])
    for (index, _), report in zip(waiting, judged):
        reports[index] = report
    return [r for r in reports if r is not None]


def _run_both(submission: Submission, client: SandboxClientProtocol, include_hidden: bool,
              device: str) -> ExerciseReport | _Ran:
    """The learner's run and the reference's (cached), or the report when there is
    nothing to judge."""
    exercise, source = submission.exercise, submission.source
    if submission.seeds is not None and exercise.reference is None:
        # A public copy holds the reference's values on the lesson's seeds only.
        exercise = replace(exercise, seeds=submission.seeds)
    if exercise.reference is not None:
        # ... computed on one device: the learner's side runs there too, so that placement
        # and tolerances compare like with like.
        device = exercise.reference.device
    started = time.perf_counter()
    checks = exercise.checks if include_hidden else exercise.visible_checks
    held_back = exercise.reference.hidden_checks if exercise.reference else 0  # a public copy's, at grading
    hidden_unrun = (0 if include_hidden else exercise.hidden_count) + held_back
    hint = f"hint: `tutor hint {exercise.id}`" if exercise.hints else None

    def report(status: ExerciseStatus, message: str, results: list[CheckResult], output: str = "",
               ended: float | None = None) -> ExerciseReport:
        hidden = [CheckResult(name=f"hidden check {i + 1}", status="hidden", hidden=True, max_score=c.points,
                              message="runs only when your instructor grades (tutor grade)")
                  for i, c in enumerate(c for c in exercise.checks if c.hidden and not include_hidden)]
        if exercise.reference is not None:
            each = exercise.reference.hidden_points / max(held_back, 1)
            hidden += [CheckResult(name=f"hidden check {len(hidden) + i + 1}", status="hidden", hidden=True, max_score=each,
                                   message="runs only when your instructor grades") for i in range(held_back)]
        return ExerciseReport(id=exercise.id, status=status, message=message, output=output, checks=results + hidden,
                              hidden_unrun=hidden_unrun, duration_ms=((ended or time.perf_counter()) - started) * 1000, hint=hint,
                              points=exercise.points, seeds=exercise.seeds)

    violations = check_rules(source, exercise.rules)
    syntax = [v for v in violations if v.message.startswith("syntax error")]
    if syntax:
        return report("error", f"line {syntax[0].line}: {syntax[0].message}", [])

    with ThreadPoolExecutor(max_workers=2) as pool:
        ref_future = pool.submit(reference_result, client, exercise, checks, device)
        mine = _learner_runs(client, exercise, source, checks, device, submission.filename, pool)
        ref = ref_future.result()
    if mine.ok and ref.ok:
        mine = _with_heldout(client, exercise, source, checks, device, submission.filename, mine, ref)
    output = mine.stdout
    if not ref.ok and _sandbox_died(ref):
        # The machine's trouble, not the lesson's: never "report this lesson bug".
        return report("error", f"the sandbox stopped while grading ({ref.error.message if ref.error else 'died'}); "
                      "check again", [], output)
    if not ref.ok:
        return report("error", f"the reference solution failed ({_failure_message(ref, exercise.timeout, 'it')}): please report this lesson bug", [], output)
    if not mine.ok:
        message = _failure_message(mine, exercise.timeout)
        if mine.missing_package:
            message = f"needs package {mine.missing_package} (pip install {mine.missing_package})"
        return report("error", message, [CheckResult(name=c.name, status="error", message=message, max_score=c.points) for c in checks], output)
    # Its time is its own runs', not the wait for the exercises judged with it.
    return _Ran(exercise, checks, violations, mine, ref, functools.partial(report, output=output, ended=time.perf_counter()))


def _judge(client: SandboxClientProtocol, waiting: list[_Ran]) -> list[ExerciseReport]:
    """Every waiting exercise's verdict from one judge child."""
    if not waiting:
        return []
    blobs: dict[str, bytes] = {}
    for index, ran in enumerate(waiting):
        blobs.update(ran.judge_blobs(index))
    verdict = client.run(RunRequest(
        task=JUDGE_TASK, timeout=JUDGE_TIMEOUT, inspect=False, blobs=blobs,
        params=JudgeParams(exercises=[ran.judge_params() for ran in waiting]),
    ))
    verdicts = verdict.data.get("exercises") if verdict.ok else None
    why = None
    if not verdict.ok:
        why = _failure_message(verdict, JUDGE_TIMEOUT, "it")
    elif not isinstance(verdicts, list) or len(verdicts) != len(waiting):
        why = "it answered for other exercises"
    else:
        checked = [_check_verdicts(checks, len(ran.checks)) for ran, checks in zip(waiting, verdicts)]
        bad = next((problem for problem in checked if isinstance(problem, str)), None)
        if bad is None:
            return [_verdict_report(ran, cast(list[CheckVerdict], checks)) for ran, checks in zip(waiting, checked)]
        why = f"it sent a malformed verdict ({bad})"
    return [ran.finish("error", f"the judge failed: {why}", []) for ran in waiting]


def _check_verdicts(value: Json, count: int) -> list[CheckVerdict] | str:
    """An exercise's verdicts from the judge as :class:`CheckVerdict`, one per check;
    else what is wrong with them (the judge is a process of its own: its answer is
    checked like any message before a field is read)."""
    if not isinstance(value, list) or len(value) != count:
        return "not one verdict per check"
    for verdict in value:
        if not isinstance(verdict, dict):
            return "a verdict is not an object"
        problem = _verdict_problem(verdict)
        if problem:
            return problem
    return cast(list[CheckVerdict], value)


def _verdict_problem(verdict: JsonObject) -> str | None:
    for key, types in (("name", (str,)), ("message", (str,)), ("expected", (str,)), ("got", (str,)),
                       ("seed", (int, type(None))), ("details", (dict,))):
        if type(verdict.get(key, _ABSENT)) not in types:
            return f"its {key} is missing or of the wrong type"
    if verdict.get("status") not in VERDICTS:
        return "its status is unknown"
    details = cast(JsonObject, verdict["details"])
    for key, value in details.items():
        if key not in DETAIL_TYPES or type(value) not in DETAIL_TYPES[key]:
            return f"its details.{key[:40]} is unknown or of the wrong type"
    return None


_ABSENT = object()


def _verdict_report(ran: _Ran, verdicts: list[CheckVerdict]) -> ExerciseReport:
    results = [
        CheckResult(name=v["name"], status=v["status"], message=v["message"], expected=v["expected"], got=v["got"],
                    seed=v["seed"], details=v["details"], max_score=check.points, hidden=check.hidden)
        for v, check in zip(verdicts, ran.checks)
    ]
    rule_problems = _rule_problems(ran.violations, ran.mine, ran.exercise.rules)
    if rule_problems:
        results.append(CheckResult(name=RULES_CHECK, status="fail", message="; ".join(rule_problems), max_score=0.0))

    # The run finished, so an exception inside one check is the learner's bug in that
    # check: the exercise fails. "error" is kept for runs that could not be graded.
    failed = [r for r in results if r.status in ("fail", "error")]
    if failed:
        return ran.finish("fail", f"{len(failed)} of {len(results)} checks failed; first: {failed[0].name}: {failed[0].message}", results)
    reference = ran.exercise.reference
    if reference is not None and reference.hidden_checks:
        return ran.finish("pass", f"visible checks pass; {reference.hidden_checks} hidden "
                          f"check{'s' if reference.hidden_checks > 1 else ''} at grading", results)
    hidden_unrun = len(ran.exercise.checks) - len(ran.checks)
    return ran.finish("pass", _pass_message(len(results), hidden_unrun, ran.exercise.hidden_points), results)


def _rule_problems(violations: list[Violation], mine: RunResult, rules: Rules) -> list[str]:
    """Banned names found in the source; those the harness's tripwire caught at run time
    that the source hid (``getattr(torch, "soft" + "max")``); banned kernels the
    dispatcher saw run, whatever name reached them; then required calls the run never
    made, or made only for show (garbage in their results left the answer unchanged)."""
    problems = [f"line {v.line}: {v.message}" for v in violations]
    tripped = _strings(mine.data.get("tripwire"))
    problems += [f"called {name} at run time, which this exercise bans" for name in tripped
                 if not any(name in p for p in problems)]
    kernels = _strings(mine.data.get("kernels"))
    if kernels and not problems:  # one banned call is named once, by the clearest source
        problems.append(f"ran {', '.join(kernels)} at run time (under whatever name it was called), "
                        "which this exercise bans")
    if mine.data.get("tampered") is True:
        problems.append("removed the recorder tutor grades with (a torch dispatch mode); the run cannot be trusted")
    called, produced, used = (set(_strings(mine.data.get(key))) for key in ("called", "produced", "used"))
    for group in rules.required:
        if not any(name in called for name in group):
            problems.append(f"never called {' or '.join(group)}; this exercise requires it")
        # Tensor.backward calls torch.autograd.backward: when any name of the group made
        # something the answer could use, one of them must have been used.
        elif any(name in produced for name in group) and not any(name in used for name in group):
            problems.append(f"called {' or '.join(n for n in group if n in called)}, but the answer does not use "
                            "what it computed (garbage in its result left the answer unchanged); this exercise requires it")
    return problems


def _strings(value: object) -> list[str]:
    """A list of names from the learner's run, or nothing if it sent anything else."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _pass_message(passed: int, hidden_unrun: int, hidden_points: float) -> str:
    """Never a false "all passed": locally, hidden checks and their points are still open."""
    if not hidden_unrun:
        return f"all {passed} checks passed"
    points = f"{hidden_points:g} point{'' if hidden_points == 1 else 's'}"
    return (f"{passed} of {passed + hidden_unrun} checks passed; "
            f"{hidden_unrun} hidden check{'s' if hidden_unrun > 1 else ''} ({points}) "
            f"run{'' if hidden_unrun > 1 else 's'} only when graded (tutor grade)")
