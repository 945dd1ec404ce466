"""A learner's story at the grader: one right answer passes, every wrong or cheating one
fails or errors with a message that says why. Runs through the real sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.grading.grade import grade_source
from tutor.lessons import load_lessons

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
LESSON_FILE = DATA / "grading-lesson.md"


@pytest.fixture(scope="module")
def exercise():
    return load_lessons(DATA).exercise("grading/softmax-rows")


@pytest.fixture(scope="module")
def grade(sandbox, exercise):
    def run(source: str, *, include_hidden: bool = True):
        return grade_source(exercise, source, sandbox, include_hidden=include_hidden)

    return run


RIGHT = """
def softmax_rows(X):
    e = (X - X.max(dim=1, keepdim=True).values).exp()
    return e / e.sum(dim=1, keepdim=True)
"""


def test_a_correct_solution_passes(grade):
    report = grade(RIGHT)
    assert report.status == "pass", report.message
    assert [c.status for c in report.checks] == ["pass", "pass", "pass"]
    assert report.message == "all 3 checks passed"


def test_locally_hidden_checks_are_counted_never_run_or_shown(grade):
    report = grade(RIGHT, include_hidden=False)
    assert report.status == "pass"
    assert report.hidden_unrun == 1
    assert "all" not in report.message and "1 hidden check" in report.message
    hidden = [c for c in report.checks if c.status == "hidden"]
    assert len(hidden) == 1 and "large inputs" not in hidden[0].name and not hidden[0].details


def test_naive_softmax_passes_visible_checks_but_fails_the_hidden_overflow_check(grade):
    naive = "def softmax_rows(X):\n    return X.exp() / X.exp().sum(dim=1, keepdim=True)\n"
    assert grade(naive, include_hidden=False).status == "pass"
    report = grade(naive)
    assert report.status == "fail"
    failed = [c for c in report.checks if c.status == "fail"]
    assert failed[0].name == "large inputs stay finite"
    assert "values differ" in failed[0].message and "nan" in failed[0].message.lower()


WRONG = {
    "off-by-one shape": (
        "def softmax_rows(X):\n    e = X[:, :-1].exp()\n    return e / e.sum(dim=1, keepdim=True)\n",
        "fail", ["shape differs: expected (4, 5), got (4, 4)"],
    ),
    "wrong dtype": (
        "def softmax_rows(X):\n    e = X.double().exp()\n    return e / e.sum(dim=1, keepdim=True)\n",
        "fail", ["dtype differs: expected torch.float32, got torch.float64"],
    ),
    "right values without a graph": (
        "def softmax_rows(X):\n    e = X.detach().exp()\n    return e / e.sum(dim=1, keepdim=True)\n",
        "fail", ["does not require grad"],
    ),
    "normalised over the wrong dim": (
        "def softmax_rows(X):\n    e = X.exp()\n    return e / e.sum(dim=0, keepdim=True)\n",
        "fail", ["values differ at index", "expected", "max abs diff"],
    ),
    "a hard-coded answer for seed 0": (
        "def softmax_rows(X):\n    torch.manual_seed(0)\n    Y = torch.randn(X.shape)\n"
        "    e = Y.exp()\n    return (e / e.sum(dim=1, keepdim=True)).requires_grad_(X.requires_grad)\n",
        "fail", ["(seed 1)"],
    ),
    "calls the banned F.softmax": (
        "def softmax_rows(X):\n    return F.softmax(X, dim=1)\n",
        "fail", ["uses F.softmax, which this exercise bans"],
    ),
    "hides the banned call from the source": (
        "def softmax_rows(X):\n    return getattr(torch, 'soft' + 'max')(X, dim=1)\n",
        "fail", ["called torch.softmax at run time"],
    ),
    "loops over rows": (
        "def softmax_rows(X):\n    rows = []\n    for row in X:\n        e = row.exp()\n        rows.append(e / e.sum())\n"
        "    return torch.stack(rows)\n",
        "fail", ["without Python loops"],
    ),
    "modifies its input": (
        "def softmax_rows(X):\n    if not X.requires_grad:\n        X.exp_()\n        return X / X.sum(dim=1, keepdim=True)\n"
        "    e = X.exp()\n    return e / e.sum(dim=1, keepdim=True)\n",
        "fail", ["modified its input X in place"],
    ),
    "monkeypatches torch's comparisons and prints PASSED": (
        "import torch.testing\ntorch.testing.assert_close = lambda *a, **k: None\ntorch.allclose = lambda *a, **k: True\n"
        "torch.equal = lambda *a, **k: True\ntorch.Tensor.__eq__ = lambda *a: True\nprint('PASSED: all checks passed')\n"
        "def softmax_rows(X):\n    return X * 0\n",
        "fail", ["values differ"],
    ),
    "exits early with status 0": (
        "import sys\nsys.exit(0)\n",
        "error", ["sys.exit(0)"],
    ),
    "os._exit(0) before any result": (
        "import os\nos._exit(0)\n",
        "error", [],
    ),
    "returns an object that pretends to be a tensor": (
        "class Fake:\n    shape = (4, 5)\n    dtype = torch.float32\n    def __eq__(self, other):\n        return True\n"
        "def softmax_rows(X):\n    return Fake()\n",
        "fail", ["expected a tensor", "object Fake"],
    ),
    "a Tensor subclass with a lying __eq__ and __torch_function__": (
        "class Liar(torch.Tensor):\n    def __eq__(self, other):\n        return True\n"
        "    @classmethod\n    def __torch_function__(cls, func, types, args=(), kwargs=None):\n        return True\n"
        "def softmax_rows(X):\n    return torch.zeros(X.shape).as_subclass(Liar)\n",
        "fail", ["Tensor subclass Liar"],
    ),
    "writes fake results to every file descriptor": (
        "import os\nfor fd in range(3, 256):\n    try:\n        os.write(fd, b'{\"status\": \"ok\", \"checks\": \"pass\"}\\n' * 50)\n"
        "    except OSError:\n        pass\ndef softmax_rows(X):\n    return X\n",
        "error|fail", [],
    ),
    "an endless loop": (
        "def softmax_rows(X):\n    while True:\n        pass\n",
        "error", ["timed out"],
    ),
}


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_or_cheating_solutions_never_pass(grade, name):
    source, status, phrases = WRONG[name]
    report = grade(source)
    assert report.status in status.split("|"), f"{name}: {report.status}: {report.message}"
    text = report.message + "\n" + "\n".join(f"{c.message} (seed {c.seed})" for c in report.checks)
    for phrase in phrases:
        assert phrase in text, f"{name}: {phrase!r} not in {text!r}"


def test_a_failed_check_says_exactly_what_differed(grade):
    report = grade("def softmax_rows(X):\n    e = X.exp()\n    return e / e.sum(dim=0, keepdim=True)\n")
    check = next(c for c in report.checks if c.status == "fail")
    d = check.details
    assert d["expected_shape"] == d["got_shape"] == [4, 5]
    assert d["expected_dtype"] == d["got_dtype"] == "torch.float32"
    assert d["max_abs_diff"] > 0 and d["max_rel_diff"] > 0
    assert len(d["first_index"]) == 2
    assert d["expected_value"] != d["got_value"]
    assert d["expected_preview"] and d["got_preview"]
    assert check.seed == 0 and d["seed"] == 0
    assert report.hint == "hint: `tutor hint grading/softmax-rows`"


def test_reading_the_reference_from_disk_is_impossible(grade):
    thief = (
        f"source = open({str(LESSON_FILE)!r}).read()\n"
        "start = source.index('```python solution') + len('```python solution')\n"
        "exec(source[start:source.index('```', start)])\n"
    )
    report = grade(thief)
    assert report.status == "fail"
    assert "FileNotFoundError" in report.message or "PermissionError" in report.message


def test_scheduler_and_optimizer_checks_compare_lr_tables(sandbox):
    exercise = load_lessons(DATA).exercise("grading/halve-lr")
    starter = grade_source(exercise, exercise.starter, sandbox, include_hidden=True)
    assert starter.status == "fail"
    lr = next(c for c in starter.checks if c.name == "the lr table")
    assert "learning rate after step 2: expected [0.001], got [0.0005]" in lr.message
    assert grade_source(exercise, exercise.solution, sandbox, include_hidden=True).status == "pass"


def test_reading_the_reference_from_git_history_is_impossible(grade):
    """The lesson sits in a git checkout: `git show HEAD:<lesson>` would print it."""
    repo = Path(__file__).resolve().parents[2]
    if not (repo / ".git").exists():
        pytest.skip("not a git checkout")
    relative = LESSON_FILE.relative_to(repo).as_posix()
    thief = (
        "import subprocess\n"
        f"source = subprocess.run(['git', '-c', 'safe.directory=*', '-C', {str(repo)!r}, 'show', 'HEAD:{relative}'],\n"
        "                        capture_output=True, text=True).stdout\n"
        "start = source.index('```python solution') + len('```python solution')\n"
        "exec(source[start:source.index('```', start)])\n"
    )
    report = grade(thief)
    assert report.status == "fail"
    assert "ValueError" in report.message  # str.index found no solution: git saw nothing


# --- hostile data from the learner's child: an error for that exercise, never the judge's ---

# The learner's code runs in the harness's process: it can rewrite the encoder that turns
# its result into data for the judge, and send any node it likes.
FORGED_TENSOR_NODE = """
import tutor.values.encode as _encode

def _forged(self, t):
    key = f"{self.prefix}{len(self.blobs)}"
    self.blobs[key] = NODE_BYTES
    return {"kind": "tensor", "blob": key, "dtype": NODE_DTYPE, "shape": NODE_SHAPE, "requires_grad": True,
            "device": "cpu", "parameter": False}

_encode.Encoder.tensor = _forged

def softmax_rows(X):
    e = X.exp()
    return e / e.sum(dim=1, keepdim=True)
"""


@pytest.mark.parametrize(("shape", "dtype", "raw", "phrase"), [
    ("[0, 2**62, 4]", "'torch.float32'", "b''", "shape too large"),
    ("[2**40, 0]", "'torch.float32'", "b''", "shape too large"),
    ("[4, 5]", "['torch.float32']", "b'0' * 80", "unknown dtype"),
    ("[-1, 5]", "'torch.float32'", "b''", "malformed shape"),
], ids=["zero-dim-beside-huge", "huge-beside-zero", "unhashable-dtype", "negative"])
def test_a_forged_tensor_shape_is_an_error_of_the_learner_not_of_the_judge(grade, shape, dtype, raw, phrase):
    source = FORGED_TENSOR_NODE.replace("NODE_SHAPE", shape).replace("NODE_DTYPE", dtype).replace("NODE_BYTES", raw)
    report = grade(source)
    assert report.status in ("fail", "error"), report.message
    assert "judge failed" not in report.message
    errored = [c for c in report.checks if c.status == "error"]
    assert errored and all("could not be read" in c.message for c in errored), [c.message for c in report.checks]
    assert any(phrase in c.message for c in errored), [c.message for c in errored]
    assert grade(RIGHT).status == "pass"  # the next learner is graded as usual


def test_a_lone_surrogate_in_an_exception_message_reaches_the_report_replaced(grade):
    report = grade("def softmax_rows(X):\n    raise ValueError('bad \\udc80 input')\n")
    assert report.status == "fail"
    text = report.message + "".join(c.message for c in report.checks)
    assert "bad \ufffd input" in text
    text.encode("utf-8")


def test_a_forged_harness_report_of_the_wrong_shape_errors_this_exercise_only(grade):
    """The strongest forgery: the learner writes the harness's whole report itself,
    with the run's nonce found in its own memory, and a field of the wrong type."""
    source = (
        "import json, os, sys\n"
        "f = sys._getframe()\n"
        "while f is not None and not ('job' in f.f_locals and 'result_fd' in f.f_locals):\n"
        "    f = f.f_back\n"
        "body = json.dumps({'nonce': f.f_locals['job'].nonce, 'status': 'ok', 'error': None, 'data': 5}).encode()\n"
        "os.write(f.f_locals['result_fd'], b'TUT1' + len(body).to_bytes(4, 'big') + body)\n"
        "os._exit(0)\n"
    )
    report = grade(source)
    assert report.status == "error", report.message
    assert "malformed result" in report.message and "data" in report.message
    assert grade(RIGHT).status == "pass"


def test_decoding_bounds_every_tensor_and_what_one_value_rebuilds():
    from tutor.values.encode import MAX_TENSOR_BYTES, BadData, decode, decode_tensor

    def node(shape, blob="b", dtype="torch.uint8"):
        return {"kind": "tensor", "blob": blob, "dtype": dtype, "shape": shape}

    # Each with exactly the bytes its shape and dtype imply, so only the bound refuses it.
    for bad, raw in ((node([0, 2**62, 4]), b""), (node([2**30, 0]), b""), (node([1] * 17), b"0"),
                     (node([2, 2], blob=["b"]), b"0000"), (node([2, 2], dtype={"x": 1}), b"0000"),
                     (node(5), b"0"), (node([True, 2]), b"00")):
        with pytest.raises(BadData):
            decode_tensor(bad, {"b": raw})
    assert decode_tensor(node([2, 2]), {"b": b"0000"}).shape == (2, 2)
    assert decode_tensor(node([0, 3]), {"b": b""}).shape == (0, 3)
    # One big blob named by many tensors of one value: refused, not rebuilt again and again.
    big = {"b": b"\0" * MAX_TENSOR_BYTES}
    many = {"kind": "list", "items": [node([MAX_TENSOR_BYTES])] * 3}
    with pytest.raises(BadData, match="too many bytes"):
        decode(many, big)
    with pytest.raises(BadData):
        decode({"kind": ["tensor"]}, {})


# --- values the judge once compared by type name only ----------------------------------------

TOPK_LESSON = '''+++
id = "values"
title = "Values the judge compares by content"
order = 1
topics = ["tensor-math"]
+++

# Values

## Exercise: The two largest {#top2}

Return `torch.topk(x, 2)` for a 1-D tensor.

```python starter
def top2(x):
    return None
```

```python solution
def top2(x):
    return torch.topk(x, 2)
```

```hint
torch.topk.
```

```toml checks
[[check]]
name = "top two"
setup = "x = torch.randn(6)"
expr = "top2(x)"
```

## Exercise: Unique values {#uniques}

Return the set of the distinct values of a list of ints.

```python starter
def uniques(xs):
    return set()
```

```python solution
def uniques(xs):
    return set(xs)
```

```hint
set().
```

```toml checks
[[check]]
name = "distinct"
setup = "xs = [3, 1, 3, 2]"
expr = "uniques(xs)"
```
'''


@pytest.fixture(scope="module")
def values_lessons(tmp_path_factory):
    folder = tmp_path_factory.mktemp("values-lessons")
    (folder / "values.md").write_text(TOPK_LESSON)
    return load_lessons(folder)


@pytest.mark.parametrize(("exercise_id", "source", "status"), [
    ("values/top2", "def top2(x):\n    return torch.topk(x, 2)\n", "pass"),
    ("values/top2", "def top2(x):\n    return torch.topk(-x, 2)\n", "fail"),
    ("values/top2", "def top2(x):\n    return torch.topk(x, 3)\n", "fail"),
    ("values/top2", "def top2(x):\n    return x.max(dim=0)\n", "fail"),
    ("values/uniques", "def uniques(xs):\n    return set(xs)\n", "pass"),
    ("values/uniques", "def uniques(xs):\n    return {99}\n", "fail"),
    ("values/uniques", "def uniques(xs):\n    return set(xs[:2])\n", "fail"),
], ids=["topk", "topk-of-negated", "topk-3", "max-structseq", "set", "another-set", "a-smaller-set"])
def test_a_structseq_or_a_set_is_compared_by_content_not_by_type_name(sandbox, values_lessons, exercise_id, source, status):
    report = grade_source(values_lessons.exercise(exercise_id), source, sandbox, include_hidden=True)
    assert report.status == status, report.message


SNOOP = '''
import gc
import sys

def _checks_in_reach():
    """Every check name this process holds: on the stack, and anywhere the collector sees."""
    names = set()
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_locals.values()):
            if isinstance(value, dict) and isinstance(value.get("checks"), list):
                names.update(c.get("name") for c in value["checks"] if isinstance(c, dict))
        frame = frame.f_back
    for obj in gc.get_objects():
        if isinstance(obj, dict) and isinstance(obj.get("name"), str) and "expr" in obj and "seeds" in obj:
            names.add(obj["name"])
    return sorted(n for n in names if isinstance(n, str))

SEEN = _checks_in_reach()

def softmax_rows(X):
    raise ValueError("checks here: " + " | ".join(SEEN + _checks_in_reach()))
'''


def test_a_visible_check_runs_where_no_hidden_check_can_be_read(grade):
    # The message of a visible check is shown before the due date: an answer that reads
    # every check its process holds and puts them there must find the visible ones only.
    report = grade(SNOOP)
    visible = {c.name: c.message for c in report.checks if c.name in ("a 4x5 batch", "gradients flow back to X")}
    assert visible and all("checks here: " in m for m in visible.values()), report.checks
    assert all("a 4x5 batch" in m for m in visible.values())  # it could read what its process holds
    assert not any("large inputs" in m for m in visible.values())
    hidden = next(c for c in report.checks if c.name == "large inputs stay finite")
    assert "a 4x5 batch" not in hidden.message and "large inputs stay finite" in hidden.message
