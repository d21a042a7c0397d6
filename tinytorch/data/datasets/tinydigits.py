"""TinyDigits: 8x8 grey-scale digits downsampled from MNIST, shipped with the project, so no download is needed."""
from __future__ import annotations

import numpy as np

from .base import ImageDataset
from ..errors import CorruptFileError
from .storage.safe_pickle import load
from .shipped import shipped_dir


def read_split(path) -> tuple[np.ndarray, np.ndarray]:
    """(images float32 (N, 8, 8) in [0, 1], labels int64 (N,)) from one TinyDigits pickle, checked: a file with
    other keys, shapes or labels outside 0-9 is a CorruptFileError naming it."""
    split = load(path)
    try:
        images, labels = np.asarray(split["images"]), np.asarray(split["labels"])
        if images.dtype != np.float32 or images.shape[1:] != (8, 8) or labels.shape != images.shape[:1]:
            raise ValueError(f"images {images.dtype} {images.shape} and labels {labels.shape}, expected float32 "
                             f"(N, 8, 8) and (N,)")
        if labels.dtype.kind not in "iu" or len(labels) and not 0 <= labels.min() <= labels.max() <= 9:
            raise ValueError(f"labels must be integers 0-9, got {labels.dtype} from {labels.min()} to {labels.max()}")
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise CorruptFileError(f"{path} is not a TinyDigits split ({type(exc).__name__}: {exc}); restore it from the "
                               f"repository (git checkout datasets/tinydigits) or reinstall tinytorch-data") from exc
    return images, labels.astype(np.int64, copy=False)


class TinyDigits(ImageDataset):
    """1,000 training (`train=True`) or 200 test 8x8 digits: 100 or 20 of each class, in a fixed shuffled order.

    `data` is float32 (N, 8, 8) in [0, 1] and `targets` int64 (N,); a sample is (image (8, 8), int label).
    The files are read with the restricted unpickler, which builds the arrays and runs nothing else.
    """

    classes = [str(digit) for digit in range(10)]

    def __init__(self, train: bool = True, transform=None, target_transform=None):
        if not isinstance(train, bool):
            raise TypeError(f"train must be True or False, got {train!r}")
        self.train = train
        images, labels = read_split(shipped_dir("tinydigits") / ("train.pkl" if train else "test.pkl"))
        super().__init__(images, labels, transform, target_transform)
