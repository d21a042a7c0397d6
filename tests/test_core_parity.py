"""The core against torch 2.13: user code written for torch.utils.data gives the same batches and torch's errors.

Each case runs the same code with torch's module and with tinytorch.data (`both`), where torch is installed; the
expected values are written out too, so the tests also run (and can fail) without torch.
"""
import os
from collections import OrderedDict, defaultdict, namedtuple

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinytorch.data as ours
from tinytorch.data import DataLoader, Subset, TensorDataset, default_collate
from tinytorch.data.collate import default_convert, map_leaves
from tinytorch.data.datasets import TinyDigits
from tinytorch.data.datasets.tinytalks import TokenWindows
from torch_reference import torch_or_none

torch = torch_or_none()


def both(run):
    """`run(module)` with tinytorch.data, and with torch.utils.data when torch is installed (the same result)."""
    result = run(ours)
    if torch is not None:
        import torch.utils.data as theirs

        assert plain(run(theirs)) == plain(result)
    return plain(result)


def array(module, values):
    """`values` as the module's array type: NumPy for tinytorch.data, a tensor for torch (whose TensorDataset needs one)."""
    return np.asarray(values) if module is ours else torch.as_tensor(np.asarray(values))


def plain(value):
    """Nested lists of Python numbers, whatever arrays or tensors `value` holds."""
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return np.asarray(value).tolist()


# B0: a subclass overriding __iter__ is iterated, not bypassed by the built-in fast route.

def reversed_sampler(module):
    class Reversed(module.SequentialSampler):
        def __iter__(self):
            return iter(reversed(range(len(self.data_source))))

    return Reversed(range(6))


def even_sampler(module):
    class Even(module.RandomSampler):
        def __iter__(self):
            return iter([i for i in range(len(self.data_source)) if i % 2 == 0])

        def __len__(self):
            return (len(self.data_source) + 1) // 2

    return Even(range(6))


@pytest.mark.parametrize("make, batch_size, expected", [
    (reversed_sampler, 2, [[5, 4], [3, 2], [1, 0]]),
    (even_sampler, 2, [[0, 2], [4]]),
    (reversed_sampler, None, [5, 4, 3, 2, 1, 0]),
])
def test_a_sampler_subclass_overriding_iter_is_iterated(make, batch_size, expected):
    def run(module):
        return list(module.DataLoader(list(range(6)), batch_size=batch_size, sampler=make(module)))

    assert both(run) == expected


def test_a_batch_sampler_subclass_overriding_iter_is_iterated():
    def run(module):
        class EachReversed(module.BatchSampler):
            def __iter__(self):
                for batch in super().__iter__():
                    yield batch[::-1]

        return list(module.DataLoader(list(range(6)), batch_sampler=EachReversed(module.SequentialSampler(range(6)),
                                                                                  2, False)))

    assert both(run) == [[1, 0], [3, 2], [5, 4]]


def test_a_subclass_that_only_renames_things_keeps_the_fast_route():
    class Named(ours.RandomSampler):
        pass

    sampler = Named(range(10), generator=3)
    batches = [batch.tolist() for batch in DataLoader(list(range(10)), batch_size=4, sampler=sampler)]
    sampler.set_epoch(0)
    assert sum(batches, []) == sampler.epoch_indices().tolist()


# B0b: a subclass of a built-in dataset overriding __getitem__ (or adding __getitems__) is fetched through it.

def test_a_tensor_dataset_subclass_overriding_getitem_is_fetched_through_it():
    def run(module):
        class Scaled(module.TensorDataset):
            def __getitem__(self, i):
                return super().__getitem__(i)[0] * 100

        return next(iter(module.DataLoader(Scaled(array(module, np.arange(3))), batch_size=3)))

    assert both(run) == [0, 100, 200]


def test_a_tensor_dataset_subclass_adding_getitems_is_fetched_through_it():
    def run(module):
        class Gathered(module.TensorDataset):
            def __getitems__(self, indices):
                return [(self.tensors[0][i] * 100,) for i in indices]

        return next(iter(module.DataLoader(Gathered(array(module, np.arange(3))), batch_size=3)))

    assert both(run) == [[0, 100, 200]]


def test_a_subclass_that_vouches_for_the_inherited_get_batch_keeps_the_fast_route():
    class Same(TensorDataset):
        def __getitem__(self, i):
            return super().__getitem__(i)

        get_batch = TensorDataset.get_batch

    calls = []
    dataset = Same(np.arange(4))
    dataset.get_batch = lambda indices: calls.append(list(indices)) or TensorDataset.get_batch(dataset, indices)
    assert [batch[0].tolist() for batch in DataLoader(dataset, batch_size=2)] == [[0, 1], [2, 3]]
    assert calls == [[0, 1], [2, 3]]


def test_an_image_dataset_subclass_returning_the_index_too():
    """The common "also return the index" pattern: three fields per batch, as torch."""
    class WithIndex(TinyDigits):
        def __getitem__(self, i):
            image, label = super().__getitem__(i)
            return image, label, i

    images, labels, indices = next(iter(DataLoader(WithIndex(), batch_size=4)))
    assert images.shape[0] == 4 and indices.tolist() == [0, 1, 2, 3]
    assert labels.tolist() == [TinyDigits()[i][1] for i in range(4)]


def test_a_token_windows_subclass_overriding_getitem_is_fetched_through_it():
    class Shifted(TokenWindows):
        def __getitem__(self, i):
            inputs, targets = super().__getitem__(i)
            return inputs + 1000, targets

    inputs, _ = next(iter(DataLoader(Shifted(np.arange(20), 4), batch_size=2)))
    assert inputs.tolist() == [[1000, 1001, 1002, 1003], [1001, 1002, 1003, 1004]]


# B1: Subset reads its indices on every access.

def test_a_subset_edited_in_place_serves_the_new_samples():
    def run(module):
        subset = module.Subset(module.TensorDataset(array(module, np.arange(10) * 10)), [0, 1, 2])
        first = next(iter(module.DataLoader(subset, batch_size=3)))
        subset.indices[0] = 9
        edited = next(iter(module.DataLoader(subset, batch_size=3)))
        subset.indices.append(5)
        grown = next(iter(module.DataLoader(subset, batch_size=4)))
        return first, edited, grown, subset[0]

    assert both(run) == [[[0, 10, 20]], [[90, 10, 20]], [[90, 10, 20, 50]], [90]]


def test_a_subset_over_an_index_array_is_read_on_every_access_too():
    subset = Subset(TensorDataset(np.arange(10)), np.array([3, 4]))
    assert subset.get_batch([1, 0])[0].tolist() == [4, 3]
    subset.indices[1] = 7
    assert subset.get_batch([1, -2])[0].tolist() == [7, 3]


# B3: one rule rebuilds containers, whatever the path (collate, workers' shared memory, as_tensors).

Point = namedtuple("Point", "x y")


class Tagged(list):
    """A list subclass: rebuilt as itself."""


def samples_of_every_container():
    return [defaultdict(list, x=np.float32(i), y=[i, i + 1]) for i in range(4)], \
        [OrderedDict(b=i, a=np.ones(2) * i) for i in range(4)], \
        [Point(np.arange(2) + i, i) for i in range(4)], \
        [Tagged([i, np.zeros(1)]) for i in range(4)]


@pytest.mark.parametrize("samples", samples_of_every_container(), ids=["defaultdict", "OrderedDict", "namedtuple",
                                                                       "list subclass"])
def test_a_batch_keeps_its_container_types_on_every_path(samples):
    collated = default_collate(samples)
    identity = map_leaves(collated, lambda array: array, np.ndarray)
    assert type(identity) is type(collated) is type(samples[0])
    assert type(default_convert(samples[0])) is type(samples[0])
    if isinstance(collated, defaultdict):
        assert identity.default_factory is list and type(identity["y"]) is list

    class Listed(ours.Dataset):
        def __len__(self):
            return len(samples)

        def __getitem__(self, i):
            return samples[i]

    for options in (dict(num_workers=2), dict(as_tensors=True)):
        if "as_tensors" in options and torch is None:
            continue
        batch = next(iter(DataLoader(Listed(), batch_size=4, **options)))
        assert type(batch) is type(samples[0]), options


# A3: torch's error types and messages for argument values.

@pytest.mark.parametrize("make, error, message", [
    (lambda m: m.DataLoader(range(4), batch_size=1.0), ValueError,
     "batch_size should be a positive integer value, but got batch_size=1.0"),
    (lambda m: m.BatchSampler(range(3), True, False), ValueError,
     "batch_size should be a positive integer value, but got batch_size=True"),
    (lambda m: m.BatchSampler(range(3), 2, drop_last=1), ValueError,
     "drop_last should be a boolean value, but got drop_last=1"),
    (lambda m: m.WeightedRandomSampler([1.0, 2.0], True), ValueError,
     "num_samples should be a positive integer value, but got num_samples=True"),
    (lambda m: m.WeightedRandomSampler([1.0, 2.0], 2.0), ValueError,
     "num_samples should be a positive integer value, but got num_samples=2.0"),
    (lambda m: m.WeightedRandomSampler([1.0, 2.0], 3, replacement=1), ValueError,
     "replacement should be a boolean value, but got replacement=1"),
    (lambda m: m.WeightedRandomSampler([[0.1, 0.2]], 5), ValueError,
     "weights should be a 1d sequence but given weights have shape (1, 2)"),
    (lambda m: m.DataLoader(range(4), drop_last="yes"), ValueError,
     "drop_last should be a boolean value, but got drop_last=yes"),
    (lambda m: m.DataLoader(range(4), batch_size="2"), ValueError,
     "batch_size should be a positive integer value, but got batch_size=2"),
    (lambda m: m.RandomSampler(range(3), replacement="yes"), TypeError,
     "replacement should be a boolean value, but got replacement=yes"),
    (lambda m: m.Dataset()[0], NotImplementedError, "Subclasses of Dataset should implement __getitem__."),
])
def test_argument_errors_are_torchs(make, error, message):
    modules = [ours] if torch is None else [ours, __import__("torch.utils.data").utils.data]
    for module in modules:
        with pytest.raises(error) as raised:
            make(module)
        assert str(raised.value) == message, module.__name__


@given(st.one_of(st.booleans(), st.floats(), st.text(max_size=3), st.integers(max_value=0)))
def test_every_value_that_is_not_a_positive_int_is_torchs_value_error(value):
    with pytest.raises(ValueError, match=r"^batch_size should be a positive integer value, but got batch_size="):
        ours.BatchSampler(range(3), value, False)


# A5: a seeded sampler iterated on its own draws a new order each time, as torch's.

@pytest.mark.parametrize("make", [
    lambda g: ours.RandomSampler(range(30), generator=g),
    lambda g: ours.SubsetRandomSampler(list(range(30)), generator=g),
    lambda g: ours.WeightedRandomSampler(np.ones(30), 30, replacement=False, generator=g),
])
def test_a_seeded_sampler_iterated_on_its_own_moves_on_and_is_reproducible(make):
    sampler = make(5)
    orders = [list(sampler) for _ in range(3)]
    assert orders[0] != orders[1] != orders[2]
    again = make(5)
    assert [list(again) for _ in range(3)] == orders
    stopped = make(5)
    next(iter(stopped))  # an iteration not finished leaves the epoch as it was
    assert list(stopped) == orders[0]


# A4: what torch's loader and samplers take from torch's global generator, taken at the same moments.

DRAW_CASES = {
    "plain": lambda m: m.DataLoader(list(range(10)), batch_size=4),
    "shuffle": lambda m: m.DataLoader(list(range(10)), batch_size=4, shuffle=True),
    "RandomSampler": lambda m: m.DataLoader(list(range(10)), batch_size=4, sampler=m.RandomSampler(range(10))),
    "SubsetRandomSampler": lambda m: m.DataLoader(list(range(10)), batch_size=4,
                                                  sampler=m.SubsetRandomSampler(range(10))),
    "WeightedRandomSampler": lambda m: m.DataLoader(list(range(10)), batch_size=4,
                                                    sampler=m.WeightedRandomSampler([1.0] * 10, 10)),
    "persistent workers": lambda m: m.DataLoader(list(range(10)), batch_size=4, num_workers=2, persistent_workers=True),
    "seeded DistributedSampler": lambda m: m.DataLoader(list(range(10)), batch_size=4,
                                                        sampler=m.DistributedSampler(range(10), 2, 0)),
}


@pytest.mark.skipif(torch is None, reason="needs torch")
@pytest.mark.parametrize("name", DRAW_CASES)
def test_the_model_gets_the_same_random_numbers_as_with_torchs_loader(name):
    import torch.utils.data as theirs

    def after_two_epochs(module):
        torch.manual_seed(0)
        loader = DRAW_CASES[name](module)
        for _ in range(2):
            for _ in loader:
                pass
        return torch.rand(1).item()

    assert after_two_epochs(ours) == after_two_epochs(theirs)


@pytest.mark.skipif(torch is None, reason="needs torch")
def test_the_base_seed_is_taken_when_the_iterator_is_made():
    import torch.utils.data as theirs

    def model_draw_between_iter_and_next(module):
        torch.manual_seed(0)
        batches = iter(module.DataLoader(list(range(10)), batch_size=4))
        drawn = torch.rand(1).item()
        next(batches)
        return drawn, torch.rand(1).item()

    assert model_draw_between_iter_and_next(ours) == model_draw_between_iter_and_next(theirs)


class Pids(ours.Dataset):
    """A dataset with the fast path whose batches say which process made them."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return np.int64(os.getpid())

    def get_batch(self, indices):
        return np.full(len(indices), os.getpid())


def test_in_process_false_sends_fast_path_batches_through_the_workers():
    loader = DataLoader(Pids(), batch_size=4, num_workers=2)
    assert loader.in_process and {int(pid) for batch in loader for pid in batch} == {os.getpid()}
    loader.in_process = False
    pids = {int(pid) for batch in loader for pid in batch}
    assert pids and os.getpid() not in pids


# C6: the datasets' and the loader's errors are torch's (type, and torch's words first).

@pytest.mark.parametrize("call, error, words", [
    (lambda m, a: m.TensorDataset(a(np.zeros(2)), a(np.zeros(3))), AssertionError, "Size mismatch between tensors"),
    (lambda m, a: m.ConcatDataset([]), AssertionError, "datasets should not be an empty iterable"),
    (lambda m, a: m.ConcatDataset([[1, 2], [3]])[-4], ValueError,
     "absolute value of index should not exceed dataset length"),
    (lambda m, a: m.random_split(range(10), [3, 6]), ValueError,
     "Sum of input lengths does not equal the length of the input dataset!"),
    (lambda m, a: m.random_split(range(10), [0.3, 0.3]), ValueError,
     "Sum of input lengths does not equal the length of the input dataset!"),
    (lambda m, a: m.random_split(range(10), []), ValueError,
     "Sum of input lengths does not equal the length of the input dataset!"),
    (lambda m, a: m.random_split(range(10), [1.5, -0.5]), ValueError, "Fraction at index 0 is not between 0 and 1"),
])
def test_dataset_errors_are_torchs(call, error, words):
    modules = [ours] if torch is None else [ours, __import__("torch.utils.data").utils.data]
    for module in modules:
        with pytest.raises(error) as raised:
            call(module, lambda values: array(module, values))
        assert str(raised.value).startswith(words), module.__name__


def test_the_iterator_has_the_loaders_length():
    assert both(lambda m: [len(iter(m.DataLoader(list(range(10)), batch_size=4)))]) == [3]


class KeyErrorAtTwo(ours.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise KeyError(i)
        return i


def test_a_worker_error_starts_with_torchs_sentence():
    batches = iter(DataLoader(KeyErrorAtTwo(), batch_size=2, num_workers=1))
    next(batches)
    with pytest.raises(KeyError) as raised:
        next(batches)
    assert str(raised.value).startswith("Caught KeyError in DataLoader worker process 0. It happened while fetching")


def test_the_batch_randomness_goes_only_to_a_get_batch_that_declares_it():
    """The built-in image datasets get `randomness=`; a subclass's own `get_batch(indices)` is called as written."""
    seen = []

    class OwnBatches(TinyDigits):
        def get_batch(self, indices):
            seen.append(list(indices))
            return super().get_batch(indices)

    images, labels = next(iter(DataLoader(OwnBatches(), batch_size=3)))
    assert seen == [[0, 1, 2]] and labels.tolist() == [TinyDigits()[i][1] for i in range(3)]


@pytest.mark.parametrize("batch", [[0, 10**30], [np.uint64(2**63)], np.array([1, 2**63], dtype=np.uint64)])
def test_an_index_beyond_int64_is_an_index_error_naming_the_batch(batch):
    """NumPy alone raises a bare OverflowError, or wraps a uint64 array to a negative index silently."""
    with pytest.raises(IndexError, match="does not fit an int64"):
        list(DataLoader(list(range(4)), batch_sampler=[batch]))
    with pytest.raises(IndexError, match="does not fit an int64"):
        list(ours.BatchSampler(list(batch), 2, False).index_batches())


def test_a_loader_seeded_up_to_2_to_the_64_resumes_from_its_state():
    """torch.manual_seed's range: a seed of 2**64 - 1 is saved and taken back (it was refused above 2**63)."""
    first = DataLoader(list(range(10)), batch_size=3, shuffle=True, generator=2**64 - 1)
    batches = iter(first)
    next(batches)
    state = first.state_dict()
    resumed = DataLoader(list(range(10)), batch_size=3, shuffle=True, generator=1)
    resumed.load_state_dict(state)
    assert [batch.tolist() for batch in resumed] == [batch.tolist() for batch in batches]
