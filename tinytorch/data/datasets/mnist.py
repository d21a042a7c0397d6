"""MNIST handwritten digits, in torchvision's layout (`root/MNIST/raw/`), downloaded from a list of mirrors.

The `.gz` downloads are decompressed once; the IDX files are then memory-mapped, so opening a cached MNIST reads
only their headers. Each extracted file is checked against its known md5 once, and the result remembered.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..cache import default_root, md5
from ..download import download_file, gunzip, lock
from ..errors import ChecksumError, DatasetNotFoundError
from ..idx import read_idx
from .downloaded import DownloadedImages


class MNIST(DownloadedImages):
    """The 60000 training or 10000 test 28x28 grey digits: `data` uint8 (N, 28, 28), `targets` int64 (N,).

    `root` defaults to `$TINYTORCH_DATA`, else `$XDG_CACHE_HOME/tinytorch`, else `~/.cache/tinytorch`. With
    `download=True` missing files are fetched from `mirrors` (or `$TINYTORCH_MNIST_MIRRORS`, comma-separated base
    URLs); a `.gz` placed in the folder by hand is extracted without any network access.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    raw_md5s = {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    }
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def load(self):
        """The split's images and labels, memory-mapped from the IDX files."""
        prefix = "train" if self.train else "t10k"
        return self._open([f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"])

    @classmethod
    def folder(cls, root=None) -> Path:
        """Where the files live: `root/<class name>/raw`, as torchvision keeps them."""
        return default_root(root) / cls.__name__ / "raw"

    @classmethod
    def files(cls, root=None) -> dict:
        """{path: md5} of every extracted file of the dataset, both splits."""
        return {cls.folder(root) / name: digest for name, digest in cls.raw_md5s.items()}

    @classmethod
    def urls(cls, filename: str) -> list[str]:
        """The URLs of `filename` on each mirror, in the order they are tried."""
        mirrors = os.environ.get(f"TINYTORCH_{cls.__name__.upper()}_MIRRORS")
        mirrors = [m.strip() for m in mirrors.split(",") if m.strip()] if mirrors else cls.mirrors
        return [mirror.rstrip("/") + "/" + filename for mirror in mirrors]

    @classmethod
    def download(cls, root=None, *, force: bool = False, quiet: bool = False) -> None:
        """Make every file of both splits present and verified, fetching only what is missing or wrong."""
        folder = cls.folder(root)
        with lock(folder):
            for gz_name, gz_md5 in cls.resources:
                raw, gz = folder / gz_name.removesuffix(".gz"), folder / gz_name
                if force:
                    raw.unlink(missing_ok=True)
                    gz.unlink(missing_ok=True)
                elif raw.is_file() and md5(raw) == cls.raw_md5s[raw.name]:
                    continue
                download_file(cls.urls(gz_name), gz, gz_md5, quiet=quiet)
                gunzip(gz, raw)

    def _open(self, names: list[str]) -> list:
        """Each IDX file in `names`, header-validated, md5-checked once, memory-mapped."""
        folder = self.folder(self.root)
        by_hand = [name for name in names if not (folder / name).is_file() and (folder / f"{name}.gz").is_file()]
        if by_hand:  # a .gz placed in the folder by hand: extract it once, even with several readers
            with lock(folder):
                for name in by_hand:
                    if not (folder / name).is_file():
                        gunzip(folder / f"{name}.gz", folder / name)
        missing = [name for name in names if not (folder / name).is_file()]
        if missing:
            urls = "\n".join(f"  {self.urls(name + '.gz')[0]}" for name in missing)
            raise DatasetNotFoundError(
                f"{type(self).__name__} ({'train' if self.train else 'test'}) is missing {', '.join(missing)} in "
                f"{folder}. Either pass download=True (or run `python -m tinytorch.data download "
                f"{type(self).__name__.lower()} --root {self.root}`), or fetch these by hand and put them, gzipped "
                f"or extracted, in {folder}:\n{urls}")
        arrays = [read_idx(folder / name) for name in names]
        for name in names:
            if (actual := md5(folder / name)) != self.raw_md5s[name]:
                raise ChecksumError(
                    f"{folder / name} has md5 {actual}, expected {self.raw_md5s[name]}: it is damaged or not the "
                    f"official file. Delete it and pass download=True (or run `python -m tinytorch.data download "
                    f"{type(self).__name__.lower()} --force --root {self.root}`)")
        return arrays
