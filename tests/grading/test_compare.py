"""The judge's comparison, in-process: encode as a child would, decode as the judge does."""

from __future__ import annotations

import math

import pytest
import torch

from tutor.values.compare import compare_values
from tutor.values.encode import BadData, Encoder, decode


def roundtrip(value):
    enc = Encoder("b")
    node = enc.encode(value)
    return decode(node, enc.blobs)


def diff(expected, got, compare=(), rtol=None, atol=None):
    return compare_values(roundtrip(expected), roundtrip(got), "result", set(compare), rtol, atol)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int64,
                                   torch.int32, torch.uint8, torch.bool, torch.complex64])
def test_tensors_survive_the_trip_bit_for_bit(dtype):
    t = (torch.arange(12).reshape(3, 4) % 3).to(dtype)
    back = roundtrip(t).tensor
    assert back.dtype == dtype and back.shape == t.shape and torch.equal(back, t)


def test_non_contiguous_and_zero_dim_and_empty_tensors():
    t = torch.arange(6.0).reshape(2, 3).t()
    assert torch.equal(roundtrip(t).tensor, t)
    assert roundtrip(torch.tensor(3.5)).tensor.shape == ()
    assert roundtrip(torch.empty(0, 4)).tensor.shape == (0, 4)


def test_equal_tensors_have_no_difference():
    t = torch.randn(3, 4)
    assert diff(t, t.clone()) is None


def test_values_within_default_float32_tolerance_pass():
    t = torch.ones(3)
    assert diff(t, t + 1e-7) is None
    assert diff(t, t + 1e-3) is not None


def test_shape_is_strict_no_broadcasting_and_0d_is_not_1_element():
    d = diff(torch.tensor(1.0), torch.tensor([1.0]))
    assert d is not None and d.message.startswith("result: shape differs: expected (), got (1,); looks like the right values")
    d = diff(torch.ones(3, 1), torch.ones(3))
    assert "expected (3, 1), got (3,)" in d.message


def test_dtype_difference_is_named():
    d = diff(torch.ones(2, dtype=torch.int64), torch.ones(2))
    assert d.message == "result: dtype differs: expected torch.int64, got torch.float32"


def test_value_difference_names_first_index_and_both_values():
    e = torch.zeros(2, 3)
    g = e.clone()
    g[1, 2] = 0.5
    d = diff(e, g)
    assert d.details["first_index"] == [1, 2]
    assert d.details["expected_value"] == "0" and d.details["got_value"] == "0.5"
    assert d.details["max_abs_diff"] == pytest.approx(0.5)
    assert "1 of 6 elements differ" in d.message


def test_tolerance_can_be_overridden_per_check():
    assert diff(torch.ones(2), torch.ones(2) + 0.01, rtol=0.0, atol=0.1) is None


def test_nan_equals_nan_but_not_a_number():
    assert diff(torch.tensor([math.nan]), torch.tensor([math.nan])) is None
    assert diff(torch.tensor([1.0]), torch.tensor([math.nan])) is not None


def test_a_tensor_that_lost_its_graph_is_reported():
    x = torch.ones(2, requires_grad=True)
    d = diff(x * 2, (x * 2).detach())
    assert d is not None and "does not require grad" in d.message


def test_a_tensor_that_kept_a_graph_the_reference_cut_is_reported():
    """A detached result asked for, and the learner's still tracks: the other way round."""
    x = torch.ones(2, requires_grad=True)
    d = diff((x * 2).detach(), x * 2)
    assert d is not None and d.message.startswith("result: requires grad, but the reference's does not")
    assert (d.expected, d.got) == ("requires_grad=False", "requires_grad=True")
    assert diff((x * 2).detach(), x * 2, compare=("values",)) is None  # asked for values only


def test_containers_compare_element_by_element_and_tuple_is_not_list():
    assert diff((1, torch.ones(2)), (1, torch.ones(2))) is None
    assert "expected a tuple" in diff((1, 2), [1, 2]).message
    d = diff({"a": torch.ones(2)}, {"a": torch.zeros(2)})
    assert d.message.startswith("result['a']: values differ")


def test_modules_compare_structure_and_parameter_shapes():
    a = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    b = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    d = diff(a, b)
    assert d is not None and "2.weight" in d.message and "(3, 8)" in d.message
    c = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    assert "layers differ" in diff(a, c).message
    assert "state_dict" in (diff(a, torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)), ["state_dict"]).message)


def test_optimizer_param_groups_are_compared():
    p = [torch.zeros(2, requires_grad=True)]
    d = diff(torch.optim.SGD(p, lr=0.1, momentum=0.9), torch.optim.SGD(p, lr=0.1, momentum=0.5))
    assert "param_groups[0]['momentum']: expected 0.9, got 0.5" in d.message


def test_subclass_and_fake_tensors_never_decode_as_tensors():
    class Liar(torch.Tensor):
        pass

    d = diff(torch.zeros(2), torch.zeros(2).as_subclass(Liar))
    assert "Tensor subclass Liar" in d.message


@pytest.mark.parametrize("node, blobs", [
    ({"kind": "tensor", "blob": "b0", "dtype": "torch.float32", "shape": [4]}, {"b0": b"\0" * 15}),
    ({"kind": "tensor", "blob": "b0", "dtype": "torch.evil", "shape": [1]}, {"b0": b"\0" * 4}),
    ({"kind": "tensor", "blob": "b9", "dtype": "torch.float32", "shape": [1]}, {}),
    ({"kind": "tensor", "blob": "b0", "dtype": "torch.float32", "shape": [-1]}, {"b0": b""}),
    ({"kind": "pickle", "value": "cos\nsystem\n"}, {}),
    ({"kind": "py", "value": {"a": 1}}, {}),
    ("not a dict", {}),
    ({"kind": "optimizer", "type": "SGD", "param_groups": [["lr", 0.1]]}, {}),
    ({"kind": "optimizer", "type": "SGD", "param_groups": "lr=0.1"}, {}),
])
def test_malformed_data_from_a_child_is_rejected(node, blobs):
    with pytest.raises(BadData):
        decode(node, blobs)


def test_differences_are_exact_for_large_integers_and_never_relative_to_zero():
    import torch

    from tutor.values.compare import compare_values
    from tutor.values.encode import TensorData

    def tensor(values):
        return TensorData(torch.tensor(values), False, "Tensor")

    aspects = {"values", "shape", "dtype"}
    big = compare_values(tensor([0, 2**60 + 1]), tensor([0, 2**60]), "result", aspects)
    assert big is not None and "max abs diff 1," in big.message  # not 0, as a float would say
    zero = compare_values(tensor([0, 0]), tensor([0, 3]), "result", aspects)
    assert zero is not None and "max abs diff 3;" in zero.message and "rel diff" not in zero.message
    mixed = compare_values(tensor([1.0, 0.0]), tensor([1.5, 2.0]), "result", aspects)
    assert mixed is not None and "max rel diff 0.5" in mixed.message  # relative to the non-zero one only


@pytest.mark.parametrize("expected, got", [(1.5, 10**400), (10**400, 1.5), (float("nan"), 10**400), (-(10**400), math.inf)])
def test_an_int_past_a_floats_range_fails_the_check_instead_of_overflowing(expected, got):
    d = diff(expected, got)
    assert d is not None and "(an int of 401 digits)" in d.message


def test_ints_of_hundreds_of_digits_compare_exactly_and_name_their_ends():
    assert diff(10**400, 10**400) is None
    d = diff(10**400, 10**400 + 1)
    assert d is not None
    assert d.message == ("result: expected 1000000000...0000000000 (an int of 401 digits), "
                         "got 1000000000...0000000001 (an int of 401 digits)")


# What a wrong tensor looks like: the slip a learner made, named from the values alone.
_X = torch.arange(1.0, 25.0).reshape(2, 3, 4) ** 1.5  # distinct, unsorted-looking after a shuffle
_M = torch.tensor([[1.0, 5.0, 2.0], [7.0, 3.0, 9.0], [4.0, 8.0, 6.0], [0.5, 2.5, 1.5]])
_V = torch.tensor([0.3, -1.2, 2.5, 0.9, -0.4, 1.7])


@pytest.mark.parametrize("expected, got, phrase", [
    (_M, _M.T, "looks like the right values transposed (yours.T matches)"),
    (_M[:3], _M[:3].T, "looks like the right values transposed"),
    (_X.permute(1, 0, 2), _X, "dimensions in another order (yours.permute(1, 0, 2) matches)"),  # time-first vs batch-first
    (_X.permute(1, 0, 2), _X.reshape(3, 2, 4), "a reshape/view where a transpose/permute was needed"),
    (_M, _M.reshape(3, 4), "another shape (yours.reshape(4, 3) matches)"),
    (_V, _V[:, None], "more dimensions of size 1 (a keepdim=True, an unsqueeze or a squeeze?)"),
    (_M, _M[[2, 0, 3, 1]], "the right rows in another order: yours[i] is the expected row [2, 0, 3, 1][i]"),
    (_V, _V[[3, 0, 5, 1, 4, 2]], "the right values in another order"),
    (_V, _V.roll(1), "rolled by 1 position along dim 0"),
    (_M, torch.cat([_M[:1], _M[:-1]]), "shifted by one position along dim 0 (yours[i+1] is the expected [i]"),
    (_V, _V * 6, "times 6 (a sum where a mean was asked?)"),
    (_V, _V / 6, "divided by 6"),
    (_V, -_V, "opposite sign"),
    (_V * 3.7, (_V * 3.7).to(torch.int64).to(torch.float32), "truncated to integers"),
    (_M, _M[:-1], "without the last row"),
    (_M, torch.cat([torch.zeros(1, 3), _M]), "one extra row at the start"),
    (_V, _V * (1 + 1e-3), "to about 2 digits"),
    (_V * 1.37, (_V * 1.37).half().float(), "float16/bfloat16 on the way"),
])
def test_a_wrong_tensor_is_named_by_what_it_looks_like(expected, got, phrase):
    d = diff(expected, got)
    assert d is not None and phrase in d.message
    assert d.details["looks_like"] in d.message


def test_a_value_unlike_the_expected_one_gets_no_guess():
    """A plain wrong value, or a tensor that is constant along a dim, is not called "shifted"."""
    e = torch.zeros(2, 3)
    g = e.clone()
    g[1, 2] = 0.5
    assert "looks like" not in diff(e, g).message
    assert "looks like" not in diff(torch.ones(4), torch.tensor([1.0, 1.0, 1.0, 2.0])).message
    assert "looks like" not in diff(_V, torch.randn(6, generator=torch.Generator().manual_seed(0))).message


def test_a_huge_tensor_is_not_searched_for_a_likeness():
    big = torch.arange(200_000.0)
    d = diff(big, -big)
    assert d is not None and "looks like" not in d.message


def test_a_number_and_a_tensor_are_named_by_their_types_with_the_way_between_them():
    d = diff(0.4991, torch.tensor(0.4991))
    assert d.message.startswith("result: expected a float (0.4991), got a tensor of shape () and dtype torch.float32")
    assert ".item()" in d.message
    d = diff(torch.tensor([0.5, 1.0]), 3)
    assert d.message.startswith("result: expected a tensor of shape (2,) and dtype torch.float32, got an int (3)")
    assert "expected a str ('a'), got None" in diff("a", None).message


def test_the_apps_short_summary_keeps_what_the_value_looks_like():
    """The fronts cut the message where the table repeats it; the likeness stays."""
    from tutor.present import check_summary

    d = diff(_M, _M.T)
    assert check_summary(d.message, d.details) == "result: shape differs; looks like the right values transposed (yours.T matches)"
    d = diff(_V, -_V)
    assert check_summary(d.message, d.details).startswith("result: values differ; looks like the right values with the opposite sign")


@pytest.mark.parametrize("node", [
    {"kind": "optimizer", "type": "SGD", "param_groups": [{"lr": 10**400}]},
    {"kind": "scheduler", "type": "StepLR", "lrs": [[10**400]]},
], ids=["optimizer-lr", "scheduler-lr"])
def test_a_forged_401_digit_rate_fails_the_comparison_instead_of_overflowing(node):
    reference = {"optimizer": {"kind": "optimizer", "type": "SGD", "param_groups": [{"lr": 0.1}]},
                 "scheduler": {"kind": "scheduler", "type": "StepLR", "lrs": [[0.1]]}}[node["kind"]]
    d = compare_values(decode(reference, {}), decode(node, {}), "result", set())
    assert d is not None and "expected" in d.message


def test_a_forged_complex_number_past_a_floats_range_is_bad_data():
    with pytest.raises(BadData, match="malformed complex number"):
        decode({"kind": "complex", "value": [10**400, 0.0]}, {})


def test_no_relative_difference_against_an_expected_value_of_about_zero():
    """torch.sin of pi is -8.7e-8 in float32, not 0: a difference of 1 against it is not
    'max rel diff 1.1e+07'."""
    e = torch.sin(torch.tensor([math.pi, math.pi / 2])) * 2
    assert e[0] != 0
    d = diff(e, torch.tensor([1.0, 2.0]))
    assert d is not None and "max abs diff 1;" in d.message and "rel diff" not in d.message
    d = diff(torch.tensor([1e-9, 4.0]), torch.tensor([1.0, 5.0]))
    assert "max rel diff 0.25" in d.message  # the 4 -> 5 only
