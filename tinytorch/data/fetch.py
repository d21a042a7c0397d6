"""Fetching: indices -> a batch. The one place the loader touches the dataset, in the main process or a worker."""
from __future__ import annotations

import itertools

from . import rng
from .arguments import fast_route_agrees
from .collate import default_collate
from .dataset import get_samples, has_batches


def batch_in_one_call(dataset, collate_fn, auto_collation: bool) -> bool:
    """Whether a batch is fetched with one `get_batch` call (`fetcher`): auto-collation with `default_collate` itself
    (the function, compared by identity: `get_batch` returns what it makes of the samples, and another function, a
    `functools.partial` of it included, gets the samples), and a dataset that `has_batches`.

    Such a batch costs one vectorized NumPy call, less than handing it over from a worker process, so the loader
    keeps it in the main process with num_workers > 0 unless told otherwise (`DataLoader.in_process`;
    benchmarks/bench_workers.py, the "forced" rows).
    """
    return auto_collation and collate_fn is default_collate and has_batches(dataset)


def fetcher(dataset, collate_fn, auto_collation: bool, seed: int, epoch: int):
    """`fetch(indices, start)` for epoch `epoch`: the batch of `dataset` at `indices` (int64), whose samples sit at
    positions start, start+1, ... of the epoch.

    With `batch_in_one_call`, that is one `get_batch` call (the fast path); otherwise `__getitems__` or one
    `__getitem__` per sample, then `collate_fn`. Without auto-collation, `indices` is one item of the sampler (an
    index, or whatever the sampler yields: a list goes to `__getitem__` as it is) and `collate_fn` gets its sample.
    Random transforms draw from (seed, epoch, position): a dataset whose class declares
    `get_batch_takes_randomness` beside its `get_batch` gets the batch's block as `randomness=`; other code finds it
    in the block opened around the call.

    The route is chosen here, once per epoch (the loader and each worker make a fetch for every epoch they serve), as
    torch makes its fetcher once per iterator: choosing it per batch cost about a tenth of an MNIST batch (6 of 60
    us). A dataset whose class or methods change during an epoch is fetched the new way from the next epoch on.
    """
    if not auto_collation:
        def fetch(item, start):
            with rng.sample_randomness(seed, epoch, start, 1):
                return collate_fn(dataset[item])
    elif not batch_in_one_call(dataset, collate_fn, auto_collation):
        def fetch(indices, start):
            with rng.sample_randomness(seed, epoch, start, len(indices)):
                return collate_fn(get_samples(dataset, indices.tolist()))
    elif fast_route_agrees(dataset, "get_batch_takes_randomness", "get_batch"):  # the built-in image datasets
        def fetch(indices, start):
            with rng.sample_randomness(seed, epoch, start, len(indices)) as randomness:
                return dataset.get_batch(indices, randomness=randomness)
    else:
        def fetch(indices, start):
            with rng.sample_randomness(seed, epoch, start, len(indices)):
                return dataset.get_batch(indices)
    return fetch


class Stream:
    """The batches of one pass over an IterableDataset: `batch_size` samples each, collated (None: one sample each).

    An iterator whose `next()` raises what the dataset or `collate_fn` raised and, if the dataset's own iterator
    is still alive, goes on with the next batch on the next call.
    """

    def __init__(self, dataset, batch_size: int | None, drop_last: bool, collate_fn):
        self.samples = iter(dataset)
        self.batch_size, self.drop_last, self.collate_fn = batch_size, drop_last, collate_fn

    def __iter__(self):
        return self

    def __next__(self):
        if self.batch_size is None:
            return self.collate_fn(next(self.samples))
        batch = list(itertools.islice(self.samples, self.batch_size))
        if not batch or len(batch) < self.batch_size and self.drop_last:
            raise StopIteration
        return self.collate_fn(batch)
