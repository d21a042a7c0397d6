"""Loader throughput: tinytorch.data.DataLoader against NumPy and torch doing the same work, side by side.

1-2. The batched path (an ImageDataset whose transforms run on whole batches) against the plain NumPy loop doing the
     same work (the limit). Target: ratio at least 0.9.
3-4. The PyTorch way: a user's `__getitem__` calling the transforms on one sample at a time, against torch's
     DataLoader over the same `__getitem__` written with hand-written torch tensor operations (and, for reference,
     with torchvision's transforms). Target: at least 2x torch's hand-written ops on both. Race 4 also runs a minimal
     NumPy per-sample loop doing the same CIFAR work: the practical limit of a Python loop over samples. Without
     torch, these races print the NumPy loop and tinytorch alone.
5.   One sample's random draw of k numbers in `rng` on Python ints (its route up to `rng.LEAN_DRAWS` numbers)
     against the same formula on NumPy arrays: where the lean route pays.
Run with `make bench`. Rounds alternate between contestants so that machine noise hits all of them alike; each
contestant is timed in CPU time of this process (all run in it, single-threaded), which other programs on a shared
machine disturb far less than wall time, and reported at its best round (noise only ever slows a run down).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from tinytorch.data import DataLoader, Dataset, ImageDataset, rng
from tinytorch.data.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from torch_reference import torch_or_none, torchvision_or_none  # noqa: E402  (optional references, never required)

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
CIFAR_MEAN = np.array([0.4914, 0.4822, 0.4465], np.float32)
CIFAR_STD = np.array([0.2470, 0.2435, 0.2616], np.float32)
ROUNDS = 5
BATCHED_ROUNDS = 15  # a batched epoch takes a fraction of a second: more rounds for its best
PER_SAMPLE = 10000  # images per epoch in the per-sample races (a fifth of CIFAR's, so that every round fits)


def numpy_mnist_epoch(images, labels, batch_size, generator):
    """The limit: ToTensor and Normalize as a plain NumPy loop, computing the same float32 values as the loader."""
    order = generator.permutation(len(images))
    mean, std = np.float32(MNIST_MEAN), np.float32(MNIST_STD)
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        x = images[batch].astype(np.float32)
        x /= np.float32(255)
        x -= mean
        x /= std
        yield x[:, None], labels[batch]


def numpy_cifar_epoch(images, labels, batch_size, generator):
    """Hand-vectorized RandomCrop(32, padding=4), RandomHorizontalFlip, ToTensor and Normalize (the same arithmetic)."""
    order = generator.permutation(len(images))
    mean, std = CIFAR_MEAN[:, None, None], CIFAR_STD[:, None, None]
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        x = images[batch]
        n = len(x)
        padded = np.zeros((n, 40, 40, 3), np.uint8)
        padded[:, 4:36, 4:36] = x
        windows = np.lib.stride_tricks.sliding_window_view(padded, (32, 32), axis=(1, 2))
        crops = windows[np.arange(n), generator.integers(0, 9, n), generator.integers(0, 9, n)]  # (n, 3, 32, 32), HWC in memory
        flipped = np.flatnonzero(generator.random(n) < 0.5)
        crops[flipped] = crops[flipped, :, :, ::-1]
        x = np.ascontiguousarray(crops).astype(np.float32)
        x /= np.float32(255)
        x -= mean
        x /= std
        yield x, labels[batch]


def numpy_per_sample_cifar_epoch(images, labels, batch_size, generator):
    """The practical limit of a per-sample loop: RandomCrop(32, padding=4), flip, ToTensor and Normalize written as
    a minimal NumPy loop over the samples (a batch's random numbers drawn at once), then the batch stacked: the
    batches of `numpy_cifar_epoch`, value for value."""
    order = generator.permutation(len(images))
    mean, std = CIFAR_MEAN[:, None, None], CIFAR_STD[:, None, None]
    padded = np.zeros((40, 40, 3), np.uint8)
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        n = len(batch)
        tops, lefts, flips = generator.integers(0, 9, n), generator.integers(0, 9, n), generator.random(n) < 0.5
        samples = []
        for i, top, left, flip in zip(batch.tolist(), tops.tolist(), lefts.tolist(), flips.tolist()):
            padded[4:36, 4:36] = images[i]
            crop = padded[top:top + 32, left:left + 32]
            chw = np.ascontiguousarray((crop[:, ::-1] if flip else crop).transpose(2, 0, 1))  # then float math is fast
            x = np.divide(chw, np.float32(255), dtype=np.float32)
            x -= mean
            x /= std
            samples.append(x)
        yield np.stack(samples), labels[batch]


def samples_per_second(epoch, n):
    start = time.process_time()
    for _ in epoch():
        pass
    return n / (time.process_time() - start)


def race(name, contestants, n, rounds=ROUNDS):
    """Run every contestant once per round, alternating, and report each one's best samples/s and its ratio to the
    first."""
    results = {label: [] for label in contestants}
    for _ in range(rounds):
        for label, epoch in contestants.items():
            results[label].append(samples_per_second(epoch, n))
    best = {label: max(speeds) for label, speeds in results.items()}
    anchor = best[next(iter(contestants))]
    print(f"\n{name}")
    for label, speed in best.items():
        print(f"  {label:<58} {speed:>10,.0f} samples/s   ratio {speed / anchor:5.2f}")
    return best


class UserDataset(Dataset):
    """The PyTorch way of writing a dataset: `__getitem__` applies `transform` to one image and returns (x, label)."""

    def __init__(self, images, labels, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.transform(self.images[index]), int(self.labels[index])


def torch_transforms(channels: int, augment: bool, torchvision):
    """The pipeline on one HWC uint8 NumPy image as torch users write it: torchvision's transforms (tensor inputs, the
    faster of its two inputs; ConvertImageDtype is ToTensor's scaling for a tensor) or, with torchvision=None,
    hand-written torch tensor operations."""
    import torch

    mean, std = (MNIST_MEAN, MNIST_STD) if channels == 1 else (CIFAR_MEAN, CIFAR_STD)
    mean = torch.tensor(mean, dtype=torch.float32).reshape(-1, 1, 1)
    std = torch.tensor(std, dtype=torch.float32).reshape(-1, 1, 1)
    as_chw = (lambda image: torch.from_numpy(image)[None]) if channels == 1 else (
        lambda image: torch.from_numpy(image).permute(2, 0, 1))
    if torchvision is not None:
        T = torchvision.transforms
        steps = [T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()] if augment else []
        pipeline = T.Compose(steps + [T.ConvertImageDtype(torch.float32), T.Normalize(mean.flatten().tolist(),
                                                                                      std.flatten().tolist())])
        return lambda image: pipeline(as_chw(image))

    def by_hand(image):
        image = as_chw(image)
        if augment:  # RandomCrop(32, padding=4) and RandomHorizontalFlip
            image = torch.nn.functional.pad(image, [4, 4, 4, 4])
            top, left = torch.randint(0, 9, (2,)).tolist()
            image = image[:, top:top + 32, left:left + 32]
            if torch.rand(1) < 0.5:
                image = image.flip(-1)
        image = image.contiguous().float().div_(255)  # ToTensor
        return image.sub_(mean).div_(std)  # Normalize

    return by_hand


def torch_epoch(images, labels, batch_size, transform):
    """An epoch of torch.utils.data.DataLoader over the per-sample `transform` in a torch Dataset's __getitem__."""
    import torch
    from torch.utils.data import DataLoader as TorchLoader, Dataset as TorchDataset

    class PerSample(TorchDataset):
        def __len__(self):
            return len(images)

        def __getitem__(self, i):
            return transform(images[i]), int(labels[i])

    torch.set_num_threads(1)
    loader = TorchLoader(PerSample(), batch_size=batch_size, shuffle=True)
    return lambda: iter(loader)


def race_batched(title, images, labels, transform, batch_size, anchor_label, anchor_epoch):
    """The batched path (ImageDataset.get_batch) against its NumPy anchor."""
    loader = DataLoader(ImageDataset(images, labels, transform=transform), batch_size=batch_size, shuffle=True)
    best = race(title, {anchor_label: lambda: anchor_epoch(images, labels, batch_size, np.random.default_rng(0)),
                        "tinytorch DataLoader (batched transforms)": lambda: iter(loader)}, len(images),
                BATCHED_ROUNDS)
    ours, limit = best["tinytorch DataLoader (batched transforms)"], best[anchor_label]
    print(f"  tinytorch / the limit: {ours / limit:.2f}x (target 0.9x)")


def race_per_sample(title, images, labels, transform, batch_size, augment):
    """A user's per-sample __getitem__: torch's DataLoader (hand-written ops, then torchvision) and, for CIFAR, a
    minimal NumPy per-sample loop, against tinytorch's DataLoader."""
    contestants = {}
    torch, torchvision = torch_or_none(), torchvision_or_none()
    channels = 1 if images.ndim == 3 else images.shape[3]
    if torch is not None:
        contestants[HAND_WRITTEN] = torch_epoch(images, labels, batch_size, torch_transforms(channels, augment, None))
    if torchvision is not None:
        contestants["torch DataLoader, torchvision transforms"] = torch_epoch(
            images, labels, batch_size, torch_transforms(channels, augment, torchvision))
    if augment:
        contestants[NUMPY_LOOP] = lambda: numpy_per_sample_cifar_epoch(images, labels, batch_size,
                                                                      np.random.default_rng(0))
    loader = DataLoader(UserDataset(images, labels, transform), batch_size=batch_size, shuffle=True)
    contestants[OURS] = lambda: iter(loader)
    best = race(title, contestants, len(images))
    for label, target in ((HAND_WRITTEN, " (target 2x)"), ("torch DataLoader, torchvision transforms", ""),
                          (NUMPY_LOOP, "")):
        if label in best:
            print(f"  tinytorch / {label}: {best[OURS] / best[label]:.2f}x{target}")


HAND_WRITTEN = "torch DataLoader, hand-written tensor ops"
NUMPY_LOOP = "minimal NumPy per-sample loop (the practical limit)"
OURS = "tinytorch DataLoader, same __getitem__"


def race_draws(sizes=(1, 2, 4, 8, 16, 32, 64), calls=2000, rounds=ROUNDS):
    """Microseconds per one-sample draw of k numbers: the Python-int route against the same formula on arrays."""
    key = rng.sample_key(0, 0, 7)

    def on_ints(k):
        draws = rng.SampleDraws(key, stream=1)
        return lambda: draws.uniform_list(k)

    def on_arrays(k):  # SampleDraws.uniform's route above LEAN_DRAWS numbers
        origins = rng.SampleDraws(key, stream=1).keys[:, None]
        return lambda: rng.uniform_at(origins, np.arange((1 << 32) + 1, (1 << 32) + k + 1, dtype=np.uint64))

    print(f"\n5. One sample's draw of k numbers in rng: microseconds per draw (lean route up to {rng.LEAN_DRAWS})")
    for k in sizes:
        best = {"Python ints": float("inf"), "NumPy arrays": float("inf")}
        routes = {"Python ints": on_ints(k), "NumPy arrays": on_arrays(k)}
        for _ in range(rounds):
            for label, draw in routes.items():
                start = time.process_time()
                for _ in range(calls):
                    draw()
                best[label] = min(best[label], (time.process_time() - start) / calls * 1e6)
        print(f"  k = {k:3d}: Python ints {best['Python ints']:6.2f} us   NumPy arrays {best['NumPy arrays']:6.2f} us"
              f"   ratio {best['NumPy arrays'] / best['Python ints']:5.2f}")


def main():
    generator = np.random.default_rng(0)
    mnist = generator.integers(0, 256, size=(60000, 28, 28), dtype=np.uint8)
    cifar = generator.integers(0, 256, size=(50000, 32, 32, 3), dtype=np.uint8)
    mnist_labels, cifar_labels = generator.integers(0, 10, size=len(mnist)), generator.integers(0, 10, size=len(cifar))
    mnist_pipeline = lambda: Compose([ToTensor(), Normalize((MNIST_MEAN,), (MNIST_STD,))])
    cifar_pipeline = lambda: Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(), ToTensor(),
                                      Normalize(CIFAR_MEAN, CIFAR_STD)])
    race_batched("1. MNIST-shaped 60000x28x28 uint8: ToTensor, Normalize on batches; batch 64, shuffle", mnist,
                 mnist_labels, mnist_pipeline(), 64, "plain NumPy loop (the limit)", numpy_mnist_epoch)
    race_batched("2. CIFAR-shaped 50000x32x32x3 uint8: RandomCrop(32, 4), flip, ToTensor, Normalize on batches; "
                 "batch 128", cifar, cifar_labels, cifar_pipeline(), 128, "hand-vectorized NumPy (the limit)",
                 numpy_cifar_epoch)
    race_per_sample(f"3. MNIST-shaped, per-sample ToTensor, Normalize in __getitem__; {PER_SAMPLE} images, batch 64, "
                    "shuffle", mnist[:PER_SAMPLE], mnist_labels[:PER_SAMPLE], mnist_pipeline(), 64, augment=False)
    race_per_sample(f"4. CIFAR-shaped, per-sample RandomCrop(32, 4), flip, ToTensor, Normalize in __getitem__; "
                    f"{PER_SAMPLE} images, batch 128", cifar[:PER_SAMPLE], cifar_labels[:PER_SAMPLE], cifar_pipeline(),
                    128, augment=True)
    race_draws()
    if torch_or_none() is None:
        print("\n(torch is not installed: `.venv/bin/pip install torch==2.13.0` adds torch's DataLoader to races 3 and 4)")


if __name__ == "__main__":
    main()
