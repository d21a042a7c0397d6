"""The IDX format of MNIST-style files: a validated header, then the array memory-mapped in place.

Header: two zero bytes, a type code, the number of dimensions, then each dimension as a big-endian uint32. The
payload must be exactly the product of the dimensions times the item size, which catches truncated downloads.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from ...errors import CorruptFileError

DTYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
MAX_DIMS = 32  # NumPy 1.x's limit (2.x allows 64); MNIST-style files have 1 to 4


def read_idx(path) -> np.ndarray:
    """The array stored in IDX file `path`, memory-mapped read-only (nothing is copied); shape from the header."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            dtype, shape, offset = _header(handle, path.stat().st_size)
        if 0 in shape:  # mmap cannot map zero bytes
            return np.zeros(shape, dtype)
        return np.asarray(np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape))
    except ValueError as exc:
        raise CorruptFileError(f"{path} is not a valid IDX file: {exc} (truncated or damaged); delete it and download "
                               f"it again (download=True, or `python -m tinytorch.data download --force`)") from None


def _header(handle, size: int):
    """(dtype, shape, payload offset) of an IDX file, or ValueError saying what is wrong with it."""
    head = handle.read(4)
    if len(head) < 4 or head[:2] != b"\0\0":
        raise ValueError(f"the magic number starts {head[:2].hex() or 'empty'}, expected 0000")
    if head[2] not in DTYPES:
        raise ValueError(f"unknown type code 0x{head[2]:02x}, expected one of {', '.join(f'0x{c:02x}' for c in DTYPES)}")
    if head[3] > MAX_DIMS:
        raise ValueError(f"the header declares {head[3]} dimensions, more than the {MAX_DIMS} an array can have")
    dims = handle.read(4 * head[3])
    if len(dims) < 4 * head[3]:
        raise ValueError(f"the header declares {head[3]} dimensions but the file ends inside it")
    shape, dtype, offset = tuple(np.frombuffer(dims, dtype=">u4").tolist()), DTYPES[head[2]], 4 + len(dims)
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a product of huge dimensions cannot wrap around
    if size - offset != expected:
        raise ValueError(f"the header declares {shape} x {dtype.itemsize} bytes = {expected} bytes of data, "
                         f"the file holds {size - offset}")
    if math.prod(d for d in shape if d) * dtype.itemsize > sys.maxsize:  # NumPy refuses such a shape, even empty
        raise ValueError(f"the header declares {shape} x {dtype.itemsize} bytes: its non-zero dimensions multiply to "
                         f"more bytes than an array can hold")
    return dtype, shape, offset
