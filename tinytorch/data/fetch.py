"""Fetching: indices -> a batch. The one place the loader touches the dataset, in the main process or a worker."""
from __future__ import annotations

import itertools

import numpy as np

from . import rng
from .collate import default_collate
from .dataset import IterableDataset, get_samples


def batch_in_one_call(dataset, collate_fn, auto_collation: bool) -> bool:
    """Whether `fetch` gets a batch with one `get_batch` call (a map-style dataset, auto-collation, default collation).

    Such a batch costs one vectorized NumPy call, less than handing it over from a worker process, so the loader
    keeps it in the main process even with num_workers > 0 (benchmarks/bench_workers.py, the "forced" rows).
    """
    return auto_collation and collate_fn is default_collate and hasattr(dataset, "get_batch") \
        and not isinstance(dataset, IterableDataset)


def fetch(dataset, indices: np.ndarray, collate_fn, auto_collation: bool, seed: int, epoch: int, start: int):
    """The batch of `dataset` at `indices` (int64), whose samples sit at positions start, start+1, ... of the epoch.

    With `batch_in_one_call`, that is one `get_batch` call (the fast path); otherwise `__getitems__` or one
    `__getitem__` per sample, then `collate_fn`. Without auto-collation, `indices` holds one index and `collate_fn`
    gets that one sample. Random transforms draw from (seed, epoch, position).
    """
    with rng.sample_randomness(seed, epoch, start, len(indices)):
        if not auto_collation:
            return collate_fn(dataset[int(indices[0])])
        if batch_in_one_call(dataset, collate_fn, auto_collation):
            return dataset.get_batch(indices)
        return collate_fn(get_samples(dataset, indices.tolist()))


def stream_batches(dataset, batch_size: int | None, drop_last: bool, collate_fn):
    """The batches of one pass over an IterableDataset: `batch_size` samples each, collated (None: one sample each)."""
    samples = iter(dataset)
    if batch_size is None:
        yield from map(collate_fn, samples)
        return
    while batch := list(itertools.islice(samples, batch_size)):
        if len(batch) < batch_size and drop_last:
            return
        yield collate_fn(batch)
