"""Fetching: indices -> a batch. The one place the loader touches the dataset, in the main process or a worker."""
from __future__ import annotations

import numpy as np

from . import rng
from .collate import default_collate


def fetch(dataset, indices: np.ndarray, collate_fn, auto_collation: bool, seed: int, epoch: int, start: int):
    """The batch of `dataset` at `indices` (int64), whose samples sit at positions start, start+1, ... of the epoch.

    With the default collation and a dataset that has `get_batch`, that is one call (the fast path); otherwise
    `__getitems__` or one `__getitem__` per sample, then `collate_fn`. Without auto-collation, `indices` holds one
    index and `collate_fn` gets that one sample. Random transforms draw from (seed, epoch, position).
    """
    with rng.sample_randomness(seed, epoch, start, len(indices)):
        if not auto_collation:
            return collate_fn(dataset[int(indices[0])])
        if collate_fn is default_collate and hasattr(dataset, "get_batch"):
            return dataset.get_batch(indices)
        if hasattr(dataset, "__getitems__"):
            return collate_fn(dataset.__getitems__(indices.tolist()))
        samples = []
        for i, index in enumerate(indices.tolist()):
            with rng.one_sample_randomness(i):
                samples.append(dataset[index])
        return collate_fn(samples)
