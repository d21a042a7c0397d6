"""Argument checks shared by the loader and the samplers: each returns the value or raises torch's error type with a
message naming the argument, the value and what was expected."""
from __future__ import annotations

import math
import numbers
import operator

import numpy as np


def positive_int(value, argument: str, allow_zero: bool = False) -> int:
    """`value` as an int, or a TypeError/ValueError naming `argument`."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{argument} should be an int, got {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{argument} should be an int, got {type(value).__name__}: {value!r}") from None
    if number < 0 or (number == 0 and not allow_zero):
        expected = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{argument} should be {expected} integer value, but got {argument}={value!r}")
    return number


def seconds(value, argument: str) -> float:
    """`value` as a finite, non-negative number of seconds, or a TypeError/ValueError naming `argument`."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{argument} option should be a number of seconds, got {type(value).__name__}: {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{argument} option should be non-negative (a finite number of seconds), got {argument}={value!r}")
    return value


def boolean(value, argument: str) -> bool:
    """`value` as a bool (a Python or NumPy bool only), or a TypeError naming `argument`."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{argument} should be a boolean value, but got {argument}={value!r}")
    return bool(value)


def state_int(state: dict, key: str, owner: str) -> int:
    """`state[key]` of a saved state: a non-negative int below 2**63, or a ValueError naming the entry."""
    value = state[key]
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << 63:
        raise ValueError(f"{owner}[{key!r}] should be a non-negative int, got {value!r}")
    return value
