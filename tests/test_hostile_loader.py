"""The loader under faults (issue 16's second hostile round): states saved at odd moments, NumPy subclasses, bad
timeouts, datasets that fail to reach a spawned worker, a small /dev/shm, a reset under a running iterator, and an
IterableDataset longer than its `__len__`. Every loader with workers has a timeout: a bug is an error, not a hang."""
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from tinytorch.data import DataLoader, Dataset, IterableDataset, TensorDataset

TIMEOUT = 60  # seconds; only reached if something is broken
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def flat(loader):
    return [np.asarray(batch[0] if isinstance(batch, (tuple, list)) else batch).tolist() for batch in loader]


# state_dict right after load_state_dict ---------------------------------------------------------------------------

@pytest.mark.parametrize("batches", [0, 3])
def test_state_dict_right_after_load_state_dict_is_the_loaded_state(batches):
    def make():
        return DataLoader(TensorDataset(np.arange(30)), batch_size=4, shuffle=True, generator=7)

    source = make()
    for _ in range(1):
        list(source)  # epoch 0 done
    iterator = iter(source)
    for _ in range(batches):
        next(iterator)
    state = source.state_dict()
    assert (state["epoch"], state["batches"]) == (1, batches)
    loaded = make()
    loaded.load_state_dict(state)
    assert loaded.state_dict() == state  # a checkpoint taken at start-up, or a second preemption
    again = make()
    again.load_state_dict(loaded.state_dict())
    assert flat(again) == flat(loaded)
    assert flat(again) == flat(loaded)  # and the epochs after


# NumPy subclasses ----------------------------------------------------------------------------------------------------

class Masked(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return np.ma.masked_array([i, 1000], mask=[False, True])


def test_a_masked_array_batch_keeps_its_type_and_mask_through_workers():
    def mean(num_workers):
        loader = DataLoader(Masked(), batch_size=4, collate_fn=np.ma.stack, num_workers=num_workers,
                            timeout=TIMEOUT * bool(num_workers))
        batch = next(iter(loader))
        assert type(batch) is np.ma.MaskedArray and batch.mask[:, 1].all()
        return float(batch.mean())

    assert mean(0) == mean(2) == 1.5


# Timeouts ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("timeout, error", [(float("nan"), ValueError), (float("inf"), ValueError),
                                            (-1, ValueError), ("5", TypeError), (None, TypeError), (True, TypeError)])
def test_a_timeout_that_is_not_a_finite_number_of_seconds_is_refused_at_construction(timeout, error):
    with pytest.raises(error, match=r"timeout option should be .*timeout=|timeout option should be a number"):
        DataLoader(TensorDataset(np.arange(4)), num_workers=1, timeout=timeout)


# A dataset that cannot reach a spawned worker ----------------------------------------------------------------------

class Unmounted(Dataset):
    """Pickles fine, but unpickling it (in a spawned worker) fails, as a dataset reopening a missing file would."""

    def __init__(self):
        self.path = "/mnt/data"

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return i

    def __setstate__(self, state):
        raise FileNotFoundError("the data volume /mnt/data is not mounted in this process")


def test_a_spawned_worker_that_cannot_unpickle_its_dataset_reports_the_cause():
    loader = DataLoader(Unmounted(), batch_size=2, num_workers=1, multiprocessing_context="spawn", timeout=TIMEOUT)
    with pytest.raises(FileNotFoundError, match="while unpickling its copy of the dataset") as caught:
        list(loader)
    assert "the data volume /mnt/data is not mounted" in str(caught.value)
    assert multiprocessing.active_children() == []


# A small /dev/shm ------------------------------------------------------------------------------------------------------

SMALL_SHM_SCRIPT = textwrap.dedent("""
    import numpy as np
    from tinytorch.data import DataLoader, Dataset

    class Big(Dataset):  # 4 MB samples: one batch needs 8 MB of a 2 MB /dev/shm
        def __len__(self):
            return 8

        def __getitem__(self, i):
            return np.full(1 << 20, i, np.float32)

    try:
        list(DataLoader(Big(), batch_size=2, num_workers=1, timeout=60))
    except OSError as error:
        print("OSError:", error)
""")


def test_a_full_dev_shm_is_an_error_naming_the_remedy_not_sigbus():
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        pytest.skip("needs Linux's unshare to mount a small tmpfs on /dev/shm in a private mount namespace")
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=2m tmpfs /dev/shm"],
                           capture_output=True, text=True)
    if probe.returncode:
        pytest.skip(f"cannot mount a tmpfs in a private mount namespace here: {probe.stderr.strip()}")
    command = f"mount -t tmpfs -o size=2m tmpfs /dev/shm && exec {sys.executable} -c \"$0\""
    result = subprocess.run(["unshare", "-m", "sh", "-c", command, SMALL_SHM_SCRIPT], cwd=ROOT, capture_output=True,
                            text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr  # no SIGBUS
    assert re.search(r"not enough shared memory in /dev/shm \([12] MB free; run the container with --shm-size, or use "
                     r"fewer workers\): a batch of 8\.0 MB does not fit", result.stdout), result.stdout + result.stderr


# load_state_dict under a running iterator -------------------------------------------------------------------------

@pytest.mark.parametrize("num_workers, persistent", [(0, False), (2, False), (2, True)])
def test_load_state_dict_ends_a_running_iterator_with_an_error_saying_so(num_workers, persistent):
    loader = DataLoader(TensorDataset(np.arange(20)), batch_size=2, collate_fn=list, num_workers=num_workers,
                        persistent_workers=persistent, timeout=TIMEOUT * bool(num_workers))
    iterator = iter(loader)
    next(iterator)
    state = loader.state_dict()
    loader.load_state_dict(state)
    with pytest.raises(RuntimeError, match=r"ended by load_state_dict\(\), which reset its loader"):
        next(iterator)
    assert multiprocessing.active_children() == []  # the old iterator's workers are stopped
    with pytest.raises(RuntimeError, match=r"ended by load_state_dict\(\)"):
        next(iterator)
    assert len(list(loader)) == 9  # the loaded state: the rest of the epoch
    del iterator, loader


# An IterableDataset longer than its __len__ ---------------------------------------------------------------------

class Longer(IterableDataset):
    """Reports 4 items, yields 7."""

    def __iter__(self):
        return iter(range(7))

    def __len__(self):
        return 4


@pytest.mark.parametrize("num_workers", [0, 1])
def test_an_iterable_dataset_longer_than_its_len_warns_and_resumes_without_skipping_the_rest(num_workers):
    def make():
        return DataLoader(Longer(), batch_size=1, num_workers=num_workers, timeout=TIMEOUT * bool(num_workers))

    loader = make()
    assert len(loader) == 4
    iterator = iter(loader)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seen = [int(next(iterator)[0]) for _ in range(5)]
    assert seen == [0, 1, 2, 3, 4]
    assert [str(w.message) for w in caught if "was reported to be 4" in str(w.message)]
    state = loader.state_dict()
    assert (state["epoch"], state["batches"]) == (0, 5)  # not "epoch over": the stream goes on
    resumed = make()
    resumed.load_state_dict(state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert [int(batch[0]) for batch in resumed] == [5, 6]
    assert resumed.state_dict()["epoch"] == 1
    del iterator
