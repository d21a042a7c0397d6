"""Datasets: indexable collections of samples, with torch.utils.data's names and semantics.

A map-style `Dataset` answers `dataset[i]` and `len(dataset)`. One that can also answer a whole batch in one
NumPy indexing call defines `get_batch(indices)`, returning the batch already collated (the fast path the
`DataLoader` takes with the default collation, when `has_batches` says so). Datasets written for PyTorch
(`__getitem__` only, or `__getitems__` returning a list of samples) work unchanged, one sample at a time; samples
fetched one at a time get their own randomness (`get_samples`).
"""
from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Sequence
from typing import Generic, TypeVar

import numpy as np

from . import rng
from .arguments import fast_route_agrees
from .rng import seed_from

T_co = TypeVar("T_co", covariant=True)  # the type of a sample: `Dataset[int]`, as in torch's type hints


def check_index(index, length: int) -> int:
    """A Python-style int index into a sequence of `length` (negatives count from the end)."""
    try:
        index = operator.index(index)
    except TypeError:
        raise TypeError(f"index must be an int, got {type(index).__name__}: {index!r}") from None
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range for a dataset of length {length}")
    return index + length if index < 0 else index


def as_index_array(indices) -> np.ndarray:
    """A 1-D integer array of indices; NumPy's indexing then takes negatives and raises IndexError when out of range.
    The loader's int64 1-D array is returned as it is, without the checks."""
    if type(indices) is np.ndarray and indices.dtype == np.intp and indices.ndim == 1:
        return indices
    array = np.asarray(indices)
    if not array.size:
        return np.zeros(0, np.intp)
    if array.dtype.kind not in "iu":
        raise TypeError(f"indices must be integers, got {array.dtype} array {array!r:.60}")
    return array.reshape(-1)


def has_batches(dataset) -> bool:
    """Whether the loader may ask `dataset.get_batch(indices)` for a batch instead of its samples: a map-style
    dataset with `get_batch` defined by the class that defines its `__getitem__` and `__getitems__`
    (`arguments.fast_route_agrees`: a subclass overriding either alone is fetched through its override, as torch
    fetches it), and, where the dataset defines `batches_available()` (a wrapper's "the wrapped dataset has them"),
    that says yes."""
    if isinstance(dataset, IterableDataset) or not hasattr(dataset, "get_batch"):
        return False
    if not fast_route_agrees(dataset, "get_batch", "__getitem__", "__getitems__"):
        return False
    return dataset.batches_available() if hasattr(dataset, "batches_available") else True


class Dataset(Generic[T_co]):
    """A map-style dataset: subclasses define `__getitem__(index)` and usually `__len__()`."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")  # torch's words

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A stream of samples: subclasses define `__iter__()`. In worker processes, shard with `get_worker_info()`."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Iterable datasets chained one after another. As in torch, a map-style one among them is an AssertionError
    when the chain is iterated (or its length taken), not when it is built."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for dataset in self.datasets:
            yield from _iterable(dataset)

    def __len__(self):
        return sum(len(_iterable(dataset)) for dataset in self.datasets)


def _iterable(dataset: IterableDataset) -> IterableDataset:
    if not isinstance(dataset, IterableDataset):
        raise AssertionError(f"ChainDataset only supports IterableDataset, got {type(dataset).__name__}")
    return dataset


class TensorDataset(Dataset):
    """Samples are the i-th rows of equally long arrays: `TensorDataset(X, y)[i] == (X[i], y[i])`.

    As in torch, a slice, a list or an integer array picks several rows at once: `TensorDataset(X, y)[1:3]` is
    `(X[1:3], y[1:3])`.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one array")
        self.tensors = tuple(np.asarray(tensor) for tensor in tensors)
        lengths = [len(tensor) if tensor.ndim else None for tensor in self.tensors]
        if None in lengths or len(set(lengths)) != 1:  # torch's error and words first
            shapes = [tensor.shape for tensor in self.tensors]
            raise AssertionError(f"Size mismatch between tensors: they must have the same first dimension, got "
                                 f"shapes {shapes}")

    def __len__(self):
        return len(self.tensors[0])

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(tensor[index] for tensor in self.tensors)
        if isinstance(index, (list, range, np.ndarray)):
            return self.get_batch(index)
        index = check_index(index, len(self))
        return tuple(tensor[index] for tensor in self.tensors)

    def get_batch(self, indices):
        indices = as_index_array(indices)
        return tuple(tensor[indices] for tensor in self.tensors)


class Subset(Dataset[T_co]):
    """The samples of `dataset` at `indices`, in that order. As in torch, `subset[[0, 2]]` and `subset[0:2]` ask
    `dataset` for those samples in one indexing call (`dataset[[indices[0], indices[2]]]`).

    A subclass that overrides `__getitem__` (to apply a transform, say) is fetched through it, one sample at a time,
    unless it also overrides `__getitems__` (torch 2.13 refuses such a subclass; older torch code relies on it).
    The loader takes `get_batch` when `dataset` has batches (`batches_available`) and no such override stands in
    its way (`has_batches`). `indices` is read on every access: editing it in place is seen at once, as in torch.
    """

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        if isinstance(index, slice):
            return self.dataset[self.indices[index]]
        return self.dataset[self.indices[check_index(index, len(self))]]

    def __getitems__(self, indices):
        if not fast_route_agrees(self, "__getitems__", "__getitem__"):  # a subclass's own __getitem__
            return rng.each_sample(self.__getitem__, indices)
        return get_samples(self.dataset, [self.indices[i] for i in indices])

    def batches_available(self) -> bool:
        """Whether `get_batch` can serve: the wrapped dataset has batches (`has_batches`)."""
        return has_batches(self.dataset)

    def get_batch(self, indices):
        """The collated batch at `indices`, in one `dataset.get_batch` call (where `batches_available()`)."""
        positions = as_index_array(indices)
        if isinstance(self.indices, np.ndarray):
            return self.dataset.get_batch(self.indices[positions])
        chosen = self.indices
        return self.dataset.get_batch(np.fromiter((chosen[i] for i in positions.tolist()), np.int64, len(positions)))


def get_samples(dataset, indices: list) -> list:
    """The samples of `dataset` at `indices`: one `__getitems__` call where the dataset has it (its one-sample draws
    matched to the samples in order, `rng.samples_in_order`), else one `dataset[i]` each, with the randomness
    narrowed to that sample's place in the batch (as the loader's fetch)."""
    if hasattr(dataset, "__getitems__"):
        return rng.samples_in_order(dataset.__getitems__, indices)
    return rng.each_sample(dataset.__getitem__, indices)


class ConcatDataset(Dataset[T_co]):
    """Datasets one after another: index i goes to the dataset whose cumulative length passes i."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")  # torch's error and words
        for position, dataset in enumerate(self.datasets):
            if isinstance(dataset, IterableDataset):  # torch's error type and words
                raise AssertionError(f"ConcatDataset does not support IterableDataset (datasets[{position}] is a "
                                     f"{type(dataset).__name__})")
        self.cumulative_sizes = list(np.cumsum([len(dataset) for dataset in self.datasets]).tolist())

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)) and index < -len(self):  # torch's error and words
            raise ValueError(f"absolute value of index should not exceed dataset length (index {index}, length "
                             f"{len(self)})")
        index = check_index(index, len(self))
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class StackDataset(Dataset[T_co]):
    """Datasets side by side: `StackDataset(a, b)[i] == (a[i], b[i])`,
    `StackDataset(x=a, y=b)[i] == {'x': a[i], 'y': b[i]}`."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either tuple- (via args) or dict- (via kwargs) like input/output, "
                             "but both types are given")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        self.datasets = args or kwargs
        parts = args or kwargs.values()
        lengths = {len(dataset) for dataset in parts}
        if len(lengths) != 1:
            raise ValueError(f"Size mismatch between datasets: lengths {sorted(lengths)}")
        self._length = lengths.pop()

    def __len__(self):
        return self._length

    def __getitem__(self, index):
        index = check_index(index, len(self))
        if isinstance(self.datasets, dict):
            return {key: dataset[index] for key, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __getitems__(self, indices: list) -> list:
        """The samples at `indices`, each part fetched for all of them at once (with `__getitems__` where it has
        one)."""
        parts = self.datasets.values() if isinstance(self.datasets, dict) else self.datasets
        columns = []
        for dataset in parts:
            column = get_samples(dataset, indices)
            if len(column) != len(indices):
                raise ValueError(f"Nested dataset's output size mismatch. Expected {len(indices)}, got {len(column)} "
                                 f"(from {type(dataset).__name__}.__getitems__)")
            columns.append(column)
        if isinstance(self.datasets, dict):
            return [dict(zip(self.datasets, sample)) for sample in zip(*columns)]
        return list(zip(*columns))


def random_split(dataset, lengths, generator=None) -> list[Subset]:
    """Split `dataset` into non-overlapping random `Subset`s of the given lengths.

    `lengths` are counts summing to len(dataset), or fractions summing to 1: floor(n * fraction) each, then the
    remainder handed out one at a time round-robin from the first subset, as torch does. `generator` is an
    int seed, a numpy Generator or a torch.Generator (`rng.seed_from`); with a seed the split is the same run to run.
    """
    lengths = list(lengths)
    n = len(dataset)
    mismatch = "Sum of input lengths does not equal the length of the input dataset!"  # torch's words, first
    if not lengths:
        raise ValueError(f"{mismatch} (no lengths given, dataset of length {n})")
    if any(not isinstance(value, (int, float, np.integer, np.floating)) for value in lengths):
        raise ValueError(f"lengths must be counts or fractions, got {lengths}")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1 (got {fraction})")
        counts = [int(math.floor(n * fraction)) for fraction in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not float(value).is_integer() for value in lengths):
        raise ValueError(f"{mismatch} (lengths {lengths} are neither counts summing to {n} nor fractions summing "
                         "to 1)")
    lengths = [int(value) for value in lengths]
    if any(value < 0 for value in lengths):
        raise ValueError(f"lengths must be non-negative counts, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"{mismatch} (lengths {lengths} sum to {sum(lengths)}, the dataset has {n} samples)")
    order = np.random.default_rng(seed_from(generator)).permutation(n)
    bounds = np.cumsum([0] + lengths)
    return [Subset(dataset, order[start:stop].tolist()) for start, stop in zip(bounds[:-1], bounds[1:])]
