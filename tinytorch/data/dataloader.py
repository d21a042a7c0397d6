"""DataLoader: batches from a dataset, one epoch per iteration, with torch.utils.data.DataLoader's arguments and rules.

Each epoch's batches are a pure function of (seed, epoch): the sampler's order comes from the seed and the epoch
number, and random transforms draw from (seed, epoch, position in the epoch). The loader owns the epoch: an epoch
begins when its iterator (a `DataLoaderIterator`) yields its first batch, and the loader then tells the sampler
(`set_epoch`). So `state_dict()` is a few numbers, and a run resumed from it in a new process sees the same batches
as one that never stopped; `load_state_dict` refuses a state saved by a loader of another shape.
"""
from __future__ import annotations

import itertools
import math
import numbers
import os
import warnings
from dataclasses import dataclass
from typing import Generic

import numpy as np

from .arguments import boolean, fast_route_agrees, positive_int, seconds, state_int
from .collate import as_torch, default_collate, default_convert
from .dataset import IterableDataset, T_co
from .fetch import Stream, batch_in_one_call, fetcher
from .rng import seed_from
from .sampler import (BatchSampler, RandomSampler, SeededSampler, SequentialSampler, as_int64_indices,
                      draw_one_int64, take_torch_draws)
from .workers import MapEpoch, StreamEpoch, WorkerPool, WorkerSpec, resolve_context

FIXED_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class DataLoader(Generic[T_co]):
    """Iterates over `dataset` in batches of `batch_size` (None: one sample at a time, uncollated).

    `shuffle` (any value, taken as bool() as in torch) draws a new order every epoch; `sampler` or `batch_sampler`
    choose the order instead. `generator` is an int seed in [0, 2**64), a numpy Generator or a torch.Generator
    (`rng.seed_from`): with one, every epoch's order and every random transform is the same run to run.
    Without it the seed is drawn from NumPy's global generator, so `np.random.seed(0)` before making the loader
    does the same.

    `collate_fn` turns a list of samples into a batch (default: `default_collate`). The fast path: a dataset with
    `get_batch(indices)` is asked for each batch in one call exactly when the loader collates with `default_collate`
    (`collate_fn` left None, or `default_collate` itself), as `get_batch` returns what `default_collate` would make
    of the samples; any other `collate_fn` receives the list of samples. `as_tensors=True` hands every batch over
    with its NumPy arrays as torch tensors (torch is imported then, and only then).
    `pin_memory`, `pin_memory_device` and `in_order` are accepted for torch's signature: NumPy arrays already live
    in host memory, and batches always come in order.

    `num_workers > 0` computes batches in worker processes (tinytorch.data.workers), with the same batches as
    in-process loading. Datasets fetched one batch per call stay in the main process even then
    (`fetch.batch_in_one_call`): a batch costs one vectorized NumPy call, less than handing it over between
    processes. The attribute `in_process` holds that choice; setting it to False before iterating sends every batch
    through the workers anyway (benchmarks/bench_workers.py does, to measure what the choice avoids).
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True, as_tensors=False):
        self.num_workers = worker_count(num_workers, prefetch_factor, persistent_workers)
        self.timeout = seconds(timeout, "timeout")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn should be callable, got {type(collate_fn).__name__}: {collate_fn!r}")
        self.seed = seed_from(generator)
        check_dataset_and_order(dataset, shuffle, sampler, batch_sampler)
        shuffle = bool(shuffle)
        batch_size, drop_last = batching(batch_size, shuffle, sampler, batch_sampler, drop_last)
        if sampler is None and not isinstance(dataset, IterableDataset):
            sampler = RandomSampler(dataset, generator=self.seed) if shuffle else SequentialSampler(dataset)
        if batch_sampler is None and batch_size is not None and sampler is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        order = batch_sampler.sampler if isinstance(batch_sampler, BatchSampler) else sampler
        self._sampler_drawing_from_torch = order if draws_from_torch(order, generator, made_here=shuffle) else None
        self._took_base_seed = False  # from torch's global generator, for persistent workers (taken once)
        self._auto_collation = batch_sampler is not None or (isinstance(dataset, IterableDataset)
                                                             and batch_size is not None)
        self.collate_fn = collate_fn or (default_collate if self._auto_collation else default_convert)
        self.worker_init_fn, self.generator = worker_init_fn, generator
        if multiprocessing_context is not None:
            if not self.num_workers:  # torch's words
                raise ValueError("multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
            resolve_context(multiprocessing_context)
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = (2 if prefetch_factor is None else positive_int(prefetch_factor, "prefetch_factor")) \
            if self.num_workers else None
        self.persistent_workers, self.pin_memory = persistent_workers, pin_memory
        self.pin_memory_device, self.in_order = pin_memory_device, boolean(in_order, "in_order")
        self.as_tensors = boolean(as_tensors, "as_tensors")
        self.in_process = self.num_workers == 0 or batch_in_one_call(dataset, self.collate_fn, self._auto_collation)
        self._next_epoch = 0
        self._skip_batches = 0
        self._progress = None  # the EpochProgress of the latest epoch begun
        self._resets = 0  # load_state_dict calls: an iterator begun before one is over
        self._iterable_length = None  # len(dataset) of an IterableDataset once len(loader) was taken (torch's warning)
        self._worker_pool = None  # the worker processes kept between epochs by persistent_workers
        self._warn_of_too_many_workers()
        self._initialized = True

    def __setattr__(self, name, value):
        if name in FIXED_AFTER_INIT and getattr(self, "_initialized", False):  # torch's error and words
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    def __getstate__(self):
        """Pickled (or deep-copied) without its persistent worker processes, which cannot cross: the copy is at the
        same place (state_dict) and starts workers of its own when it iterates."""
        return {**self.__dict__, "_worker_pool": None}

    def _warn_of_too_many_workers(self) -> None:
        """torch's warning when the loader would start more workers than the CPUs this process may use."""
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        if self.num_workers and (cpus is None or self.num_workers > cpus):
            suggestion = ("DataLoader is not able to compute a suggested max number of worker in current system."
                          if cpus is None else
                          f"Our suggested max number of worker in current system is {cpus}"
                          f"{'' if hasattr(os, 'sched_getaffinity') else ' (`cpuset` is not taken into account)'}, "
                          "which is smaller than what this DataLoader is going to create.")
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in total. {suggestion} "
                          "Please be aware that excessive worker creation might get DataLoader running slow or even "
                          "freeze, lower the worker number to avoid potential slowness/freeze if necessary.",
                          stacklevel=3)

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            length = self._iterable_length = len(self.dataset)
            if self.batch_size is None:
                return length
            return length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
        return len(self._order)

    def __iter__(self) -> DataLoaderIterator:
        """One epoch. It takes its epoch number when asked for its first batch: an iterator never used takes none."""
        return DataLoaderIterator(self)

    def _tell_sampler(self, epoch: int) -> None:
        """Set the epoch of a sampler that follows the loader's (the seeded ones, except DistributedSampler's)."""
        if getattr(self._order, "epoch_from_loader", False):
            self._order.set_epoch(epoch)

    def _batches(self, epoch: int, skip: int):
        """The source of the epoch's batches after the first `skip`: an iterator on which a failed batch raises and
        the next goes on."""
        pool = None
        if self._worker_pool is not None and self._worker_pool.broken:
            self._worker_pool = None
        if not self.in_process:
            pool = self._worker_pool or WorkerPool(self._worker_spec(epoch), self.num_workers,
                                                   self.multiprocessing_context, self.timeout)
            self._worker_pool = pool if self.persistent_workers else None
        if isinstance(self.dataset, IterableDataset):
            batches = Stream(self.dataset, self.batch_size, self.drop_last, self.collate_fn) if pool is None else \
                StreamEpoch(pool, epoch, self.prefetch_factor)
            consume(batches, skip)
            return batches
        positions = self._batch_positions()
        consume(positions, skip)
        if pool is not None:
            return MapEpoch(pool, epoch, positions, self.prefetch_factor)
        # starmap, unlike a generator, goes on with the next batch after a batch whose fetch raised
        return itertools.starmap(fetcher(self.dataset, self.collate_fn, self._auto_collation, self.seed, epoch),
                                 positions)

    def _worker_spec(self, epoch: int) -> WorkerSpec:
        return WorkerSpec(self.dataset, self.collate_fn, self._auto_collation, self.seed, epoch, self.batch_size,
                          self.drop_last, self.worker_init_fn)

    def _batch_positions(self):
        """The epoch's index batches, each with the position in the epoch of its first sample. Without
        auto-collation each sampler item is one (whatever it is: a list goes to `__getitem__` as it is, as torch)."""
        position = 0
        for indices in self._index_batches():
            yield indices, position
            position += len(indices) if self._auto_collation else 1

    def _index_batches(self):
        """The epoch's batches of indices as int64 arrays (the sampler's items without auto-collation)."""
        if not self._auto_collation:
            if fast_route_agrees(self.sampler, "epoch_indices", "__iter__"):
                return iter(self.sampler.epoch_indices().tolist())
            return iter(self.sampler)
        if fast_route_agrees(self.batch_sampler, "index_batches", "__iter__"):
            return self.batch_sampler.index_batches()
        return (as_int64_indices(batch) for batch in self.batch_sampler)

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
        progress = self._progress
        if progress is not None and not progress.done and not self._finished(progress.batches):
            epoch, batches, order = progress.epoch, progress.batches, progress.order
        else:
            epoch, batches = self._next_epoch, self._skip_batches
            self._tell_sampler(epoch)
            order = self._order_state()
        return {"seed": self.seed, "epoch": epoch, "batches": batches, "order": order,
                "fingerprint": self._fingerprint()}

    def _finished(self, batches: int) -> bool:
        """Whether `batches` batches are the whole epoch: known from the length for map-style datasets only (an
        IterableDataset may yield more than its `__len__`; its epoch ends when its stream does)."""
        return not isinstance(self.dataset, IterableDataset) and batches >= len(self)

    def load_state_dict(self, state: dict) -> None:
        """Continue from `state_dict()`: the next iteration yields the rest of that epoch, then epochs go on as before.

        Raises ValueError, naming what is wrong, for a state that is not a `state_dict()` (missing entries, numbers
        that are not non-negative ints, more batches than the epoch has) or that was saved by a loader of another
        shape (dataset length, batch size, drop_last, kind of sampler). Persistent workers are restarted, and an
        iterator begun before is ended: its next `next()` raises.
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
        if batches and self._finished(batches):
            raise ValueError(f"state['batches']={batches} is not within an epoch of {len(self)} batches")
        if state["order"] is not None and hasattr(self._order, "load_state_dict"):
            self._order.load_state_dict(state["order"])
        self.seed, self._next_epoch, self._skip_batches = seed, epoch, batches
        self._progress = None
        self._resets += 1
        if self._worker_pool is not None:  # its workers were started with the old seed
            self._worker_pool.close()
            self._worker_pool = None


def worker_count(num_workers, prefetch_factor, persistent_workers) -> int:
    """`num_workers` checked with the options that need workers, with torch's errors and words."""
    if isinstance(num_workers, numbers.Real) and num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                         f"multiprocessing (got num_workers={num_workers!r})")
    num_workers = positive_int(num_workers, "num_workers", allow_zero=True)
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing: "
                         "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    return num_workers


def check_dataset_and_order(dataset, shuffle, sampler, batch_sampler) -> None:
    """torch's rules: an IterableDataset takes no order options; any other dataset is map-style."""
    if isinstance(dataset, IterableDataset):
        if shuffle not in (False, None):  # torch's test, before shuffle is taken as bool()
            raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, "
                             f"but got shuffle={shuffle}")
        if sampler is not None:
            raise ValueError("DataLoader with IterableDataset: expected unspecified sampler option, "
                             f"but got sampler={sampler}")
        if batch_sampler is not None:
            raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                             f"but got batch_sampler={batch_sampler}")
    elif not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
        raise TypeError(f"dataset should be a map-style dataset (with __getitem__ and __len__) or an "
                        f"IterableDataset, got {type(dataset).__name__}")


def batching(batch_size, shuffle: bool, sampler, batch_sampler, drop_last) -> tuple[int | None, bool]:
    """(batch_size, drop_last) checked against the other order options, with torch's errors and words;
    (None, False) with a `batch_sampler`, which does the batching."""
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                             "and drop_last")
        return None, False
    if batch_size is None:
        if drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
    else:
        batch_size = positive_int(batch_size, "batch_size")
    return batch_size, boolean(drop_last, "drop_last")


@dataclass
class EpochProgress:
    """How far an epoch has come: `batches` yielded (resumed ones included) and the order's state at its start."""

    epoch: int
    batches: int
    order: dict | None
    done: bool = False  # its iterator reached the end


class DataLoaderIterator:
    """One epoch of a `DataLoader`, as torch's _BaseDataLoaderIter: `next()` gives its next batch.

    The epoch begins at the first `next()`: it takes the loader's next epoch number, skips the batches a loaded
    state says were yielded, and records its progress on the loader (for `state_dict`). A batch whose fetching
    raises raises from its `next()`; the `next()` after it goes on with the following batch, as in torch.
    """

    def __init__(self, loader: DataLoader):
        if loader.generator is None and not (loader.persistent_workers and loader._took_base_seed):
            take_torch_draws(draw_one_int64)  # torch's base seed, at iter() (persistent workers: the first only)
            loader._took_base_seed = True
        self.loader = loader
        self.progress: EpochProgress | None = None
        self.batches = None  # the source of the epoch's batches, once begun
        self.resets = loader._resets
        self.reported_length = loader._iterable_length

    def __iter__(self):
        return self

    def __len__(self):
        """`len(loader)`, as torch's iterator reports."""
        return len(self.loader)

    def __next__(self):
        loader = self.loader
        if self.resets != loader._resets:
            if self.progress is not None and not self.progress.done:
                self.end()  # its workers stop now, not when it is garbage collected
            raise RuntimeError("this DataLoader iterator was ended by load_state_dict(), which reset its loader; "
                               "start a new epoch with iter(loader)")
        if self.progress is None:
            self.start()
        if self.progress.done:
            raise StopIteration
        try:
            batch = next(self.batches)
        except StopIteration:
            self.end()
            raise
        self.progress.batches += 1
        if self.reported_length is not None and self.progress.batches > self.reported_length:
            self.warn_of_extra_batches()
        return as_torch(batch) if loader.as_tensors else batch

    def start(self) -> None:
        loader = self.loader
        epoch, skip = loader._next_epoch, loader._skip_batches
        loader._tell_sampler(epoch)
        order = loader._order_state()
        sampler = loader._sampler_drawing_from_torch
        if sampler is not None and fast_route_agrees(sampler, "epoch_indices", "__iter__"):  # else its __iter__ draws
            take_torch_draws(sampler.draw_from_torch)
        self.batches = loader._batches(epoch, skip)
        loader._next_epoch, loader._skip_batches = epoch + 1, 0
        self.progress = loader._progress = EpochProgress(epoch, skip, order)

    def end(self) -> None:
        """The epoch is over: the workers of a non-persistent loader stop now, persistent ones wait for the next."""
        self.progress.done = True
        pool = getattr(self.batches, "pool", None)
        self.batches = None
        if pool is None:
            return
        # Persistent workers are kept for the next epoch once the batches still under way are drained (end_run);
        # a pool that cannot be drained, or any pool of a non-persistent loader, is closed.
        kept = self.loader.persistent_workers and pool.end_run()
        if not kept:
            pool.close()
            if self.loader._worker_pool is pool:
                self.loader._worker_pool = None

    def warn_of_extra_batches(self) -> None:
        """torch's warning: an IterableDataset yields more than the length `len(loader)` reported."""
        text = (f"Length of IterableDataset {self.loader.dataset} was reported to be {self.reported_length}"
                f"(when accessing len(dataloader)), but {self.progress.batches} samples have been fetched. ")
        if self.loader.num_workers > 0:
            text += ("For multiprocessing data-loading, this could be caused by not properly configuring the "
                     "IterableDataset replica at each worker. Please see "
                     "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset for examples.")
        warnings.warn(text, stacklevel=3)


def consume(iterator, count: int) -> None:
    """Advance `iterator` by `count` items (fewer if it ends first)."""
    next(itertools.islice(iterator, count, count), None)


def draws_from_torch(sampler, loader_generator, made_here: bool) -> bool:
    """Whether torch's counterpart of `sampler` takes from torch's global generator at each epoch
    (`SeededSampler.draw_from_torch`): a seeded-kind sampler made without a generator, or the RandomSampler the
    loader made for `shuffle=True` (`made_here`) when the loader has no generator to hand down, as torch's."""
    if not isinstance(sampler, SeededSampler):
        return False
    return sampler.generator is None or (made_here and loader_generator is None)
