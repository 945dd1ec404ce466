"""An instructor hands out the lessons without the answers (``tutor export lessons OUT
--public``), and a learner checks their work on that copy: no reference code, no wrong
answers, no hidden checks and no code hint in it, yet a wrong answer is told exactly
where it differs and a right one hears what still waits at grading."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.core import Tutor
from tutor.grading.grade import grade_source
from tutor.lessons import load_lessons, parse_lesson_text
from tutor.lessons.writer import lesson_markdown

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]

#: A lesson whose author put the rules after a hidden check and a note above it: a copy
#: made by deleting lines lost the rules and kept the note.
SECRET_LESSON = '''+++
id = "secret"
title = "A lesson with hidden checks in awkward places"
order = 2
topics = ["softmax"]
+++

# Clamping

## Exercise: Clamp the rows {#clamp-rows}

Write `clamp_rows(X, low)`: every value of `X` below `low` raised to `low`, as a new tensor.

```python starter
def clamp_rows(X, low):
    return X
```

```python solution
def clamp_rows(X, low):
    floor = torch.full_like(X, low)
    raised_secretly = torch.maximum(X, floor)
    return raised_secretly
```

```hint
Compare each value with `low`.
```

```hint
`torch.maximum` takes two tensors of the same shape.
```

```hint
raised_secretly = torch.maximum(X, torch.full_like(X, low))  # the code rung
```

```python wrong
# keeps the values below low
def clamp_rows(X, low):
    return X.abs_lookalike_wrong_answer() if False else X + 0
```

```toml checks
[[check]]
name = "a 3x4 batch"
setup = "X = torch.randn(3, 4)\\nlow = -0.25"
expr = "clamp_rows(X, low)"

# the instructor's note: the edge case is low = +inf, said nowhere in the prompt
[[check]]
name = "the secret infinite floor"
setup = "X = torch.randn(2, 2)\\nlow = float('inf')  # secret-setup-marker"
expr = "clamp_rows(X, low)"
hidden = true

[rules]
banned = ["torch.clamp", "Tensor.clamp", "torch.clip", "Tensor.clip"]
```

## Exercise: Scale the parameters {#scale-params}

Return a new dict: each tensor of `params` times `k`, under the same key.

```python starter
def scale_params(params, k):
    return params
```

```python solution
def scale_params(params, k):
    return {name: value * k for name, value in params.items()}
```

```hint
A dict comprehension.
```

```python wrong
# scales by k twice; the judge names the first key in the dict's own order
def scale_params(params, k):
    return {name: value * k * k for name, value in params.items()}
```

```toml checks
[[check]]
name = "weight before bias"
setup = "params = {'weight': torch.randn(2, 3), 'bias': torch.randn(2)}\\nk = 3.0"
expr = "scale_params(params, k)"
```
'''

WRONG_SOFTMAX = "def softmax_rows(X):\n    e = X.exp()\n    return e / e.sum(dim=0, keepdim=True)\n"
BANNED_CLAMP = "def clamp_rows(X, low):\n    return X.clamp(min=low)\n"
RIGHT_SOFTMAX = "def softmax_rows(X):\n    e = (X - X.max(dim=1, keepdim=True).values).exp()\n    return e / e.sum(dim=1, keepdim=True)\n"

pytestmark = pytest.mark.slow


@pytest.fixture
def private(tmp_path) -> Path:
    """The instructor's lessons: the grader's test lesson, every check kind, and the
    lesson with hidden checks in awkward places."""
    folder = tmp_path / "private"
    folder.mkdir()
    shutil.copy(DATA / "grading-lesson.md", folder)
    shutil.copy(DATA / "kinds" / "01-kinds.md", folder)
    (folder / "02-secret.md").write_text(SECRET_LESSON, encoding="utf-8")
    return folder


@pytest.fixture
def public(private, tmp_path, on_shared_sandbox, capsys) -> Path:
    out = tmp_path / "public"
    assert main(["export", "lessons", str(out), "--public", "--lessons", str(private)]) == 0
    assert "public copy of 3 lesson(s)" in capsys.readouterr().out
    return out


def _nontrivial(code: str) -> list[str]:
    return [line.strip() for line in code.splitlines() if len(line.strip()) > 8]


def test_the_public_copy_holds_no_solution_no_wrong_answer_no_hidden_check_and_no_code_hint(private, public):
    before = load_lessons([private])
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(public.glob("*.md")))
    # What the learner is given anyway (a hidden check may share a visible one's setup, a
    # solution a line of another exercise's visible check).
    given = "\n".join(text for e in before.exercises() for text in (
        e.title, e.starter, e.prompt, *(f"{c.setup}\n{c.expr}" for c in e.visible_checks)))
    for exercise in before.exercises():
        secret = _nontrivial(exercise.solution) + [line for w in exercise.wrong for line in _nontrivial(w.code)]
        secret += [text for c in exercise.checks if c.hidden for text in (c.name, c.setup) if text]
        secret = [text for text in secret if text not in given]
        if len(exercise.hints) > 2:
            secret.append(exercise.hints[-1])
        assert secret, exercise.id
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{exercise.id}: {leaked}"
    assert "python solution" not in text and "python wrong" not in text
    assert "instructor's note" not in text and "secret-setup-marker" not in text
    copy = load_lessons([public])
    assert [e.id for e in copy.exercises()] == [e.id for e in before.exercises()]
    for exercise in copy.exercises():
        assert exercise.solution == "" and not exercise.wrong and exercise.hidden_count == 0
        assert exercise.reference is not None
        assert exercise.reference.hidden_checks == before.exercise(exercise.id).hidden_count
    # The rules after the hidden check are kept.
    assert copy.exercise("secret/clamp-rows").rules.banned == ("torch.clamp", "Tensor.clamp", "torch.clip", "Tensor.clip")


def test_a_wrong_answer_on_the_public_copy_is_told_what_the_private_lessons_tell(private, public, sandbox):
    mine = load_lessons([public]).exercise("grading/softmax-rows")
    theirs = load_lessons([private]).exercise("grading/softmax-rows")
    local = grade_source(mine, WRONG_SOFTMAX, sandbox)
    graded = grade_source(theirs, WRONG_SOFTMAX, sandbox)
    assert local.status == "fail"
    assert "values differ at index [" in local.checks[0].message
    assert [(c.name, c.status, c.message) for c in local.checks if not c.hidden] == \
        [(c.name, c.status, c.message) for c in graded.checks if not c.hidden]
    assert [(c.name, c.status) for c in local.checks if c.hidden] == [("hidden check 1", "hidden")]


def test_every_check_kind_judges_from_the_stored_values_as_from_the_reference(private, public, sandbox):
    """The reference passes on its own stored values and each wrong answer fails there as
    it fails the private lessons' visible checks, for every kind of check."""
    copy = load_lessons([public])
    for exercise in load_lessons([private]).exercises():
        mine = copy.exercise(exercise.id)
        assert grade_source(mine, exercise.solution, sandbox).status == "pass", exercise.id
        visible_only = replace(exercise, checks=exercise.visible_checks)
        for wrong in exercise.wrong:
            expected = grade_source(visible_only, wrong.code, sandbox)
            got = grade_source(mine, wrong.code, sandbox)
            assert (got.status, [c.message for c in got.checks if c.status != "hidden"]) == \
                (expected.status, [c.message for c in expected.checks if c.status != "hidden"]), (exercise.id, wrong.reason)


def test_the_rules_after_a_hidden_check_still_hold_on_the_public_copy(public, sandbox):
    exercise = load_lessons([public]).exercise("secret/clamp-rows")
    report = grade_source(exercise, BANNED_CLAMP, sandbox)
    assert report.status == "fail" and "bans" in report.message


def test_a_right_answer_on_the_public_copy_says_the_hidden_checks_wait_for_grading(public, tmp_path, capsys):
    workspace = tmp_path / "workspace"
    (workspace / "grading").mkdir(parents=True)
    (workspace / "grading" / "softmax-rows.py").write_text(RIGHT_SOFTMAX)
    report = tmp_path / "report.json"
    assert main(["grade", "grading/softmax-rows", "--lessons", str(public), "--workspace", str(workspace),
                 "--json", str(report)]) == 0
    exercise = json.loads(report.read_text())["exercises"][0]
    assert exercise["status"] == "pass"
    assert exercise["message"] == "visible checks pass; 1 hidden check at grading"
    assert "      visible checks pass; 1 hidden check at grading" in capsys.readouterr().out.splitlines()
    assert main(["list", "--lessons", str(public), "--workspace", str(workspace)]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if "grading/softmax-rows" in line]
    assert len(listed) == 1 and listed[0].rstrip().endswith("visible checks pass"), listed
    assert main(["list", "--json", "--lessons", str(public), "--workspace", str(workspace)]) == 0
    entry = json.loads(capsys.readouterr().out)["lessons"][0]["exercises"][0]
    assert (entry["id"], entry["hidden_checks"]) == ("grading/softmax-rows", 1)


def test_check_lessons_accepts_the_public_copy_and_the_starters_still_fail(public, monkeypatch, sandbox, capsys):
    import tutor.authoring.lesson_check as lesson_check

    monkeypatch.setattr(lesson_check, "Tutor", lambda lessons, **_: Tutor(lessons, None, device="cpu", client=sandbox))
    assert main(["check-lessons", str(public)]) == 0
    capsys.readouterr()
    # A starter that passed would be reported: the stored values still judge.
    lesson = public / "02-secret.md"
    lesson.write_text(lesson.read_text().replace("    return params\n", "    return {n: v * k for n, v in params.items()}\n"))
    assert main(["check-lessons", str(public)]) == 1
    assert "scale-params': the starter passes every check" in capsys.readouterr().err


def test_the_code_hint_stays_when_asked(private, tmp_path, on_shared_sandbox, capsys):
    out = tmp_path / "with-code"
    assert main(["export", "lessons", str(out), "--public", "--keep-code-hints", "--lessons", str(private),
                 ]) == 0
    hints = load_lessons([out]).exercise("secret/clamp-rows").hints
    assert len(hints) == 3 and "the code rung" in hints[-1]
    capsys.readouterr()


def test_the_solution_command_says_a_public_copy_has_none(public, tmp_path, capsys):
    assert main(["solution", "grading/softmax-rows", "--lessons", str(public), "--workspace", str(tmp_path / "ws")]) == 2
    assert "no solutions" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["source", "inside", "a-link-to-it"])
def test_the_export_never_writes_into_or_over_its_source(private, tmp_path, where, capsys):
    (tmp_path / "link").symlink_to(private)
    out = {"source": private, "inside": private / "public", "a-link-to-it": tmp_path / "link"}[where]
    before = sorted((p.name, p.read_bytes()) for p in private.glob("*.md"))
    assert main(["export", "lessons", str(out), "--public", "--lessons", str(private)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "inside the lessons it is made from" in err[0]
    assert sorted((p.name, p.read_bytes()) for p in private.glob("*.md")) == before
    assert not (private / "public").exists()


def test_every_lesson_of_the_course_is_written_back_as_it_was_parsed():
    """The writer is the only way a copy is made: the course and the test lessons go
    through it and parse into the same model (lines aside), every check table included."""
    dirs = [REPO / "lessons", DATA, DATA / "kinds", DATA / "run-time-rules"]
    for lesson in load_lessons(dirs).lessons:
        again = parse_lesson_text(lesson_markdown(lesson), lesson.path)
        assert _model(again) == _model(lesson), lesson.path
        for a, b in zip(again.exercises, lesson.exercises):
            assert [dict(c.table) for c in a.checks] == [dict(c.table) for c in b.checks]


def _model(lesson):
    def block(b):
        if hasattr(b, "checks"):
            return replace(b, line=0, starter_line=0, solution_line=0, checks_line=0,
                           checks=tuple(replace(c, line=0) for c in b.checks),
                           wrong=tuple(replace(w, line=0) for w in b.wrong))
        return replace(b, line=0)

    return (lesson.id, lesson.title, lesson.order, lesson.topics, lesson.summary, lesson.requires,
            [block(b) for b in lesson.blocks])


def test_a_public_copy_is_checked_on_the_device_its_values_were_computed_on(public, sandbox):
    """A learner whose app runs on a GPU still compares with the values of the CPU: their
    answer runs where the stored values were computed."""
    exercise = load_lessons([public]).exercise("grading/softmax-rows")
    assert exercise.reference is not None and exercise.reference.device == "cpu"
    report = grade_source(exercise, RIGHT_SOFTMAX, sandbox, device="cuda")
    assert report.status == "pass", report.message
