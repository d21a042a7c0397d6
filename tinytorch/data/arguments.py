"""Checks of what the loader and the samplers are given: argument values (each returns the value or raises torch's
error type with torch's message, naming the argument and the value), and whether a sampler's or a dataset's fast
route stands for the methods torch would call (`fast_route_agrees`)."""
from __future__ import annotations

import math
import numbers
import operator

import numpy as np


def positive_int(value, argument: str, allow_zero: bool = False) -> int:
    """`value` as an int, or torch's ValueError naming `argument` ("batch_size should be a positive integer value,
    but got batch_size=1.0") for anything else: a bool, a float, a string, a number below 1 (below 0 `allow_zero`)."""
    if not isinstance(value, (bool, np.bool_)):
        try:
            number = operator.index(value)
        except TypeError:
            number = None
        if number is not None and (number > 0 or number == 0 and allow_zero):
            return number
    expected = "a non-negative" if allow_zero else "a positive"
    raise ValueError(f"{argument} should be {expected} integer value, but got {argument}={value}")


def seconds(value, argument: str) -> float:
    """`value` as a finite, non-negative number of seconds, or a TypeError/ValueError naming `argument`."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{argument} option should be a number of seconds, got {type(value).__name__}: {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{argument} option should be non-negative (a finite number of seconds), got "
                         f"{argument}={value!r}")
    return value


def boolean(value, argument: str, error: type[Exception] = ValueError) -> bool:
    """`value` as a bool (a Python or NumPy bool only), or torch's error naming `argument` ("drop_last should be a
    boolean value, but got drop_last=1"): a ValueError, as torch's BatchSampler and WeightedRandomSampler raise;
    torch's RandomSampler raises a TypeError, so it passes `error=TypeError`."""
    if not isinstance(value, (bool, np.bool_)):
        raise error(f"{argument} should be a boolean value, but got {argument}={value}")
    return bool(value)


def state_int(state: dict, key: str, owner: str) -> int:
    """`state[key]` of a saved state: a non-negative int below 2**64 (a seed's range), as a Python int (a NumPy
    integer from a state that went through NumPy is taken), or a ValueError naming the entry."""
    value = state[key]
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)) or not 0 <= value < 1 << 64:
        raise ValueError(f"{owner}[{key!r}] should be a non-negative int, got {value!r}")
    return int(value)


def fast_route_agrees(obj, fast: str, *methods: str) -> bool:
    """Whether `obj.<fast>` may stand in for the `methods` torch would call (`epoch_indices` for `__iter__`,
    `get_batch` for `__getitem__` and `__getitems__`): `obj` has `fast`, and the class defining each of `methods`
    that it has (the first in its MRO) defines `fast` too.

    So a subclass that overrides `__iter__` or `__getitem__` alone is used through its override, as torch uses it.
    A subclass whose override gives what the inherited fast route gives says so by naming the route in its body
    (`get_batch = TensorDataset.get_batch`).
    """
    mro = type(obj).__mro__
    if not any(fast in vars(cls) for cls in mro):
        return False
    for method in methods:
        owner = next((cls for cls in mro if method in vars(cls)), None)
        if owner is not None and fast not in vars(owner):
            return False
    return True
