import json
import math

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from tinytorch.data import (BatchSampler, DistributedSampler, RandomSampler, SequentialSampler, SubsetRandomSampler,
                            WeightedRandomSampler)

lengths = st.integers(min_value=0, max_value=300)
seeds = st.integers(min_value=0, max_value=2**32)


@given(lengths, seeds)
def test_random_sampler_is_a_permutation_each_epoch(n, seed):
    """Of an empty dataset too (torch refuses one: README, Differences)."""
    sampler = RandomSampler(range(n), generator=seed)
    for _ in range(3):
        assert sorted(sampler) == list(range(n))


@given(st.integers(1, 50), st.integers(1, 200), seeds)
def test_random_sampler_num_samples_without_replacement_repeats_whole_permutations(n, num_samples, seed):
    order = list(RandomSampler(range(n), num_samples=num_samples, generator=seed))
    assert len(order) == num_samples
    for start in range(0, num_samples, n):
        chunk = order[start:start + n]
        assert len(set(chunk)) == len(chunk)


def epochs_of(sampler, n):
    orders = []
    for epoch in range(n):
        sampler.set_epoch(epoch)
        orders.append(list(sampler))
    return orders


@pytest.mark.parametrize("make", [lambda seed: RandomSampler(range(100), generator=seed),
                                  lambda seed: RandomSampler(range(100), replacement=True, generator=seed),
                                  lambda seed: SubsetRandomSampler(list(range(0, 200, 2)), generator=seed),
                                  lambda seed: WeightedRandomSampler(np.arange(1, 101), 50, replacement=False,
                                                                     generator=seed)])
def test_seeded_samplers_are_pure_functions_of_seed_and_epoch(make):
    a = make(7)
    epochs_a = epochs_of(a, 3)
    assert epochs_a == epochs_of(make(7), 3)
    assert epochs_a[0] != epochs_a[1] != epochs_a[2] and epochs_a[0] != epochs_of(make(8), 1)[0]
    a.set_epoch(2)
    assert list(a) == epochs_a[2] and a.state_dict()["epoch"] == 3  # iterated on its own: the next epoch, as torch
    a.set_epoch(2)
    assert a.epoch_indices().tolist() == epochs_a[2] == a.epoch_indices().tolist()  # what the loader takes
    assert list(a) != list(a)  # torch's advances too; ours went on from epoch 3 to 4
    c = make(7)
    c.set_epoch(1)
    state = c.state_dict()
    assert list(c) == epochs_a[1]
    d = make(1)
    d.load_state_dict(json.loads(json.dumps(state)))
    assert d.state_dict() == {"seed": 7, "epoch": 1} and list(d) == epochs_a[1]


@pytest.mark.parametrize("state", [{"seed": 1}, {"seed": 1, "epoch": -1}, {"seed": 1.5, "epoch": 0},
                                   {"seed": 1, "epoch": 0, "more": 2}, [1, 0], {"seed": 1, "epoch": False}])
def test_sampler_load_state_dict_refuses_bad_states(state):
    sampler = RandomSampler(range(10), generator=3)
    with pytest.raises(ValueError, match="RandomSampler state"):
        sampler.load_state_dict(state)
    assert sampler.state_dict() == {"seed": 3, "epoch": 0}


def test_samplers_without_a_generator_draw_their_seed_from_numpy_global_generator():
    np.random.seed(0)
    first = list(RandomSampler(range(50)))
    np.random.seed(0)
    assert list(RandomSampler(range(50))) == first
    assert list(RandomSampler(range(50))) != first


def test_random_sampler_with_replacement_draws_num_samples_in_range():
    order = list(RandomSampler(range(5), replacement=True, num_samples=1000, generator=0))
    assert len(order) == 1000 and set(order) == set(range(5))


def test_numpy_generator_seeds_deterministically():
    a = list(RandomSampler(range(50), generator=np.random.default_rng(3)))
    b = list(RandomSampler(range(50), generator=np.random.default_rng(3)))
    assert a == b


@given(st.lists(st.integers(0, 1000), unique=True, max_size=100), seeds)
def test_subset_random_sampler_permutes_its_indices(indices, seed):
    sampler = SubsetRandomSampler(indices, generator=seed)
    assert sorted(sampler) == sorted(indices) and len(sampler) == len(indices)


@given(st.lists(st.floats(0, 10) | st.sampled_from([5e-324, 1e-310, 1e300]), min_size=1, max_size=30)
       .filter(lambda w: sum(w) > 0), st.integers(1, 30), seeds)
@example([1.0, 5e-324], 2, 0)  # a weight that normalising rounds to 0: NumPy's "Fewer non-zero entries in p than size"
@example([5e-324, 5e-324, 2.0], 3, 1)
def test_weighted_sampler_without_replacement_yields_distinct_nonzero_indices(weights, num_samples, seed):
    nonzero = sum(w > 0 for w in weights)
    if num_samples > nonzero:
        with pytest.raises(ValueError, match="num_samples"):
            WeightedRandomSampler(weights, num_samples, replacement=False, generator=seed)
        return
    order = list(WeightedRandomSampler(weights, num_samples, replacement=False, generator=seed))
    assert len(order) == len(set(order)) == num_samples
    assert all(weights[i] > 0 for i in order)


def test_weighted_sampler_follows_the_weights():
    order = np.array(list(WeightedRandomSampler([1, 0, 3], 20000, generator=0)))
    assert not np.any(order == 1)
    assert abs(np.mean(order == 2) - 0.75) < 0.02
    huge = np.array(list(WeightedRandomSampler([1e308, 1e308, 0], 1000, generator=0)))  # the sum overflows
    assert set(huge.tolist()) == {0, 1}


def test_weighted_sampler_without_replacement_draws_successively_in_proportion():
    """Without replacement, the first index follows the weights, and a second draw follows the rest (torch's law)."""
    firsts, seconds_after_2 = np.zeros(3), np.zeros(3)
    sampler = WeightedRandomSampler([1, 2, 5], 2, replacement=False, generator=0)
    for epoch in range(8000):
        sampler.set_epoch(epoch)
        first, second = list(sampler)
        firsts[first] += 1
        if first == 2:
            seconds_after_2[second] += 1
    np.testing.assert_allclose(firsts / firsts.sum(), [1 / 8, 2 / 8, 5 / 8], atol=0.02)
    np.testing.assert_allclose(seconds_after_2 / seconds_after_2.sum(), [1 / 3, 2 / 3, 0], atol=0.03)


@pytest.mark.parametrize("weights", [[-1, 2], [0, 0], [[1, 2]], [float("nan"), 1]])
def test_weighted_sampler_rejects_bad_weights(weights):
    with pytest.raises(ValueError, match="weights"):
        WeightedRandomSampler(weights, 2)


@given(st.integers(0, 200), st.integers(1, 8), st.booleans(), st.booleans(), seeds)
@settings(max_examples=200)
def test_distributed_shards_are_disjoint_and_cover_the_dataset(n, replicas, shuffle, drop_last, seed):
    shards = [list(DistributedSampler(range(n), num_replicas=replicas, rank=r, shuffle=shuffle, seed=seed,
                                      drop_last=drop_last)) for r in range(replicas)]
    sizes = {len(shard) for shard in shards}
    assert len(sizes) == 1
    size = sizes.pop()
    flat = [i for shard in shards for i in shard]
    if drop_last and n % replicas:
        assert size == n // replicas
        assert len(set(flat)) == len(flat)
    else:
        assert size == math.ceil(n / replicas)
        assert set(flat) == set(range(n))
        assert len(flat) - len(set(flat)) == size * replicas - n


def test_distributed_padding_repeats_the_start_of_the_order_as_torch():
    shards = [list(DistributedSampler(range(5), num_replicas=4, rank=r, shuffle=False)) for r in range(4)]
    assert shards == [[0, 4], [1, 0], [2, 1], [3, 2]]


def test_distributed_set_epoch_changes_the_order_and_iteration_does_not():
    sampler = DistributedSampler(range(100), num_replicas=2, rank=0, seed=1)
    first, again = list(sampler), list(sampler)
    assert first == again
    sampler.set_epoch(1)
    assert list(sampler) != first


def test_distributed_reads_world_size_and_rank_from_the_environment(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "2")
    sampler = DistributedSampler(range(9), shuffle=False)
    assert (sampler.num_replicas, sampler.rank, list(sampler)) == (3, 2, [2, 5, 8])
    monkeypatch.delenv("WORLD_SIZE")
    with pytest.raises(ValueError, match="WORLD_SIZE"):
        DistributedSampler(range(9))


def test_distributed_rejects_a_rank_outside_the_world():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):  # torch's words
        DistributedSampler(range(9), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match=r"Invalid rank -1, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(9), num_replicas=2, rank=-1)


@given(st.integers(0, 100), st.integers(1, 20), st.booleans())
def test_batch_sampler_groups_in_order(n, batch_size, drop_last):
    batches = list(BatchSampler(SequentialSampler(range(n)), batch_size, drop_last))
    assert len(batches) == len(BatchSampler(SequentialSampler(range(n)), batch_size, drop_last))
    flat = [i for batch in batches for i in batch]
    assert flat == list(range(len(flat)))
    assert all(len(batch) == batch_size for batch in batches[:-1])
    assert len(flat) == (n - n % batch_size if drop_last else n)
    assert all(isinstance(batch, list) for batch in batches)


def test_batch_sampler_over_a_plain_iterable_sampler():
    assert list(BatchSampler([3, 1, 2, 0, 4], 2, drop_last=False)) == [[3, 1], [2, 0], [4]]


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(batch_size=0, drop_last=False), ValueError, "batch_size"),
    (dict(batch_size=2.0, drop_last=False), ValueError, "^batch_size should be a positive integer value, but got "
                                                        "batch_size=2.0$"),  # torch's type and words
    (dict(batch_size=True, drop_last=False), ValueError, "batch_size=True$"),
    (dict(batch_size=2, drop_last=1), ValueError, "^drop_last should be a boolean value, but got drop_last=1$"),
])
def test_batch_sampler_argument_errors_name_the_argument(kwargs, error, words):
    with pytest.raises(error, match=words):
        BatchSampler(range(3), **kwargs)


def test_random_sampler_argument_errors():
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(range(3), replacement="yes")
    with pytest.raises(TypeError, match="generator"):
        RandomSampler(range(3), generator="seed")
