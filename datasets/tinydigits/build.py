"""Rebuild TinyDigits' train.pkl and test.pkl, byte for byte, from the MNIST raw files.

    python -m datasets.tinydigits.build /work/shared/data/mnist     # a flat folder holding the four raw files
    python -m datasets.tinydigits.build ~/data --download           # an MNIST root (root/MNIST/raw/), fetched if missing

Each split takes PER_CLASS digits of every class from the MNIST split of the same name, chosen and shuffled by
NumPy's legacy RandomState (whose stream NumPy keeps fixed across versions), and shrinks each one to 8x8 with
`downsample`. The pickles use a fixed protocol, so the same inputs give the same bytes.
"""
from __future__ import annotations

import argparse
import contextlib
import pickle
import tempfile
from pathlib import Path

import numpy as np

from tinytorch.data import MNIST

SEED = 1998
PER_CLASS = {"train": 100, "test": 20}
PROTOCOL = 4
SIDE = 8


def downsample(image: np.ndarray) -> np.ndarray:
    """A uint8 (H, W) digit as float32 (8, 8) in [0, 1]: crop to the ink's bounding box, pad it to a centred
    square, and average the square's area into 8x8 cells.

    Cropping first makes the digit fill the small grid whatever its size in the original; the averaging is exact
    integer arithmetic (each pixel repeated 8x8 times, then summed in S x S blocks), so no library's resampling
    rounding can change the bytes. A blank image gives zeros.
    """
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    if rows.size == 0:
        return np.zeros((SIDE, SIDE), np.float32)
    digit = image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    height, width = digit.shape
    size = max(height, width)
    square = np.zeros((size, size), np.int64)
    top, left = (size - height) // 2, (size - width) // 2
    square[top:top + height, left:left + width] = digit
    fine = square.repeat(SIDE, axis=0).repeat(SIDE, axis=1)
    sums = fine.reshape(SIDE, size, SIDE, size).sum(axis=(1, 3))
    return (sums / (size * size * 255)).astype(np.float32)


def select(labels: np.ndarray, per_class: int, seed: int = SEED) -> np.ndarray:
    """Indices of `per_class` samples of each of the 10 digits in `labels`, in a shuffled order fixed by `seed`."""
    state = np.random.RandomState(seed)
    chosen = np.concatenate([state.choice(np.flatnonzero(labels == digit), per_class, replace=False)
                             for digit in range(10)])
    return chosen[state.permutation(len(chosen))]


@contextlib.contextmanager
def mnist_root(source: Path):
    """An MNIST root for `source`: itself if it holds MNIST/raw/ (or will, once downloaded), else a temporary root
    whose MNIST/raw/ links to the files of the flat folder `source`."""
    if not source.is_dir() or (source / "MNIST" / "raw").is_dir():
        yield source
        return
    with tempfile.TemporaryDirectory() as root:
        raw = Path(root, "MNIST", "raw")
        raw.mkdir(parents=True)
        for file in source.iterdir():
            (raw / file.name).symlink_to(file.resolve())
        yield Path(root)


def build(source, download: bool = False) -> dict[str, bytes]:
    """The bytes of train.pkl and test.pkl, built from the MNIST files under `source` (see `mnist_root`)."""
    files = {}
    with mnist_root(Path(source)) as root:
        for split, per_class in PER_CLASS.items():
            mnist = MNIST(root, train=split == "train", download=download)
            chosen = select(mnist.targets, per_class)
            images = np.stack([downsample(mnist.data[i]) for i in chosen])
            labels = mnist.targets[chosen]
            files[f"{split}.pkl"] = pickle.dumps({"images": images, "labels": labels}, protocol=PROTOCOL)
    return files


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a flat folder of MNIST raw files, or an MNIST root")
    parser.add_argument("--download", action="store_true", help="fetch MNIST into the root if it is missing")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="where to write the pkl files")
    args = parser.parse_args(argv)
    for name, data in build(args.source, args.download).items():
        (args.out / name).write_bytes(data)
        print(f"wrote {args.out / name} ({len(data):,} bytes)")


if __name__ == "__main__":
    main()
