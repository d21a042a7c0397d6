from collections import OrderedDict, namedtuple

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.data import default_collate

Point = namedtuple("Point", "x y")


def test_leaf_types_follow_torch():
    assert default_collate([1, 2]).dtype == np.int64
    assert default_collate([1.5, 2.0]).dtype == np.float64
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([np.float32(1), np.float32(2)]).dtype == np.float32
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
    with pytest.raises(TypeError, match="object"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="non-empty list"):
        default_collate([])


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
