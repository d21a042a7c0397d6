"""MNIST and its kin in IDX files (FashionMNIST, KMNIST), in torchvision's layout `root/<ClassName>/raw/`.

The `.gz` downloads are decompressed once; the IDX files are then memory-mapped, so opening reads only their
headers. The extracted bytes are the authority: a `.gz` whose own digest differs (a teacher's mirror that gzipped
the files again, a `.gz` placed by hand) is accepted when what it extracts to has the official digest. A new
dataset in this format is a subclass with `mirrors`, `resources`, `raw_md5s`, `raw_sizes` and `classes`.
"""
from __future__ import annotations

import os
from pathlib import Path

from .storage.cache import default_root, md5, record_written
from .storage.download import download_file, gunzip
from ..errors import ChecksumError, CorruptFileError, UnusablePathError
from .storage.idx import read_idx
from .downloaded import DownloadedImages


class MNIST(DownloadedImages):
    """The 60000 training or 10000 test 28x28 grey digits: `data` uint8 (N, 28, 28), `targets` int64 (N,).

    With `download=True` missing files are fetched from `mirrors` (or `$TINYTORCH_MNIST_MIRRORS`, comma-separated
    base URLs); a `.gz` placed in the folder by hand is extracted without any network access.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [  # torchvision's: (download, md5 of the download)
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    raw_md5s = {  # the extracted files' md5s, the authority (None where unpublished: then the .gz is)
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    }
    raw_sizes = {  # the extracted files' sizes in bytes: decompression stops there, so a gzip bomb cannot fill the disk
        "train-images-idx3-ubyte": 47040016, "train-labels-idx1-ubyte": 60008,
        "t10k-images-idx3-ubyte": 7840016, "t10k-labels-idx1-ubyte": 10008,
    }
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    @property
    def raw_folder(self) -> str:
        """`root/<ClassName>/raw`, as torchvision names it (a str)."""
        return str(self.folder(self.root))

    def load(self):
        """The split's images and labels, memory-mapped from the IDX files."""
        folder, names = self.folder(self.root), self.split_files(self.train)
        images, labels = (read_idx(folder / name) for name in names)  # images first, as split_files lists them
        return images, labels

    @classmethod
    def folder(cls, root=None) -> Path:
        """Where the files live: `root/<class name>/raw`, as torchvision keeps them."""
        return default_root(root) / cls.__name__ / "raw"

    @classmethod
    def split_files(cls, train: bool | None) -> dict:
        """{extracted file name: md5 or None} of split `train` (both when None), images before labels."""
        prefixes = ("train", "t10k") if train is None else ("train",) if train else ("t10k",)
        names = [gz.removesuffix(".gz") for gz, _ in cls.resources]
        return {name: cls.raw_md5s.get(name) for name in names if name.startswith(prefixes)}

    @classmethod
    def provide(cls, root: Path, names: list, *, network: bool, quiet: bool, force: bool = False) -> None:
        """Extract each of `names` from its `.gz` in the folder when that gives the right bytes, else (with
        `network`) download the `.gz` from the mirrors and extract it; with `force`, download it in any case."""
        folder, archive_md5s = cls.folder(root), dict(cls.resources)
        for name in names:
            gz = folder / f"{name}.gz"
            try:
                if not force and gz.is_file() and cls._extract(gz, folder / name, archive_md5s[gz.name]):
                    continue
            except CorruptFileError:
                if not network:
                    raise  # with network, the download below replaces the broken .gz
            if network:
                download_file(cls.urls(gz.name), gz, archive_md5s[gz.name], quiet=quiet, force=force,
                              accept=lambda part, raw=folder / name: cls._accepts(part, raw))
                cls._extract(gz, folder / name, archive_md5s[gz.name])

    @classmethod
    def _extract(cls, gz: Path, raw: Path, archive_md5: str | None) -> bool:
        """Decompress `gz` into `raw` if its bytes are the official ones (checked before they replace `raw`): the
        published raw md5, or, where none is published, a `.gz` with the official archive md5 (`archive_md5`, None
        when unknown). Return whether it did."""
        want = cls.raw_md5s.get(raw.name)
        if want is None and (archive_md5 is None or md5(gz) != archive_md5):  # the .gz is hashed only when it decides
            return False
        if not os.access(raw.parent, os.W_OK):
            raise UnusablePathError(
                f"{raw.parent} holds {gz.name} but not the file extracted from it, and the folder is read-only, so "
                f"it cannot be extracted there. Extract it once where the folder is writable (`gunzip -k {gz}`), or "
                f"copy the folder to a writable root and pass that root")
        try:
            gunzip(gz, raw, expected_size=cls.raw_sizes.get(raw.name), md5=want)
        except ChecksumError:
            return False
        if want is None:
            record_written(raw.parent, {raw.name: md5(raw)})
        return True

    @classmethod
    def _accepts(cls, part: Path, raw: Path) -> bool:
        """Whether a download whose archive md5 differs extracts to the official `raw` (which it then leaves)."""
        try:
            return cls._extract(part, raw, None)
        except CorruptFileError:
            return False

    @classmethod
    def by_hand(cls, root: Path, missing: list) -> str:
        folder = cls.folder(root)
        return "\n".join(f"  {cls.urls(name + '.gz')[0]} -> {folder} (gzipped or extracted)" for name in missing)

    @classmethod
    def source(cls, root: Path) -> str:
        return f"what {', '.join(cls.urls(''))} served"


class FashionMNIST(MNIST):
    """Zalando's 60000 training or 10000 test 28x28 grey images of clothing: 10 classes, in MNIST's format.

    Mirrors: `FashionMNIST.mirrors`, or `$TINYTORCH_FASHIONMNIST_MIRRORS`.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    raw_md5s = {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """60000 training or 10000 test 28x28 grey cursive Japanese characters (Kuzushiji-MNIST): 10 classes.

    Mirrors: `KMNIST.mirrors`, or `$TINYTORCH_KMNIST_MIRRORS`. The extracted files' md5s are not published, so
    the `.gz` downloads (official md5s) are the authority: keep them, and the extracted files are trusted with the
    digest recorded when they were extracted.
    """

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    raw_md5s = {}
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
