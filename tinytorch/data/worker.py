"""What a worker process knows about itself: `get_worker_info()` is None in the main process."""
from __future__ import annotations

from dataclasses import dataclass


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
