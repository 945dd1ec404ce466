"""Grade report formats: the JSON contract, JUnit XML and Gradescope's ``results.json``.

Names, messages and output come from a hand-in (an exception's type name, what the code
printed): each passes through :mod:`tutor.textsafe` for its format, so none forges a line,
an element or a test, and every file reads back with a parser.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, NotRequired, TypedDict

from tutor.atomic import atomic_write
from tutor.errors import UsageError
from tutor.grading import GRADESCOPE_HIDDEN_DEFAULT, GRADESCOPE_VISIBILITIES
from tutor.grading.results import RULES_CHECK, CheckResult, ExerciseJson, ExerciseReport, ExerciseStatus
from tutor.textsafe import for_json, for_terminal, for_terminal_line, for_xml, for_xml_line

REPORT_VERSION = 1


class SummaryJson(TypedDict):
    passed: int
    failed: int
    errored: int


class GradeJson(TypedDict):
    """``tutor grade --json`` (DESIGN.md); the command adds the run's ``seed``."""

    version: int
    status: ExerciseStatus
    summary: SummaryJson
    score: float
    max_score: float
    exercises: list[ExerciseJson]
    seed: NotRequired[int]


GradescopeVisibility = Literal["visible", "hidden", "after_due_date", "after_published"]


class GradescopeTest(TypedDict):
    name: str
    score: float
    max_score: float
    status: Literal["passed", "failed"]
    output: str
    visibility: str


class GradescopeJson(TypedDict):
    """Gradescope's autograder ``results.json``."""

    score: float
    output: str
    visibility: GradescopeVisibility
    stdout_visibility: GradescopeVisibility
    tests: list[GradescopeTest]


def overall_status(reports: list[ExerciseReport]) -> ExerciseStatus:
    """The run's verdict: any error outranks any failure."""
    if any(r.status == "error" for r in reports):
        return "error"
    if any(r.status == "fail" for r in reports):
        return "fail"
    return "pass"


def to_json(reports: list[ExerciseReport]) -> GradeJson:
    """The ``tutor grade --json`` contract (DESIGN.md)."""
    return GradeJson(
        version=REPORT_VERSION,
        status=overall_status(reports),
        summary=SummaryJson(
            passed=sum(r.status == "pass" for r in reports),
            failed=sum(r.status == "fail" for r in reports),
            errored=sum(r.status == "error" for r in reports),
        ),
        score=sum(r.score for r in reports),
        max_score=sum(r.max_score for r in reports),
        exercises=[for_json(r.to_json()) for r in reports],
    )


def _check_lines(checks: list[CheckResult]) -> str:
    """One line per check; a message of many lines stays on its check's line."""
    lines = []
    for check in checks:
        line = f"[{check.status}] {for_terminal_line(check.name)}"
        if check.message:
            line += f": {for_terminal_line(check.message)}"
        if check.seed is not None and check.status != "pass":
            line += f" (seed {check.seed})"
        lines.append(line)
    return "\n".join(lines)


def to_junit(reports: list[ExerciseReport]) -> bytes:
    """One ``<testcase>`` per exercise; a failed exercise carries ``<failure>`` with the
    message, an errored one ``<error>``; check details go in the element text."""
    suite = ET.Element("testsuite", {
        "name": "tutor", "tests": str(len(reports)),
        "failures": str(sum(r.status == "fail" for r in reports)),
        "errors": str(sum(r.status == "error" for r in reports)),
        "time": f"{sum(r.duration_ms for r in reports) / 1000:.3f}",
    })
    for report in reports:
        lesson, _, name = report.id.partition("/")
        case = ET.SubElement(suite, "testcase", {"classname": for_xml_line(lesson), "name": for_xml_line(name or report.id),
                                                 "time": f"{report.duration_ms / 1000:.3f}"})
        if report.status in ("fail", "error"):
            element = ET.SubElement(case, "failure" if report.status == "fail" else "error",
                                    {"message": for_xml_line(report.message)})
            element.text = for_xml(_check_lines(report.checks))
        if report.output:
            ET.SubElement(case, "system-out").text = for_xml(report.output)
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


def to_gradescope(reports: list[ExerciseReport], hidden_visibility: str = GRADESCOPE_HIDDEN_DEFAULT) -> GradescopeJson:
    """Gradescope autograder ``results.json``: one test per check, named "EXERCISE-ID:
    check name" and scored by the check's points. A hidden check's test has
    ``hidden_visibility`` (students see it :data:`~tutor.grading.GRADESCOPE_HIDDEN_DEFAULT` by default); a visible test
    never names a hidden check nor quotes its message. An exercise that could not run
    (no file, a syntax error, a crash, a timeout) or that broke its rules is one test for
    the whole exercise, scored 0, that says why."""
    if hidden_visibility not in GRADESCOPE_VISIBILITIES:
        raise UsageError(f"hidden checks' visibility must be one of {', '.join(GRADESCOPE_VISIBILITIES)}, "
                         f"not {hidden_visibility!r}")
    tests: list[GradescopeTest] = []
    for report in reports:
        rules = [c for c in report.checks if c.name == RULES_CHECK and c.status != "pass"]
        if report.status == "error" or not report.checks or rules:
            reason = ("this answer breaks the exercise's rules, so it scores nothing: "
                      + "; ".join(c.message for c in rules)) if rules else report.message
            tests.append(GradescopeTest(name=for_terminal_line(report.id), score=0.0, max_score=report.max_score,
                                        status="failed", output=for_terminal(reason or "could not be graded"),
                                        visibility="visible"))
            continue
        for check in report.checks:
            tests.append(GradescopeTest(
                name=for_terminal_line(f"{report.id}: {check.name}"), score=check.score, max_score=check.max_score,
                status="passed" if check.status == "pass" else "failed",
                output=_check_output(check),
                visibility=hidden_visibility if check.hidden else "visible",
            ))
    return for_json(GradescopeJson(
        score=float(sum(r.score for r in reports)),
        output=f"{sum(r.status == 'pass' for r in reports)} of {len(reports)} exercises passed",
        visibility="visible",
        stdout_visibility="hidden",
        tests=tests,
    ))


def _check_output(check: CheckResult) -> str:
    """The message on the first line, where no line of it can pass for the
    ``expected:``/``got:`` lines after it."""
    if check.status == "pass":
        return "passed"
    lines = [for_terminal_line(check.message or check.status)]
    if check.expected or check.got:
        lines += [f"expected: {for_terminal(check.expected)}", f"got: {for_terminal(check.got)}"]
    if check.seed is not None:
        lines.append(f"seed: {check.seed}")
    return "\n".join(lines)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a report so that CI reads the old file or the new one, never half of one;
    missing parent directories are created. A path that cannot be written is a
    :class:`UsageError` naming it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the report ({exc.strerror or exc})") from None


def write_json(path: Path, payload: Mapping[str, object]) -> None:
    """``payload`` as indented JSON, written like :func:`write_atomic`; its strings are
    :func:`~tutor.textsafe.for_json`-safe."""
    write_atomic(path, (json.dumps(for_json(dict(payload)), indent=2) + "\n").encode())
