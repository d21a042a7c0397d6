"""Worker processes for `DataLoader(num_workers > 0)`: each computes whole batches with the same `fetch` as the main
process, so the batches (random transforms included) do not depend on the number of workers.

Tasks go to a worker through its own queue; batches come back through shared memory: the worker copies a batch's
arrays into a `multiprocessing.shared_memory` segment named by the task (prefix `tinytorch_<pid>_`), and only the
small layout (offsets, shapes, dtypes, plus any non-array leaves) is pickled over the worker's result pipe. The main
process copies the arrays out, and the segment takes a later batch: segments are created once per batch under way,
not once per batch, and unlinked by name when the workers stop, whatever state they were left in.

The main process waits on the result pipes and the workers' process sentinels together, so a worker that dies
(SIGKILL, the out-of-memory killer) wakes it at once with an error instead of a hang.
"""
from __future__ import annotations

import collections
import itertools
import multiprocessing
import queue
import os
import random
import signal
import time
import traceback
import weakref
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.connection import wait
from multiprocessing.shared_memory import SharedMemory
from typing import NamedTuple

import numpy as np

from .collate import default_collate
from .dataset import IterableDataset
from .fetch import fetch

SEGMENT_PREFIX = "tinytorch_"
_POLL_SECONDS = 1.0  # how often an idle worker checks that the main process is still alive
_STOP_SECONDS = 1.0  # how long stopping waits for workers to finish their batch before terminating them
_DRAIN_SECONDS = 10.0  # how long ending an epoch of persistent workers waits for the batches under way
_task_keys = itertools.count()  # task numbers, unique in this process


@dataclass(frozen=True)
class WorkerInfo:
    """id in [0, num_workers); seed: this worker's base seed; dataset: this worker's copy of the dataset."""

    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """This worker's `WorkerInfo` inside a DataLoader worker process, None in the main process.

    An IterableDataset uses it to read only its shard: e.g. `itertools.islice(stream, info.id, None, info.num_workers)`.
    """
    return _worker_info


def resolve_context(context) -> multiprocessing.context.BaseContext:
    """The multiprocessing context for `multiprocessing_context`: None (fork where available, else spawn), a start
    method name ('fork', 'spawn', 'forkserver'), or a context object."""
    if context is None:
        return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    if isinstance(context, str):
        if context not in multiprocessing.get_all_start_methods():
            raise ValueError(f"multiprocessing_context should be one of {multiprocessing.get_all_start_methods()} "
                             f"on this platform, got {context!r}")
        return multiprocessing.get_context(context)
    if isinstance(context, multiprocessing.context.BaseContext):
        return context
    raise TypeError("multiprocessing_context should be None, a start method name or a multiprocessing context, "
                    f"got {type(context).__name__}: {context!r}")


# Batches through shared memory ---------------------------------------------------------------------------------------

class _Slot(NamedTuple):
    """Where one array of a batch sits in its segment."""

    offset: int
    shape: tuple
    dtype: np.dtype


def _map_leaves(tree, function, leaf: type):
    """`tree` (tuples, lists, dicts, namedtuples nested) with `function` applied to every leaf of type `leaf`."""
    if isinstance(tree, leaf):
        return function(tree)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(_map_leaves(item, function, leaf) for item in tree))
    if isinstance(tree, (tuple, list)):
        return type(tree)(_map_leaves(item, function, leaf) for item in tree)
    if isinstance(tree, dict):
        items = [(key, _map_leaves(value, function, leaf)) for key, value in tree.items()]
        try:
            return type(tree)(items)
        except TypeError:  # a dict subclass with another constructor (defaultdict)
            return dict(items)
    return tree


def _view(buffer, slot: _Slot) -> np.ndarray:
    return np.ndarray(slot.shape, slot.dtype, buffer=buffer, offset=slot.offset)


def _share(batch, segments: dict, name: str):
    """Copy the arrays of `batch` into the worker's segment `name`, created (or re-created bigger) as needed.

    Returns (layout, size): the batch with each array replaced by its `_Slot`, and the size of the segment holding
    them, which changes whenever the segment is re-created; (batch, None) when the batch holds no arrays. Object
    arrays and other leaves stay in the layout, to be pickled. `segments` maps this worker's names to its segments.
    """
    slots, size = [], 0

    def place(array):
        nonlocal size
        if array.dtype.hasobject:
            return array
        slots.append((_Slot(size, array.shape, array.dtype), array))
        size += -(-array.nbytes // 64) * 64  # keep every array 64-byte aligned
        return slots[-1][0]

    layout = _map_leaves(batch, place, np.ndarray)
    if not slots:
        return batch, None
    segment = segments.get(name)
    if segment is None or segment.size < size:
        if segment is not None:
            segment.close()
            segment.unlink()  # the main process's mapping of it stays valid until it sees the new size
        segment = segments[name] = SharedMemory(name, create=True, size=max(size, 1))
    for slot, array in slots:
        _view(segment.buf, slot)[...] = array
    return layout, segment.size


def _unshare(layout, size: int | None, mapped: dict, name: str):
    """The batch `_share` stored in segment `name`: its arrays copied out, so the segment can take the next batch.

    `mapped` holds the main process's open segments by name; one whose size changed is mapped again.
    """
    if size is None:
        return layout
    segment = mapped.get(name)
    if segment is None or segment.size != size:
        if segment is not None:
            segment.close()
        segment = mapped[name] = SharedMemory(name)
    return _map_leaves(layout, lambda slot: _view(segment.buf, slot).copy(), _Slot)


def _free(name: str, mapped: dict) -> None:
    """Close and unlink segment `name` if it exists."""
    if name in mapped:
        mapped.pop(name).close()
    try:
        segment = SharedMemory(name)
    except FileNotFoundError:
        return
    segment.close()
    segment.unlink()


_pool_numbers = itertools.count()  # with the pid, they make segment names unique


# The worker process ------------------------------------------------------------------------------------------------

_END = object()  # the answer to a stream request once this worker's copy of the IterableDataset is exhausted


class _Message(str):
    """Error text whose repr is itself: KeyError shows its argument's repr, which would escape the traceback's newlines."""

    def __repr__(self):
        return str(self)


def _error(error: BaseException, worker_id: int, doing: str) -> tuple[type, str]:
    text = "".join(traceback.format_exception(error))
    return type(error), f"Caught {type(error).__name__} in DataLoader worker process {worker_id} {doing}.\nOriginal {text}"


def _reraise(error_type: type, text: str):
    try:
        error = error_type(_Message(text))
    except Exception:  # an exception type whose constructor takes other arguments
        error = RuntimeError(text)
    raise error


def _send_error(results, key, error: tuple[type, str]) -> None:
    try:
        results.send((key, "error", error))
    except Exception:  # an exception type that cannot be pickled: its name is in the text anyway
        results.send((key, "error", (RuntimeError, error[1])))


def _worker_loop(loader, worker_id: int, num_workers: int, seed: int, tasks, results, live_run) -> None:
    """A worker's life: set itself up (info, seeds, worker_init_fn), then answer tasks until told to stop or orphaned.

    A task is (key, run, epoch, loader_seed, indices, start, segment); indices None asks for the next batch of this worker's
    copy of an IterableDataset (a new run starts a new pass over it). The batch goes into the named segment. An
    answer is (key, kind, payload), kind being "batch" (payload: `_share`'s layout and segment size), "end" (stream
    exhausted), "error" or "skip" (a task of a cancelled run).
    """
    global _worker_info
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the main process, which then stops the workers
    _worker_info = WorkerInfo(worker_id, num_workers, seed, loader.dataset)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # numpy's global generator: else every forked worker would draw the same numbers
    try:
        if loader.worker_init_fn is not None:
            loader.worker_init_fn(worker_id)
    except Exception as error:
        _send_error(results, None, _error(error, worker_id, "in worker_init_fn"))
        return
    parent = multiprocessing.parent_process()
    segments, stream, stream_run = {}, iter(()), None
    try:
        while True:
            try:
                task = tasks.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if parent.is_alive():
                    continue
                return
            if task is None:
                return
            key, run, epoch, loader_seed, indices, start, segment = task
            if run != live_run.value:
                results.send((key, "skip", None))
                continue
            try:
                if indices is None:
                    if run != stream_run:
                        stream, stream_run = loader._stream_batches(), run
                    batch = next(stream, _END)
                else:
                    batch = fetch(loader.dataset, indices, loader.collate_fn, loader._auto_collation, loader_seed,
                                  epoch, start)
                if batch is _END:
                    results.send((key, "end", None))
                else:
                    results.send((key, "batch", _share(batch, segments, segment)))
            except Exception as error:
                where = ("while reading its IterableDataset" if indices is None else
                         f"while fetching the samples at indices {indices.tolist()} (epoch {epoch})")
                _send_error(results, key, _error(error, worker_id, where))
    except (BrokenPipeError, ConnectionResetError):
        return  # the main process is gone


# The main process's side -------------------------------------------------------------------------------------------

def _exit_text(exitcode: int) -> str:
    if exitcode >= 0:
        return f"with exit code {exitcode}"
    name = signal.Signals(-exitcode).name
    oom = " (sent from outside, or by the kernel's out-of-memory killer)" if -exitcode == signal.SIGKILL else ""
    return f"killed by signal {name}{oom}"


class _WorkerPool:
    """A DataLoader's worker processes, and the tasks it gave them: `send` a task to a worker, `receive` its batch.

    Each task names the segment its batch goes into: one of the worker's segments that holds no batch still to be
    taken (`free`), or a new one. Segments are reused from batch to batch and unlinked when the pool stops, so
    their names (`names`) are all the pool needs to free them, whatever state the workers were left in. `pending`
    maps each task whose batch has not been taken to its (worker, segment); `arrived` holds results read ahead of
    their turn. One epoch at a time is live (`live_run`); workers skip the tasks of older ones.
    """

    def __init__(self, loader):
        context = resolve_context(loader.multiprocessing_context)
        resource_tracker.ensure_running()  # started before forking, so that workers report their segments to it too
        self.prefix = f"{SEGMENT_PREFIX}{os.getpid()}_{next(_pool_numbers)}_"
        self.timeout, self.runs = loader.timeout, itertools.count()
        self.live_run = context.Value("q", -1, lock=False)
        self.pending, self.arrived, self.mapped, self.names = {}, {}, {}, []
        self.free = [[] for _ in range(loader.num_workers)]
        self.queues, self.pipes, self.processes = [], [], []
        self.close = weakref.finalize(self, _stop, self.processes, self.queues, self.pipes, self.live_run,
                                      self.mapped, self.names)
        try:
            for worker_id in range(loader.num_workers):
                tasks, (reader, writer) = context.Queue(), context.Pipe(duplex=False)
                tasks.cancel_join_thread()  # never block the main process's exit on a task nobody will read
                seed = (loader.seed + worker_id) % 2**63
                process = context.Process(target=_worker_loop, name=f"tinytorch-worker-{worker_id}", daemon=True,
                                          args=(loader, worker_id, loader.num_workers, seed, tasks, writer,
                                                self.live_run))
                process.start()
                writer.close()  # the worker holds the only writer, so the pipe reports EOF once it is gone
                self.queues.append(tasks)
                self.pipes.append(reader)
                self.processes.append(process)
        except BaseException:
            self.close()
            raise

    def start_run(self) -> None:
        """Begin an epoch; an unfinished earlier one (another iterator) is cancelled first."""
        if self.pending:
            self.end_run()
        self.live_run.value = next(self.runs)

    def send(self, worker_id: int, epoch=None, seed=None, indices=None, start=None) -> int:
        """Give a worker a task (no indices: the next batch of its stream); returns the task's key."""
        if not self.free[worker_id]:
            self.names.append(f"{self.prefix}{len(self.names)}")
            self.free[worker_id].append(self.names[-1])
        key, segment = next(_task_keys), self.free[worker_id].pop()
        self.pending[key] = worker_id, segment
        self.queues[worker_id].put((key, self.live_run.value, epoch, seed, indices, start, segment))
        return key

    def receive(self, key: int):
        """The batch of task `key` (`_END` for an exhausted stream), once it arrives; a worker's error re-raised here."""
        if key not in self.pending:
            raise RuntimeError("this DataLoader iterator was ended by a newer iter() over the same loader "
                               "(persistent_workers keeps one epoch running at a time)")
        deadline = time.monotonic() + self.timeout if self.timeout else None
        while key not in self.arrived:
            self._wait(deadline, f"batch from worker {self.pending[key][0]}")
        kind, payload = self.arrived.pop(key)
        worker_id, segment = self.pending.pop(key)
        try:
            if kind == "error":
                _reraise(*payload)
            return _unshare(*payload, self.mapped, segment) if kind == "batch" else _END
        finally:
            self.free[worker_id].append(segment)

    def end_run(self) -> bool:
        """Cancel the live epoch, waiting for the tasks under way to be answered; False on a failure."""
        self.live_run.value = -1
        deadline = time.monotonic() + _DRAIN_SECONDS
        try:
            while len(self.arrived) < len(self.pending):
                self._wait(deadline, "cancelled task to finish")
        except Exception:
            return False
        for worker_id, segment in self.pending.values():
            self.free[worker_id].append(segment)
        self.pending.clear()
        self.arrived.clear()
        return True

    def _wait(self, deadline: float | None, what: str) -> None:
        """Read every result that arrives before `deadline`, or raise if a worker died or the deadline passed."""
        left = None if deadline is None else max(deadline - time.monotonic(), 0)
        ready = wait(self.pipes + [process.sentinel for process in self.processes], left)
        if not ready:
            raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds waiting for a {what}")
        for pipe in self.pipes:
            if pipe in ready:
                try:
                    key, kind, payload = pipe.recv()
                except EOFError:
                    continue  # the worker is gone: said below
                if key is None:
                    _reraise(*payload)  # worker_init_fn failed
                self.arrived[key] = (kind, payload)
        for worker_id, process in enumerate(self.processes):
            if process.exitcode is not None:
                raise RuntimeError(f"DataLoader worker {worker_id} (pid {process.pid}) exited unexpectedly, "
                                   f"{_exit_text(process.exitcode)}")


def _stop(processes, queues, pipes, live_run, mapped: dict, names: list) -> None:
    """End every worker (asked first, then terminated, then killed) and unlink every segment of the pool."""
    live_run.value = -1
    for tasks in queues:
        tasks.put(None)
    deadline = time.monotonic() + _STOP_SECONDS
    for process in processes:
        process.join(max(deadline - time.monotonic(), 0))
        if process.is_alive():
            process.terminate()
            process.join(_STOP_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()
    for channel in queues + pipes:
        channel.close()
    for name in names:
        _free(name, mapped)


# One epoch ---------------------------------------------------------------------------------------------------------

def worker_batches(loader, epoch: int, skip: int):
    """The batches of one epoch, computed by the loader's workers and yielded in order, after the first `skip`.

    Ending early (break, an exception, garbage collection) cancels the outstanding tasks and frees their batches;
    the workers are then stopped, unless `persistent_workers` keeps them (and nothing failed) for the next epoch.
    """
    if runs_in_process(loader):
        yield from loader._map_batches(epoch, skip)
        return
    pool = loader._worker_pool or _WorkerPool(loader)
    loader._worker_pool = pool if loader.persistent_workers else None
    pool.start_run()
    try:
        if isinstance(loader.dataset, IterableDataset):
            yield from itertools.islice(_stream_epoch(pool, loader.prefetch_factor), skip, None)
        else:
            yield from _map_epoch(pool, loader, epoch, skip)
    finally:
        if not (loader.persistent_workers and pool.end_run()):
            pool.close()
            if loader._worker_pool is pool:
                loader._worker_pool = None


def runs_in_process(loader) -> bool:
    """Whether batches are fetched in the main process despite num_workers > 0: fetch's fast path (a map-style
    dataset with `get_batch`, default collation) costs one vectorized call per batch, less than handing the batch
    over from another process (benchmarks/bench_workers.py: workers made it several times slower)."""
    return loader._auto_collation and loader.collate_fn is default_collate and hasattr(loader.dataset, "get_batch") \
        and not isinstance(loader.dataset, IterableDataset)


def _map_epoch(pool: _WorkerPool, loader, epoch: int, skip: int):
    """Batch i goes to worker i % num_workers; up to prefetch_factor * num_workers batches are under way."""
    in_flight = collections.deque()
    workers = itertools.cycle(range(loader.num_workers))
    for indices, start in loader._batch_positions(skip):
        in_flight.append(pool.send(next(workers), epoch, loader.seed, indices, start))
        if len(in_flight) == loader.prefetch_factor * loader.num_workers:
            yield pool.receive(in_flight.popleft())
    while in_flight:
        yield pool.receive(in_flight.popleft())


def _stream_epoch(pool: _WorkerPool, prefetch_factor: int):
    """Each worker batches its own copy of the IterableDataset; batches are taken from the workers in turn (as torch),
    skipping those whose stream has ended, with up to prefetch_factor requests per worker under way."""
    n = len(pool.processes)
    workers, ended, in_flight = itertools.cycle(range(n)), set(), collections.deque()
    while True:
        while len(ended) < n and len(in_flight) < prefetch_factor * (n - len(ended)):
            worker = next(workers)
            if worker not in ended:
                in_flight.append((worker, pool.send(worker)))
        if not in_flight:
            return
        worker, key = in_flight.popleft()
        batch = pool.receive(key)
        if batch is _END:
            ended.add(worker)
        else:
            yield batch
