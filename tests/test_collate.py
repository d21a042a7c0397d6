from collections import OrderedDict, UserList, defaultdict, namedtuple
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import assume, example, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.data import default_collate
from torch_reference import torch_or_none

Point = namedtuple("Point", "x y")


def test_leaf_types_follow_torch():
    assert default_collate([1, 2]).dtype == np.int64
    assert default_collate([1.5, 2.0]).dtype == np.float64
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([np.float32(1), np.float32(2)]).dtype == np.float32
    assert default_collate([np.str_("a"), np.str_("b")]) == ["a", "b"]
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert default_collate([b"a", b"b"]) == [b"a", b"b"]
    stacked = default_collate([np.zeros((2, 3), np.uint8), np.ones((2, 3), np.uint8)])
    assert stacked.shape == (2, 2, 3) and stacked.dtype == np.uint8 and stacked[1].sum() == 6


def test_containers_keep_their_type():
    batch = default_collate([(np.zeros(2), 1), (np.ones(2), 2)])
    assert isinstance(batch, tuple) and batch[1].tolist() == [1, 2]
    batch = default_collate([[1, "a"], [2, "b"]])
    assert isinstance(batch, list) and batch[1] == ["a", "b"]
    batch = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(batch, Point) and batch.x.tolist() == [1, 3] and batch.y.dtype == np.float64
    batch = default_collate([OrderedDict(a=1, b=2), OrderedDict(a=3, b=4)])
    assert isinstance(batch, OrderedDict) and list(batch) == ["a", "b"] and batch["b"].tolist() == [2, 4]


# (batch, dtype) as torch 2.13's default_collate gives them (checked against torch by test_numbers_match_torch).
TORCH_NUMBER_DTYPES = [
    ([1, 2.5], np.float32), ([2.5, 1], np.float64), ([True, 2], np.int64), ([2, True], np.int64),
    ([True, 2.5], np.float32), ([2.5, True], np.float64), ([True, False], np.bool_), ([1, 2**63 - 1], np.int64),
    ([np.int32(1), np.float32(2)], np.float32), ([np.float32(1), 2.5], np.float32), ([np.int64(1), 2], np.int64),
    ([1, np.float64(2.5)], np.float64), ([1, np.float32(2.5)], np.float32), ([1.0, np.float32(2)], np.float64),
    ([True, np.int8(3)], np.int8), ([np.int8(1), 300], np.int64), ([np.uint8(1), np.int8(-1)], np.int16),
    ([np.float16(1), 2], np.float16), ([1, 1 + 2j], np.complex64), ([np.complex64(1), np.float64(2)], np.complex128),
]


@pytest.mark.parametrize("batch, dtype", TORCH_NUMBER_DTYPES)
def test_python_and_numpy_numbers_get_torchs_dtype(batch, dtype):
    collated = default_collate(batch)
    assert collated.dtype == dtype
    assert collated.tolist() == [complex(v) if dtype == np.complex64 else v for v in batch]


@pytest.mark.parametrize("batch, dtype", TORCH_NUMBER_DTYPES)
def test_numbers_match_torch(batch, dtype):
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    expected = torch.utils.data.default_collate(batch)
    assert str(expected.dtype) == f"torch.{np.dtype(dtype).name}".replace("bool_", "bool")


class Fixed(Mapping):
    """A read-only mapping whose constructor takes no contents."""

    def __getitem__(self, key):
        return {"a": 1}[key]

    def __iter__(self):
        return iter(["a"])

    def __len__(self):
        return 1


def test_mapping_and_sequence_types_are_kept():
    counts = defaultdict(list, a=1)
    batch = default_collate([counts, defaultdict(list, a=2)])
    assert type(batch) is defaultdict and batch.default_factory is list and batch["a"].tolist() == [1, 2]
    batch = default_collate([MappingProxyType({"a": 1}), MappingProxyType({"a": 2})])
    assert type(batch) is MappingProxyType and batch["a"].tolist() == [1, 2]
    batch = default_collate([Fixed(), Fixed()])
    assert type(batch) is dict and batch["a"].tolist() == [1, 1]  # a type that cannot be rebuilt gives a dict
    batch = default_collate([UserList([1, 2.0]), UserList([3, 4.0])])
    assert type(batch) is UserList and batch[0].tolist() == [1, 3] and batch[1].dtype == np.float64
    batch = default_collate([range(2), range(2)])
    assert isinstance(batch, list) and batch[1].tolist() == [1, 1]


def test_a_sample_of_another_type_names_its_position_and_type():
    with pytest.raises(TypeError, match=r"sample at position 1 is NoneType, but at position 0 it is float64 array"):
        default_collate([np.zeros(2), None])
    with pytest.raises(TypeError, match=r"sample\[1\] at position 2 is str, but at position 0 it is int"):
        default_collate([(0, 1), (0, 2), (0, "x")])
    with pytest.raises(TypeError, match=r"position 1 is complex"):
        default_collate([1.5, 1j])
    assert default_collate([np.array(2.0), 3]).tolist() == [2.0, 3.0]  # numbers among arrays count as 0-d arrays


def test_arrays_of_mixed_dtypes_promote_as_torch():
    assert default_collate([np.zeros(2, np.int64), np.zeros(2, np.float32)]).dtype == np.float32
    assert default_collate([np.zeros(2, np.uint8), np.zeros(2, np.int8)]).dtype == np.int16


def test_ragged_shapes_name_the_field_the_shapes_and_the_positions():
    samples = [{"image": np.zeros((2, 2)), "label": 0}, {"image": np.zeros((2, 2)), "label": 1},
               {"image": np.zeros((3, 2)), "label": 2}]
    with pytest.raises(ValueError) as error:
        default_collate(samples)
    message = str(error.value)
    assert "sample['image']" in message and "(2, 2) at positions [0, 1]" in message and "(3, 2) at positions [2]" in message


def test_nested_path_in_error():
    samples = [((np.zeros(2),), 0), ((np.zeros(3),), 1)]
    with pytest.raises(ValueError, match=r"sample\[0\]\[0\]"):
        default_collate(samples)


def test_structure_mismatch_and_unknown_types():
    with pytest.raises(ValueError, match="position 1"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(ValueError, match="keys"):
        default_collate([{"a": 1}, {"b": 1}])
    with pytest.raises(TypeError, match=r"^default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                                        r"or lists; found <class 'object'>"):  # torch's message first
        default_collate([object(), object()])
    with pytest.raises(TypeError, match=r"^default_collate: batch must contain .*found <class 'NoneType'> \(at "
                                        r"sample\[1\]"):
        default_collate([(1, None), (2, None)])
    with pytest.raises(IndexError, match="^list index out of range"):  # torch's error
        default_collate([])
    with pytest.raises(TypeError, match="found <class 'complex'>"):  # torch has no rule for a Python complex first
        default_collate([1j, 2j])


LEAF_STRATEGIES = {int: st.integers(-2**62, 2**62), float: st.floats(allow_nan=False), bool: st.booleans(),
                   str: st.text(max_size=3), np.ndarray: hnp.arrays(np.float32, (2, 3), elements=st.floats(-1, 1, width=32))}
leaves = st.one_of(*LEAF_STRATEGIES.values())


def structures(leaf):
    return st.recursive(leaf, lambda children: st.one_of(
        st.tuples(children, children), st.lists(children, min_size=1, max_size=3).map(tuple),
        st.dictionaries(st.sampled_from("abc"), children, min_size=1)), max_leaves=6)


def _same_structure(sample):
    """A strategy for more samples whose structure and leaf types equal `sample`'s."""
    if isinstance(sample, dict):
        return st.fixed_dictionaries({key: _same_structure(value) for key, value in sample.items()})
    if isinstance(sample, tuple):
        return st.tuples(*[_same_structure(value) for value in sample])
    return LEAF_STRATEGIES[type(sample)]


def _check(batch, samples):
    first = samples[0]
    if isinstance(first, dict):
        assert isinstance(batch, dict) and list(batch) == list(first)
        for key in first:
            _check(batch[key], [s[key] for s in samples])
    elif isinstance(first, tuple):
        assert isinstance(batch, tuple) and len(batch) == len(first)
        for i in range(len(first)):
            _check(batch[i], [s[i] for s in samples])
    elif isinstance(first, str):
        assert batch == samples
    else:
        assert isinstance(batch, np.ndarray) and len(batch) == len(samples)
        for row, sample in zip(batch, samples):
            np.testing.assert_array_equal(row, sample)


@given(st.data())
def test_collation_keeps_nested_structure(data):
    first = data.draw(structures(leaves))
    samples = [first] + data.draw(st.lists(_same_structure(first), max_size=4))
    _check(default_collate(samples), samples)


NUMBERS = st.one_of(st.booleans(), st.integers(-2**31, 2**31), st.floats(-1e6, 1e6, width=32),
                    st.sampled_from([np.int8(-3), np.uint8(200), np.int32(7), np.float32(1.25),
                                     np.float64(2.5), np.bool_(True)]))


@given(st.lists(NUMBERS, min_size=1, max_size=6))
@example([np.uint8(200), np.int8(-3)])
def test_numbers_keep_their_values_in_a_dtype_of_the_highest_kind(numbers):
    collated = default_collate(numbers)
    kinds = "b" if all(isinstance(v, (bool, np.bool_)) for v in numbers) else None
    if isinstance(numbers[0], float) and not isinstance(numbers[0], np.generic):
        assert collated.dtype == np.float64
    elif any(isinstance(v, (float, np.floating)) for v in numbers):
        assert collated.dtype.kind == "f"
    elif kinds == "b":
        assert collated.dtype == np.bool_
    else:
        assert collated.dtype.kind in "iu"
    np.testing.assert_array_equal(collated, np.array([complex(v).real for v in numbers]).astype(collated.dtype))


def _as_numpy(value):
    """torch's collated batch with tensors as arrays and tuples as lists (torch turns tuples into lists)."""
    torch = torch_or_none()
    if isinstance(value, torch.Tensor):
        return value.numpy()
    if isinstance(value, dict):
        return {key: _as_numpy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_numpy(item) for item in value]
    return value


def _assert_same_batch(ours, theirs):
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype, (ours, theirs)
        np.testing.assert_array_equal(ours, theirs)
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs)
        for key in theirs:
            _assert_same_batch(ours[key], theirs[key])
    elif isinstance(theirs, list) and not all(isinstance(v, str) for v in theirs):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs)
        for mine, other in zip(ours, theirs):
            _assert_same_batch(mine, other)
    else:
        assert ours == theirs


TORCH_LEAVES = st.one_of(NUMBERS, st.text(max_size=3),
                         hnp.arrays(st.sampled_from([np.uint8, np.int64, np.float32]), (2, 3)))


@given(st.data())
@settings(max_examples=60, deadline=None)
def test_nested_samples_collate_as_torch(data):
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    first = data.draw(structures(TORCH_LEAVES))

    def like(sample):  # the same structure, leaves of the same Python kind (numbers may mix their types, as in data)
        if isinstance(sample, dict):
            return st.fixed_dictionaries({key: like(value) for key, value in sample.items()})
        if isinstance(sample, tuple):
            return st.tuples(*[like(value) for value in sample])
        if isinstance(sample, np.ndarray):
            return hnp.arrays(sample.dtype, sample.shape)
        return st.text(max_size=3) if isinstance(sample, str) else NUMBERS

    samples = [first] + data.draw(st.lists(like(first), max_size=3))
    try:
        theirs = torch.utils.data.default_collate(samples)
    except (TypeError, RuntimeError):  # torch refuses some mixes of NumPy and Python numbers, [0, np.True_] say
        assume(False)
    _assert_same_batch(default_collate(samples), _as_numpy(theirs))


def test_a_1d_array_of_strings_is_returned_unchanged_as_torch():
    strings = np.array(["a", "b", "c"])
    assert default_collate(strings) is strings
    assert default_collate(np.array([b"x", b"y"])).tolist() == [b"x", b"y"]
    with pytest.raises(TypeError, match="expects a list of samples"):
        default_collate(np.array([[["a", "b"]]]))  # other arrays are not batches (README: Differences)


def test_default_convert_is_torchs_for_one_unbatched_sample():
    from tinytorch.data.collate import default_convert

    converted = default_convert((np.int64(3), np.float32(0.5), "a", np.str_("b"), [np.uint8(1)], {"k": np.bool_(True)}))
    assert isinstance(converted, tuple) and converted[2:4] == ("a", "b")
    for value, dtype in [(converted[0], np.int64), (converted[1], np.float32), (converted[4][0], np.uint8),
                         (converted[5]["k"], np.bool_)]:
        assert isinstance(value, np.ndarray) and value.shape == () and value.dtype == dtype  # torch: 0-d tensors
    array = np.arange(3)
    assert default_convert(array) is array and default_convert(7) == 7
    assert default_convert(range(2)) == [0, 1]
    assert default_convert(Point(np.int64(1), 2)).x.shape == ()
    assert type(default_convert(UserList([1, 2]))) is UserList


def test_a_loader_without_batching_converts_each_sample_as_torch():
    from tinytorch.data import DataLoader, TensorDataset

    samples = list(DataLoader(TensorDataset(np.arange(3)), batch_size=None))
    assert [type(sample) for sample in samples] == [tuple] * 3
    assert [(type(x), x.shape, int(x)) for (x,) in samples] == [(np.ndarray, (), i) for i in range(3)]
