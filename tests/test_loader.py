import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tinytorch.data import (BatchSampler, DataLoader, Dataset, ImageDataset, IterableDataset, SequentialSampler,
                            TensorDataset, default_collate, get_worker_info)
from tinytorch.data.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor

IMAGES = np.random.default_rng(0).integers(0, 256, size=(103, 8, 8, 3), dtype=np.uint8)
LABELS = np.arange(103) % 10


def augmented():
    return Compose([RandomCrop(6, padding=2), RandomHorizontalFlip(), ToTensor(), Normalize((0.5,) * 3, (0.2,) * 3)])


def epochs(loader, n=2):
    return [[tuple(np.asarray(part).copy() for part in batch) for batch in loader] for _ in range(n)]


def assert_same_stream(a, b):
    assert len(a) == len(b)
    for batch_a, batch_b in zip(a, b):
        for part_a, part_b in zip(batch_a, batch_b):
            np.testing.assert_array_equal(part_a, part_b)


def test_batches_shapes_len_and_order():
    loader = DataLoader(TensorDataset(np.arange(10), np.arange(10) * 2), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [b[0].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [len(b[0]) for b in DataLoader(TensorDataset(np.arange(10)), batch_size=4, drop_last=True)] == [4, 4]
    assert len(DataLoader(TensorDataset(np.arange(10)), batch_size=4, drop_last=True)) == 2


def test_fast_path_and_per_sample_path_give_identical_batches(per_sample):
    fast = DataLoader(ImageDataset(IMAGES, LABELS, transform=augmented()), batch_size=16, shuffle=True, generator=3)
    slow = DataLoader(per_sample(IMAGES, LABELS, augmented()), batch_size=16, shuffle=True, generator=3)
    assert_same_stream(epochs(fast)[1], epochs(slow)[1])


def test_getitems_datasets_are_collated(per_sample):
    class Batched(per_sample):
        calls = 0

        def __getitems__(self, indices):
            Batched.calls += 1
            return [self[i] for i in indices]

    loader = DataLoader(Batched(IMAGES, LABELS, ToTensor()), batch_size=50)
    shapes = [batch[0].shape for batch in loader]
    assert shapes == [(50, 3, 8, 8), (50, 3, 8, 8), (3, 3, 8, 8)] and Batched.calls == 3


def test_generator_seed_makes_epochs_and_transforms_reproducible():
    def make(seed):
        return DataLoader(ImageDataset(IMAGES, LABELS, transform=augmented()), batch_size=10, shuffle=True, generator=seed)

    first, again, other = epochs(make(11)), epochs(make(11)), epochs(make(12))
    assert_same_stream(first[0] + first[1], again[0] + again[1])
    assert not np.array_equal(first[0][0][1], first[1][0][1])  # each epoch reshuffles
    assert not np.array_equal(first[0][0][0], other[0][0][0])
    assert sorted(np.concatenate([batch[1] for batch in first[0]]).tolist()) == sorted(LABELS.tolist())


def test_shuffle_without_generator_still_covers_every_sample():
    loader = DataLoader(TensorDataset(np.arange(50)), batch_size=7, shuffle=True)
    assert sorted(np.concatenate([b[0] for b in loader]).tolist()) == list(range(50))


def test_batch_size_none_yields_uncollated_samples():
    loader = DataLoader(TensorDataset(np.arange(3), np.arange(3) * 2), batch_size=None)
    assert [tuple(int(v) for v in sample) for sample in loader] == [(0, 0), (1, 2), (2, 4)] and len(loader) == 3


def test_batch_sampler_and_custom_collate():
    loader = DataLoader(TensorDataset(np.arange(6)), batch_sampler=[[5, 0], [1, 2, 3]],
                        collate_fn=lambda samples: sum(int(s[0]) for s in samples))
    assert list(loader) == [5, 6] and len(loader) == 2
    loader = DataLoader(TensorDataset(np.arange(6)), batch_sampler=BatchSampler(SequentialSampler(range(6)), 4, False))
    assert [b[0].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5]]


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(np.arange(self.n))

    def __len__(self):
        return self.n


def test_iterable_dataset_batches():
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert len(DataLoader(Stream(7), batch_size=3)) == 3
    assert [int(s) for s in DataLoader(Stream(3), batch_size=None)] == [0, 1, 2]


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(batch_size="8"), ValueError, "^batch_size should be a positive integer value, but got batch_size=8$"),
    (dict(shuffle=True, sampler=[0, 1]), ValueError, "mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), ValueError, "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), ValueError, "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), ValueError, "batch_size=None"),
    (dict(num_workers=-1), ValueError, "num_workers"),
    (dict(timeout=-1), ValueError, "timeout"),
    (dict(prefetch_factor=2), ValueError, "prefetch_factor"),
    (dict(persistent_workers=True), ValueError, "persistent_workers"),
    (dict(collate_fn=3), TypeError, "collate_fn"),
    (dict(generator=1.5), TypeError, "generator"),
])
def test_argument_errors_name_the_argument(kwargs, error, words):
    with pytest.raises(error, match=words):
        DataLoader(TensorDataset(np.arange(4)), **kwargs)


def test_shuffle_takes_any_value_as_bool_like_torch():
    def first_epoch(shuffle):
        return np.concatenate([b[0] for b in DataLoader(TensorDataset(np.arange(40)), batch_size=8, shuffle=shuffle,
                                                        generator=3)]).tolist()

    assert first_epoch(1) == first_epoch("yes") == first_epoch(True) != list(range(40))
    assert first_epoch(0) == first_epoch("") == first_epoch(None) == first_epoch(False) == list(range(40))


def test_iterable_dataset_rejects_ordering_arguments():
    for shuffle in (False, None, 0):
        assert len(list(DataLoader(Stream(3), shuffle=shuffle))) == 3
    for kwargs in (dict(shuffle=True), dict(shuffle=1), dict(shuffle="yes"), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        with pytest.raises(ValueError, match="IterableDataset"):
            DataLoader(Stream(3), **kwargs)
    with pytest.raises(TypeError, match="map-style"):
        DataLoader(object())


def run_with_interruption(make, stop_epoch, stop_batch, epochs_total):
    """The stream of a run stopped after `stop_batch` batches of `stop_epoch` and resumed from its state_dict."""
    loader = make()
    stream = []
    for epoch in range(stop_epoch + 1):
        for number, batch in enumerate(loader):
            stream.append(batch)
            if epoch == stop_epoch and number == stop_batch:
                break
    state = json.loads(json.dumps(loader.state_dict()))  # survives serialisation
    resumed = make()
    resumed.load_state_dict(state)
    for _ in range(state["epoch"], epochs_total):
        stream.extend(resumed)
    return stream


@given(st.integers(1, 12), st.integers(0, 2), st.integers(0, 12), st.booleans(), st.integers(0, 2**31))
@settings(max_examples=40, deadline=None)
def test_resumed_runs_equal_uninterrupted_ones(batch_size, stop_epoch, stop_batch, drop_last, seed):
    def make():
        return DataLoader(ImageDataset(IMAGES[:30], LABELS[:30], transform=augmented()), batch_size=batch_size,
                          shuffle=True, drop_last=drop_last, generator=seed)

    uninterrupted = [batch for loader in [make()] for _ in range(3) for batch in loader]
    stop_batch = min(stop_batch, len(make()) - 1)
    assert_same_stream(run_with_interruption(make, stop_epoch, stop_batch, 3), uninterrupted)


def test_resume_without_a_seed_uses_the_saved_one():
    def make():
        return DataLoader(ImageDataset(IMAGES, LABELS, transform=augmented()), batch_size=8, shuffle=True)

    loader = make()
    iterator = iter(loader)
    next(iterator)
    state = loader.state_dict()
    rest = list(iterator)
    resumed = make()
    resumed.load_state_dict(state)
    assert_same_stream(list(resumed), rest)


RESUME_SCRIPT = """
import json, sys
import numpy as np
from tinytorch.data import DataLoader, ImageDataset
from tinytorch.data.transforms import Compose, RandomCrop, RandomHorizontalFlip, ToTensor
images = np.random.default_rng(0).integers(0, 256, size=(50, 8, 8, 3), dtype=np.uint8)
loader = DataLoader(ImageDataset(images, np.arange(50), transform=Compose([RandomCrop(6, padding=2),
                    RandomHorizontalFlip(), ToTensor()])), batch_size=8, shuffle=True, generator=5)
if sys.argv[1] != "fresh":
    loader.load_state_dict(json.loads(sys.argv[1]))
epochs, sums = int(sys.argv[2]), []
for _ in range(epochs):
    for i, (x, y) in enumerate(loader):
        sums.append([float(x.sum()), y.tolist()])
        if sys.argv[3] == "stop" and len(sums) == 3:
            print(json.dumps({"sums": sums, "state": loader.state_dict()}))
            sys.exit()
print(json.dumps({"sums": sums}))
"""


def test_resume_in_a_new_process():
    def run(*args):
        out = subprocess.run([sys.executable, "-c", RESUME_SCRIPT, *args], capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    whole = run("fresh", "3", "go")["sums"]
    first = run("fresh", "3", "stop")
    rest = run(json.dumps(first["state"]), "3", "go")["sums"]
    assert first["sums"] + rest[: len(whole) - 3] == whole


def test_state_dict_after_a_finished_epoch_points_at_the_next():
    loader = DataLoader(TensorDataset(np.arange(10)), batch_size=5, shuffle=True, generator=1)
    list(loader)
    state = loader.state_dict()
    assert (state["epoch"], state["batches"], state["order"]["epoch"]) == (1, 0, 1)
    with pytest.raises(ValueError, match="lacks"):
        loader.load_state_dict({"epoch": 1})


def orders(loader, epochs):
    return [np.concatenate([batch[0] for batch in loader]).tolist() for _ in range(epochs)]


def test_an_iterator_never_used_takes_no_epoch_and_the_loader_tells_the_sampler():
    def make():
        return DataLoader(TensorDataset(np.arange(30)), batch_size=4, shuffle=True, generator=9)

    expected = orders(make(), 3)
    assert len({tuple(order) for order in expected}) == 3  # each epoch its own order
    loader = make()
    unused = iter(loader)
    assert loader.state_dict()["epoch"] == 0
    assert orders(loader, 3) == expected
    state = loader.state_dict()
    assert (state["epoch"], state["order"]["epoch"]) == (3, 3) and loader.sampler.epoch == 3
    del unused


def test_the_loader_sets_the_epoch_of_seeded_samplers_but_leaves_distributed_samplers_to_the_user():
    from tinytorch.data import DistributedSampler, RandomSampler

    sampler = RandomSampler(range(30), generator=4)
    loader = DataLoader(TensorDataset(np.arange(30)), batch_size=30, sampler=sampler)
    expected = []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        expected.append(list(sampler))
    assert orders(loader, 3) == expected and sampler.epoch == 2
    distributed = DistributedSampler(range(30), num_replicas=2, rank=1, seed=4)
    loader = DataLoader(TensorDataset(np.arange(30)), batch_size=15, sampler=distributed)
    first, second = orders(loader, 2)
    assert first == second and distributed.epoch == 0  # as torch: the user calls set_epoch
    distributed.set_epoch(5)
    assert orders(loader, 1)[0] != first and distributed.epoch == 5


def test_an_iterator_stopped_early_still_counts_its_epoch():
    loader = DataLoader(TensorDataset(np.arange(30)), batch_size=4, shuffle=True, generator=9)
    expected = orders(DataLoader(TensorDataset(np.arange(30)), batch_size=4, shuffle=True, generator=9), 2)
    first = next(iter(loader))[0].tolist()
    assert first == expected[0][:4]
    assert orders(loader, 1) == expected[1:]


def test_state_dict_is_json_and_round_trips():
    loader = DataLoader(TensorDataset(np.arange(30)), batch_size=4, shuffle=True, generator=9)
    iterator = iter(loader)
    next(iterator), next(iterator)
    state = loader.state_dict()
    assert json.loads(json.dumps(state)) == state
    assert state["fingerprint"] == {"dataset_length": 30, "batch_size": 4, "drop_last": False,
                                    "sampler": "RandomSampler"}
    assert (state["epoch"], state["batches"]) == (0, 2)


def saved_state(**kwargs):
    loader = DataLoader(TensorDataset(np.arange(30)), batch_size=4, shuffle=True, generator=9, **kwargs)
    iterator = iter(loader)
    next(iterator)
    return loader.state_dict()


@pytest.mark.parametrize("change, words", [
    (dict(epoch=-1), r"state\['epoch'\] should be a non-negative int, got -1"),
    (dict(epoch=1.0), r"state\['epoch'\] should be a non-negative int, got 1.0"),
    (dict(epoch=True), r"state\['epoch'\]"),
    (dict(epoch=np.bool_(True)), r"state\['epoch'\]"),
    (dict(seed=np.int64(-5)), r"state\['seed'\]"),
    (dict(batches=10**9), r"state\['batches'\]=1000000000 is not within an epoch of 8 batches"),
    (dict(batches=8), r"state\['batches'\]=8 is not within an epoch of 8 batches"),
    (dict(batches="2"), r"state\['batches'\] should be a non-negative int"),
    (dict(seed=-5), r"state\['seed'\]"),
    (dict(seed=2**70), r"state\['seed'\]"),
    (dict(order={"seed": 1, "epoch": 0.5}), r"RandomSampler state\['epoch'\]"),
    (dict(fingerprint=None), "fingerprint"),
])
def test_load_state_dict_refuses_bad_numbers(change, words):
    state = {**saved_state(), **change}
    loader = DataLoader(TensorDataset(np.arange(30)), batch_size=4, shuffle=True, generator=9)
    with pytest.raises(ValueError, match=words):
        loader.load_state_dict(state)
    assert loader.state_dict() == {**saved_state(), "batches": 0}  # nothing was half-loaded


def test_load_state_dict_takes_numpy_integers_as_the_ints_they_are():
    """A state whose numbers went through NumPy (np.int64, np.uint64) resumes as the state with Python ints does."""
    state = saved_state()
    numpy_state = {**state, "seed": np.uint64(state["seed"]), "epoch": np.int64(state["epoch"]),
                   "batches": np.int32(state["batches"]), "order": {key: np.int64(value) if isinstance(value, int) else value
                                                                   for key, value in state["order"].items()}}
    resumed = []
    for loaded in state, numpy_state:
        loader = DataLoader(TensorDataset(np.arange(30)), batch_size=4, shuffle=True, generator=9)
        loader.load_state_dict(loaded)
        resumed.append([batch[0].tolist() for batch in loader])
        assert all(type(value) is int for value in (loader.state_dict()["seed"], loader.state_dict()["epoch"]))
    assert resumed[0] == resumed[1] and len(resumed[0]) == 7


@pytest.mark.parametrize("make, words", [
    (lambda: DataLoader(TensorDataset(np.arange(31)), batch_size=4, shuffle=True), r"dataset_length=30 \(this loader: 31\)"),
    (lambda: DataLoader(TensorDataset(np.arange(30)), batch_size=5, shuffle=True), r"batch_size=4 \(this loader: 5\)"),
    (lambda: DataLoader(TensorDataset(np.arange(30)), batch_size=4, shuffle=True, drop_last=True), "drop_last=False"),
    (lambda: DataLoader(TensorDataset(np.arange(30)), batch_size=4), "sampler='RandomSampler' \\(this loader: 'SequentialSampler'\\)"),
])
def test_load_state_dict_refuses_a_state_of_another_loader(make, words):
    with pytest.raises(ValueError, match="saved by a DataLoader with " + words):
        make().load_state_dict(saved_state())


def test_without_a_generator_numpy_global_seed_makes_the_run_reproducible(per_sample):
    def run():
        return epochs(DataLoader(per_sample(IMAGES, LABELS, augmented()), batch_size=16, shuffle=True))

    np.random.seed(0)
    first = run()
    np.random.seed(0)
    assert_same_stream(sum(run(), []), sum(first, []))
    np.random.seed(1)
    assert not np.array_equal(run()[0][0][0], first[0][0][0])


def test_worker_info_is_none_in_the_main_process():
    assert get_worker_info() is None


def test_legacy_import_path():
    from tinytorch.data.loader import (Compose, DataLoader as LegacyLoader, Dataset as LegacyDataset,
                                       RandomCrop as LegacyCrop, RandomHorizontalFlip as LegacyFlip, TensorDataset as LegacyTD)
    assert LegacyLoader is DataLoader and LegacyTD is TensorDataset and LegacyDataset is Dataset
    assert LegacyCrop is RandomCrop and LegacyFlip is RandomHorizontalFlip
    from tinytorch.data import transforms
    assert Compose is transforms.Compose
    batches = list(LegacyLoader(LegacyTD(np.arange(5)), batch_size=2))
    assert [batch[0].tolist() for batch in batches] == [[0, 1], [2, 3], [4]]


# torch's behaviour, item by item (issue 18) -----------------------------------------------------------------------

class FailsAtZero(Dataset):
    """Issue 18's reproducer: sample 0 raises, the others are their index."""

    def __getitem__(self, i):
        if i == 0:
            raise ValueError("sample 0 is unreadable")
        return i

    def __len__(self):
        return 4


@pytest.mark.parametrize("num_workers", [0, 2])
def test_a_failing_batch_raises_and_the_next_one_follows(num_workers):
    iterator = iter(DataLoader(FailsAtZero(), batch_size=2, num_workers=num_workers, timeout=60 * bool(num_workers)))
    with pytest.raises(ValueError, match="sample 0 is unreadable"):
        next(iterator)
    assert next(iterator).tolist() == [2, 3]
    with pytest.raises(StopIteration):
        next(iterator)


def test_a_failing_get_batch_raises_and_the_next_batch_follows():
    class FailsFirst(TensorDataset):
        def get_batch(self, indices):
            if 0 in indices:
                raise ValueError("batch 0 is unreadable")
            return super().get_batch(indices)

    iterator = iter(DataLoader(FailsFirst(np.arange(4)), batch_size=2))
    with pytest.raises(ValueError, match="batch 0 is unreadable"):
        next(iterator)
    assert next(iterator)[0].tolist() == [2, 3]
    with pytest.raises(StopIteration):
        next(iterator)


def test_the_fetch_route_is_chosen_again_at_every_epoch():
    """As torch makes its fetcher per iterator: a class given its own __getitem__ between epochs is fetched through
    it from the next epoch on (one sample at a time), not through the get_batch it no longer stands for."""
    class Patched(TensorDataset):
        pass

    loader, seen = DataLoader(Patched(np.arange(6)), batch_size=3), []
    assert [batch[0].tolist() for batch in loader] == [[0, 1, 2], [3, 4, 5]] and seen == []
    Patched.__getitem__ = lambda self, i: seen.append(i) or TensorDataset.__getitem__(self, i)
    assert [batch[0].tolist() for batch in loader] == [[0, 1, 2], [3, 4, 5]] and seen == [0, 1, 2, 3, 4, 5]


class Sized(IterableDataset):
    """Reports `length` but yields n items."""

    def __init__(self, n, length):
        self.n, self.length = n, length

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.length


def test_a_failing_collation_of_a_stream_raises_and_the_next_batch_follows():
    def collate(samples):
        if samples[0] == 0:
            raise ValueError("cannot collate the first batch")
        return samples

    iterator = iter(DataLoader(Sized(6, 6), batch_size=2, collate_fn=collate))
    with pytest.raises(ValueError, match="cannot collate"):
        next(iterator)
    assert list(iterator) == [[2, 3], [4, 5]]


class ListOfIndices(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, indices):
        return np.asarray(indices) * 10


@pytest.mark.parametrize("num_workers", [0, 2])
def test_a_sampler_yielding_lists_without_batching_passes_each_list_to_getitem(num_workers):
    loader = DataLoader(ListOfIndices(), batch_size=None, sampler=[[0, 1, 2], [7], [9, 8]], num_workers=num_workers,
                        timeout=60 * bool(num_workers))
    assert [sample.tolist() for sample in loader] == [[0, 10, 20], [70], [90, 80]]


@pytest.mark.parametrize("name", ["batch_size", "sampler", "batch_sampler", "drop_last", "dataset",
                                  "persistent_workers"])
def test_the_batching_attributes_are_fixed_after_construction(name):
    loader = DataLoader(TensorDataset(np.arange(10)), batch_size=2)
    with pytest.raises(ValueError, match=f"{name} attribute should not be set after DataLoader is initialized"):
        setattr(loader, name, 5)
    assert len(loader) == 5 and [len(batch[0]) for batch in loader] == [2] * 5
    loader.worker_init_fn = print  # the others stay assignable, as in torch


def test_torch_2_13_arguments_are_accepted():
    loader = DataLoader(TensorDataset(np.arange(6)), batch_size=4, pin_memory=True, pin_memory_device="cuda",
                        in_order=False)
    assert [batch[0].tolist() for batch in loader] == [[0, 1, 2, 3], [4, 5]]  # in order all the same
    torch = pytest.importorskip("torch")
    import inspect
    theirs = inspect.signature(torch.utils.data.DataLoader.__init__).parameters
    ours = inspect.signature(DataLoader.__init__).parameters
    assert [name for name in theirs if name not in ours] == []
    assert [(name, ours[name].kind, ours[name].default) for name in theirs] == \
        [(name, parameter.kind, parameter.default) for name, parameter in theirs.items()]


def test_too_many_workers_warns_in_torchs_words(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1}, raising=False)
    with pytest.warns(UserWarning, match=r"This DataLoader will create 3 worker processes in total\. Our suggested max "
                                         r"number of worker in current system is 2, which is smaller than what this "
                                         r"DataLoader is going to create\. Please be aware that excessive worker"):
        DataLoader(TensorDataset(np.arange(4)), num_workers=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DataLoader(TensorDataset(np.arange(4)), num_workers=2)


def test_an_iterable_dataset_yielding_more_than_its_len_warns_once_len_was_taken():
    loader = DataLoader(Sized(6, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(loader)) == 6  # len(loader) not taken yet: torch does not warn either
    assert len(loader) == 4
    with pytest.warns(UserWarning, match=r"Length of IterableDataset .* was reported to be 4\(when accessing "
                                         r"len\(dataloader\)\), but 5 samples have been fetched\. $"):
        assert [int(x[0]) for x in loader] == list(range(6))


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(num_workers=-1), ValueError, r"num_workers option should be non-negative; use num_workers=0 to disable"),
    (dict(drop_last=3, batch_sampler=[[0]]), ValueError, "batch_sampler option is mutually exclusive with"),
    (dict(timeout=-1), ValueError, "timeout option should be non-negative"),
])
def test_argument_errors_are_torchs(kwargs, error, words):
    with pytest.raises(error, match=words):
        DataLoader(TensorDataset(np.arange(4)), **kwargs)


def test_the_fast_path_rule_get_batch_exactly_with_default_collation():
    """Documented rule: `get_batch` is used when the loader collates with default_collate (collate_fn None or
    default_collate itself); any other collate_fn gets the list of samples."""
    class Counting(TensorDataset):
        def __init__(self, *arrays):
            super().__init__(*arrays)
            self.batch_calls = self.item_calls = 0

        def get_batch(self, indices):
            self.batch_calls += 1
            return super().get_batch(indices)

        def __getitem__(self, index):
            self.item_calls += 1
            return super().__getitem__(index)

    for collate_fn, batch_calls, item_calls in [(None, 3, 0), (default_collate, 3, 0),
                                                (lambda samples: default_collate(samples), 0, 10)]:
        dataset = Counting(np.arange(10))
        batches = [batch[0].tolist() for batch in DataLoader(dataset, batch_size=4, collate_fn=collate_fn)]
        assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
        assert (dataset.batch_calls, dataset.item_calls) == (batch_calls, item_calls)


# Unseeded samplers (issue 18, item 8) --------------------------------------------------------------------------------

def test_an_unseeded_random_sampler_draws_a_new_order_each_iteration_and_np_random_seed_repeats_them():
    from tinytorch.data import RandomSampler

    sampler = RandomSampler(range(50))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(50)) and first != second
    np.random.seed(3)
    again = [list(sampler), list(sampler)]
    np.random.seed(3)
    assert [list(sampler), list(sampler)] == again
    seeded = RandomSampler(range(50), generator=3)
    assert list(seeded) != list(seeded)  # a seeded one goes on to its next epoch, as torch's generator moves on


def test_inside_a_loader_an_unseeded_sampler_follows_the_loaders_epochs():
    from tinytorch.data import RandomSampler

    def run():
        loader = DataLoader(TensorDataset(np.arange(40)), batch_size=8, sampler=RandomSampler(range(40)))
        return loader, orders(loader, 2)

    np.random.seed(0)
    loader, expected = run()
    assert expected[0] != expected[1]
    np.random.seed(0)
    assert run()[1] == expected  # np.random.seed before the loader still reproduces the run
    np.random.seed(0)
    resumed, _ = run()
    resumed.load_state_dict(loader.state_dict())  # epoch 2 of the first run, in a fresh loader
    assert orders(resumed, 1) == orders(loader, 1)


# torch interplay (issue 18, items 12 and 13) --------------------------------------------------------------------------

def test_samples_holding_torch_tensors_are_stacked_with_torch():
    torch = pytest.importorskip("torch")

    class Tensors(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return torch.full((2,), float(i)), i

    images, labels = next(iter(DataLoader(Tensors(), batch_size=4)))
    assert isinstance(images, torch.Tensor) and images.tolist() == [[0, 0], [1, 1], [2, 2], [3, 3]]
    assert labels.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("fast", [True, False], ids=["get_batch", "per-sample"])
def test_as_tensors_hands_batches_over_as_torch_tensors(fast, per_sample):
    torch = pytest.importorskip("torch")

    def make():
        return TensorDataset(IMAGES, LABELS) if fast else per_sample(IMAGES, LABELS, ToTensor())

    ours = list(DataLoader(make(), batch_size=50))
    tensors = list(DataLoader(make(), batch_size=50, as_tensors=True))
    for (x, y), (tx, ty) in zip(ours, tensors):
        assert isinstance(tx, torch.Tensor) and isinstance(ty, torch.Tensor)
        np.testing.assert_array_equal(tx.numpy(), x)
        np.testing.assert_array_equal(ty.numpy(), y)
        assert tx.to("cpu").shape == x.shape  # the MNIST example's `.to(device)`


def test_as_tensors_imports_torch_only_when_asked():
    script = ("import sys, numpy as np\n"
              "from tinytorch.data import DataLoader, TensorDataset\n"
              "list(DataLoader(TensorDataset(np.arange(4)), batch_size=2))\n"
              "print('torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("shuffle", [False, True])
def test_torch_global_generator_advances_as_with_torchs_loader(shuffle):
    """Issue 18: the same torch.manual_seed gave the model other random numbers (dropout) than with torch's loader."""
    torch = pytest.importorskip("torch")

    def after_two_epochs(make_loader):
        torch.manual_seed(0)
        loader = make_loader()
        for _ in range(2):
            for _ in loader:
                pass
        return torch.rand(3).tolist()

    theirs = after_two_epochs(lambda: torch.utils.data.DataLoader(np.arange(10), batch_size=4, shuffle=shuffle))
    ours = after_two_epochs(lambda: DataLoader(np.arange(10), batch_size=4, shuffle=shuffle))
    assert ours == theirs
    seeded = after_two_epochs(lambda: DataLoader(np.arange(10), batch_size=4, shuffle=shuffle, generator=1))
    torch.manual_seed(0)
    assert seeded == torch.rand(3).tolist()  # a loader with a generator of its own leaves torch's alone, as torch's
    if shuffle:
        from tinytorch.data import RandomSampler
        theirs = after_two_epochs(lambda: torch.utils.data.DataLoader(
            np.arange(10), batch_size=4, sampler=torch.utils.data.RandomSampler(np.arange(10)),
            generator=torch.Generator().manual_seed(1)))
        ours = after_two_epochs(lambda: DataLoader(np.arange(10), batch_size=4, sampler=RandomSampler(range(10)),
                                                   generator=1))
        assert ours == theirs  # only the unseeded sampler's draw
