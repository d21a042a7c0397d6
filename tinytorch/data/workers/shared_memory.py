"""Batches from worker processes through shared memory: the arrays are copied into a segment, only their layout is
pickled.

Pickling a 1.57 MB CIFAR batch through a pipe cost 0.9 to 3.1 ms of CPU time (worker and main process together)
against 0.2 ms through shared memory (benchmarks/bench_workers.py), while the batch takes 3.4 ms to compute one sample
at a time: on a per-sample pipeline the pipe would add 16% to 45% to every batch.

A worker copies a batch's arrays into a segment the main process named (`SegmentWriter.put`); the main process copies
them out (`SegmentReader.take`), and the segment takes a later batch. Names carry the main process's pid and a random
token (`tinytorch_<pid>_<token>_<n>`), so they never meet a stale segment of an earlier process with the same pid;
the reader unlinks every segment it named when the workers stop.
"""
from __future__ import annotations

import errno
import os
import secrets
from multiprocessing.shared_memory import SharedMemory
from typing import NamedTuple

import numpy as np

from ..collate import map_leaves

SEGMENT_PREFIX = "tinytorch_"
SHM_FOLDER = "/dev/shm"  # where POSIX shared memory lives on Linux (a tmpfs: Docker gives it 64 MB by default)


class _Slot(NamedTuple):
    """Where one array of a batch sits in its segment."""

    offset: int
    shape: tuple
    dtype: np.dtype


def _view(buffer, slot: _Slot) -> np.ndarray:
    return np.ndarray(slot.shape, slot.dtype, buffer=buffer, offset=slot.offset)


def create_segment(name: str, size: int) -> SharedMemory:
    """A new segment of `size` bytes, its memory reserved at once (posix_fallocate) where /dev/shm exists.

    Pages of a tmpfs are taken when first written: without the reservation, a full /dev/shm would kill the worker
    with SIGBUS in the middle of copying a batch. With it, that is an OSError naming the remedy.
    """
    if not (os.path.isdir(SHM_FOLDER) and hasattr(os, "posix_fallocate")):
        return SharedMemory(name, create=True, size=size)
    path = os.path.join(SHM_FOLDER, name)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.posix_fallocate(descriptor, 0, size)
    except OSError as error:
        os.unlink(path)
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        stats = os.statvfs(SHM_FOLDER)
        free = stats.f_bavail * stats.f_frsize // 2**20
        raise OSError(errno.ENOSPC, f"not enough shared memory in {SHM_FOLDER} ({free} MB free; run the container "
                                    f"with --shm-size, or use fewer workers): a batch of {size / 2**20:.1f} MB does "
                                    "not fit") from None
    finally:
        os.close(descriptor)
    return SharedMemory(name)


class SegmentWriter:
    """A worker's side: its segments by name, created (or re-created bigger) as batches need them."""

    def __init__(self):
        self.segments = {}

    def put(self, batch, name: str):
        """Copy the arrays of `batch` into segment `name`.

        Returns (layout, size): the batch with each array replaced by its `_Slot`, and the size of the segment, which
        changes whenever the segment is re-created; (batch, None) when the batch holds no arrays. Object arrays and
        other leaves stay in the layout, to be pickled.
        """
        slots, size = [], 0

        def place(array):
            nonlocal size
            if array.dtype.hasobject or type(array) is not np.ndarray:  # a subclass (MaskedArray) is pickled whole
                return array
            slots.append((_Slot(size, array.shape, array.dtype), array))
            size += -(-array.nbytes // 64) * 64  # keep every array 64-byte aligned
            return slots[-1][0]

        layout = map_leaves(batch, place, np.ndarray)
        if not slots:
            return batch, None
        segment = self.segments.get(name)
        if segment is None or segment.size < size:
            if segment is not None:
                segment.close()
                segment.unlink()  # the main process's mapping of it stays valid until it sees the new size
            segment = self.segments[name] = create_segment(name, max(size, 1))
        for slot, array in slots:
            _view(segment.buf, slot)[...] = array
        return layout, segment.size


class SegmentReader:
    """The main process's side: names segments, copies batches out of them, and unlinks them all in `free_all`."""

    def __init__(self):
        self.prefix = f"{SEGMENT_PREFIX}{os.getpid()}_{secrets.token_hex(6)}_"
        self.names, self.mapped = [], {}

    def new_name(self) -> str:
        self.names.append(f"{self.prefix}{len(self.names)}")
        return self.names[-1]

    def take(self, layout, size: int | None, name: str):
        """The batch a `SegmentWriter.put` stored in segment `name`, its arrays copied out (the segment is free again)."""
        if size is None:
            return layout
        segment = self.mapped.get(name)
        if segment is None or segment.size != size:  # created, or re-created bigger, since it was last mapped
            if segment is not None:
                segment.close()
            segment = self.mapped[name] = SharedMemory(name)
        return map_leaves(layout, lambda slot: _view(segment.buf, slot).copy(), _Slot)

    def free_all(self) -> None:
        """Close and unlink every segment this reader named (those that exist), whatever state the workers left."""
        for segment in self.mapped.values():
            segment.close()
        self.mapped.clear()
        for name in self.names:
            try:
                segment = SharedMemory(name)
            except FileNotFoundError:
                continue
            segment.close()
            segment.unlink()
