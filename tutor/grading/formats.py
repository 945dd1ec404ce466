"""Grade report formats: the JSON contract, JUnit XML and Gradescope's ``results.json``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from tutor.atomic import atomic_write
from tutor.errors import UsageError
from tutor.grading.results import CheckResult, ExerciseReport

REPORT_VERSION = 1


def overall_status(reports: list[ExerciseReport]) -> str:
    """The run's verdict: any error outranks any failure."""
    if any(r.status == "error" for r in reports):
        return "error"
    if any(r.status == "fail" for r in reports):
        return "fail"
    return "pass"


def to_json(reports: list[ExerciseReport]) -> dict[str, Any]:
    """The ``tutor grade --json`` contract (DESIGN.md)."""
    return {
        "version": REPORT_VERSION,
        "status": overall_status(reports),
        "summary": {
            "passed": sum(r.status == "pass" for r in reports),
            "failed": sum(r.status == "fail" for r in reports),
            "errored": sum(r.status == "error" for r in reports),
        },
        "score": sum(r.score for r in reports),
        "max_score": sum(r.max_score for r in reports),
        "exercises": [r.to_json() for r in reports],
    }


def _check_lines(checks: list[CheckResult]) -> str:
    lines = []
    for check in checks:
        line = f"[{check.status}] {check.name}"
        if check.message:
            line += f": {check.message}"
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
        case = ET.SubElement(suite, "testcase", {"classname": lesson, "name": name or report.id, "time": f"{report.duration_ms / 1000:.3f}"})
        if report.status in ("fail", "error"):
            element = ET.SubElement(case, "failure" if report.status == "fail" else "error", {"message": report.message})
            element.text = _check_lines(report.checks)
        if report.output:
            ET.SubElement(case, "system-out").text = report.output
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


def to_gradescope(reports: list[ExerciseReport], hidden_visibility: str = "after_due_date") -> dict[str, Any]:
    """Gradescope autograder ``results.json``: one test per exercise, scored by the points
    of the checks it passed, and one more for its hidden checks, which students see only
    ``after_due_date``: their names, messages and values never reach the visible test."""
    tests = []
    for report in reports:
        visible = [c for c in report.checks if not c.hidden]
        hidden = [c for c in report.checks if c.hidden]
        broke_rules = report.score == 0 and any(c.name == "rules" and c.status != "pass" for c in visible)
        if hidden or broke_rules:
            # The exercise's message may quote a hidden check: say it in visible terms.
            failed = [c for c in visible if c.status != "pass"]
            body = f"{len(failed)} of {len(visible)} visible checks failed" if visible else report.message
            tests.append(_gradescope_test(report.id, visible, body, "visible", zero=broke_rules))
            if hidden:
                tests.append(_gradescope_test(f"{report.id} (hidden checks)", hidden, "", hidden_visibility, zero=broke_rules))
            continue
        body = report.message
        if report.checks:
            body += "\n" + _check_lines(report.checks)
        tests.append({
            "name": report.id,
            "score": report.score,
            "max_score": report.max_score,
            "status": "passed" if report.status == "pass" else "failed",
            "output": body.strip(),
        })
    return {
        "score": float(sum(r.score for r in reports)),
        "output": f"{sum(r.status == 'pass' for r in reports)} of {len(reports)} exercises passed",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def _gradescope_test(name: str, checks: list[CheckResult], body: str, visibility: str, *, zero: bool) -> dict[str, Any]:
    score = 0.0 if zero else sum(c.score for c in checks)
    text = (body + "\n" + _check_lines(checks)).strip()
    return {"name": name, "score": score, "max_score": sum(c.max_score for c in checks),
            "status": "passed" if checks and all(c.status == "pass" for c in checks) and not zero else "failed",
            "output": text, "visibility": visibility}


def write_atomic(path: Path, data: bytes) -> None:
    """Write a report so that CI reads the old file or the new one, never half of one;
    missing parent directories are created. A path that cannot be written is a
    :class:`UsageError` naming it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the report ({exc.strerror or exc})") from None


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """``payload`` as indented JSON, written like :func:`write_atomic`."""
    write_atomic(path, (json.dumps(payload, indent=2) + "\n").encode())
