"""ImageFolder: an epoch from the decoded-image cache against an epoch decoding PNGs per sample, side by side.

On a folder of 10,000 32x32 RGB PNGs (10 classes) generated into a temporary directory, with ToTensor, shuffle and
batch 128 in every loader:
- per sample: `ImageFolder(root)`, each image opened and decoded by Pillow in `__getitem__` (num_workers=0, and
  num_workers=2, where workers pay);
- cached: `ImageFolder(root, cache=True)`, one indexing call into the memory-mapped (N, 32, 32, 3) array per batch.
Target: the cached epoch >= 20x the per-sample one (num_workers=0). The one-off cache build (decode all, write,
rename) is timed too, and torchvision's ImageFolder with torch's DataLoader when they are installed.
The loaders take turns for `--rounds` epochs after a warm-up; the best epoch of each is reported.
Usage: python benchmarks/bench_folder.py [--images 10000] [--rounds 3]
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
from torch_reference import torchvision_or_none  # noqa: E402

from tinytorch.data import DataLoader, ImageFolder  # noqa: E402
from tinytorch.data.transforms import ToTensor  # noqa: E402


def write_pngs(root: Path, n: int, classes: int = 10) -> None:
    """`n` 32x32 RGB PNGs with some structure (cumulative noise), spread over `classes` class folders."""
    pixels = np.random.default_rng(0).integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    pixels = np.cumsum(pixels, axis=2, dtype=np.uint16).astype(np.uint8)
    for c in range(classes):
        (root / f"class_{c}").mkdir(parents=True)
    for i, image in enumerate(pixels):
        Image.fromarray(image).save(root / f"class_{i % classes}" / f"{i:05d}.png")


def epoch_seconds(loader) -> float:
    start = time.perf_counter()
    samples = sum(len(images) for images, _ in loader)
    assert samples == len(loader.dataset)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        root, os.environ["TINYTORCH_DATA"] = Path(folder) / "images", str(Path(folder) / "cache")
        start = time.perf_counter()
        write_pngs(root, args.images)
        print(f"wrote {args.images} 32x32 PNGs in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        cached = ImageFolder(root, transform=ToTensor(), cache=True)
        build = time.perf_counter() - start
        start = time.perf_counter()
        ImageFolder(root, transform=ToTensor(), cache=True)
        reopen = time.perf_counter() - start
        print(f"cache build (decode {len(cached)} images, write, rename): {build:.2f} s, "
              f"{cached.data.nbytes / 2**20:.1f} MB; reopening it (list, stat, map): {reopen * 1e3:.0f} ms")

        plain = ImageFolder(root, transform=ToTensor())
        loaders = {name: DataLoader(dataset, batch_size=128, shuffle=True, generator=0, num_workers=workers,
                                    persistent_workers=workers > 0)
                   for name, dataset, workers in [("per sample, num_workers=0", plain, 0),
                                                  ("per sample, num_workers=2", plain, 2),
                                                  ("cached", cached, 0)]}
        tv = torchvision_or_none()
        if tv is not None:
            import torch
            torch.set_num_threads(1)
            loaders["torchvision ImageFolder + torch DataLoader"] = torch.utils.data.DataLoader(
                tv.datasets.ImageFolder(root, transform=tv.transforms.ToTensor()), batch_size=128, shuffle=True)

        for loader in loaders.values():  # warm-up: page cache, worker start
            epoch_seconds(loader)
        best = dict.fromkeys(loaders, float("inf"))
        for _ in range(args.rounds):
            for name, loader in loaders.items():
                best[name] = min(best[name], epoch_seconds(loader))

    print(f"one epoch of {args.images} images, ToTensor, batch 128, shuffle (best of {args.rounds}):")
    cached_time = best["cached"]
    for name, seconds in best.items():
        print(f"  {name:44s} {seconds * 1e3:9.1f} ms  {args.images / seconds:12,.0f} samples/s  "
              f"time / cached: {seconds / cached_time:5.1f}x")
    print(f"  target: cached >= 20x per sample (num_workers=0); "
          f"measured {best['per sample, num_workers=0'] / cached_time:.1f}x")


if __name__ == "__main__":
    main()
