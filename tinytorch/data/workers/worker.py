"""Worker processes for `DataLoader(num_workers > 0)`: each computes whole batches with the same `fetcher` as the
main process, so the batches (random transforms included) do not depend on the number of workers.

A worker is handed a `WorkerSpec` (what to fetch from and how), never the loader, as torch's worker loop is handed
exactly what it needs. Tasks (epoch, index batch, position of its first sample, the segment for its batch) go to a
worker through its own queue; the batch's arrays come back through that shared-memory segment
(tinytorch.data.workers.shared_memory) and only their small layout through the worker's result pipe.

The main process waits on the result pipes and the workers' process sentinels together, so a worker that dies
(SIGKILL, the out-of-memory killer) wakes it at once with an error instead of a hang.
"""
from __future__ import annotations

import collections
import itertools
import multiprocessing
import pickle
import queue
import random
import signal
import sys
import time
import traceback
import weakref
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.connection import wait
from multiprocessing.reduction import ForkingPickler
from typing import Callable

import numpy as np

from ..fetch import Stream, fetcher
from .shared_memory import SegmentReader, SegmentWriter

_POLL_SECONDS = 1.0  # how often an idle worker checks that the main process is still alive
_STOP_SECONDS = 1.0  # how long stopping waits for workers to finish their batch before terminating them
_DRAIN_SECONDS = 10.0  # how long ending an epoch of persistent workers waits for the batches under way
_task_keys = itertools.count()  # task numbers, unique in this process


class WorkerInfo:
    """id in [0, num_workers); seed: this worker's seed this epoch; dataset: this worker's copy of the dataset.

    Read-only, as torch's: assigning an attribute raises RuntimeError.
    """

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id: int, num_workers: int, seed: int, dataset):
        for name, value in zip(self.__slots__, (id, num_workers, seed, dataset)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self):
        fields = ", ".join(f"{name}={getattr(self, name)}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """This worker's `WorkerInfo` inside a DataLoader worker process, None in the main process.

    An IterableDataset uses it to read only its shard: e.g. `itertools.islice(stream, info.id, None, info.num_workers)`.
    """
    return _worker_info


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker process needs: the dataset and how to batch it, the loader's seed, the init hook.

    `seed` is the loader's: random transforms draw from (seed, epoch, position), and the global generators of a
    worker are seeded from (seed, epoch, worker id) (`seed_globals`); `epoch` is the first epoch the workers serve.
    `batch_size` and `drop_last` batch an IterableDataset's stream.
    """

    dataset: object
    collate_fn: Callable
    auto_collation: bool
    seed: int
    epoch: int
    batch_size: int | None
    drop_last: bool
    worker_init_fn: Callable | None


class PickledSpec(bytes):
    """A `WorkerSpec` pickled by the main process for one spawned worker (some objects, such as torch tensors, can
    be unpickled once only), which unpickles it where it can report a failure."""


def resolve_context(context) -> multiprocessing.context.BaseContext:
    """The multiprocessing context for `multiprocessing_context`: None (fork where available, else spawn), a start
    method name ('fork', 'spawn', 'forkserver'), or a context object."""
    if context is None:
        return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    if isinstance(context, str):  # torch's words
        if context not in multiprocessing.get_all_start_methods():
            raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                             f"{multiprocessing.get_all_start_methods()!r}, but got multiprocessing_context={context!r}")
        return multiprocessing.get_context(context)
    if isinstance(context, multiprocessing.context.BaseContext):
        return context
    raise TypeError("multiprocessing_context option should be a valid context object or a string specifying the "
                    f"start method, but got multiprocessing_context={context!r}")


# The worker process ------------------------------------------------------------------------------------------------

_END = object()  # the answer to a stream request once this worker's copy of the IterableDataset is exhausted


class _Message(str):
    """Error text whose repr is itself: KeyError shows its argument's repr, which would escape the traceback's newlines."""

    def __repr__(self):
        return str(self)


def _error(error: BaseException, worker_id: int, doing: str) -> tuple[type, str]:
    text = "".join(traceback.format_exception(error))
    # torch's sentence first, as people search for it; then where it happened
    return type(error), (f"Caught {type(error).__name__} in DataLoader worker process {worker_id}. It happened "
                         f"{doing}.\nOriginal {text}")


def _reraise(error_type: type, text: str):
    try:
        error = error_type(_Message(text))
    except Exception:  # an exception type whose constructor takes other arguments
        error = RuntimeError(text)
    raise error


def _send(results, message) -> None:
    """Send `message` (key, kind, payload); an exception type that cannot be pickled is sent as a RuntimeError."""
    try:
        results.send(message)
    except (BrokenPipeError, ConnectionResetError):
        raise
    except Exception as error:
        key, kind, payload = message
        text = payload[1] if kind == "error" else f"its batch's layout could not be pickled: {error!r}"
        results.send((key, "error", (RuntimeError, text)))


def seed_globals(seed: int, epoch: int, worker_id: int) -> int:
    """Seed this worker's global generators (Python's `random`, NumPy's, and torch's if torch is imported) from
    (loader seed, epoch, worker id), and return that seed: code drawing from `np.random` in a worker gets other
    numbers in every epoch and every worker, and the same ones when the run is repeated with the same seed."""
    worker_seed = int(np.random.SeedSequence([seed, epoch, worker_id]).generate_state(1, np.uint64)[0]) >> 1
    random.seed(worker_seed)
    np.random.seed(worker_seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(worker_seed)
    return worker_seed


def _worker_loop(spec: WorkerSpec | PickledSpec, worker_id: int, num_workers: int, tasks, results, live_run) -> None:
    """A worker's life: set itself up (spec, info, seeds, worker_init_fn), then answer tasks until told to stop or
    orphaned.

    A task is (key, run, epoch, indices, start, segment); indices None asks for the next batch of this worker's copy
    of an IterableDataset (a new run starts a new pass over it). The batch goes into the named segment. An answer is
    (key, kind, payload), kind being "batch" (payload: `SegmentWriter.put`'s layout and size), "end" (stream
    exhausted), "error" or "skip" (a task of a cancelled run). Failing to set up is an error answer of key None.
    """
    global _worker_info
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the main process, which then stops the workers
    try:
        doing = "while unpickling its copy of the dataset, collate_fn and worker_init_fn"
        if isinstance(spec, PickledSpec):
            spec = pickle.loads(spec)
        torch = sys.modules.get("torch")  # imported by the parent (fork) or by unpickling the spec (spawn)
        if torch is not None:
            torch.set_num_threads(1)  # as torch's workers: one thread each, the CPUs being shared by the workers
        doing = "in worker_init_fn"
        seeded_epoch = spec.epoch
        _worker_info = WorkerInfo(worker_id, num_workers, seed_globals(spec.seed, spec.epoch, worker_id), spec.dataset)
        if spec.worker_init_fn is not None:
            spec.worker_init_fn(worker_id)
    except Exception as error:
        _send(results, (None, "error", _error(error, worker_id, doing)))
        return
    parent = multiprocessing.parent_process()
    writer, stream, stream_run = SegmentWriter(), iter(()), None
    fetch, fetch_epoch = None, None  # the fetch of the epoch under way (`fetcher`), made at its first batch
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
            key, run, epoch, indices, start, segment = task
            if run != live_run.value:
                results.send((key, "skip", None))
                continue
            if epoch != seeded_epoch:  # a persistent worker's next epoch
                seeded_epoch = epoch
                _worker_info = WorkerInfo(worker_id, num_workers, seed_globals(spec.seed, epoch, worker_id), spec.dataset)
            try:
                if indices is None:
                    if run != stream_run:
                        stream = Stream(spec.dataset, spec.batch_size, spec.drop_last, spec.collate_fn)
                        stream_run = run
                    batch = next(stream, _END)
                else:
                    if epoch != fetch_epoch:
                        fetch = fetcher(spec.dataset, spec.collate_fn, spec.auto_collation, spec.seed, epoch)
                        fetch_epoch = epoch
                    batch = fetch(indices, start)
                answer = (key, "end", None) if batch is _END else (key, "batch", writer.put(batch, segment))
            except Exception as error:
                where = ("while reading its IterableDataset" if indices is None else
                         f"while fetching the samples at indices {_listed(indices)} (epoch {epoch})")
                answer = (key, "error", _error(error, worker_id, where))
            _send(results, answer)
    except (BrokenPipeError, ConnectionResetError):
        return  # the main process is gone


def _listed(indices):
    return indices.tolist() if isinstance(indices, np.ndarray) else indices


# The main process's side -------------------------------------------------------------------------------------------

def _exit_text(worker_id: int, process) -> str:
    """Why a worker is gone, in torch's words first (people search for them), then what we know besides."""
    code = process.exitcode
    if code >= 0:
        return f"DataLoader worker (pid(s) {process.pid}) exited unexpectedly with exit code {code} (worker {worker_id})"
    number = -code
    text = (f"DataLoader worker (pid {process.pid}) is killed by signal: {signal.strsignal(number)}. "
            f"(worker {worker_id}, {signal.Signals(number).name})")
    if number == signal.SIGKILL:
        text += " It was sent from outside, or by the kernel's out-of-memory killer."
    if number == signal.SIGBUS:
        text += (" It is possible that dataloader's workers are out of shared memory. Please try to raise your "
                 "shared memory limit.")
    return text


class WorkerPool:
    """`num_workers` processes answering tasks from `spec` (`send`, `receive`); a `MapEpoch` or `StreamEpoch` over
    the pool gives one epoch's batches.

    Each task names the segment its batch goes into: one of the worker's segments that holds no batch still to be
    taken (`free`), or a new one, so segments are reused from batch to batch. `pending` maps each task whose batch
    has not been taken to its (worker, segment); `arrived` holds results read ahead of their turn. One epoch at a
    time is live (`live_run`); workers skip the tasks of older ones. `close()` stops the workers and unlinks the
    segments (also when the pool is garbage collected). A dead worker or a timeout closes the pool for good: it is
    `broken` (the first line of that error), and a loader starts a new pool for its next epoch.
    """

    def __init__(self, spec: WorkerSpec, num_workers: int, context, timeout: float):
        context = resolve_context(context)
        resource_tracker.ensure_running()  # started before forking, so that workers report their segments to it too
        self.timeout, self.runs = timeout, itertools.count()
        self.live_run = context.Value("q", -1, lock=False)
        self.pending, self.arrived, self.broken = {}, {}, None
        self.segments, self.free = SegmentReader(), [[] for _ in range(num_workers)]
        self.queues, self.pipes, self.processes = [], [], []
        self.close = weakref.finalize(self, _stop, self.processes, self.queues, self.pipes, self.live_run,
                                      self.segments)
        spawned = context.get_start_method() != "fork"
        try:
            for worker_id in range(num_workers):
                tasks, (reader, writer) = context.Queue(), context.Pipe(duplex=False)
                tasks.cancel_join_thread()  # never block the main process's exit on a task nobody will read
                process = context.Process(target=_worker_loop, name=f"tinytorch-worker-{worker_id}", daemon=True,
                                          args=(PickledSpec(ForkingPickler.dumps(spec)) if spawned else spec,
                                                worker_id, num_workers, tasks, writer, self.live_run))
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

    def send(self, worker_id: int, epoch=None, indices=None, start=None) -> int:
        """Give a worker a task (no indices: the next batch of its stream); returns the task's key."""
        self._refuse_if_broken()
        if not self.free[worker_id]:
            self.free[worker_id].append(self.segments.new_name())
        key, segment = next(_task_keys), self.free[worker_id].pop()
        self.pending[key] = worker_id, segment
        self.queues[worker_id].put((key, self.live_run.value, epoch, indices, start, segment))
        return key

    def receive(self, key: int):
        """The batch of task `key` (`_END` for an exhausted stream), once it arrives; a worker's error re-raised here."""
        self._refuse_if_broken()
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
            return self.segments.take(*payload, segment) if kind == "batch" else _END
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
        """Read every result that arrives before `deadline`, or raise if a worker died or the deadline passed (the
        workers are then stopped: the pool is `broken`)."""
        left = None if deadline is None else max(deadline - time.monotonic(), 0)
        ready = wait(self.pipes + [process.sentinel for process in self.processes], left)
        if not ready:
            self._break(RuntimeError(f"DataLoader timed out after {self.timeout} seconds waiting for a {what}"))
        for pipe in self.pipes:
            if pipe in ready:
                try:
                    key, kind, payload = pipe.recv()
                except EOFError:
                    continue  # the worker is gone: said below
                if key is None:  # its set-up failed (unpickling, worker_init_fn)
                    try:
                        _reraise(*payload)
                    except Exception as error:
                        self._break(error)
                self.arrived[key] = (kind, payload)
        for worker_id, process in enumerate(self.processes):
            if process.exitcode is not None:
                self._break(RuntimeError(_exit_text(worker_id, process)))

    def _refuse_if_broken(self) -> None:
        if self.broken:
            raise RuntimeError(f"the DataLoader's workers were stopped by an earlier error: {self.broken}")

    def _break(self, error: Exception):
        """Stop the workers for good and raise `error`."""
        self.broken = (str(error).splitlines() or [type(error).__name__])[0]
        self.close()
        raise error


class MapEpoch:
    """One epoch of a map-style dataset from `pool`, in order: batch i goes to worker i % num_workers, with up to
    prefetch_factor * num_workers batches under way. A failed batch raises from its `next()`, and the next `next()`
    goes on with the following batch, as torch's loader does."""

    def __init__(self, pool: WorkerPool, epoch: int, batch_positions, prefetch_factor: int):
        pool.start_run()
        self.pool, self.epoch, self.positions = pool, epoch, batch_positions
        self.workers = itertools.cycle(range(len(pool.processes)))
        self.limit = prefetch_factor * len(pool.processes)
        self.in_flight = collections.deque()

    def __iter__(self):
        return self

    def __next__(self):
        for indices, start in itertools.islice(self.positions, self.limit - len(self.in_flight)):
            self.in_flight.append(self.pool.send(next(self.workers), self.epoch, indices, start))
        if not self.in_flight:
            raise StopIteration
        return self.pool.receive(self.in_flight.popleft())


class StreamEpoch:
    """One epoch of an IterableDataset from `pool`: each worker batches its own copy of the dataset; batches are
    taken from the workers in turn (as torch), skipping those whose stream has ended, with up to prefetch_factor
    requests per worker under way."""

    def __init__(self, pool: WorkerPool, epoch: int, prefetch_factor: int):
        pool.start_run()
        self.pool, self.epoch, self.prefetch_factor = pool, epoch, prefetch_factor
        self.workers = itertools.cycle(range(len(pool.processes)))
        self.ended, self.in_flight = set(), collections.deque()

    def __iter__(self):
        return self

    def __next__(self):
        n = len(self.pool.processes)
        while True:
            while len(self.ended) < n and len(self.in_flight) < self.prefetch_factor * (n - len(self.ended)):
                worker = next(self.workers)
                if worker not in self.ended:
                    self.in_flight.append((worker, self.pool.send(worker, self.epoch)))
            if not self.in_flight:
                raise StopIteration
            worker, key = self.in_flight.popleft()
            batch = self.pool.receive(key)
            if batch is not _END:
                return batch
            self.ended.add(worker)


def _stop(processes, queues, pipes, live_run, segments: SegmentReader) -> None:
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
    segments.free_all()
