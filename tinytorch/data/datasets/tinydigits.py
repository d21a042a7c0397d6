"""TinyDigits: 8x8 grey-scale digits downsampled from MNIST, shipped with the project, so no download is needed."""
from __future__ import annotations

from ..dataset import ImageDataset
from ..safe_pickle import load
from .shipped import shipped_dir


class TinyDigits(ImageDataset):
    """1,000 training (`train=True`) or 200 test 8x8 digits, 100 or 20 of each class, in a fixed shuffled order.

    `data` is float32 (N, 8, 8) in [0, 1] and `targets` int64 (N,); a sample is (image (8, 8), int label).
    The files are read with the restricted unpickler, which builds the arrays and runs nothing else.
    """

    classes = [str(digit) for digit in range(10)]

    def __init__(self, train: bool = True, transform=None, target_transform=None):
        if not isinstance(train, bool):
            raise TypeError(f"train must be True or False, got {train!r}")
        self.train = train
        split = load(shipped_dir("tinydigits") / ("train.pkl" if train else "test.pkl"))
        super().__init__(split["images"], split["labels"], transform, target_transform)
