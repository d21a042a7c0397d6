"""A restricted unpickler for dataset files: NumPy arrays and plain containers, nothing else.

Dataset pickles (CIFAR-10's Python 2 batches, TinyDigits' Python 3 files) are dicts of arrays, lists, str and
numbers. `load` resolves only the handful of globals those need, from a fixed table, so a pickle naming any
other callable is refused before anything in it runs.
"""
import builtins
import codecs
import os
import pickle

import numpy as np

from ...errors import CorruptFileError, UnsafePickleError

try:  # NumPy 2 moved numpy.core to numpy._core; pickles from either era name their own.
    from numpy._core import multiarray, numeric
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core import multiarray, numeric


def _latin1_encode(text, encoding="latin1"):
    """Python 3 pickles of bytes at protocols 0-2 call `_codecs.encode(text, 'latin1')`; allow only that codec."""
    if codecs.lookup(encoding).name != "iso8859-1":
        raise UnsafePickleError(f"_codecs.encode with encoding {encoding!r} is not allowed, only latin1")
    return codecs.encode(text, "latin1")


_ALLOWED = {
    **{(module, "_reconstruct"): multiarray._reconstruct for module in ("numpy.core.multiarray", "numpy._core.multiarray")},
    **{(module, "scalar"): multiarray.scalar for module in ("numpy.core.multiarray", "numpy._core.multiarray")},
    **{(module, "_frombuffer"): numeric._frombuffer for module in ("numpy.core.numeric", "numpy._core.numeric")},
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
    **{(module, name): getattr(builtins, name)
       for module in ("builtins", "__builtin__") for name in ("set", "frozenset", "bytes", "bytearray")},
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, name, encoding):
        super().__init__(file, encoding=encoding)
        self.name = name

    def find_class(self, module, name):
        try:
            return _ALLOWED[module, name]
        except KeyError:
            raise UnsafePickleError(
                f"{self.name} refers to {module}.{name}, which a dataset file has no need of; only NumPy arrays and "
                f"plain containers are loaded, and nothing in the file was run. Replace it with a trusted copy."
            ) from None


def load(file, *, encoding: str = "latin1"):
    """Unpickle `file` (a path or a binary file object) allowing only NumPy arrays and plain containers.

    `encoding="latin1"` reads Python 2 pickles (whose str holds raw bytes, as in CIFAR-10) as well as Python 3 ones.
    Raises UnsafePickleError for any other global and CorruptFileError for a truncated or malformed stream.
    """
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as handle:
            return load(handle, encoding=encoding)
    name = getattr(file, "name", "the pickle stream")
    try:
        return _Unpickler(file, name, encoding).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            MemoryError, OverflowError) as exc:  # MemoryError, OverflowError: a huge declared length or shape
        reason = str(exc) or "it declares an object larger than memory"
        raise CorruptFileError(f"{name} is truncated or not a valid pickle ({type(exc).__name__}: {reason}); "
                               f"replace it with a fresh copy") from exc
