"""DataLoader: batches from a dataset, one epoch per iteration, with torch.utils.data.DataLoader's arguments and rules.

Each epoch's batches are a pure function of (seed, epoch): the sampler's order comes from the seed and the epoch
number, and random transforms draw from (seed, epoch, position in the epoch). The loader owns the epoch: an epoch
begins when its iterator yields its first batch, and the loader then tells the sampler (`set_epoch`). So
`state_dict()` is a few numbers, and a run resumed from it in a new process sees the same batches as one that
never stopped; `load_state_dict` refuses a state saved by a loader of another shape.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .arguments import boolean, positive_int, state_int
from .collate import default_collate
from .dataset import IterableDataset
from .fetch import batch_in_one_call, fetch, stream_batches
from .rng import seed_from
from .sampler import BatchSampler, RandomSampler, SequentialSampler
from .workers import WorkerPool, WorkerSpec, resolve_context


class DataLoader:
    """Iterates over `dataset` in batches of `batch_size` (None: one sample at a time, uncollated).

    `shuffle` (any value, taken as bool() as in torch) draws a new order every epoch; `sampler` or `batch_sampler`
    choose the order instead. `generator` is an int seed or a numpy Generator: with one, every epoch's order and
    every random transform is the same run to run. Without it the seed is drawn from NumPy's global generator, so
    `np.random.seed(0)` before making the loader does the same.
    `collate_fn` turns a list of samples into a batch (default: `default_collate`). Datasets with `get_batch` are
    fetched one batch per call. `pin_memory` is accepted for compatibility and does nothing: NumPy arrays already
    live in host memory.

    `num_workers > 0` computes batches in worker processes (tinytorch.data.workers), with the same batches as
    in-process loading. Datasets fetched one batch per call (`get_batch`, default collation) stay in the main
    process even then (`fetch.batch_in_one_call`): a batch costs one vectorized NumPy call, less than handing it
    over between processes.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False):
        self.dataset = dataset
        self.num_workers = positive_int(num_workers, "num_workers", allow_zero=True)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout < 0:
            raise ValueError(f"timeout option should be non-negative (seconds), got timeout={timeout!r}")
        if self.num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing: "
                             "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None")
        if persistent_workers and self.num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        drop_last = boolean(drop_last, "drop_last")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn should be callable, got {type(collate_fn).__name__}: {collate_fn!r}")

        self.seed = seed_from(generator)
        if isinstance(dataset, IterableDataset):
            if shuffle not in (False, None):  # torch's test, before shuffle is taken as bool()
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        elif not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"dataset should be a map-style dataset (with __getitem__ and __len__) or an "
                            f"IterableDataset, got {type(dataset).__name__}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last")
            batch_size = None
        elif batch_size is None:
            if drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        else:
            batch_size = positive_int(batch_size, "batch_size")
        if sampler is None and not isinstance(dataset, IterableDataset):
            sampler = RandomSampler(dataset, generator=self.seed) if shuffle else SequentialSampler(dataset)
        if batch_sampler is None and batch_size is not None and sampler is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self._auto_collation = batch_sampler is not None or isinstance(dataset, IterableDataset) and batch_size is not None
        self.collate_fn = collate_fn or (default_collate if self._auto_collation else _unchanged)
        self.timeout, self.worker_init_fn, self.generator = timeout, worker_init_fn, generator
        if multiprocessing_context is not None:
            if not self.num_workers:
                raise ValueError("multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                                 f"got multiprocessing_context={multiprocessing_context!r}")
            resolve_context(multiprocessing_context)
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = (2 if prefetch_factor is None else positive_int(prefetch_factor, "prefetch_factor")) \
            if self.num_workers else None
        self.persistent_workers, self.pin_memory = persistent_workers, pin_memory
        self._in_process = self.num_workers == 0 or batch_in_one_call(dataset, self.collate_fn, self._auto_collation)
        self._next_epoch = 0
        self._skip_batches = 0
        self._progress = None  # [epoch, batches yielded, order state at the epoch's start] of the running epoch
        self._worker_pool = None  # the worker processes kept between epochs by persistent_workers

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            length = len(self.dataset)
            if self.batch_size is None:
                return length
            return length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
        return len(self._order)

    def __iter__(self):
        """One epoch. It takes its epoch number when asked for its first batch: an iterator never used takes none."""
        epoch, skip = self._next_epoch, self._skip_batches
        self._next_epoch, self._skip_batches = epoch + 1, 0
        self._tell_sampler(epoch)
        progress = self._progress = [epoch, skip, self._order_state()]
        if not self._in_process:
            batches = self._worker_batches(epoch, skip)
        elif isinstance(self.dataset, IterableDataset):
            batches = itertools.islice(stream_batches(self.dataset, self.batch_size, self.drop_last, self.collate_fn),
                                       skip, None)
        else:
            batches = self._map_batches(epoch, skip)
        for number, batch in enumerate(batches, start=skip + 1):
            progress[1] = number
            yield batch
        if self._progress is progress:
            self._progress = None

    def _tell_sampler(self, epoch: int) -> None:
        """Set the epoch of a sampler that follows the loader's (the seeded ones, except DistributedSampler's)."""
        if getattr(self._order, "epoch_from_loader", False):
            self._order.set_epoch(epoch)

    def _worker_batches(self, epoch: int, skip: int):
        """The epoch's batches from the worker processes. Ending early (break, an exception, garbage collection)
        cancels the outstanding tasks; the workers are then stopped, unless `persistent_workers` keeps them."""
        pool = self._worker_pool or WorkerPool(self._worker_spec(), self.num_workers, self.multiprocessing_context,
                                               self.timeout)
        self._worker_pool = pool if self.persistent_workers else None
        pool.start_run()
        try:
            if isinstance(self.dataset, IterableDataset):
                yield from itertools.islice(pool.stream_epoch(self.prefetch_factor), skip, None)
            else:
                yield from pool.map_epoch(epoch, self._batch_positions(skip), self.prefetch_factor)
        finally:
            if not (self.persistent_workers and pool.end_run()):
                pool.close()
                if self._worker_pool is pool:
                    self._worker_pool = None

    def _worker_spec(self) -> WorkerSpec:
        return WorkerSpec(self.dataset, self.collate_fn, self._auto_collation, self.seed, self.batch_size,
                          self.drop_last, self.worker_init_fn)

    def _map_batches(self, epoch: int, skip: int):
        for indices, start in self._batch_positions(skip):
            yield fetch(self.dataset, indices, self.collate_fn, self._auto_collation, self.seed, epoch, start)

    def _batch_positions(self, skip: int):
        """The epoch's index batches after the first `skip`, each with the position in the epoch of its first sample."""
        position = 0
        for number, indices in enumerate(self._index_batches()):
            if number >= skip:
                yield indices, position
            position += len(indices)

    def _index_batches(self):
        """The epoch's batches of indices as int64 arrays (one index each without auto-collation)."""
        if not self._auto_collation:
            return (np.array([index], dtype=np.int64) for index in self.sampler)
        if hasattr(self.batch_sampler, "index_batches"):
            return self.batch_sampler.index_batches()
        return (np.asarray(batch, dtype=np.int64) for batch in self.batch_sampler)

    @property
    def _order(self):
        """What decides the order of the epoch: the batch sampler, or the sampler without auto-collation."""
        return self.batch_sampler if self._auto_collation else self.sampler

    def _order_state(self):
        return self._order.state_dict() if hasattr(self._order, "state_dict") else None

    def _fingerprint(self) -> dict:
        """What a saved state must agree with: the dataset's length, batching and the kind of sampler."""
        try:
            length = len(self.dataset)
        except TypeError:  # an IterableDataset without __len__
            length = None
        order = self.batch_sampler.sampler if isinstance(self.batch_sampler, BatchSampler) else self._order
        return {"dataset_length": length, "batch_size": self.batch_size, "drop_last": self.drop_last,
                "sampler": None if order is None else type(order).__name__}

    def state_dict(self) -> dict:
        """Where the loader is (JSON-able): the epoch under way (or next), batches already yielded in it, the seed, the
        sampler's state at the epoch's start, and the fingerprint that `load_state_dict` checks."""
        if self._progress is not None and not self._finished(self._progress[1]):
            epoch, batches, order = self._progress
        else:
            epoch, batches = self._next_epoch, 0
            self._tell_sampler(epoch)
            order = self._order_state()
        return {"seed": self.seed, "epoch": epoch, "batches": batches, "order": order,
                "fingerprint": self._fingerprint()}

    def _finished(self, batches: int) -> bool:
        length = self._length_or_none()
        return length is not None and batches >= length

    def _length_or_none(self) -> int | None:
        """`len(self)`, or None for an IterableDataset without `__len__`."""
        try:
            return len(self)
        except TypeError:
            return None

    def load_state_dict(self, state: dict) -> None:
        """Continue from `state_dict()`: the next iteration yields the rest of that epoch, then epochs go on as before.

        Raises ValueError, naming what is wrong, for a state that is not a `state_dict()` (missing entries, numbers
        that are not non-negative ints, more batches than the epoch has) or that was saved by a loader of another
        shape (dataset length, batch size, drop_last, kind of sampler). Persistent workers are restarted.
        """
        if not isinstance(state, dict):
            raise ValueError(f"state should be a dict from DataLoader.state_dict(), got {type(state).__name__}")
        missing = {"seed", "epoch", "batches", "order", "fingerprint"} - set(state)
        if missing:
            raise ValueError(f"state should be a DataLoader.state_dict(); it lacks {sorted(missing)}")
        seed, epoch, batches = (state_int(state, key, "state") for key in ("seed", "epoch", "batches"))
        saved, mine = state["fingerprint"], self._fingerprint()
        if not isinstance(saved, dict):
            raise ValueError(f"state['fingerprint'] should be a dict, got {saved!r}")
        differences = [f"{key}={saved.get(key)!r} (this loader: {value!r})" for key, value in mine.items()
                       if saved.get(key) != value]
        if differences:
            raise ValueError("the state was saved by a DataLoader with " + ", ".join(differences))
        length = self._length_or_none()
        if length is not None and batches and batches >= length:
            raise ValueError(f"state['batches']={batches} is not within an epoch of {length} batches")
        if state["order"] is not None and hasattr(self._order, "load_state_dict"):
            self._order.load_state_dict(state["order"])
        self.seed, self._next_epoch, self._skip_batches = seed, epoch, batches
        self._progress = None
        if self._worker_pool is not None:  # its workers were started with the old seed
            self._worker_pool.close()
            self._worker_pool = None


def _unchanged(sample):
    return sample
