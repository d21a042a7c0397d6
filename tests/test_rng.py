"""rng's one hash and one uniform: Python ints (one sample) and uint64 arrays (a batch) give the same numbers."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tinytorch.data import rng

uint64s = st.integers(0, 2**64 - 1)


def test_mix_is_splitmix64():
    """SplitMix64 seeded with 0 outputs mix(0 + k * golden ratio) for k = 1, 2, 3: its published first outputs."""
    assert [rng.mix(0, k) for k in (1, 2, 3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


@given(st.lists(uint64s, min_size=1, max_size=20), st.integers(0, 2**40))
def test_one_hash_on_python_ints_and_on_arrays(values, value):
    as_array = rng.mix(np.array(values, dtype=np.uint64), value)
    assert as_array.dtype == np.uint64
    assert as_array.tolist() == [rng.mix(x, value) for x in values]
    assert all(0 <= rng.mix(x, value) < 2**64 for x in values)


@given(uint64s, st.lists(st.integers(1, 2**20), min_size=1, max_size=20))
def test_one_uniform_on_python_ints_and_on_arrays(base, counters):
    as_array = rng.uniform_at(np.array([base], dtype=np.uint64)[:, None], np.array(counters, dtype=np.uint64))
    assert as_array.dtype == np.float64
    as_floats = [rng.uniform_at(base, counter) for counter in counters]
    assert all(type(u) is float and 0 <= u < 1 for u in as_floats)
    assert as_array[0].tolist() == as_floats


@settings(max_examples=60, deadline=None)
@given(uint64s, st.none() | st.integers(0, 2**40), st.integers(1, 3 * rng.LEAN_DRAWS), st.integers(1, 3))
def test_a_one_sample_draw_is_the_batch_draw_on_one_sample(key, stream, size, calls):
    """Whichever route a one-sample draw takes (Python ints up to LEAN_DRAWS numbers, NumPy above), its numbers are
    the batch's row for that sample, call after call."""
    other_keys = np.array([key ^ 1, key], dtype=np.uint64)
    batch, alone, listed = (rng.SampleDraws(other_keys, stream), rng.SampleDraws(other_keys[1:], stream),
                            rng.SampleDraws(other_keys[1:], stream))
    for _ in range(calls):
        rows = batch.uniform(size)
        one = alone.uniform(size)
        assert one.shape == (1, size) and one.dtype == np.float64
        np.testing.assert_array_equal(one[0], rows[1])
        assert listed.uniform_list(size) == rows[1].tolist()
    assert not np.array_equal(rows[0], rows[1])


def test_uniform_keeps_its_shape_and_looks_uniform():
    draws = rng.SampleDraws(rng.sample_keys(3, 0, np.arange(500)), stream=1)
    u = draws.uniform(4, 5)
    assert u.shape == (500, 4, 5) and u.min() >= 0 and u.max() < 1
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    assert np.all(np.abs(counts - 1000) < 150)  # 10,000 numbers: each tenth within 5 standard deviations
    assert len(np.unique(u)) == u.size
    np.testing.assert_array_equal(draws.uniform(1).shape, (500, 1))


def test_uniform_list_is_for_one_sample():
    with pytest.raises(ValueError, match="uniform_list is for draws over one sample, these are over 2"):
        rng.SampleDraws(np.array([1, 2], dtype=np.uint64)).uniform_list(1)
