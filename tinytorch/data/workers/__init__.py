"""Worker processes behind `DataLoader(num_workers > 0)`: the worker loop and its pool (`worker`), and the shared
memory through which workers hand batches to the main process (`shared_memory`)."""
from .worker import MapEpoch, StreamEpoch, WorkerInfo, WorkerPool, WorkerSpec, get_worker_info, resolve_context
