"""DataLoader with worker processes against num_workers=0, measured side by side in one run.

1. Per-sample Pillow work (PNG decode, rotate, resize) in a PyTorch-style `__getitem__`: the case workers are for.
   Target: num_workers=2 at least 1.6x the samples/s of num_workers=0 on 2 cores.
2. The in-memory fast path (a 60000x28x28 uint8 ImageDataset, ToTensor + Normalize on whole batches, batch 64).
   Target: workers not more than 10% slower than num_workers=0. The loader meets it by keeping this path in the
   main process (`worker.runs_in_process`); 2b forces it through the workers to show what handing over would cost.

Each configuration runs one warm-up epoch (which also starts the persistent workers), then is timed over `--epochs`.
Usage: python benchmarks/bench_workers.py [--epochs N] [--workers 2]
"""
import argparse
import io
import time

import numpy as np
from PIL import Image

from tinytorch.data import DataLoader, Dataset, ImageDataset, rng, worker
from tinytorch.data.transforms import Compose, Normalize, ToTensor


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


def samples_per_second(make_loader, epochs: int) -> float:
    loader = make_loader()
    for _ in loader:  # warm-up: caches, and the persistent workers' start
        pass
    samples, start = 0, time.perf_counter()
    for _ in range(epochs):
        for images, _labels in loader:
            samples += len(images)
    return samples / (time.perf_counter() - start)


def compare(title: str, make_loader, workers: int, epochs: int, target: str) -> None:
    print(title)
    base = samples_per_second(lambda: make_loader(0), epochs)
    print(f"  num_workers=0: {base:12,.0f} samples/s")
    for n in (1, workers) if workers > 1 else (workers,):
        rate = samples_per_second(lambda: make_loader(n), epochs)
        print(f"  num_workers={n}: {rate:12,.0f} samples/s   ratio to num_workers=0: {rate / base:.2f}x")
    print(f"  target: {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    pillow = PillowDataset(1000)
    compare("1. per-sample Pillow decode/rotate/resize, 1000 64x64 PNGs, batch 32",
            lambda n: DataLoader(pillow, batch_size=32, shuffle=True, generator=0, num_workers=n,
                                 persistent_workers=n > 0),
            args.workers, args.epochs, f"num_workers={args.workers} >= 1.6x num_workers=0")

    images = np.random.default_rng(1).integers(0, 256, size=(60000, 28, 28), dtype=np.uint8)
    mnist = ImageDataset(images, np.arange(60000) % 10, transform=Compose([ToTensor(), Normalize((0.1307,), (0.3081,))]))
    compare("2. in-memory fast path, 60000x28x28 uint8, ToTensor + Normalize, batch 64",
            lambda n: DataLoader(mnist, batch_size=64, shuffle=True, generator=0, num_workers=n,
                                 persistent_workers=n > 0),
            args.workers, args.epochs, "workers >= 0.9x num_workers=0")
    worker.runs_in_process = lambda loader: False
    compare("2b. the same, forced through the worker processes and shared memory",
            lambda n: DataLoader(mnist, batch_size=64, shuffle=True, generator=0, num_workers=n,
                                 persistent_workers=n > 0),
            args.workers, args.epochs, "none (shows why 2 stays in the main process)")


if __name__ == "__main__":
    main()
