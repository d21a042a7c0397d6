"""CIFAR-10, in torchvision's layout (`root/cifar-10-batches-py/`), with a memory-mapped NumPy cache.

The batches are Python 2 pickles, read once with the restricted unpickler and converted to
`tinytorch_<split>_data.npy` (uint8 (N, 32, 32, 3)) and `tinytorch_<split>_targets.npy` (int64 (N,)) in the same
folder; later opens memory-map those, so they read only two headers and never re-hash the batches.
"""
from __future__ import annotations

import os

import numpy as np

from .. import safe_pickle
from ..cache import check_files, default_root
from ..download import download_file, extract_tar, lock
from ..errors import ChecksumError, CorruptFileError, DatasetNotFoundError
from .downloaded import DownloadedImages


class CIFAR10(DownloadedImages):
    """The 50000 training or 10000 test 32x32 colour images: `data` uint8 (N, 32, 32, 3), `targets` int64 (N,).

    `root` defaults to `$TINYTORCH_DATA`, else `$XDG_CACHE_HOME/tinytorch`, else `~/.cache/tinytorch`. With
    `download=True` the archive is fetched from `url` (unless a verified copy is already in `root`) and extracted.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def load(self):
        """The split's images and labels: memory-mapped from the NumPy cache, which the first load writes."""
        return self._cached() or self._convert()

    @classmethod
    def folder(cls, root=None):
        """Where the batches live: `root/cifar-10-batches-py`, as torchvision keeps them."""
        return default_root(root) / cls.base_folder

    @classmethod
    def files(cls, root=None) -> dict:
        """{path: md5} of every extracted file of the dataset, both splits and the metadata."""
        return {cls.folder(root) / name: digest
                for name, digest in cls.train_list + cls.test_list + [[cls.meta["filename"], cls.meta["md5"]]]}

    @classmethod
    def download(cls, root=None, *, force: bool = False, quiet: bool = False) -> None:
        """Make the archive's files present and verified, fetching the archive only if some are missing or wrong."""
        root, folder = default_root(root), cls.folder(root)
        with lock(folder):
            if force:
                for path in [*cls.files(root), *folder.glob("tinytorch_*.npy"), root / cls.filename]:
                    path.unlink(missing_ok=True)
            elif check_files(folder, {path.name: md5 for path, md5 in cls.files(root).items()}) == ([], {}):
                return
            extract_tar(download_file([cls.url], root / cls.filename, cls.tgz_md5, quiet=quiet), root)
            for stale in folder.glob("tinytorch_*.npy"):  # built from the batches this archive replaced
                stale.unlink()

    def _paths(self):
        split = "train" if self.train else "test"
        folder = self.folder(self.root)
        return folder / f"tinytorch_{split}_data.npy", folder / f"tinytorch_{split}_targets.npy"

    def _cached(self):
        """(data, targets) memory-mapped from the NumPy cache, or None if it is missing or damaged."""
        try:
            data, targets = (np.load(path, mmap_mode="r") for path in self._paths())
        except (OSError, ValueError):
            return None
        if data.dtype != np.uint8 or data.shape[1:] != (32, 32, 3) or targets.shape != data.shape[:1]:
            return None
        return np.asarray(data), np.asarray(targets)

    def _convert(self):
        """Read the split's batches (checked against their md5s) and write the NumPy cache; return (data, targets)."""
        folder = self.folder(self.root)
        batches = dict(self.train_list if self.train else self.test_list)
        with lock(folder):
            if (cached := self._cached()) is not None:  # another process converted it meanwhile
                return cached
            missing, bad = check_files(folder, batches)
            if missing:
                raise DatasetNotFoundError(
                    f"CIFAR10 ({'train' if self.train else 'test'}) is missing {', '.join(missing)} in {folder}. "
                    f"Either pass download=True (or run `python -m tinytorch.data download cifar10 --root "
                    f"{self.root}`), or fetch {self.url} by hand and put it in {self.root}")
            if bad:
                raise ChecksumError(
                    "\n".join(f"{folder / name} has md5 {actual}, expected {batches[name]}" for name, actual in
                              bad.items()) + f"\nThe files are damaged or not the official ones: pass download=True "
                    f"(or run `python -m tinytorch.data download cifar10 --force --root {self.root}`) to replace them")
            parts = [_read_batch(folder / name) for name in batches]
            data = np.empty((sum(len(images) for images, _ in parts), 32, 32, 3), np.uint8)
            start = 0
            for images, _ in parts:  # CHW -> HWC as three strided plane copies, several times faster than a transpose
                for channel in range(3):
                    data[start:start + len(images), :, :, channel] = images[:, channel]
                start += len(images)
            targets = np.concatenate([labels for _, labels in parts])
            try:
                for path, array in zip(self._paths(), (data, targets)):
                    _save(path, array)
            except OSError:  # a read-only folder: keep the arrays in memory instead
                return data, targets
        return self._cached() or (data, targets)


def _read_batch(path):
    """(uint8 images (n, 3, 32, 32), int64 labels (n,)) from one Python 2 batch pickle."""
    batch = safe_pickle.load(path, encoding="bytes")  # py2 str stay bytes: no latin1 round trip of the pixels
    try:
        images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
        if len(labels) != len(images):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptFileError(f"{path} is not a CIFAR-10 batch ({type(exc).__name__}: {exc}); delete it and pass "
                               f"download=True to fetch the archive again") from exc
    return images, labels


def _save(path, array) -> None:
    """Write `array` to `path` as .npy through a temporary file and an atomic rename."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        with open(temporary, "wb") as handle:
            np.save(handle, array)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
