"""Image transforms (Resize, CenterCrop, Pad, RandomResizedCrop, RandomRotation, ColorJitter, Grayscale, GaussianBlur,
RandomErasing) against torchvision doing the same work, side by side.

1. Each transform on 256 CIFAR-sized images: tinytorch on the whole batch, tinytorch one sample at a time, and
   torchvision one sample at a time (PIL images for the uint8 path, tensors for the tensor path). Microseconds per
   sample, and torchvision's time over tinytorch's batched and per-sample times.
2. The usual ImageNet-style pipelines, one sample at a time on 375x500 photos (the way a folder of images of many
   sizes is read): RandomResizedCrop(224) + flip + ToTensor + Normalize, and Resize(256) + CenterCrop(224) + ...
3. The two routes of the one crop operation (`flip_crop.crop`, RandomCrop(32, padding=4)'s windows): one window for
   all samples (its inside part, padded by what sticks out) against a window per sample (the batch padded by the most
   any window sticks out, then one gathering index), on one sample and on a batch of 128. The one-window route is
   what a call on one sample takes; this table is why. Likewise RandomHorizontalFlip on one sample: its call (the
   draw first, the input described only when flipped) against the batch route on a batch of one.
Rounds alternate between contestants and each is timed in CPU time of this single-threaded process; medians shown.
Without torchvision, only tinytorch's times print.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from tinytorch.data import rng
from tinytorch.data.transforms import ImageBatch
from tinytorch.data.transforms.flip_crop import crop
from tinytorch.data.transforms import (CenterCrop, ColorJitter, Compose, GaussianBlur, Grayscale, Normalize, Pad,
                                       RandomErasing, RandomHorizontalFlip, RandomResizedCrop, RandomRotation, Resize,
                                       ToTensor)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from torch_reference import torchvision_or_none  # noqa: E402  (an optional reference, never required)

ROUNDS = 5
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def cpu_seconds(work):
    start = time.process_time()
    work()
    return time.process_time() - start


def race(contestants):
    """Median CPU seconds of each contestant, the contestants taking turns round after round."""
    times = {label: [] for label in contestants}
    for _ in range(ROUNDS):
        for label, work in contestants.items():
            times[label].append(cpu_seconds(work))
    return {label: float(np.median(values)) for label, values in times.items()}


def batched(transform, batch):
    with rng.sample_randomness(0, 0, 0, len(batch)):
        transform.apply_batch(batch)


def one_at_a_time(transform, samples):
    for i, sample in enumerate(samples):
        with rng.sample_randomness(0, 0, i, 1):
            transform(sample)


def transform_table(tv):
    T = tv.transforms if tv else None
    images = np.random.default_rng(0).integers(0, 256, (256, 32, 32, 3), dtype=np.uint8)
    tensors = ToTensor().apply_batch(images)
    cases = [  # (name, tinytorch transform, torchvision transform or None, tensor path only)
        ("Resize(24)", lambda: Resize(24), lambda: T.Resize(24), False),
        ("CenterCrop(24)", lambda: CenterCrop(24), lambda: T.CenterCrop(24), False),
        ("Pad(4, 'reflect')", lambda: Pad(4, padding_mode="reflect"), lambda: T.Pad(4, padding_mode="reflect"), False),
        ("RandomResizedCrop(32)", lambda: RandomResizedCrop(32), lambda: T.RandomResizedCrop(32), False),
        ("RandomRotation(15)", lambda: RandomRotation(15), lambda: T.RandomRotation(15), False),
        ("ColorJitter(.4, .4, .4, .1)", lambda: ColorJitter(.4, .4, .4, .1), lambda: T.ColorJitter(.4, .4, .4, .1), False),
        ("Grayscale(3)", lambda: Grayscale(3), lambda: T.Grayscale(3), False),
        ("GaussianBlur(5)", lambda: GaussianBlur(5), lambda: T.GaussianBlur(5), False),
        ("RandomErasing()", lambda: RandomErasing(), lambda: T.RandomErasing(), True),
    ]
    print(f"1. 256 images 32x32x3, microseconds per sample (torchvision's time / tinytorch's in brackets)")
    print(f"{'transform':30s} {'path':7s} {'tinytorch batched':>22s} {'tinytorch per sample':>22s} {'torchvision':>12s}")
    for name, ours, theirs, tensor_only in cases:
        for path in (("tensor",) if tensor_only else ("uint8", "tensor")):
            batch = tensors if path == "tensor" else images
            contestants = {"batched": lambda t=ours(), b=batch: batched(t, b),
                           "per sample": lambda t=ours(), b=batch: one_at_a_time(t, b)}
            if tv:
                import torch
                from PIL import Image

                samples = [torch.from_numpy(t) for t in tensors] if path == "tensor" else [
                    Image.fromarray(image) for image in images]
                contestants["torchvision"] = lambda t=theirs(), s=samples: [t(sample) for sample in s]
            times = {label: seconds / len(images) * 1e6 for label, seconds in race(contestants).items()}
            reference = times.get("torchvision")
            ratio = (lambda label: f" ({reference / times[label]:5.1f}x)") if reference else (lambda label: "")
            print(f"{name:30s} {path:7s} {times['batched']:12.1f}{ratio('batched'):>10s} "
                  f"{times['per sample']:12.1f}{ratio('per sample'):>10s} "
                  f"{f'{reference:.1f}' if reference else '-':>12s}")


def pipeline_table(tv):
    T = tv.transforms if tv else None
    photos = list(np.random.default_rng(1).integers(0, 256, (16, 375, 500, 3), dtype=np.uint8))
    pipelines = {
        "train: RandomResizedCrop(224), flip": (
            lambda: Compose([RandomResizedCrop(224), RandomHorizontalFlip(), ToTensor(), Normalize(MEAN, STD)]),
            lambda: T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(MEAN, STD)])),
        "test: Resize(256), CenterCrop(224)": (
            lambda: Compose([Resize(256), CenterCrop(224), ToTensor(), Normalize(MEAN, STD)]),
            lambda: T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])),
    }
    print("\n2. One sample at a time on 375x500x3 photos, then ToTensor and Normalize: microseconds per sample")
    for name, (ours, theirs) in pipelines.items():
        contestants = {"tinytorch": lambda t=ours(): one_at_a_time(t, photos)}
        if tv:
            from PIL import Image

            pictures = [Image.fromarray(photo) for photo in photos]
            contestants["torchvision"] = lambda t=theirs(): [t(picture) for picture in pictures]
        times = {label: seconds / len(photos) * 1e6 for label, seconds in race(contestants).items()}
        line = f"{name:38s} tinytorch {times['tinytorch']:8.0f}"
        if tv:
            line += f"   torchvision {times['torchvision']:8.0f}   ratio {times['torchvision'] / times['tinytorch']:.2f}x"
        print(line)


class GeneralRoute(np.ndarray):
    """An ndarray subclass: ImageBatch.of describes it by its general route (the lean one takes plain arrays only)."""


def crop_routes_table():
    images = np.random.default_rng(2).integers(0, 256, (128, 32, 32, 3), dtype=np.uint8)
    corners = np.random.default_rng(3).integers(-4, 5, (128, 2))
    view = ImageBatch.of_batch(images, "bench").view
    one = view[:1]
    contestants = {
        "one sample, one-window route": lambda: [crop(one, int(top), int(left), 32, 32) for top, left in corners],
        "one sample, per-sample route": lambda: [crop(one, np.array([top]), np.array([left]), 32, 32)
                                                 for top, left in corners],
        "128 samples, per-sample route": lambda: crop(view, corners[:, 0], corners[:, 1], 32, 32),
        "128 samples, one-window route each": lambda: [crop(view[i:i + 1], int(top), int(left), 32, 32)
                                                      for i, (top, left) in enumerate(corners)],
    }
    flip = RandomHorizontalFlip()
    contestants["flip one sample, its call"] = lambda: one_at_a_time(flip, images)
    contestants["flip one sample, the batch route"] = lambda: one_at_a_time(
        lambda image: flip.apply_batch(image[None])[0], images)
    digits = np.random.default_rng(4).integers(0, 256, (128, 28, 28), dtype=np.uint8)
    to_tensor, normalize = ToTensor(), Normalize((0.1307,), (0.3081,))
    pair = Compose([to_tensor, normalize])
    contestants["28x28 ToTensor, Normalize: two calls"] = lambda: [normalize(to_tensor(digit)) for digit in digits]
    contestants["28x28 ToTensor, Normalize: Compose's table"] = lambda: [pair(digit) for digit in digits]
    general = images.view(GeneralRoute)  # the same arrays, described by ImageBatch.of's general route
    contestants["ImageBatch.of 32x32x3 uint8: general route"] = lambda: [ImageBatch.of(image, "bench")
                                                                          for image in general]
    contestants["ImageBatch.of 32x32x3 uint8: (ndim, dtype) route"] = lambda: [ImageBatch.of(image, "bench")
                                                                                for image in images]
    print("\n3. The crop's two routes, 32x32x3 windows of 32x32x3 images shifted by up to 4 pixels, the flip's, and "
          "Compose's one-sample ToTensor+Normalize table, ImageBatch.of's two routes: microseconds per sample")
    for label, seconds in race(contestants).items():
        print(f"{label:44s} {seconds / len(corners) * 1e6:8.2f}")


if __name__ == "__main__":
    torchvision = torchvision_or_none()
    if torchvision is not None:
        import torch

        torch.set_num_threads(1)
    transform_table(torchvision)
    pipeline_table(torchvision)
    crop_routes_table()
