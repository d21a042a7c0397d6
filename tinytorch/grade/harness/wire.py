"""The grader's wire format between the grading process and the submission's: JSON plus the raw bytes of arrays.

A message is plain data only: None, bools, ints, floats, strings, lists, tuples, dicts with string keys, and NumPy
arrays of numbers or bools (their dtype and shape in the JSON, their bytes after it). Nothing is ever unpickled, so
a message cannot carry code. A value of any other type is sent as `Opaque(type name, repr)`, which the grader
reports as such. Framing: an 8-byte big-endian length, then the payload: a 4-byte length, the JSON header, then the
arrays' bytes one after the other.
"""
from __future__ import annotations

import json
import math
import mmap
import os
import struct

import numpy as np

LIMIT = 1 << 28  # 256 MB: a larger message is refused as a broken one


class WireError(Exception):
    """A message that is not in the wire format (damaged, too large, or not plain data)."""


class Opaque:
    """A value that is not plain data, seen only through its type name and (shortened) repr."""

    def __init__(self, kind: str, text: str):
        self.kind, self.text = kind, text

    def __repr__(self):
        return self.text

    def __eq__(self, other):
        return isinstance(other, Opaque) and (self.kind, self.text) == (other.kind, other.text)


class Shared:
    """An input array that the grading process shares with the submission's interpreter through a file both map:
    after the answer, the grading process reads what the file holds, so whether the submission wrote into its
    input is seen by the grader itself, not reported by the submission. Not shared (`path` None, as in the
    notebook's self-checks), it is sent as a copy and `after` stays None."""

    def __init__(self, array):
        self.array = np.ascontiguousarray(array)  # as generated: never handed out
        self.path, self.after = None, None

    def written(self) -> bool:
        """Whether the array held other values after the answer than before (False when that was not seen)."""
        return self.after is not None and not np.array_equal(self.after, self.array,
                                                             equal_nan=self.array.dtype.kind in "fc")


def encode(value) -> bytes:
    arrays = []

    def plain(item):
        if isinstance(item, Shared):
            if item.path is None:
                item = item.array
            else:
                return {"$shared": [item.path, item.array.dtype.str, list(item.array.shape)]}
        if item is None or isinstance(item, (bool, str)):
            return item
        if isinstance(item, (int, float)) and type(item) in (int, float, bool):
            return item
        if isinstance(item, np.generic):
            item = np.asarray(item)
        if isinstance(item, np.ndarray) and item.dtype.kind in "biufc":
            array = np.asarray(item, order="C")  # a subclass is sent as its plain array
            arrays.append(array.tobytes())
            return {"$array": [array.dtype.str, list(array.shape), len(arrays[-1])]}
        if type(item) in (list, tuple):
            return {"$tuple" if type(item) is tuple else "$list": [plain(element) for element in item]}
        if type(item) is dict and all(type(key) is str for key in item):
            return {"$dict": {key: plain(element) for key, element in item.items()}}
        return {"$opaque": [type(item).__name__, safe_repr(item)]}

    header = json.dumps(plain(value)).encode()
    return b"".join([struct.pack(">I", len(header)), header, *arrays])


def mapped(path: str, dtype: str, shape: list) -> np.ndarray:
    """The array in the file `path`, mapped so that writing into it writes into the file."""
    dtype, count = np.dtype(dtype), math.prod(shape)
    if not count or not dtype.itemsize:
        return np.zeros(shape, dtype)
    descriptor = os.open(path, os.O_RDWR)
    try:
        memory = mmap.mmap(descriptor, count * dtype.itemsize)
    finally:
        os.close(descriptor)
    return np.frombuffer(memory, dtype, count).reshape(shape)


def decode(payload: bytes, shared: bool = False):
    """The value in `payload`. Arrays shared through files ("$shared") are mapped only with `shared` (the harness's
    side): the grading process never opens a path that the submission's side names."""
    try:
        (size,) = struct.unpack_from(">I", payload)
        header, at = json.loads(payload[4:4 + size]), [4 + size]
    except (ValueError, struct.error) as error:
        raise WireError(f"a damaged message: {error}") from None

    def array(dtype: str, shape: list, size: int) -> np.ndarray:
        dtype = np.dtype(dtype)
        count = math.prod(shape)
        if dtype.kind not in "biufc" or size != dtype.itemsize * count or at[0] + size > len(payload):
            raise ValueError(f"an array of {dtype} {shape} in {size} bytes")
        at[0] += size
        return np.frombuffer(payload, dtype, count, at[0] - size).reshape(shape).copy()

    def value(item):
        if not isinstance(item, dict):
            return item
        (kind, content), = item.items()
        if kind == "$array":
            return array(*content)
        if kind in ("$list", "$tuple"):
            items = [value(element) for element in content]
            return tuple(items) if kind == "$tuple" else items
        if kind == "$dict":
            return {key: value(element) for key, element in content.items()}
        if kind == "$shared" and shared:
            return mapped(*content)
        return Opaque(*content)

    try:
        return value(header)
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise WireError(f"a damaged message: {error!r}") from None


def safe_repr(item) -> str:
    try:
        text = repr(item)
    except Exception:  # a student's __repr__ may raise: the type name says enough
        text = f"<{type(item).__name__}>"
    return text if len(text) <= 120 else text[:117] + "..."


def send(fd: int, value) -> None:
    payload = encode(value)
    view = memoryview(struct.pack(">Q", len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


def receive(fd: int, wait=None, shared: bool = False) -> object:
    """The next message on `fd`; `wait(fd)` (when given) blocks until fd is readable or raises TimeoutError.
    EOFError when the other side has closed its end. `shared`: see `decode`."""
    (size,) = struct.unpack(">Q", read_exactly(fd, 8, wait))
    if size > LIMIT:
        raise WireError(f"a message of {size} bytes, more than the {LIMIT} allowed")
    return decode(read_exactly(fd, size, wait), shared)


def read_exactly(fd: int, size: int, wait) -> bytes:
    chunks, left = [], size
    while left:
        if wait is not None:
            wait(fd)
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
