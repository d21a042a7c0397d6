"""Loader throughput: tinytorch.data.DataLoader against the plain NumPy loop doing the same work, side by side.

Prints samples/s for each pipeline and the ratio to its NumPy anchor (target: at least 0.7). When torch is
installed, torch.utils.data.DataLoader with a per-sample __getitem__ doing torchvision's tensor operations runs the
same pipelines for comparison.
Run with `make bench`. Rounds alternate between contestants so that machine noise hits all of them alike, and
each is timed in CPU time of this process (all contestants run in it, single-threaded), which other programs on a
shared machine disturb far less than wall time.
"""
from __future__ import annotations

import time

import numpy as np

from tinytorch.data import DataLoader, ImageDataset
from tinytorch.data.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
CIFAR_MEAN = np.array([0.4914, 0.4822, 0.4465], np.float32)
CIFAR_STD = np.array([0.2470, 0.2435, 0.2616], np.float32)
ROUNDS = 5


def numpy_mnist_epoch(images, batch_size, rng):
    """The limit: the same work as the loader's pipeline, written as a plain NumPy loop."""
    order = rng.permutation(len(images))
    for start in range(0, len(order), batch_size):
        x = images[order[start:start + batch_size]].astype(np.float32)
        x *= np.float32(1 / 255)
        x -= np.float32(MNIST_MEAN)
        x *= np.float32(1 / MNIST_STD)
        yield x[:, None]


def numpy_cifar_epoch(images, batch_size, rng):
    """Hand-vectorized RandomCrop(32, padding=4), RandomHorizontalFlip, ToTensor and Normalize."""
    order = rng.permutation(len(images))
    scale, shift = (1 / (255 * CIFAR_STD))[:, None, None], (CIFAR_MEAN / CIFAR_STD)[:, None, None]
    for start in range(0, len(order), batch_size):
        x = images[order[start:start + batch_size]]
        n = len(x)
        padded = np.zeros((n, 40, 40, 3), np.uint8)
        padded[:, 4:36, 4:36] = x
        windows = np.lib.stride_tricks.sliding_window_view(padded, (32, 32), axis=(1, 2))
        crops = windows[np.arange(n), rng.integers(0, 9, n), rng.integers(0, 9, n)]  # (n, 3, 32, 32), HWC in memory
        flipped = np.flatnonzero(rng.random(n) < 0.5)
        crops[flipped] = crops[flipped, :, :, ::-1]
        x = np.multiply(np.ascontiguousarray(crops), scale, dtype=np.float32)
        x -= shift
        yield x


def samples_per_second(epoch, n):
    start = time.process_time()
    for _ in epoch():
        pass
    return n / (time.process_time() - start)


def race(name, contestants, n):
    """Run every contestant once per round, alternating, and report the median samples/s and ratio to the first."""
    results = {label: [] for label in contestants}
    for _ in range(ROUNDS):
        for label, epoch in contestants.items():
            results[label].append(samples_per_second(epoch, n))
    anchor = float(np.median(results[next(iter(contestants))]))
    print(f"\n{name}")
    for label, speeds in results.items():
        speed = float(np.median(speeds))
        print(f"  {label:<44} {speed:>12,.0f} samples/s   ratio {speed / anchor:5.2f}")
    return results


def torch_loader(images, labels, batch_size, augment):
    """torch.utils.data.DataLoader over a per-sample __getitem__ doing torchvision's tensor ops; None without torch."""
    try:
        import torch
        from torch.utils.data import DataLoader as TorchLoader, Dataset as TorchDataset
    except ImportError:
        return None
    torch.set_num_threads(1)
    channels = 1 if images.ndim == 3 else images.shape[3]
    mean, std = (MNIST_MEAN, MNIST_STD) if channels == 1 else (CIFAR_MEAN, CIFAR_STD)
    mean, std = torch.tensor(mean, dtype=torch.float32).reshape(-1, 1, 1), torch.tensor(std, dtype=torch.float32).reshape(-1, 1, 1)

    class PerSample(TorchDataset):
        def __len__(self):
            return len(images)

        def __getitem__(self, i):
            image = torch.from_numpy(images[i])
            image = image[None] if channels == 1 else image.permute(2, 0, 1)
            if augment:  # torchvision's RandomCrop(32, padding=4) and RandomHorizontalFlip on a tensor
                image = torch.nn.functional.pad(image, [4, 4, 4, 4])
                top, left = torch.randint(0, 9, (2,)).tolist()
                image = image[:, top:top + 32, left:left + 32]
                if torch.rand(1) < 0.5:
                    image = image.flip(-1)
            image = image.contiguous().float().div_(255)  # ToTensor
            return image.sub_(mean).div_(std), int(labels[i])  # Normalize

    return lambda: iter(TorchLoader(PerSample(), batch_size=batch_size, shuffle=True))


def race_pipeline(title, images, transform, batch_size, anchor_label, anchor_epoch, augment):
    """Race the DataLoader over `images` against the NumPy anchor (and torch when installed); False without torch."""
    labels = np.random.default_rng(1).integers(0, 10, size=len(images))
    loader = DataLoader(ImageDataset(images, labels, transform=transform), batch_size=batch_size, shuffle=True)
    contestants = {anchor_label: lambda: anchor_epoch(images, batch_size, np.random.default_rng(0)),
                   "tinytorch DataLoader": lambda: iter(loader)}
    torch_epoch = torch_loader(images, labels, batch_size, augment)
    if torch_epoch:
        contestants["torch DataLoader, per-sample __getitem__"] = torch_epoch
    race(title, contestants, len(images))
    return torch_epoch is not None


def main():
    rng = np.random.default_rng(0)
    race_pipeline("1. MNIST-shaped 60000x28x28 uint8: ToTensor, Normalize; batch 64, shuffle",
                  rng.integers(0, 256, size=(60000, 28, 28), dtype=np.uint8),
                  Compose([ToTensor(), Normalize((MNIST_MEAN,), (MNIST_STD,))]), 64,
                  "plain NumPy loop (the limit)", numpy_mnist_epoch, augment=False)
    has_torch = race_pipeline(
        "2. CIFAR-shaped 50000x32x32x3 uint8: RandomCrop(32, 4), flip, ToTensor, Normalize; batch 128",
        rng.integers(0, 256, size=(50000, 32, 32, 3), dtype=np.uint8),
        Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(), ToTensor(), Normalize(CIFAR_MEAN, CIFAR_STD)]), 128,
        "hand-vectorized NumPy (the limit)", numpy_cifar_epoch, augment=True)
    if not has_torch:
        print("\n(torch is not installed: `.venv/bin/pip install torch==2.13.0` adds torch's DataLoader to the race)")


if __name__ == "__main__":
    main()
