"""rng's one hash and one uniform: Python ints (one sample) and uint64 arrays (a batch) give the same numbers."""
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tinytorch.data import rng

uint64s = st.integers(0, 2**64 - 1)


def test_mix_is_splitmix64():
    """mix(seed, k) is output k of SplitMix64 seeded with `seed`: its published outputs for seeds 0 and 1234567."""
    assert [rng.mix(0, k) for k in (1, 2, 3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
    assert [rng.mix(1234567, k) for k in (1, 2, 3)] == [6457827717110365317, 3203168211198807973, 9817491932198370423]


@given(st.lists(uint64s, min_size=1, max_size=20), st.integers(0, 2**40))
def test_one_hash_on_python_ints_and_on_arrays(values, value):
    as_array = rng.mix(np.array(values, dtype=np.uint64), value)
    assert as_array.dtype == np.uint64
    assert as_array.tolist() == [rng.mix(x, value) for x in values]
    assert all(0 <= rng.mix(x, value) < 2**64 for x in values)


@given(uint64s, st.lists(st.integers(1, 2**60), min_size=1, max_size=20))
def test_one_uniform_on_python_ints_and_on_arrays(key, indices):
    as_array = rng.uniform_at(np.array([key], dtype=np.uint64)[:, None], np.array(indices, dtype=np.uint64))
    assert as_array.dtype == np.float64
    as_floats = [rng.uniform_at(key, index) for index in indices]
    assert all(type(u) is float and 0 <= u < 1 for u in as_floats)
    assert as_array[0].tolist() == as_floats


@settings(max_examples=60, deadline=None)
@given(uint64s, st.integers(0, 2**15), st.integers(1, 3 * rng.LEAN_DRAWS), st.integers(1, 3))
def test_a_one_sample_draw_is_the_batch_draw_on_one_sample(key, stream, size, calls):
    """Whichever route a one-sample draw takes (Python ints up to LEAN_DRAWS numbers, NumPy above), given its key as
    an int or an array, its numbers are the batch's row for that sample, call after call."""
    keys = np.array([key ^ 1, key], dtype=np.uint64)
    batch, alone, as_int, listed = (rng.SampleDraws(keys, stream), rng.SampleDraws(keys[1:], stream),
                                    rng.SampleDraws(key, stream), rng.SampleDraws(key, stream))
    for _ in range(calls):
        rows = batch.uniform(size)
        for one in alone.uniform(size), as_int.uniform(size):
            assert one.shape == (1, size) and one.dtype == np.float64
            np.testing.assert_array_equal(one[0], rows[1])
        assert listed.uniform_list(size) == rows[1].tolist()
    assert not np.array_equal(rows[0], rows[1])
    going_on = rng.SampleDraws(batch.keys[1:])  # a stream's keys with its calls copied go on with its numbers
    going_on.calls = batch.calls
    np.testing.assert_array_equal(going_on.uniform(size + 1)[0], batch.uniform(size + 1)[1])


@settings(max_examples=60, deadline=None)
@given(uint64s, st.integers(2, 40), st.lists(st.tuples(st.integers(1, rng.LEAN_DRAWS + 2), st.booleans()), min_size=1,
                                              max_size=4), st.data())
def test_the_samples_of_a_block_draw_what_they_draw_alone(seed, n, draws, data):
    """The loader's per-sample path: each sample of a block, narrowed in turn, draws what it draws alone (its k-th
    random transform on stream k of its own key), whether a draw is small (read from the block's table once a second
    sample asks) or not, and whether every sample makes it or only some do; and a draw that every sample makes is
    the row of the same draw over the whole block."""
    takers = [data.draw(st.sets(st.integers(0, n - 1), min_size=1)) if some else set(range(n)) for _, some in draws]

    def one_sample(i):
        return [rng.draws(1).uniform_list(size) if i in taking else None for (size, _), taking in zip(draws, takers)]

    with rng.sample_randomness(seed, 3, 100, n):
        got = rng.each_sample(one_sample, range(n))
    for i in range(n):
        with rng.sample_randomness(seed, 3, 100 + i, 1):
            assert got[i] == one_sample(i)
    if all(not some for _, some in draws):
        with rng.sample_randomness(seed, 3, 100, n):
            rows = [rng.draws(n).uniform(size) for size, _ in draws]
        assert got == [[row[i].tolist() for row in rows] for i in range(n)]


def test_streams_and_calls_give_other_numbers():
    key = rng.sample_key(0, 0, 0)
    firsts = [rng.SampleDraws(key, stream).uniform_list(4) for stream in range(5)]
    assert len({u for first in firsts for u in first}) == 20
    draws = rng.SampleDraws(key, 1)
    assert draws.uniform_list(3) != draws.uniform_list(3)


def test_sample_key_is_the_int_of_sample_keys():
    assert rng.sample_keys(5, 2, np.arange(3, 9)).tolist() == [rng.sample_key(5, 2, p) for p in range(3, 9)]
    assert rng.sample_keys(5, 2, [[4]]).shape == (1, 1)


def test_uniform_keeps_its_shape_and_looks_uniform():
    draws = rng.SampleDraws(rng.sample_keys(3, 0, np.arange(500)), stream=1)
    u = draws.uniform(4, 5)
    assert u.shape == (500, 4, 5) and u.min() >= 0 and u.max() < 1
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    assert np.all(np.abs(counts - 1000) < 150)  # 10,000 numbers: each tenth within 5 standard deviations
    assert len(np.unique(u)) == u.size
    assert draws.uniform(1).shape == (500, 1)


def test_uniform_list_is_for_one_sample():
    with pytest.raises(ValueError, match="uniform_list is for draws over one sample, these are over 2"):
        rng.SampleDraws(np.array([1, 2], dtype=np.uint64)).uniform_list(1)


def test_a_stream_refuses_more_calls_than_its_room():
    draws = rng.SampleDraws(rng.sample_key(0, 0, 0), 1)
    draws.calls = 0xFFFE
    draws.uniform_list(1)
    with pytest.raises(ValueError, match="up to 65535 times"):
        draws.uniform(3)


def test_a_draw_made_one_narrowing_deeper_counts_for_the_block():
    """Code that narrows an already narrowed sample again (a per-sample transform of a batch inside a dataset's
    `__getitem__`) draws what it would draw without the extra narrowing, and the block's next transform comes after."""
    def per_sample(nested):
        with rng.sample_randomness(4, 1, 10, 3):
            def one(_):
                if not nested:
                    return rng.draws(1).uniform_list(2)
                with rng.one_sample_randomness(0):
                    return rng.draws(1).uniform_list(2)
            firsts = rng.each_sample(one, range(3))
            return firsts, rng.draws(3).uniform(2).tolist()

    assert per_sample(nested=True) == per_sample(nested=False)


def test_a_torch_generator_gives_one_number_as_torchs_loader_draws_its_base_seed():
    from torch_reference import torch_or_none

    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    from tinytorch.data import DataLoader, RandomSampler, random_split

    expected = torch.empty((), dtype=torch.int64).random_(generator=torch.Generator().manual_seed(3)).item()
    assert rng.seed_from(torch.Generator().manual_seed(3)) == expected
    generator = torch.Generator().manual_seed(3)
    assert rng.seed_from(generator) == expected and rng.seed_from(generator) != expected  # it draws from it
    data = np.arange(20)
    assert [b.tolist() for b in DataLoader(data, batch_size=5, shuffle=True, generator=torch.Generator().manual_seed(3))] \
        == [b.tolist() for b in DataLoader(data, batch_size=5, shuffle=True, generator=expected)]
    assert list(RandomSampler(data, generator=torch.Generator().manual_seed(3))) == list(RandomSampler(data, generator=expected))
    assert [list(s) for s in random_split(data, [0.5, 0.5], generator=torch.Generator().manual_seed(3))] == \
        [list(s) for s in random_split(data, [0.5, 0.5], generator=expected)]


def test_seed_from_never_imports_torch_and_names_what_it_takes():
    import subprocess
    import sys

    code = ("import sys\nfrom tinytorch.data import rng\n"
            "class Generator: pass\n"
            "try:\n    rng.seed_from(Generator())\nexcept TypeError as e:\n    print(e)\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["generator must be None, an int seed, a numpy.random.Generator or a torch.Generator, got Generator",
                   "False"]


@pytest.mark.parametrize("seed, twin", [(2**63, 0), (2**63 + 5, 5), (2**64 - 1, 2**63 - 1)])
def test_every_seed_below_2_64_gives_its_own_batches(seed, twin):
    """torch.manual_seed takes any seed in [0, 2**64): a seed above 2**63 is not its value modulo 2**63."""
    from tinytorch.data import DataLoader, RandomSampler, random_split
    from tinytorch.data.transforms import RandomCrop

    data = np.arange(40)
    images = np.random.default_rng(0).integers(0, 256, (40, 8, 8), dtype=np.uint8)

    def runs(generator):
        loader = DataLoader(data, batch_size=8, shuffle=True, generator=generator)
        with rng.sample_randomness(rng.seed_from(generator), 0, 0, 40):
            crops = RandomCrop(6).apply_batch(images)
        return ([b.tolist() for b in loader], list(RandomSampler(data, generator=generator)),
                [list(s) for s in random_split(data, [0.5, 0.5], generator=generator)], crops)

    assert rng.seed_from(seed) == seed and rng.seed_from(np.uint64(seed)) == seed
    big, small = runs(seed), runs(twin)
    for got, other in zip(big[:3], small[:3]):
        assert got != other
    assert not np.array_equal(big[3], small[3])
    assert big[:3] == runs(seed)[:3]  # still one stream per seed


@pytest.mark.parametrize("seed", [2**64, 2**64 + 5, -1, np.int64(-3)])
def test_a_seed_outside_torchs_range_is_refused_naming_the_argument_and_the_range(seed):
    from tinytorch.data import DataLoader, RandomSampler

    for make, argument in [(lambda: rng.seed_from(seed), "generator"), (lambda: rng.seed_from(seed, "seed"), "seed"),
                           (lambda: DataLoader(range(4), shuffle=True, generator=seed), "generator"),
                           (lambda: RandomSampler(range(4), generator=seed), "generator")]:
        with pytest.raises(ValueError, match=rf"{argument} must be an int seed in \[0, 2\*\*64\) .*got "
                                             + re.escape(f"{argument}={seed!r}")):
            make()


def test_a_loader_seeded_above_2_63_resumes_in_a_new_loader():
    from tinytorch.data import DataLoader

    def loader(generator):
        return DataLoader(range(20), batch_size=3, shuffle=True, generator=generator)

    first = loader(2**64 - 1)
    batches = iter(first)
    next(batches)
    resumed = loader(1)
    resumed.load_state_dict(first.state_dict())
    assert [b.tolist() for b in resumed] == [b.tolist() for b in batches]
    assert [b.tolist() for b in loader(2**64 - 1)] != [b.tolist() for b in loader(2**63 - 1)]
