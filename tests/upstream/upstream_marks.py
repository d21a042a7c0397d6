"""Markers and assertions shared by the ported upstream tests.

`differs(row)`: a deliberate difference, a row of README's "Differences from PyTorch" table.
`bug(what)`: behaviour that differs from torch's without such a row; a finding for the code's owner.
`assert_equal(a, b)`: torch's `TestCase.assertEqual` for NumPy: containers compared element by element, arrays
and numbers by value and shape, whatever the container or number type.
"""
from collections.abc import Mapping, Sequence

import numpy as np
import pytest


def differs(row: str):
    return pytest.mark.xfail(strict=True, reason=f"README Differences: {row}")


def bug(what: str):
    return pytest.mark.xfail(strict=True, reason=f"BUG: {what}")


def assert_equal(actual, expected, *, atol=0.0, rtol=0.0):
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        assert set(actual) == set(expected), f"keys {sorted(actual)} != {sorted(expected)}"
        for key in actual:
            assert_equal(actual[key], expected[key], atol=atol, rtol=rtol)
    elif isinstance(actual, (str, bytes)) or isinstance(expected, (str, bytes)):
        assert actual == expected, f"{actual!r} != {expected!r}"
    elif (isinstance(actual, Sequence) and not isinstance(actual, np.ndarray)
          and isinstance(expected, Sequence) and not isinstance(expected, np.ndarray)):
        assert len(actual) == len(expected), f"lengths {len(actual)} != {len(expected)}"
        for a, e in zip(actual, expected):
            assert_equal(a, e, atol=atol, rtol=rtol)
    else:
        a, e = np.asarray(actual), np.asarray(expected)
        assert a.size == e.size, f"sizes {a.shape} != {e.shape}"
        a = a.reshape(e.shape) if a.shape != e.shape and a.size == e.size and (a.ndim == 0 or e.ndim == 0) else a
        assert a.shape == e.shape, f"shapes {a.shape} != {e.shape}"
        if atol or rtol:
            np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64), atol=atol, rtol=rtol)
        else:
            assert np.array_equal(a, e), f"{a!r} != {e!r}"


class LazyModule:
    """A module imported at first attribute access, so a test using a module that does not exist yet fails (and
    its xfail names why) instead of the whole file failing to import."""

    def __init__(self, name: str):
        self.name = name

    def __getattr__(self, attribute):
        import importlib
        return getattr(importlib.import_module(self.name), attribute)


F = LazyModule("tinytorch.data.transforms.functional")
NO_FUNCTIONAL = "tinytorch.data.transforms.functional (torchvision.transforms.functional's v1 names) does not exist yet"
NO_GET_PARAMS = "no get_params on RandomCrop, RandomResizedCrop, RandomRotation, RandomErasing, ColorJitter"


def needs_functional(test):
    """xfail while `functional` is missing: strict, and only for that ImportError or AttributeError, so once it
    lands the test either passes (XPASS: remove the marker) or fails on its assertion."""
    return pytest.mark.xfail(strict=True, raises=(ImportError, AttributeError), reason=f"BUG: {NO_FUNCTIONAL}")(test)


def needs_get_params(test):
    return pytest.mark.xfail(strict=True, raises=AttributeError, reason=f"BUG: {NO_GET_PARAMS}")(test)


def pil_to_tensor(image) -> np.ndarray:
    """torchvision's PILToTensor: the Pillow image's pixels as (C, H, W), dtype kept."""
    array = np.asarray(image)
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
