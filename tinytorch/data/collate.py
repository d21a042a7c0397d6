"""`default_collate`: a list of samples -> one batch with the same nested structure, leaves stacked into arrays."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def default_collate(batch):
    """Stack a list of samples into a batch, as torch's default_collate does but with NumPy arrays.

    Arrays are stacked along a new first axis; Python int -> int64 array, float -> float64, bool -> bool; NumPy
    scalars -> arrays of their dtype; str/bytes -> list; a Mapping -> the same mapping type collated per key; a
    namedtuple -> the same namedtuple; tuple -> tuple; list -> list. Arrays of different shapes raise a ValueError
    naming the field's path in the sample, the shapes, and the positions in the batch that have each.
    """
    if not isinstance(batch, Sequence) or isinstance(batch, (str, bytes)) or not batch:
        raise TypeError(f"default_collate expects a non-empty list of samples, got {type(batch).__name__}: {batch!r:.80}")
    return _collate(list(batch), "sample")


def _collate(samples: list, path: str):
    first = samples[0]
    if isinstance(first, np.ndarray):
        shapes = {sample.shape for sample in samples if isinstance(sample, np.ndarray)}
        if len(shapes) > 1:
            raise ValueError(f"default_collate: {path} has different shapes in the batch: {_positions_by_shape(samples)}")
        return np.stack(samples)
    if isinstance(first, np.generic):
        return np.array(samples)
    if isinstance(first, bool):
        return np.array(samples, dtype=np.bool_)
    if isinstance(first, int):
        return np.array(samples, dtype=np.int64)
    if isinstance(first, float):
        return np.array(samples, dtype=np.float64)
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, Mapping):
        keys = list(first)
        for position, sample in enumerate(samples):
            if not isinstance(sample, Mapping) or set(sample) != set(keys):
                raise ValueError(f"default_collate: {path} at position {position} has keys {_keys(sample)}, expected {keys}")
        collated = {key: _collate([sample[key] for sample in samples], f"{path}[{key!r}]") for key in keys}
        try:
            return type(first)(collated)
        except TypeError:
            return collated
    if isinstance(first, Sequence):
        _check_lengths(samples, path)
        fields = [_collate(list(column), f"{path}[{i}]") for i, column in enumerate(zip(*samples))]
        if isinstance(first, tuple) and hasattr(first, "_fields"):
            return type(first)(*fields)
        if isinstance(first, tuple):
            return tuple(fields)
        return fields
    raise TypeError(
        f"default_collate: {path} is a {type(first).__name__}; samples must hold arrays, numbers, strings, "
        "mappings or sequences (pass collate_fn= to batch other types)"
    )


def _positions_by_shape(samples: list) -> str:
    positions: dict = {}
    for position, sample in enumerate(samples):
        positions.setdefault(getattr(sample, "shape", type(sample).__name__), []).append(position)
    return "; ".join(f"{shape} at positions {where}" for shape, where in positions.items())


def _check_lengths(samples: list, path: str) -> None:
    length = len(samples[0])
    for position, sample in enumerate(samples):
        if not isinstance(sample, Sequence) or len(sample) != length:
            size = len(sample) if isinstance(sample, Sequence) else type(sample).__name__
            raise ValueError(
                f"default_collate: {path} has {size} elements at position {position} but {length} at position 0; "
                "each sample in the batch should have the same structure"
            )


def _keys(sample) -> list | str:
    return list(sample) if isinstance(sample, Mapping) else type(sample).__name__
