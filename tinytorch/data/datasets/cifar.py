"""CIFAR-10 and CIFAR-100, in torchvision's layout (`root/cifar-10-batches-py/`, `root/cifar-100-python/`), with a
memory-mapped NumPy cache.

The batches are Python 2 pickles, read once with the restricted unpickler and converted to
`tinytorch_<split>_<array>.npy` (`data` uint8 (N, 32, 32, 3), `targets` int64 (N,), and CIFAR-100's
`coarse_targets`) in the same folder. The cache's md5s are recorded when it is written, so a damaged cache is
rebuilt, never used; later opens memory-map it, reading only the headers.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .storage import safe_pickle
from .storage.atomic import replacing
from .storage.cache import default_root, md5, new_md5, record_written, remember, written_digests
from .storage.download import download_file, extract_tar, lock
from ..errors import CorruptFileError, DiskSpaceError, UnusablePathError
from .downloaded import DownloadedImages


class CIFAR10(DownloadedImages):
    """The 50000 training or 10000 test 32x32 colour images: `data` uint8 (N, 32, 32, 3), `targets` int64 (N,).

    With `download=True` the archive is fetched from `mirrors` (or `$TINYTORCH_CIFAR10_MIRRORS`, comma-separated
    base URLs), unless a verified copy is already in `root`, and extracted.
    """

    base_folder = "cifar-10-batches-py"
    mirrors = ["https://www.cs.toronto.edu/~kriz/"]
    filename = "cifar-10-python.tar.gz"
    url = mirrors[0] + filename  # torchvision's attribute; downloads use `urls(filename)`
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
    labels = {"targets": (b"labels", classes)}  # cached label arrays: (key in the batch pickle, their classes)

    def load(self):
        """The split's images and labels: memory-mapped from the NumPy cache, which the first load writes."""
        arrays = self._cached() or self._convert()
        for name in self.labels:
            setattr(self, name, arrays[name])
        return arrays["data"], arrays["targets"]

    @classmethod
    def folder(cls, root=None) -> Path:
        """Where the batches live: `root/<base_folder>`, as torchvision keeps them."""
        return default_root(root) / cls.base_folder

    @classmethod
    def split_files(cls, train: bool | None) -> dict:
        """{batch file name: md5} of split `train`; both splits and the metadata when None."""
        lists = cls.train_list if train else cls.test_list if train is False else \
            cls.train_list + cls.test_list + [[cls.meta["filename"], cls.meta["md5"]]]
        return dict(lists)

    @classmethod
    def provide(cls, root: Path, names: list, *, network: bool, quiet: bool, force: bool = False) -> None:
        """With `network`: fetch the archive (unless a verified copy is in `root`, or with `force`) and extract it;
        one archive holds every file, so all of them come from it, whichever `names` are wanted. The NumPy caches
        are dropped only when a batch file changed (they are built from the batches)."""
        if network:
            archive = download_file(cls.urls(cls.filename), root / cls.filename, cls.tgz_md5, quiet=quiet, force=force)
            if extract_tar(archive, root):
                folder = cls.folder(root)
                caches = list(folder.glob("tinytorch_*.npy"))
                for path in caches:
                    path.unlink()
                record_written(folder, {path.name: None for path in caches})

    @classmethod
    def by_hand(cls, root: Path, missing: list) -> str:
        return (f"  {cls.urls(cls.filename)[0]} -> {root} (the archive, with download=True), or its extracted "
                f"{cls.base_folder}/ folder -> {root}")

    @classmethod
    def source(cls, root: Path) -> str:
        return f"the archive {root / cls.filename}"

    def _cache_paths(self) -> dict:
        split, folder = "train" if self.train else "test", self.folder(self.root)
        return {name: folder / f"tinytorch_{split}_{name}.npy" for name in ("data", *self.labels)}

    def _cached(self):
        """{array name: array} memory-mapped from the NumPy cache, or None if it is missing, damaged or changed."""
        paths, recorded = self._cache_paths(), written_digests(self.folder(self.root))
        try:
            if any(recorded.get(path.name) is None or not path.is_file() or recorded[path.name] != md5(path)
                   for path in paths.values()):
                return None
            arrays = {name: np.load(path, mmap_mode="r") for name, path in paths.items()}
        except (OSError, ValueError, EOFError):
            return None
        data = arrays["data"]
        if data.dtype != np.uint8 or data.shape[1:] != (32, 32, 3) or any(
                arrays[name].shape != data.shape[:1] or arrays[name].dtype != np.int64 for name in self.labels):
            return None
        return {name: np.asarray(array) for name, array in arrays.items()}

    def _convert(self):
        """Read the split's batches (already verified) and write the NumPy cache; return {array name: array}."""
        folder = self.folder(self.root)
        with lock(folder):
            if (cached := self._cached()) is not None:  # another process converted it meanwhile
                return cached
            parts = [self._read_batch(folder / name) for name in self.split_files(self.train)]
            data = np.empty((sum(len(images) for images, _ in parts), 32, 32, 3), np.uint8)
            start = 0
            for images, _ in parts:  # CHW -> HWC as three strided plane copies, several times faster than a transpose
                for channel in range(3):
                    data[start:start + len(images), :, :, channel] = images[:, channel]
                start += len(images)
            arrays = {"data": data, **{name: np.concatenate([labels[name] for _, labels in parts])
                                       for name in self.labels}}
            try:
                record_written(folder, {path.name: _save(path, arrays[name])
                                        for name, path in self._cache_paths().items()})
            except (OSError, DiskSpaceError, UnusablePathError):  # a read-only or full folder: keep them in memory
                return arrays
        return self._cached() or arrays

    def _read_batch(self, path: Path):
        """(uint8 images (n, 3, 32, 32), {label array name: int64 labels (n,)}) from one Python 2 batch pickle."""
        batch = safe_pickle.load(path, encoding="bytes")  # py2 str stay bytes: no latin1 round trip of the pixels
        try:
            images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            labels = {name: np.asarray(batch[key], dtype=np.int64) for name, (key, _) in self.labels.items()}
            for name, (key, classes) in self.labels.items():
                if len(labels[name]) != len(images):
                    raise ValueError(f"{len(images)} images but {len(labels[name])} {key.decode()}")
                if len(labels[name]) and not 0 <= labels[name].min() <= labels[name].max() < len(classes):
                    raise ValueError(f"{key.decode()} range from {labels[name].min()} to {labels[name].max()}, "
                                     f"expected 0 to {len(classes) - 1}")
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise CorruptFileError(f"{path} is not a {type(self).__name__} batch ({type(exc).__name__}: {exc}); "
                                   f"delete it and pass download=True to fetch the archive again") from exc
        return images, labels


class CIFAR100(CIFAR10):
    """The 50000 training or 10000 test 32x32 colour images of 100 classes: `data` uint8 (N, 32, 32, 3), `targets`
    int64 (N,) the fine labels (as torchvision), `coarse_targets` int64 (N,) the 20 superclasses (`coarse_classes`).

    Mirrors: `CIFAR100.mirrors`, or `$TINYTORCH_CIFAR100_MIRRORS`. To train on the superclasses, set
    `dataset.targets = dataset.coarse_targets` (and `classes = coarse_classes`).
    """

    base_folder = "cifar-100-python"
    filename = "cifar-100-python.tar.gz"
    url = CIFAR10.mirrors[0] + filename
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
    classes = [
        "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle", "bowl", "boy",
        "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle", "chair", "chimpanzee", "clock",
        "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish",
        "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion",
        "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse", "mushroom", "oak_tree", "orange",
        "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine",
        "possum", "rabbit", "raccoon", "ray", "road", "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk",
        "skyscraper", "snail", "snake", "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table",
        "tank", "telephone", "television", "tiger", "tractor", "train", "trout", "tulip", "turtle", "wardrobe",
        "whale", "willow_tree", "wolf", "woman", "worm"]
    coarse_classes = [
        "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
        "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
        "large_man-made_outdoor_things", "large_natural_outdoor_scenes", "large_omnivores_and_herbivores",
        "medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals", "trees", "vehicles_1",
        "vehicles_2"]
    labels = {"targets": (b"fine_labels", classes), "coarse_targets": (b"coarse_labels", coarse_classes)}


class _Hashing:
    """A binary file wrapper that hashes what is written through it."""

    def __init__(self, handle):
        self.handle, self.digest = handle, new_md5()

    def write(self, data) -> int:
        self.digest.update(data)
        return self.handle.write(data)


def _save(path: Path, array) -> str:
    """Write `array` to `path` as .npy, whole or not at all (atomic.replacing); return its md5."""
    with replacing(path) as handle:
        writer = _Hashing(handle)
        np.save(writer, array)
    digest = writer.digest.hexdigest()
    remember(path, digest)
    return digest
