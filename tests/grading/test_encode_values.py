"""Values the judge compares by content, not by type name: structseqs (``topk``'s
result), namedtuples, numpy arrays and scalars, complex numbers, sets. Each is encoded
in the learner's child and decoded in the judge's; here both ends run in-process,
through JSON as on the wire."""

from __future__ import annotations

import collections
import json
import os
from typing import Any

import numpy as np
import pytest
import torch

from tutor.values.compare import compare_values, strict_type_difference
from tutor.values.encode import BadData, Encoder, Tagged, TensorData, decode


def roundtrip(value: Any) -> tuple[Any, dict[str, Any]]:
    encoder = Encoder("x")
    node = json.loads(json.dumps(encoder.encode(value)))
    return decode(node, encoder.blobs), node


def differs(expected: Any, got: Any) -> bool:
    return compare_values(roundtrip(expected)[0], roundtrip(got)[0], "result", set()) is not None


X = torch.tensor([3.0, 1.0, 2.0, 5.0])
Point = collections.namedtuple("Point", "x y")


def test_a_topk_result_is_a_tuple_of_its_tensors_with_its_type_and_field_names() -> None:
    value, node = roundtrip(torch.topk(X, 2))
    assert node["kind"] == "tuple" and node["pytype"] == "torch.return_types.topk"
    assert node["fields"] == ["values", "indices"]
    assert isinstance(value, Tagged) and value.fields == ["values", "indices"]
    assert [t.tensor.tolist() for t in value.value] == [[5.0, 3.0], [3, 0]]


def test_any_topk_result_no_longer_passes_for_another() -> None:
    assert differs(torch.topk(X, 2), torch.topk(-X, 2))
    assert differs(torch.topk(X, 2), torch.topk(X, 3))
    assert not differs(torch.topk(X, 2), torch.topk(X.clone(), 2))
    assert differs(X.max(dim=0), X.min(dim=0))


def test_strict_types_tell_a_structseq_from_a_plain_tuple() -> None:
    expected, _ = roundtrip(torch.topk(X, 2))
    got, _ = roundtrip(tuple(torch.topk(X, 2)))
    assert compare_values(expected, got, "result", set()) is None
    diff = strict_type_difference(expected, got, "result")
    assert diff is not None and "torch.return_types.topk" in diff.message


def test_a_structseq_sends_its_sequence_items_and_names_them_only_if_all_have_names() -> None:
    value, node = roundtrip(os.stat("."))  # 10 sequence items, the last 3 unnamed
    assert node["pytype"] == "os.stat_result" and len(value.value) == 10
    assert "fields" not in node and value.fields is None


def test_namedtuples_compare_field_by_field() -> None:
    value, node = roundtrip(Point(1, 2.5))
    assert node["pytype"] == "Point" and value.fields == ["x", "y"]
    assert differs(Point(1, 2.5), Point(1, 3.5))
    assert not differs(Point(1, 2.5), Point(1, 2.5))


def test_a_tuple_subclass_is_read_past_its_own_overrides() -> None:
    class Lying(tuple):
        def __iter__(self):
            return iter([0, 0])

        def __len__(self):
            return 0

    value, node = roundtrip(Lying((1, 2)))
    assert node["pytype"].endswith("Lying") and [item for item in value.value] == [1, 2]


def test_numpy_arrays_are_tensors_that_remember_they_were_arrays() -> None:
    value, node = roundtrip(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert node["kind"] == "tensor" and node["pytype"] == "ndarray"
    assert isinstance(value, TensorData) and value.pytype == "ndarray"
    assert value.tensor.dtype == torch.float32 and value.tensor.shape == (2, 3)
    assert differs(np.arange(6).reshape(2, 3), np.arange(6).reshape(3, 2))
    assert differs(np.arange(6), np.arange(6) + 1)
    assert not differs(np.arange(6)[::2], np.array([0, 2, 4]))  # a strided view: values, not memory
    assert roundtrip(torch.ones(2))[0].pytype == "Tensor"


def test_numpy_arrays_torch_cannot_hold_stay_objects() -> None:
    value, node = roundtrip(np.array(["a", "b"]))
    assert node["kind"] == "object" and isinstance(value, Tagged) and value.kind == "object"


def test_numpy_scalars_are_numbers() -> None:
    assert roundtrip(np.float32(1.5)) == (1.5, {"kind": "py", "value": 1.5, "pytype": "numpy.float32"})
    assert roundtrip(np.int64(3))[0] == 3 and roundtrip(np.bool_(True))[0] is True
    assert differs(np.float64(1.0), np.float64(2.0))


@pytest.mark.parametrize("value", [1 + 2j, complex(float("nan"), float("inf")), -0.5j, np.complex64(1 - 1j)])
def test_complex_numbers_compare_by_value(value: complex) -> None:
    decoded, node = roundtrip(value)
    assert node["kind"] == "complex"
    assert isinstance(decoded, TensorData) and decoded.pytype == "complex"
    assert decoded.tensor.dtype == torch.complex128 and decoded.tensor.shape == ()
    assert not differs(value, value)
    assert differs(value, 0.25 + 0.25j)


def test_sets_are_sorted_lists_that_remember_they_were_sets() -> None:
    value, node = roundtrip({3, 1, 2})
    assert node == {"kind": "set", "pytype": "set", "items": [{"kind": "py", "value": v} for v in (1, 2, 3)]}
    assert value.kind == "list" and value.pytype == "set"
    assert not differs({3, 1, 2}, {2, 3, 1})
    assert differs({1, 2, 3}, {1, 2, 4})
    assert differs({1, 2}, {1, 2, 3})
    assert roundtrip(frozenset({1}))[0].pytype == "frozenset"
    diff = strict_type_difference(roundtrip({1, 2})[0], roundtrip([1, 2])[0], "result")
    assert diff is not None


def test_a_set_of_mixed_types_encodes_the_same_whatever_its_iteration_order() -> None:
    a = {"b", 1, (2, 3), "a", 2.5}
    b = set(reversed(list(a)))
    assert roundtrip(a)[1] == roundtrip(b)[1]
    assert not differs(a, b) and differs(a, a | {4})


@pytest.mark.parametrize("node", [
    {"kind": "complex", "value": [1.0]},
    {"kind": "complex", "value": ["1", 2.0]},
    {"kind": "complex", "value": 5},
    {"kind": "set", "pytype": "set", "items": 5},
    {"kind": "set", "pytype": "list", "items": []},
    {"kind": "tuple", "items": [], "fields": ["x"]},
    {"kind": "tuple", "items": [{"kind": "py", "value": 1}], "fields": [1]},
    {"kind": "list", "items": [{"kind": "py", "value": 1}], "fields": ["x"]},
], ids=["complex-short", "complex-text", "complex-number", "set-items", "set-pytype", "fields-count",
        "fields-type", "fields-on-a-list"])
def test_malformed_new_encodings_are_bad_data(node: dict[str, Any]) -> None:
    with pytest.raises(BadData):
        decode(node, {})


def test_a_forged_type_name_is_bounded() -> None:
    value = decode({"kind": "tuple", "pytype": "x" * 10_000, "items": []}, {})
    assert value.pytype == "tuple"


def test_a_numpy_scalar_keeps_its_type_for_strict_checks_and_its_value_for_the_rest():
    import numpy as np

    from tutor.values.compare import strict_type_difference

    encoder = Encoder("b")
    for value, name in ((np.float32(0.5), "numpy.float32"), (np.int64(3), "numpy.int64")):
        decoded = decode(encoder.encode(value), encoder.blobs)
        assert decoded == value.item()  # as a number, the same
        diff = strict_type_difference(value.item(), decoded, "result")
        assert diff is not None and f"got a {name}" in diff.message


# --- cheap values that would cost the judge dearly: each fails its own check, fast ---


def shared_lists(width: int = 40, depth: int = 8) -> list[Any]:
    """A list that holds one list ``width`` times, ``depth`` deep: 2 KB in a torch.save
    file, ``width**depth`` nodes to walk."""
    value: list[Any] = [0]
    for _ in range(depth):
        value = [value] * width
    return value


def judged(value: Any) -> str:
    """What the judge makes of ``value`` as a learner's result: the message of the
    BadData it raises (an error of that check), or the comparison's message."""
    encoder = Encoder("x")
    node = json.loads(json.dumps(encoder.encode(value)))
    with pytest.raises(BadData) as raised:
        decode(node, encoder.blobs)
    return str(raised.value)


@pytest.mark.parametrize(("value", "reason"), [
    (shared_lists(), "more than 100,000 parts"),
    ({"a": shared_lists(10, 6)}, "more than 100,000 parts"),
    (10**1000, "an int of more than 1000 digits"),
    (-(10**1200), "an int of more than 1000 digits"),
    ({10**5000: 1}, "an int of more than 1000 digits"),  # str() of it would raise ValueError
    (["x" * 2**16] * 17, "more than 1 MiB of text"),
    (torch.empty(300 * 2**20, dtype=torch.uint8), "a tensor of 300 MiB (at most 256 MiB)"),
    ([torch.empty(200 * 2**20, dtype=torch.uint8)] * 3, "tensors of more than 512 MiB in all"),
], ids=["40x-shared-8-deep", "shared-in-a-dict", "int-1001-digits", "negative-int", "int-key", "text", "tensor",
        "tensors-in-all"])
def test_a_value_past_a_budget_is_too_large_to_judge_and_keeps_no_blobs(value: Any, reason: str) -> None:
    encoder = Encoder("x")
    node = encoder.encode(value)
    assert node == {"kind": "too_large", "value": node["value"]} and reason in node["value"]
    assert encoder.blobs == {}
    assert judged(value).startswith(f"value too large to judge: {node['value']}")


def test_the_encoder_stops_walking_a_shared_structure_at_its_node_budget(monkeypatch) -> None:
    import tutor.values.encode as encode

    visited = 0
    real = encode.Encoder._count

    def counting(self, nodes=1, text=0):
        nonlocal visited
        visited += nodes
        real(self, nodes, text)

    monkeypatch.setattr(encode.Encoder, "_count", counting)
    assert Encoder("x").encode(shared_lists())["kind"] == "too_large"
    assert visited == encode.MAX_NODES + 1  # not 40**8


def test_values_within_the_budgets_still_encode_and_the_next_value_is_judged_as_usual() -> None:
    encoder = Encoder("x")
    assert encoder.encode(shared_lists())["kind"] == "too_large"
    assert encoder.encode(shared_lists(10, 4))["kind"] == "list"  # 10**4 nodes
    assert roundtrip(10**999)[0] == 10**999 and roundtrip(list(range(10_000)))[0].value == list(range(10_000))
    assert not differs(10**999 + 1, 10**999 + 1) and differs(10**999, 10**999 + 1)
    t = torch.arange(6.0)
    assert torch.equal(roundtrip(t)[0].tensor, t)


def test_an_encoders_tensor_bytes_are_bounded_across_its_values() -> None:
    encoder = Encoder("x", max_bytes=3 * 2**20)
    one_mib = torch.zeros(2**18)  # float32
    assert [encoder.encode(one_mib)["kind"] for _ in range(4)] == ["tensor", "tensor", "tensor", "too_large"]
    assert len(encoder.blobs) == 3


@pytest.mark.parametrize("node", [
    {"kind": "py", "value": 10**1000},
    {"kind": "too_large", "value": "x" * 10_000},
    {"kind": "list", "items": [{"kind": "list", "items": [{"kind": "py", "value": 0}] * 10_000}] * 11},
], ids=["int", "long-reason", "nodes"])
def test_the_judge_holds_forged_data_to_the_same_budgets(node: dict[str, Any]) -> None:
    with pytest.raises(BadData, match="value too large to judge") as raised:
        decode(node, {})
    assert len(str(raised.value)) < 300


@pytest.mark.slow
def test_a_class_with_cheap_huge_values_costs_each_only_its_own_check(sandbox) -> None:
    """Through the real sandbox, one judge for the whole hand-in: a 2 KB checkpoint of
    shared lists (40**8 nodes) and a 401-digit epoch each fail the checkpoint check with a
    message; their other check, and an honest answer judged beside them, are untouched."""
    from pathlib import Path

    from tutor.grading.grade import Submission, grade_sources
    from tutor.lessons import load_lessons

    ckpt = load_lessons([Path(__file__).parent / "data" / "kinds"]).exercise("kinds/ckpt")
    shape_of = "def shape_of(t):\n    return tuple(t.shape)\n"
    shared = ("def save(path):\n    x = [0]\n    for _ in range(8):\n        x = [x] * 40\n"
              "    torch.save({'epoch': 3, 'weights': x}, path)\n" + shape_of)
    digits = "def save(path):\n    torch.save({'epoch': 10**400, 'weights': torch.arange(4.0)}, path)\n" + shape_of
    reports = grade_sources([Submission(ckpt, shared), Submission(ckpt, ckpt.solution), Submission(ckpt, digits)],
                            sandbox, include_hidden=True)
    verdicts = [[(c.name, c.status) for c in r.checks] for r in reports]
    assert verdicts == [[("the checkpoint", "error"), ("a tuple of ints", "pass")],
                        [("the checkpoint", "pass"), ("a tuple of ints", "pass")],
                        [("the checkpoint", "fail"), ("a tuple of ints", "pass")]], [r.message for r in reports]
    assert "value too large to judge: more than 100,000 parts" in reports[0].checks[0].message
    assert reports[2].checks[0].message == "ckpt.pt['epoch']: expected 3, got 1000000000...0000000000 (an int of 401 digits)"
