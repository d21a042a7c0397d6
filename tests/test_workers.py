"""DataLoader with num_workers > 0: same batches as in-process, shared-memory transport, failures and clean shutdown.

Every loader under test has a `timeout`, so a bug shows up as an error, never as a hung test suite.
"""
import collections
import gc
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.data import DataLoader, Dataset, ImageDataset, IterableDataset, StackDataset, get_worker_info
from tinytorch.data.workers.shared_memory import SEGMENT_PREFIX
from tinytorch.data.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor

IMAGES = np.random.default_rng(0).integers(0, 256, size=(75, 8, 8, 3), dtype=np.uint8)
LABELS = np.arange(75) % 10
TIMEOUT = 60  # seconds; only reached if something is broken
fork_only = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")


def augmented():
    return Compose([RandomCrop(6, padding=2), RandomHorizontalFlip(), ToTensor(), Normalize((0.5,) * 3, (0.2,) * 3)])


@pytest.fixture
def images(per_sample):
    """make(transform=None): the per-sample dataset (conftest's PerSample) over IMAGES."""
    return lambda transform=None: per_sample(IMAGES, LABELS, transform)


def spawnable(transform=None):
    """The per-sample path over IMAGES with only tinytorch's classes, which a spawned worker can import."""
    return StackDataset(ImageDataset(IMAGES, LABELS, transform=transform))


class Pids(Dataset):
    """Sample i is (i, the pid of the process that fetched it, its WorkerInfo fields)."""

    def __len__(self):
        return 24

    def __getitem__(self, i):
        info = get_worker_info()
        return i, os.getpid(), info.id, info.num_workers, info.seed


class Failing(Dataset):
    def __len__(self):
        return 20

    def __getitem__(self, i):
        if i == 13:
            raise ValueError(f"sample {i} is unreadable")
        return i


class Stuck(Dataset):
    """Sample i < first_stuck is i; a worker asked for a later one sets `stuck` (an Event shared with forked workers)
    and waits forever: it is terminated, not waited for."""

    def __init__(self, first_stuck):
        self.first_stuck, self.stuck = first_stuck, multiprocessing.get_context("fork").Event()

    def __len__(self):
        return 24

    def __getitem__(self, i):
        if i >= self.first_stuck:
            self.stuck.set()
            threading.Event().wait()
        return i


def segments_of(pid):
    return sorted(name for name in os.listdir("/dev/shm") if name.startswith(f"{SEGMENT_PREFIX}{pid}_")) \
        if os.path.isdir("/dev/shm") else []


def our_segments():
    return segments_of(os.getpid())


def assert_all_released():
    """No worker process and no shared-memory segment of this process left behind."""
    gc.collect()
    assert multiprocessing.active_children() == []
    assert our_segments() == []


def stream(loader, epochs=1):
    """Each epoch's batches as tuples of arrays (a StackDataset's one-part batches unwrapped)."""
    unwrap = isinstance(loader.dataset, StackDataset)
    return [[tuple(np.asarray(part) for part in (batch[0] if unwrap else batch)) for batch in loader]
            for _ in range(epochs)]


def assert_same(a, b):
    assert len(a) == len(b)
    for epoch_a, epoch_b in zip(a, b):
        assert len(epoch_a) == len(epoch_b)
        for batch_a, batch_b in zip(epoch_a, epoch_b):
            for part_a, part_b in zip(batch_a, batch_b):
                np.testing.assert_array_equal(part_a, part_b)


@pytest.fixture(autouse=True)
def released():
    yield
    assert_all_released()


# Same batches, whatever the number of workers --------------------------------------------------------------------

@pytest.mark.parametrize("recipe", ["getitem", "image-dataset-per-sample"])
def test_batches_with_random_transforms_do_not_depend_on_the_number_of_workers(recipe, images):
    def make():
        if recipe == "getitem":
            return images(augmented())
        return StackDataset(ImageDataset(IMAGES, LABELS, transform=augmented()))

    expected = stream(DataLoader(ImageDataset(IMAGES, LABELS, transform=augmented()), batch_size=8, shuffle=True,
                                 generator=7), epochs=2)  # the fast path
    for workers in (1, 2, 3):
        loader = DataLoader(make(), batch_size=8, shuffle=True, generator=7, num_workers=workers, timeout=TIMEOUT)
        assert_same(stream(loader, epochs=2), expected)


def test_the_batched_fast_path_stays_in_the_main_process():
    def make(workers):
        return DataLoader(ImageDataset(IMAGES, LABELS, transform=augmented()), batch_size=8, shuffle=True,
                          generator=4, num_workers=workers, worker_init_fn=lambda worker_id: 1 / 0)

    children = []
    got = []
    for batch in make(2):
        children.append(len(multiprocessing.active_children()))
        got.append(batch)
    assert children == [0] * len(got)
    assert_same([got], stream(make(0)))


def test_unbatched_and_persistent_loaders_give_the_in_process_stream(images):
    expected = stream(DataLoader(images(augmented()), batch_size=None, shuffle=True, generator=1))
    got = stream(DataLoader(images(augmented()), batch_size=None, shuffle=True, generator=1,
                            num_workers=2, timeout=TIMEOUT))
    assert_same(got, expected)
    kwargs = dict(batch_size=5, shuffle=True, generator=2)
    loader = DataLoader(images(augmented()), num_workers=2, persistent_workers=True, timeout=TIMEOUT, **kwargs)
    assert_same(stream(loader, epochs=3), stream(DataLoader(images(augmented()), **kwargs), epochs=3))
    del loader


def test_loading_a_state_restarts_persistent_workers_with_its_seed(images):
    def make(seed, workers):
        return DataLoader(images(augmented()), batch_size=8, shuffle=True, generator=seed,
                          num_workers=workers, persistent_workers=workers > 0, timeout=TIMEOUT)

    loader = make(1, 2)
    stream(loader)
    loader.load_state_dict(make(2, 0).state_dict())
    assert_same(stream(loader), stream(make(2, 0)))
    del loader
    pids = DataLoader(Pids(), batch_size=4, num_workers=2, persistent_workers=True, generator=1, timeout=TIMEOUT)
    before = worker_seeds(pids)
    pids.load_state_dict(DataLoader(Pids(), batch_size=4, generator=50).state_dict())
    after = worker_seeds(pids)
    fresh = worker_seeds(DataLoader(Pids(), batch_size=4, num_workers=2, generator=50, timeout=TIMEOUT))
    assert set(after.values()) == set(fresh.values()) and not set(before.values()) & set(after.values())
    assert not set(before) & set(after)  # new processes
    del pids


def worker_seeds(loader) -> dict:
    """{worker pid: its WorkerInfo.seed} over one epoch of a Pids loader."""
    return {int(p): int(s) for batch in loader for p, s in zip(batch[1], batch[4])}


def test_resume_with_workers_continues_the_uninterrupted_stream(images):
    def make(workers):
        return DataLoader(images(augmented()), batch_size=4, shuffle=True, generator=5,
                          num_workers=workers, timeout=TIMEOUT, persistent_workers=workers > 0)

    expected = stream(make(0), epochs=2)
    first = make(2)
    seen = []
    for batch in first:
        seen.append(tuple(batch))
        if len(seen) == 7:
            break
    state = first.state_dict()
    del first
    resumed = make(2)
    resumed.load_state_dict(state)
    rest = stream(resumed, epochs=2)
    assert_same([seen + rest[0], rest[1]], expected)
    del resumed


# What travels between the processes --------------------------------------------------------------------------------

Pair = collections.namedtuple("Pair", "left right")
arrays = hnp.arrays(st.sampled_from([np.uint8, np.int64, np.float32, np.float64, np.bool_, np.complex64]),
                    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
leaves = arrays | arrays.map(lambda a: a.T) | st.text(max_size=5) | st.integers() | st.none()
trees = st.recursive(leaves, lambda children: st.tuples(children, children) | st.lists(children, max_size=3)
                     | st.dictionaries(st.text(max_size=3), children, max_size=3)
                     | st.builds(Pair, children, children), max_leaves=8)


def assert_same_tree(a, b):
    assert type(a) is type(b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and a.flags.writeable
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_same_tree(a[key], b[key])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_tree(x, y)
    else:
        assert a == b


class Constant(Dataset):
    def __init__(self, sample, n=2):
        self.sample, self.n = sample, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.sample


def as_given(samples):
    return samples


@settings(max_examples=15, deadline=None)
@given(trees)
def test_batches_of_any_structure_arrive_unchanged(tree):
    batches = list(DataLoader(Constant(tree), batch_size=2, collate_fn=as_given, num_workers=1, timeout=TIMEOUT))
    assert_same_tree(batches, [[tree, tree]])


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="lists Linux's /dev/shm")
def test_segment_names_carry_a_random_token_and_leave_stale_segments_alone(images):
    """A segment left by an earlier process with this pid (pid reuse) never collides with a new one."""
    from multiprocessing.shared_memory import SharedMemory

    stale = [SharedMemory(f"{SEGMENT_PREFIX}{os.getpid()}_{suffix}", create=True, size=8) for suffix in ("0_0", "0", "x_0")]
    try:
        stale_names = our_segments()
        loaders = [DataLoader(images(), batch_size=4, num_workers=1, persistent_workers=True, timeout=TIMEOUT)
                   for _ in range(2)]
        for loader in loaders:
            assert len(stream(loader)[0]) == 19
        tokens = {name.split("_")[2] for name in set(our_segments()) - set(stale_names)}
        assert len(tokens) == 2 and all(len(token) >= 8 for token in tokens)  # one token per pool
        del loader, loaders
        gc.collect()
        assert our_segments() == stale_names  # what was there before is still there, untouched
    finally:
        for segment in stale:
            segment.close()
            segment.unlink()


class Spawned(DataLoader):
    """A loader holding something that cannot be pickled: workers are handed a spec, never the loader."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()


def test_workers_get_what_they_need_not_the_loader():
    dataset = spawnable(augmented())
    expected = stream(DataLoader(dataset, batch_size=16, generator=3, shuffle=True))
    got = stream(Spawned(dataset, batch_size=16, generator=3, shuffle=True, num_workers=1, timeout=TIMEOUT,
                         multiprocessing_context="spawn"))
    assert_same(got, expected)


def test_nested_samples_with_strings_and_object_arrays_travel_to_the_main_process():
    class Nested(Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return {"pair": Pair(np.full((2, 3), i, np.float32), i), "name": f"n{i}",
                    "bag": np.array([f"x{i}", None], dtype=object)}

    def collate(samples):
        return samples  # a list of dicts: namedtuples, strings and object arrays nested inside

    expected = list(DataLoader(Nested(), batch_size=3, collate_fn=collate))
    got = list(DataLoader(Nested(), batch_size=3, collate_fn=collate, num_workers=2, timeout=TIMEOUT))
    assert_same_tree(got, expected)
    default = list(DataLoader(Nested(), batch_size=4, collate_fn=None, num_workers=2, timeout=TIMEOUT,
                              prefetch_factor=1))
    assert [batch["name"] for batch in default] == [[f"n{i}" for i in range(j, min(j + 4, 10))] for j in (0, 4, 8)]
    assert isinstance(default[0]["pair"], Pair) and default[0]["pair"].left.shape == (4, 2, 3)


# Workers: info, init, persistence, prefetch, start methods, iterable datasets ---------------------------------------

def test_worker_info_worker_init_fn_and_per_worker_seeds():
    assert get_worker_info() is None
    loader = DataLoader(Pids(), batch_size=3, num_workers=3, generator=100, timeout=TIMEOUT,
                        worker_init_fn=lambda worker_id: np.random.seed(1000 + worker_id))
    batches = list(loader)
    ids = np.concatenate([batch[2] for batch in batches])
    assert ids.tolist() == [number % 3 for number in range(8) for _ in range(3)]  # batch i from worker i % 3
    assert set(np.concatenate([batch[3] for batch in batches]).tolist()) == {3}
    seeds = {int(w): int(s) for batch in batches for w, s in zip(batch[2], batch[4])}
    assert len(set(seeds.values())) == 3  # one seed per worker, from (loader seed, epoch, worker id)
    again = DataLoader(Pids(), batch_size=3, num_workers=3, generator=100, timeout=TIMEOUT)
    assert {int(w): int(s) for batch in again for w, s in zip(batch[2], batch[4])} == seeds
    second_epoch = {int(w): int(s) for batch in loader for w, s in zip(batch[2], batch[4])}
    assert not set(second_epoch.values()) & set(seeds.values())
    pids = {int(w): int(p) for batch in batches for w, p in zip(batch[2], batch[1])}
    assert len(set(pids.values())) == 3 and os.getpid() not in pids.values()


class NumpyRandomCrop:
    """The custom-dataset tutorial's RandomCrop: it draws from NumPy's global generator."""

    def __init__(self, size):
        self.size = size

    def __call__(self, image):
        top = np.random.randint(0, image.shape[0] - self.size + 1)
        left = np.random.randint(0, image.shape[1] - self.size + 1)
        return image[top:top + self.size, left:left + self.size]


@pytest.mark.parametrize("persistent", [False, True])
def test_numpy_global_draws_in_workers_differ_between_epochs_and_repeat_with_the_seed(persistent, images):
    """Issue 18: non-persistent workers reseeded NumPy with the same seed every epoch, freezing the augmentation."""
    def run(seed):
        loader = DataLoader(images(NumpyRandomCrop(4)), batch_size=5, num_workers=2, generator=seed,
                            persistent_workers=persistent, timeout=TIMEOUT)
        return [np.concatenate([images for images, _ in loader]) for _ in range(2)]

    first, second = run(11)
    assert first.shape == (75, 4, 4, 3)
    assert np.mean([np.array_equal(a, b) for a, b in zip(first, second)]) < 0.5  # 1 in 25 crops repeats by chance
    again = run(11)
    np.testing.assert_array_equal(again[0], first)
    np.testing.assert_array_equal(again[1], second)
    assert not np.array_equal(run(12)[0], first)


def test_numpy_global_random_state_differs_between_workers():
    class Noise(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.random.random()

    values = np.concatenate(list(DataLoader(Noise(), batch_size=1, num_workers=2, timeout=TIMEOUT)))
    assert values[0] != values[1]  # forked workers would otherwise share the parent's numpy stream


def test_persistent_workers_survive_epochs_and_breaks_and_others_do_not():
    def pids_per_epoch(loader, stop=None):
        pids = []
        for _ in range(2):
            for number, batch in enumerate(loader):
                pids.extend(batch[1].tolist())
                if number == stop:
                    break
        return set(pids)

    persistent = DataLoader(Pids(), batch_size=4, num_workers=2, persistent_workers=True, timeout=TIMEOUT)
    assert len(pids_per_epoch(persistent, stop=1)) == 2  # the same two workers after a break, for both epochs
    assert len(pids_per_epoch(persistent)) == 2
    assert len(our_segments()) == 4  # one per batch under way (prefetch_factor 2 x 2 workers), reused throughout
    assert len(multiprocessing.active_children()) == 2
    del persistent
    fresh = DataLoader(Pids(), batch_size=4, num_workers=2, timeout=TIMEOUT)
    assert len(pids_per_epoch(fresh)) == 4
    assert multiprocessing.active_children() == []


class Counted(Dataset):
    """Counts, in memory shared with its forked workers, the samples the workers have started to fetch."""

    def __init__(self, n):
        self.n, self.started = n, multiprocessing.get_context("fork").Value("q", 0)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        with self.started.get_lock():
            self.started.value += 1
        return i


def wait_for(condition):
    """A bounded wait for something the workers will do without further requests (not a timing)."""
    for _ in range(6000):
        if condition():
            return
        time.sleep(0.01)


@fork_only
@pytest.mark.parametrize("prefetch", [1, 3])
def test_prefetch_factor_sets_the_batches_under_way(prefetch):
    """While the training loop holds batch k, the workers have been given exactly batches 0..k + 2 * prefetch - 1."""
    dataset = Counted(20)
    loader = DataLoader(dataset, batch_size=1, num_workers=2, prefetch_factor=prefetch, multiprocessing_context="fork",
                        timeout=TIMEOUT)
    for k, batch in enumerate(loader):
        expected = min(20, k + 2 * prefetch)
        wait_for(lambda: dataset.started.value >= expected)
        assert dataset.started.value == expected and batch.tolist() == [k]


def test_spawn_context_object_and_name():
    dataset = spawnable(augmented())  # pickled for spawn, classes imported by the child
    expected = stream(DataLoader(dataset, batch_size=16, generator=3))
    context = multiprocessing.get_context("spawn")
    assert_same(stream(DataLoader(dataset, batch_size=16, generator=3, num_workers=1, multiprocessing_context=context,
                                  timeout=TIMEOUT)), expected)
    if "fork" in multiprocessing.get_all_start_methods():
        assert_same(stream(DataLoader(dataset, batch_size=16, generator=3, num_workers=2,
                                      multiprocessing_context="fork", timeout=TIMEOUT)), expected)


def test_bad_multiprocessing_context_is_rejected_in_torchs_words():
    with pytest.raises(ValueError, match=r"should specify a valid start method in \[.*\], but got "
                                         r"multiprocessing_context='threads'"):
        DataLoader(Pids(), num_workers=1, multiprocessing_context="threads")
    with pytest.raises(TypeError, match="multiprocessing_context option should be a valid context object or a "
                                        "string specifying the start method, but got multiprocessing_context=3"):
        DataLoader(Pids(), num_workers=1, multiprocessing_context=3)
    with pytest.raises(ValueError, match=r"multi-process loading \(num_workers > 0\), but got num_workers=0"):
        DataLoader(Pids(), multiprocessing_context="spawn")


class Range(IterableDataset):
    """0..n-1; each worker yields its share (every num_workers-th item from its id), the documented pattern."""

    def __init__(self, n, shard=True):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


@given(n=st.integers(0, 30), workers=st.integers(1, 3), batch_size=st.integers(1, 4))
@settings(max_examples=8, deadline=None)
def test_sharded_iterable_dataset_yields_each_item_once_taking_workers_in_turn(n, workers, batch_size):
    batches = [batch.tolist() for batch in DataLoader(Range(n), batch_size=batch_size, num_workers=workers,
                                                      timeout=TIMEOUT)]
    assert sorted(sum(batches, [])) == list(range(n))
    shards = [list(range(w, n, workers)) for w in range(workers)]
    per_worker = [[shard[i:i + batch_size] for i in range(0, len(shard), batch_size)] for shard in shards]
    in_turn = [chunks[round_] for round_ in range(max(map(len, per_worker), default=0))
               for chunks in per_worker if round_ < len(chunks)]
    assert batches == in_turn
    assert_all_released()


def test_unsharded_iterable_dataset_is_read_by_every_worker_and_resumes():
    assert sorted(sum((b.tolist() for b in DataLoader(Range(6, shard=False), batch_size=3, num_workers=2,
                                                      timeout=TIMEOUT)), [])) == sorted(list(range(6)) * 2)
    loader = DataLoader(Range(20), batch_size=2, num_workers=2, timeout=TIMEOUT)
    everything = [batch.tolist() for batch in loader]
    for number, _ in enumerate(loader):
        if number == 2:
            break
    resumed = DataLoader(Range(20), batch_size=2, num_workers=2, timeout=TIMEOUT)
    resumed.load_state_dict(loader.state_dict())
    assert [batch.tolist() for batch in resumed] == everything[3:]


@fork_only
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads Linux's /proc")
def test_memory_mapped_dataset_is_shared_by_forked_workers_without_copies(tmp_path):
    size = 32 << 20
    data = np.lib.format.open_memmap(tmp_path / "data.npy", mode="w+", dtype=np.uint8, shape=(size // 64, 64))
    data[:] = np.arange(64, dtype=np.uint8)
    data.flush()
    data = np.load(tmp_path / "data.npy", mmap_mode="r")

    class Mapped(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            before = rss_anon_kb()
            total = int(get_worker_info().dataset.data.sum(dtype=np.int64))  # reads every page
            return total, rss_anon_kb() - before, isinstance(get_worker_info().dataset.data, np.memmap)

    Mapped.data = data
    totals, grown_kb, mapped = next(iter(DataLoader(Mapped(), batch_size=1, num_workers=2, timeout=TIMEOUT)))
    assert totals.tolist() == [int(data.sum(dtype=np.int64))] and mapped.tolist() == [True]
    assert grown_kb[0] < (size >> 10) // 4  # the 32 MiB were read through the shared mapping, not copied


def rss_anon_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("RssAnon:"))


# Failures ---------------------------------------------------------------------------------------------------------

def test_an_error_in_a_worker_is_reraised_with_its_traceback_and_indices():
    loader = DataLoader(Failing(), batch_size=4, num_workers=2, timeout=TIMEOUT)
    with pytest.raises(ValueError) as caught:
        list(loader)
    message = str(caught.value)
    assert "sample 13 is unreadable" in message and "worker process 1" in message
    assert "indices [12, 13, 14, 15]" in message and "in __getitem__" in message and "Traceback" in message


def test_key_errors_keep_a_readable_message_and_odd_exception_types_become_runtime_errors(per_sample):
    class Missing(per_sample):
        def __getitem__(self, i):
            return {}["absent"]

    class Odd(Exception):
        def __init__(self, code, detail):
            super().__init__(code, detail)

    class Raising(per_sample):
        def __getitem__(self, i):
            raise Odd(3, "odd")

    with pytest.raises(KeyError) as caught:
        next(iter(DataLoader(Missing(IMAGES, LABELS), num_workers=1, timeout=TIMEOUT)))
    assert "\nOriginal Traceback" in str(caught.value)
    with pytest.raises(RuntimeError, match="Caught Odd in DataLoader worker process 0"):
        next(iter(DataLoader(Raising(IMAGES, LABELS), num_workers=1, timeout=TIMEOUT)))


def test_an_error_in_worker_init_fn_is_reraised():
    def init(worker_id):
        raise OSError(f"no device for worker {worker_id}")

    with pytest.raises(OSError, match="no device for worker 0") as caught:
        list(DataLoader(Pids(), num_workers=1, worker_init_fn=init, timeout=TIMEOUT))
    assert "worker process 0. It happened in worker_init_fn" in str(caught.value)


def test_a_worker_killed_from_outside_is_an_error_in_torchs_words_not_a_hang():
    loader = DataLoader(Pids(), batch_size=1, num_workers=2, timeout=TIMEOUT)
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid \d+\) is killed by signal: Killed\. "
                                           r"\(worker \d, SIGKILL\)"):
        for number, (_, pid, *_) in enumerate(loader):
            if number == 0:
                os.kill(int(pid[0]), signal.SIGKILL)
    assert multiprocessing.active_children() == []  # the other worker is stopped at once, as torch does


@fork_only
def test_timeout_raises_when_no_batch_arrives():
    loader = DataLoader(Stuck(first_stuck=0), batch_size=4, num_workers=2, timeout=0.5)
    with pytest.raises(RuntimeError, match=r"timed out after 0.5 seconds waiting for a batch from worker 0"):
        next(iter(loader))  # batch 0 (worker 0) never comes, however fast the machine is


# Every way out of an epoch ends the workers and frees the segments ------------------------------------------------

def test_break_ends_workers_and_frees_segments(images):
    for batch in DataLoader(images(), batch_size=2, num_workers=2, timeout=TIMEOUT):
        break
    assert_all_released()


def test_an_exception_in_the_training_loop_ends_workers(images):
    with pytest.raises(ZeroDivisionError):
        for batch in DataLoader(images(), batch_size=2, num_workers=2, timeout=TIMEOUT):
            1 / 0
    assert_all_released()


@pytest.fixture
def python_sigint():
    """Python's SIGINT handler (KeyboardInterrupt), even where the suite runs with SIGINT ignored (a shell's
    background job)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@fork_only
def test_keyboard_interrupt_while_waiting_for_a_batch_ends_workers(python_sigint):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    dataset = Stuck(first_stuck=8)
    loader = DataLoader(dataset, batch_size=2, num_workers=2, timeout=TIMEOUT)

    def interrupt_once_a_worker_is_stuck():  # then the training loop below is running, and will wait for batch 4
        assert dataset.stuck.wait(TIMEOUT)
        os.kill(os.getpid(), signal.SIGINT)

    interrupter = threading.Thread(target=interrupt_once_a_worker_is_stuck)
    batches = []
    with pytest.raises(KeyboardInterrupt):
        interrupter.start()
        for batch in loader:
            batches.append(batch.tolist())
    interrupter.join()
    assert batches == [[0, 1], [2, 3], [4, 5], [6, 7]][:len(batches)]
    assert_all_released()


def test_garbage_collecting_an_unfinished_iterator_ends_workers(images):
    iterator = iter(DataLoader(images(), batch_size=2, num_workers=2, timeout=TIMEOUT))
    next(iterator)
    assert len(multiprocessing.active_children()) == 2
    del iterator
    assert_all_released()


def test_garbage_collecting_a_persistent_loader_ends_workers(images):
    loader = DataLoader(images(), batch_size=2, num_workers=2, persistent_workers=True, timeout=TIMEOUT)
    next(iter(loader))
    assert len(multiprocessing.active_children()) == 2
    del loader
    assert_all_released()


ORPHAN_SCRIPT = """
import os, time
from tinytorch.data import DataLoader, Dataset

class Pid(Dataset):
    def __len__(self):
        return 100

    def __getitem__(self, i):
        return os.getpid()

batches = iter(DataLoader(Pid(), batch_size=2, num_workers=2, timeout=60))
print(*sorted({int(pid) for _ in range(2) for pid in next(batches)}), flush=True)
time.sleep(120)
"""


def running(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


@fork_only
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads Linux's /proc")
def test_workers_of_a_killed_main_process_exit_and_its_segments_are_freed():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    main = subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(pid) for pid in main.stdout.readline().split()]
        assert len(workers) == 2 and all(map(running, workers))
        assert segments_of(main.pid)
    finally:
        main.kill()
        main.wait()
        main.stdout.close()
    for _ in range(300):  # a bounded wait for the workers' next liveness check (once a second), not a timing
        if not any(map(running, workers)) and not segments_of(main.pid):
            break
        time.sleep(0.1)
    assert not any(map(running, workers))
    assert segments_of(main.pid) == []


# torch inside workers (issue 18) -------------------------------------------------------------------------------------

TORCH_IN_WORKERS = """
import sys
import numpy as np
from tinytorch.data import DataLoader, Dataset

class Rows(Dataset):
    def __init__(self, weights=None):
        self.weights = weights  # a torch tensor: unpickling the dataset imports torch in a spawned worker

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return np.full((200, 200), i, np.float32)

def collate(samples):
    if "torch" not in sys.modules:
        return "no torch"
    import torch
    x = torch.stack([torch.from_numpy(s) for s in samples])
    return float((x @ x).sum()), torch.get_num_threads()

if __name__ == "__main__":  # not in a spawned worker, which imports this file again
    if sys.argv[1] == "without":
        print([batch for batch in DataLoader(Rows(), batch_size=2, collate_fn=collate, num_workers=1, timeout=60)])
    else:
        import torch
        torch.set_num_threads(2)
        a = torch.randn(1000, 1000)
        (a @ a).sum()  # a multi-threaded operation in the parent, as a training step before the next epoch
        workers = 1 if sys.argv[1] == "spawn" else 2  # a spawned worker imports torch again: one is enough
        print([batch[1] for batch in DataLoader(Rows(torch.ones(1)), batch_size=2, collate_fn=collate,
                                                num_workers=workers, timeout=60, multiprocessing_context=sys.argv[1])])
"""


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_workers_run_torch_with_one_thread_and_do_not_hang(context, tmp_path):
    pytest.importorskip("torch")
    if context not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {context} here")
    script = tmp_path / "train.py"  # a file: a spawned worker imports the dataset's class from it
    script.write_text(TORCH_IN_WORKERS)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, str(script), context], cwd=root, capture_output=True, text=True,
                            timeout=TIMEOUT, env={**os.environ, "PYTHONPATH": root})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[1, 1]"  # each worker's torch set to one thread, as torch's workers


def test_workers_never_import_torch_themselves():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", TORCH_IN_WORKERS, "without"], cwd=root, capture_output=True,
                            text=True, timeout=TIMEOUT)  # fork: the workers import nothing
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['no torch', 'no torch']"


def test_worker_info_is_read_only_as_torchs():
    def try_to_assign(worker_id):
        info = get_worker_info()
        with pytest.raises(RuntimeError, match="Cannot assign attributes to WorkerInfo objects"):
            info.id = 5
        assert info.id == worker_id and repr(info).startswith(f"WorkerInfo(id={worker_id}, num_workers=2, seed=")

    assert [batch[2].tolist() for batch in DataLoader(Pids(), batch_size=12, num_workers=2, timeout=TIMEOUT,
                                                      worker_init_fn=try_to_assign)] == [[0] * 12, [1] * 12]


def test_a_persistent_loader_whose_worker_died_starts_new_workers_for_the_next_epoch():
    loader = DataLoader(Pids(), batch_size=4, num_workers=2, persistent_workers=True, timeout=TIMEOUT)
    iterator = iter(loader)
    _, pids, *_ = next(iterator)
    os.kill(int(pids[0]), signal.SIGKILL)
    with pytest.raises(RuntimeError, match="is killed by signal"):
        list(iterator)
    with pytest.raises(RuntimeError, match="workers were stopped by an earlier error: DataLoader worker"):
        next(iterator)  # the same error, not a hang or a misleading SIGTERM
    assert multiprocessing.active_children() == []
    again = list(loader)
    assert [batch[0].tolist() for batch in again] == [list(range(i, i + 4)) for i in range(0, 24, 4)]
    assert not {int(pid) for batch in again for pid in batch[1]} & {int(pids[0])}
    del iterator, loader
