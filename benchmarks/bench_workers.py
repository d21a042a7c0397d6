"""DataLoader with worker processes against num_workers=0, measured side by side in one run.

1. Per-sample Pillow work (PNG decode, rotate, resize) in a PyTorch-style `__getitem__`: the case workers are for.
   Target: num_workers=2 at least 1.6x the samples/s of num_workers=0 on 2 cores.
2. The in-memory fast path (a 60000x28x28 uint8 ImageDataset, ToTensor + Normalize on whole batches, batch 64).
   Target: workers not more than 10% slower than num_workers=0. The loader meets it by keeping this path in the
   main process (`fetch.batch_in_one_call`); the "forced" rows send it through the workers to show the cost.
3. How a batch gets from a worker to the main process: copied into and out of shared memory (what the loader does,
   tinytorch.data.workers.shared_memory) against pickled through a pipe (the simpler way), for a CIFAR per-sample batch
   (128x3x32x32 float32, 1.57 MB), in CPU time of both processes, next to the CPU time a worker takes to compute
   such a batch one sample at a time. Shared memory is worth its segments only if it saves a real part of a batch.

Each loader runs a warm-up epoch, then the loaders take turns for `--rounds` epochs and the best epoch of each is
reported: on a machine shared with other work, taking turns and the best epoch keep the comparison fair.
Usage: python benchmarks/bench_workers.py [--rounds N] [--workers 2]
"""
import argparse
import io
import multiprocessing
import time
from multiprocessing.shared_memory import SharedMemory

import numpy as np
from PIL import Image

from tinytorch.data import DataLoader, Dataset, ImageDataset, default_collate, rng
from tinytorch.data.fetch import fetcher
from tinytorch.data.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor


class PillowDataset(Dataset):
    """PNG-encoded 64x64 RGB images; a sample is decoded, rotated by a random angle, resized to 32x32, as float32 CHW."""

    def __init__(self, n: int):
        pixels = np.random.default_rng(0).integers(0, 256, size=(n, 64, 64, 3), dtype=np.uint8)
        pixels = np.cumsum(pixels, axis=2, dtype=np.uint16).astype(np.uint8)  # some structure for the encoder
        self.images = [_png(image) for image in pixels]
        self.to_tensor = ToTensor()

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        angle = float(rng.draws(1).uniform()[0] * 30 - 15)
        image = Image.open(io.BytesIO(self.images[index])).convert("RGB")
        image = image.rotate(angle, resample=Image.BILINEAR).resize((32, 32), Image.BILINEAR)
        return self.to_tensor(image), index % 10


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def epoch_rate(loader) -> float:
    samples, start = 0, time.perf_counter()
    for images, _labels in loader:
        samples += len(images)
    return samples / (time.perf_counter() - start)


def compare(title: str, loaders: dict, rounds: int, target: str) -> None:
    """Best samples/s of each loader over `rounds` epochs, the loaders taking turns so that they share the machine's
    load alike; after one warm-up epoch each (which also starts the persistent workers)."""
    for loader in loaders.values():
        epoch_rate(loader)
    best = dict.fromkeys(loaders, 0.0)
    for _ in range(rounds):
        for name, loader in loaders.items():
            best[name] = max(best[name], epoch_rate(loader))
    print(title)
    base = best["num_workers=0"]
    for name, rate in best.items():
        print(f"  {name:34s} {rate:12,.0f} samples/s   ratio to num_workers=0: {rate / base:.2f}x")
    print(f"  target: {target}")


def loaders(dataset, batch_size: int, workers: int, **extra) -> dict:
    counts = (0, 1, workers) if workers > 1 else (0, workers)
    return {f"num_workers={n}": DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=0, num_workers=n,
                                           persistent_workers=n > 0, **extra) for n in counts}


BATCH = (128, 3, 32, 32)  # a CIFAR batch of 128 after ToTensor: 1.57 MB of float32


def _send_by_pipe(writer, count: int) -> None:
    """Send `count` batches pickled through the pipe, then the CPU seconds that took this process."""
    batch = np.random.default_rng(0).random(BATCH, dtype=np.float32)
    start = time.process_time()
    for _ in range(count):
        writer.send(batch)
    writer.send(time.process_time() - start)


def _send_by_shared_memory(name: str, writer, acks, count: int) -> None:
    """Copy `count` batches into segment `name`, each announced by its layout, then send the CPU seconds used."""
    batch = np.random.default_rng(0).random(BATCH, dtype=np.float32)
    segment = SharedMemory(name)
    view = np.ndarray(BATCH, np.float32, buffer=segment.buf)
    start = time.process_time()
    for _ in range(count):
        view[...] = batch
        writer.send((BATCH, "float32"))  # the layout; the main process copies the data out
        acks.recv()  # the segment is free again
    writer.send(time.process_time() - start)
    del view
    segment.close()


def transport_ms(count: int) -> dict:
    """CPU milliseconds per batch, worker and main process together, to get a batch from a worker's hands into an
    array of the main process: pickled through a pipe, and through shared memory. CPU time, not wall time: on a
    shared machine the wall time of two processes taking turns says more about the other programs."""
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    worker = context.Process(target=_send_by_pipe, args=(writer, count))
    start = time.process_time()
    worker.start()
    for _ in range(count):
        batch = reader.recv()
    pipe = (time.process_time() - start + reader.recv()) / count * 1000
    worker.join()
    assert batch.shape == BATCH

    segment = SharedMemory(create=True, size=int(np.prod(BATCH)) * 4)
    try:
        reader, writer = context.Pipe(duplex=False)
        ack_reader, ack_writer = context.Pipe(duplex=False)
        worker = context.Process(target=_send_by_shared_memory, args=(segment.name, writer, ack_reader, count))
        view = np.ndarray(BATCH, np.float32, buffer=segment.buf)
        start = time.process_time()
        worker.start()
        for _ in range(count):
            shape, dtype = reader.recv()
            batch = view.copy()
            ack_writer.send(None)
        shared = (time.process_time() - start + reader.recv()) / count * 1000
        worker.join()
        del view
    finally:
        segment.close()
        segment.unlink()
    return {"pipe": pipe, "shared memory": shared}


class CifarPerSample(Dataset):
    """The PyTorch way: `__getitem__` runs RandomCrop(32, padding=4), RandomHorizontalFlip, ToTensor, Normalize."""

    def __init__(self, n: int):
        self.images = np.random.default_rng(2).integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
        self.transform = Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(), ToTensor(),
                                  Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))])

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.transform(self.images[index]), index % 10


def per_sample_batch_ms(rounds: int) -> float:
    """Best milliseconds of CPU time to fetch one CIFAR batch of 128 one sample at a time, as a worker does."""
    dataset, indices = CifarPerSample(1280), np.arange(1280, dtype=np.int64)
    fetch = fetcher(dataset, default_collate, True, 0, 0)
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for number in range(10):
            fetch(indices[number * 128:(number + 1) * 128], number * 128)
        best = min(best, (time.process_time() - start) / 10 * 1000)
    return best


def compare_transports(rounds: int) -> None:
    best = {"pipe": float("inf"), "shared memory": float("inf")}
    for _ in range(rounds):
        for name, ms in transport_ms(50).items():
            best[name] = min(best[name], ms)
    batch = per_sample_batch_ms(rounds)
    print(f"3. one {np.prod(BATCH) * 4 / 1e6:.2f} MB batch from a worker into the main process, CPU time of both "
          f"processes (best of {rounds})")
    for name, ms in best.items():
        print(f"  {name:34s} {ms:8.2f} ms per batch")
    saved = best["pipe"] - best["shared memory"]
    print(f"  computing it one sample at a time  {batch:8.2f} ms per batch (CIFAR per-sample pipeline)")
    print(f"  shared memory saves {saved:.2f} ms of the {batch + best['pipe']:.2f} ms of CPU a batch would cost "
          f"through the pipe: {saved / (batch + best['pipe']):.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    compare("1. per-sample Pillow decode/rotate/resize, 1000 64x64 PNGs, batch 32",
            loaders(PillowDataset(1000), 32, args.workers), args.rounds,
            f"num_workers={args.workers} >= 1.6x num_workers=0")

    images = np.random.default_rng(1).integers(0, 256, size=(60000, 28, 28), dtype=np.uint8)
    mnist = ImageDataset(images, np.arange(60000) % 10, transform=Compose([ToTensor(), Normalize((0.1307,), (0.3081,))]))
    fast = loaders(mnist, 64, args.workers)
    for name, loader in loaders(mnist, 64, args.workers).items():
        if name != "num_workers=0":
            loader.in_process = False  # the loader's own choice overruled, to show what it avoids
            fast[f"{name}, forced through workers"] = loader
    compare("2. in-memory fast path, 60000x28x28 uint8, ToTensor + Normalize, batch 64 (kept in the main process;\n"
            "   'forced' sends it through the workers, to show why)",
            fast, args.rounds, "workers >= 0.9x num_workers=0")

    compare_transports(args.rounds)


if __name__ == "__main__":
    main()
