"""`default_collate`: a list of samples -> one batch with the same nested structure, leaves stacked into arrays."""
from __future__ import annotations

import copy
import functools
import sys
from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence

import numpy as np


def default_collate(batch):
    """Stack a list of samples into a batch, as torch's default_collate does but with NumPy arrays.

    Arrays are stacked along a new first axis. Numbers get torch's dtypes: a batch whose first element is a Python
    float is float64; otherwise each element counts as torch infers it (bool -> bool, int -> int64, float -> float32,
    complex -> complex64, a NumPy scalar -> its dtype; a batch whose first element is a Python complex is refused,
    as torch refuses it) and the kinds promote as torch promotes them, so [1, 2] is int64, [1, 2.5] float32,
    [2.5, 1] float64 and [True, 2] int64. str/bytes -> list; a Mapping -> the same mapping type (a copy of the first
    sample's, as torch) collated per key; a namedtuple -> the same namedtuple; tuple -> tuple (torch gives a list);
    list and other sequences -> their own type when it can be rebuilt, else list
    (`rebuilt`, which `default_convert` and `map_leaves` use too). An empty batch is torch's IndexError.
    Arrays of different shapes raise a ValueError naming the field's path in the sample, the shapes, and the
    positions in the batch that have each; an element of another kind than the first raises a TypeError naming its
    path, position and type. Samples holding torch tensors (torch already imported by the caller) are stacked
    with `torch.stack`, as torch does. A 1-D array of strings is a batch of strings: returned as it is, as torch does.
    """
    if isinstance(batch, np.ndarray) and batch.ndim == 1 and batch.dtype.kind in "US":
        return batch
    if not isinstance(batch, Sequence) or isinstance(batch, (str, bytes)):
        raise TypeError(f"default_collate expects a list of samples, got {type(batch).__name__}: {batch!r:.80}")
    if not batch:
        raise IndexError("list index out of range: default_collate got an empty batch")  # torch's error and words
    return _collate(list(batch), "sample")


def _collate(samples: list, path: str):
    first = samples[0]
    if isinstance(first, np.ndarray):
        return _stack(samples, path)
    torch = sys.modules.get("torch")  # a sample can hold a tensor only if torch was imported: never imported here
    if torch is not None and isinstance(first, torch.Tensor):
        return torch.stack(samples)
    if isinstance(first, (str, bytes)):  # NumPy's str_ and bytes_ too, as torch
        return list(samples)
    if isinstance(first, float) and not isinstance(first, np.generic):  # torch: torch.tensor(batch, dtype=float64)
        if not all(type(sample) is float for sample in samples):
            for position, sample in enumerate(samples):
                _checked(sample, position, path, first, _real)
        return np.array(samples, dtype=np.float64)
    if _number_dtype(first) is not None and type(first) is not complex:  # torch has no rule for a complex first
        dtypes = {type(sample): None for sample in samples}  # usually one or two types: promote once per type
        if all(kind in _PYTHON_NUMBERS for kind in dtypes):
            dtype = functools.reduce(_promote, (_PYTHON_NUMBERS[kind] for kind in dtypes))
        else:
            dtype = functools.reduce(_promote, (
                _checked(sample, position, path, first, _number_dtype) for position, sample in enumerate(samples)))
        return np.array(samples, dtype=dtype)
    if isinstance(first, Mapping):
        return _collate_mapping(samples, path)
    if isinstance(first, Sequence):
        _check_lengths(samples, path)
        return rebuilt(first, [_collate(list(column), f"{path}[{i}]") for i, column in enumerate(zip(*samples))])
    raise TypeError(  # torch's words first
        f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {type(first)} "
        f"(at {path}; pass collate_fn= to batch other types)"
    )


def default_convert(data):
    """One sample as `DataLoader(batch_size=None)` hands it over, as torch's `default_convert`: a NumPy scalar becomes
    a 0-d array (torch: a 0-d tensor), arrays and other leaves stay as they are, and mappings, namedtuples and
    sequences are rebuilt with their items converted (their type kept where it can be rebuilt, else a list; tuples
    stay tuples, as in `default_collate`)."""
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return np.asarray(data)
    if isinstance(data, _LEAVES):  # checked before the slow ABC tests below, as most samples hold these
        return data
    if type(data) is tuple:
        return tuple([default_convert(item) for item in data])
    if isinstance(data, Mapping):
        return rebuilt(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return rebuilt(data, [default_convert(item) for item in data])
    return data


_LEAVES = (bool, int, float, complex, str, bytes, type(None))


def rebuilt(like, items):
    """`items` (a dict for a mapping `like`, a list for a sequence) in a container of `like`'s type, as torch rebuilds
    them: the one rule for `default_collate`, `default_convert` and `map_leaves`, so a batch keeps its type whatever
    the worker count."""
    if type(items) is dict:
        return items if type(like) is dict else _like_mapping(like, items)
    if type(like) is list:
        return items
    return _like_sequence(like, items)


def _like_sequence(like, items: list):
    """`items` in a sequence of `like`'s type: a namedtuple or tuple, a copy of a mutable sequence (which keeps what
    the type holds besides its items, as torch), or the type built from the list; a list when the type cannot be
    rebuilt from its items (a range, say)."""
    if isinstance(like, tuple):
        return type(like)(*items) if hasattr(like, "_fields") else tuple(items)
    try:
        if isinstance(like, MutableSequence):
            rebuilt = copy.copy(like)
            for i, item in enumerate(items):
                rebuilt[i] = item
            return rebuilt
        return type(like)(items)
    except TypeError:
        return items


def _like_mapping(like, items: dict):
    """`items` in a mapping of `like`'s type: a copy of a mutable mapping (a defaultdict keeps its factory, as
    torch), or the type built from the dict; the dict when the type cannot be copied or built from one."""
    try:
        if isinstance(like, MutableMapping):
            rebuilt = copy.copy(like)
            rebuilt.update(items)
            return rebuilt
        return type(like)(items)
    except TypeError:
        return items


def map_leaves(tree, function, leaf: type):
    """`tree` (tuples, lists, dicts, namedtuples nested, as a collated batch) with `function` applied to every leaf
    of type `leaf`; other leaves stay as they are."""
    if isinstance(tree, leaf):
        return function(tree)
    if isinstance(tree, Mapping):
        return rebuilt(tree, {key: map_leaves(tree[key], function, leaf) for key in tree})
    if isinstance(tree, Sequence) and not isinstance(tree, (str, bytes)):
        return rebuilt(tree, [map_leaves(item, function, leaf) for item in tree])
    return tree


def as_torch(batch):
    """`batch` with each numeric NumPy array as a torch tensor (sharing its memory when the array is writable).

    What `DataLoader(as_tensors=True)` hands over; torch is imported here, so only when asked for.
    """
    import torch

    def tensor(array: np.ndarray):
        if array.dtype.kind not in "biufc":
            return array  # strings and objects have no tensor
        return torch.from_numpy(array) if array.flags.writeable else torch.tensor(array)

    return map_leaves(batch, tensor, np.ndarray)


def _stack(samples: list, path: str) -> np.ndarray:
    """Arrays stacked on a new first axis; NumPy scalars and numbers among them count as 0-d arrays, as in torch."""
    if not all(isinstance(sample, np.ndarray) for sample in samples):
        samples = [sample if isinstance(sample, np.ndarray) else
                   np.asarray(sample, dtype=_checked(sample, position, path, samples[0], _number_dtype))
                   for position, sample in enumerate(samples)]
    if len({sample.shape for sample in samples}) > 1:
        raise ValueError(f"default_collate: {path} has different shapes in the batch: {_positions_by_shape(samples)}")
    dtypes = {sample.dtype for sample in samples}
    return np.stack(samples, dtype=functools.reduce(_promote, dtypes) if len(dtypes) > 1 else None)


def _collate_mapping(samples: list, path: str):
    first = samples[0]
    keys = list(first)
    for position, sample in enumerate(samples):
        if not isinstance(sample, Mapping) or set(sample) != set(keys):
            raise ValueError(f"default_collate: {path} at position {position} has keys {_keys(sample)}, "
                             f"expected {keys}")
    return rebuilt(first, {key: _collate([sample[key] for sample in samples], f"{path}[{key!r}]") for key in keys})


_PYTHON_NUMBERS = {bool: np.dtype(np.bool_), int: np.dtype(np.int64), float: np.dtype(np.float32),
                   complex: np.dtype(np.complex64)}
_KIND_ORDER = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _number_dtype(value) -> np.dtype | None:
    """The dtype torch infers for one number (Python floats are float32, torch's default), or None for a non-number."""
    if isinstance(value, (np.number, np.bool_)):
        return value.dtype
    for kind, dtype in _PYTHON_NUMBERS.items():  # bool before int: a bool is an int in Python
        if isinstance(value, kind):
            return dtype
    return None


def _real(value) -> np.dtype | None:
    """The dtype of a real number (what a float64 batch can hold), None for anything else."""
    dtype = _number_dtype(value)
    return dtype if dtype is not None and dtype.kind != "c" else None


def _promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch's type promotion: the higher kind (bool < integer < floating < complex) wins with its own width, so
    int64 with float32 gives float32 (NumPy: float64); within a kind, and from floating to complex, NumPy's rule."""
    if _KIND_ORDER[a.kind] == _KIND_ORDER[b.kind] or {a.kind, b.kind} == {"f", "c"}:
        return np.promote_types(a, b)
    return a if _KIND_ORDER[a.kind] > _KIND_ORDER[b.kind] else b


def _checked(sample, position: int, path: str, first, kind_of):
    """`kind_of(sample)`, or a TypeError naming the position and type of a sample unlike the first."""
    kind = kind_of(sample)
    if kind is None:
        raise TypeError(
            f"default_collate: {path} at position {position} is {_describe(sample)}, but at position 0 it is "
            f"{_describe(first)}; each sample in the batch should have the same structure"
        )
    return kind


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__


def _positions_by_shape(samples: list) -> str:
    positions: dict = {}
    for position, sample in enumerate(samples):
        positions.setdefault(getattr(sample, "shape", type(sample).__name__), []).append(position)
    return "; ".join(f"{shape} at positions {where}" for shape, where in positions.items())


def _check_lengths(samples: list, path: str) -> None:
    length, kind = len(samples[0]), type(samples[0])
    for position, sample in enumerate(samples):
        # The type test first: isinstance against the Sequence ABC is slow, and it runs for every sample of a batch.
        if (type(sample) is not kind and not isinstance(sample, Sequence)) or len(sample) != length:
            size = len(sample) if isinstance(sample, Sequence) else type(sample).__name__
            raise ValueError(
                f"default_collate: {path} has {size} elements at position {position} but {length} at position 0; "
                "each sample in the batch should have the same structure"
            )


def _keys(sample) -> list | str:
    return list(sample) if isinstance(sample, Mapping) else type(sample).__name__
