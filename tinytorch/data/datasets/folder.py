"""Folders of files as datasets (`root/<class>/<file>`), with torchvision.datasets.folder's names and semantics.

One sub-folder per class, classes sorted, files found by a sorted walk that follows symbolic links. Images decode
with Pillow to uint8 arrays (H, W, C), RGB as torchvision's `pil_loader` converts them, so every transform here
applies. Beyond torchvision, `ImageFolder(..., cache=True)` decodes the folder once into a memory-mapped uint8
array (N, H, W, C); later epochs (and later runs) then fetch a batch with one NumPy indexing call.
"""
from __future__ import annotations

import errno
import hashlib
import marshal
import math
import numbers
import os
import re
import stat
import types
import warnings

import numpy as np

from .. import rng
from ..arguments import fast_route_agrees
from .storage.atomic import open_trusted, replacing
from .storage.cache import default_root, identity, make_folder
from ..dataset import Dataset, as_index_array, check_index
from .storage.download import check_space, lock
from ..errors import CorruptImageError, DatasetNotFoundError, FolderChangedError
from ..transforms import Resize, apply_to_batch
from .base import rows, vision_repr

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
CACHE_VERSION = 2  # part of every cache key: bump it when the cache's layout or decoding changes
# <settings>-<selection>-<state>.npy (version 1: <settings>-<state>.npy) and its working files <name>.<pid>.part:
# only files named so are ever removed from a cache folder, so nothing else placed there is touched
CACHE_NAME = re.compile(r"[0-9a-f]{8}-(?:[0-9a-f]{8}-)?[0-9a-f]{32}\.npy(?:\.[0-9]+\.part)?")


def has_file_allowed_extension(filename: str, extensions) -> bool:
    """Whether `filename` ends (case-insensitively) with one of `extensions` (a str or a tuple of lowercase str)."""
    return filename.lower().endswith(extensions if isinstance(extensions, str) else tuple(extensions))


def is_image_file(filename: str) -> bool:
    """Whether `filename` has one of the IMG_EXTENSIONS."""
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory) -> tuple[list[str], dict[str, int]]:
    """(sorted class folder names, {name: index}) of the sub-folders of `directory`."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory, class_to_idx=None, extensions=None, is_valid_file=None,
                 allow_empty: bool = False) -> list[tuple[str, int]]:
    """[(path, class index)] of the valid files under each class folder, walked in sorted order, links followed.

    Exactly one of `extensions` and `is_valid_file` chooses the files. Only regular files (after links) are samples:
    a FIFO, socket or device named like an image, or a link to nothing, is skipped (opening a FIFO would block).
    A class folder without any raises FileNotFoundError unless `allow_empty`.
    """
    directory = os.path.expanduser(directory)
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if extensions is not None:
        def is_valid_file(path: str) -> bool:
            return has_file_allowed_extension(path, extensions)

    instances, available_classes = [], set()
    for target_class in sorted(class_to_idx):
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for root, _, names in sorted(_walk(target_dir)):
            for name in sorted(names):
                path = os.path.join(root, name)
                if is_valid_file(path) and _is_regular_file(path):
                    instances.append((path, class_to_idx[target_class]))
                    available_classes.add(target_class)

    empty_classes = set(class_to_idx) - available_classes
    if empty_classes and not allow_empty:
        message = f"Found no valid file for the classes {', '.join(sorted(empty_classes))}. "
        if extensions is not None:
            listed = extensions if isinstance(extensions, str) else ", ".join(extensions)
            message += f"Supported extensions are: {listed}"
        raise FileNotFoundError(message)
    return instances


def _is_regular_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False  # a link to nothing, or gone since the walk


def _walk(top: str):
    """os.walk(top, followlinks=True), but a folder that leads back to one of its own ancestors is an error.

    os.walk would follow such a symbolic link loop until the path grows too long, listing the files ~40 times.
    """
    ancestors = {top: (os.path.realpath(top),)}
    for root, folders, files in os.walk(top, followlinks=True):
        chain = ancestors.pop(root)
        for name in folders:
            path = os.path.join(root, name)
            real = os.path.realpath(path)
            if real in chain:
                raise OSError(errno.ELOOP, f"Symbolic link loop: {path} leads back to its ancestor {real}, so its "
                              f"files would be listed again and again; remove the link or point it elsewhere", path)
            ancestors[path] = chain + (real,)
        yield root, folders, files


def pil_loader(path) -> np.ndarray:
    """The image at `path` decoded with Pillow and converted to RGB: a read-only uint8 array (H, W, 3).

    torchvision's pil_loader returns the PIL image; this is that image as an array. A file Pillow cannot decode
    raises CorruptImageError naming it; a missing or unreadable file raises the OSError of `open`, as in torchvision.
    The pixel limit is Pillow's `PIL.Image.MAX_IMAGE_PIXELS` (89,478,485 by default; None for none): an image whose
    header declares more is a CorruptImageError before anything is decoded, where Pillow only warns up to twice the
    limit. Lower it to refuse a tiny file that declares a huge image (a 109-byte PNG can declare 10000x10000).
    """
    from PIL import Image  # Pillow only where it is used: tinytorch.data itself needs only NumPy

    with open(path, "rb") as handle:
        try:
            with warnings.catch_warnings():  # Pillow's DecompressionBombWarning: refused just below instead
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(handle)
            limit = Image.MAX_IMAGE_PIXELS
            if limit is not None and image.width * image.height > limit:
                raise Image.DecompressionBombError(
                    f"it declares {image.width}x{image.height} = {image.width * image.height} pixels, more than "
                    f"PIL.Image.MAX_IMAGE_PIXELS = {limit}; raise that limit if the image is genuine")
            return np.asarray(image.convert("RGB"))
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as error:  # Pillow's ways of
            limit = " (the pixel limit is PIL.Image.MAX_IMAGE_PIXELS)" * isinstance(error, Image.DecompressionBombError)
            raise CorruptImageError(  # saying "not a valid image", or one too large to decode safely
                f"{os.fspath(path)} is not a readable image ({type(error).__name__}: {error}){limit}. Replace or "
                f"delete the file, or leave it out with is_valid_file=") from error


default_loader = pil_loader  # torchvision's name; there is no accimage backend to choose here


class DatasetFolder(Dataset):
    """Samples `(loader(path), class index)` from a folder with one sub-folder per class: `root/<class>/.../<file>`.

    `classes` is the sorted list of class folders, `class_to_idx` maps each to its index, `samples` lists
    (path, class index) in order (sorted walk, links followed) and `targets` the class indices. Files are chosen by
    `extensions` (a tuple of lowercase suffixes) or by `is_valid_file(path)`, not both. A class folder with no file
    raises FileNotFoundError unless `allow_empty`. Override `find_classes` or `make_dataset` for other layouts.
    """

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None, is_valid_file=None,
                 allow_empty: bool = False):
        self.root = os.path.expanduser(root) if isinstance(root, str) else root
        self.transform, self.target_transform = transform, target_transform
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(self.root, class_to_idx=class_to_idx, extensions=extensions,
                                    is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.loader, self.extensions = loader, extensions
        self.classes, self.class_to_idx = classes, class_to_idx
        self.samples = samples
        self.targets = [target for _, target in samples]

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None,
                     allow_empty: bool = False) -> list[tuple[str, int]]:
        """[(path, class index)] of the folder's samples (the module-level `make_dataset`, overridable)."""
        if class_to_idx is None:  # the module function would use its own find_classes, not an overridden method
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions=extensions, is_valid_file=is_valid_file,
                            allow_empty=allow_empty)

    def find_classes(self, directory) -> tuple[list[str], dict[str, int]]:
        """(classes, class_to_idx) of `directory`: its sub-folders, sorted (the module-level `find_classes`)."""
        return find_classes(directory)

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        sample, target = self._untransformed(index)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def _untransformed(self, index):
        path, target = self.samples[index]
        return self.loader(path), target

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return vision_repr(self)


class ImageFolder(DatasetFolder):
    """Images in `root/<class>/.../<image>` with any of IMG_EXTENSIONS, as uint8 arrays (H, W, C), RGB by default.

    Everything of DatasetFolder (`classes`, `class_to_idx`, `samples`, `targets`), plus `imgs` (= `samples`).
    `transform` gets the decoded array (torchvision's gets a PIL image; the transforms here take arrays).

    `size` resizes each image as it is decoded with `Resize(size)`: Pillow's bilinear (antialiased) filter, as
    torchvision's Resize on a PIL image; an int matches the shorter side, (h, w) is exact.

    `cache=True` decodes every image once into a memory-mapped uint8 array `data` (N, H, W, C), so that the
    dataset has `get_batch(indices)` and the DataLoader fetches each batch with one indexing call and one batched
    transform call (not for a subclass that overrides `__getitem__`: the loader keeps calling it, and it reads the
    cache). All images must then share one size (pass `size=` otherwise). Without the cache each sample is
    decoded on every access, which is where `num_workers` pays. The cache is a constructor argument rather than a
    method so that whatever wraps the dataset (Subset, random_split, a DataLoader and its workers) sees one dataset
    that does not change under it.

    The cache file, `cache_path`, lives under the tinytorch cache root (`$TINYTORCH_DATA`, else
    `$XDG_CACHE_HOME/tinytorch`, else `~/.cache/tinytorch`), in `folders/<name>-<hash of the folder's absolute
    path>/`, never inside `root`, which may be read-only. Its name is `<settings>-<selection>-<state>.npy`:
    - settings: `size` and the loader, identified by its module, name and code (`cache_key`, a str, replaces the
      loader's identity: it is required for a loader that cannot be identified from one run to the next, such as a
      bound method, a lambda, a nested function, a partial or a callable object, and must change when it does);
    - selection: what chooses the files and classes (the extensions or `is_valid_file`, and the class's
      `find_classes` and `make_dataset`, identified as the loader is);
    - state: the listing (relative paths, classes, and each file's size, modification time, inode and change time,
      so an edit that keeps the size and the mtime, as `cp -p`, `rsync -t`, `tar x` or `touch -r` do, is seen).
    A new state replaces the cache of an earlier state of the same settings and selection, never another
    selection's (train and val over one tree keep their caches). The cache is decoded when the dataset is made, in
    this process, written sequentially to a temporary file renamed once complete (a full disk or quota is a
    DiskSpaceError with nothing left); a file edited, replaced or removed during the build is a FolderChangedError
    with nothing kept. The cache is checked when opened (dtype, shape, file size; a regular file of this user's, not a
    link or a FIFO or another user's file, as a shared cache root could hold): one that fails is rebuilt, never used.
    Only files named as caches are ever removed from the cache folder. Its pixels are not hashed: a cache file edited
    in place with its size kept is not detected.
    """

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader, is_valid_file=None,
                 allow_empty: bool = False, *, cache: bool = False, size=None, cache_key: str | None = None):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None, transform=transform,
                         target_transform=target_transform, is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
        self._resize = None if size is None else Resize(size)  # which checks `size`
        self.size = size if size is None or isinstance(size, numbers.Integral) else tuple(size)
        if not isinstance(cache, bool):
            raise TypeError(f"cache must be True or False, got {type(cache).__name__}: {cache!r}")
        if cache_key is not None and (not isinstance(cache_key, str) or not cache_key):
            raise TypeError(f"cache_key must be a non-empty str or None, got {type(cache_key).__name__}: "
                            f"{cache_key!r}")
        self.data, self.cache_path, self._target_array = None, None, None
        if cache:
            self.cache_path, listing = self._cache_path(is_valid_file, cache_key)
            self._serve_from(self._cached_images(listing))

    def _serve_from(self, images):
        self.data, self._target_array = images, np.asarray(self.targets, dtype=np.int64)

    __getitem__ = DatasetFolder.__getitem__  # the one-sample call that `get_batch` stands for (`has_batches`)
    get_batch_takes_randomness = True  # the loader hands `get_batch` the batch's randomness (fetch.fetcher)

    @property
    def get_batch(self):
        """`get_batch(indices, randomness=None)`: (transformed images, int64 targets) of `indices` from the cache, in
        one indexing call and one transform call (the loader's fast path), the random transforms drawing from
        `randomness` as in `ImageDataset.get_batch`. An AttributeError (so `hasattr` is False) without the cache, or
        for a subclass that makes its samples its own way (an overridden `__getitem__` that does not name
        `get_batch`, `arguments.fast_route_agrees`: the loader must call it)."""
        if self.data is None or not fast_route_agrees(self, "get_batch", "__getitem__", "__getitems__"):
            raise AttributeError(f"{type(self).__name__} has no get_batch: it needs cache=True and the class's own "
                                 f"__getitem__")
        return self._get_batch

    def _get_batch(self, indices, randomness: rng.SampleRandomness | None = None):
        indices = as_index_array(indices)
        return (apply_to_batch(self.transform, rows(self.data, indices), randomness),
                apply_to_batch(self.target_transform, self._target_array[indices], randomness))

    def _untransformed(self, index):
        if self.data is not None:
            index = check_index(index, len(self))
            return self.data[index], self.targets[index]
        path, target = self.samples[index]
        return self._decode(path), target

    def __getstate__(self):
        """Pickled (for spawned workers) without the cached images: the copy maps the same cache file again."""
        return {**self.__dict__, "data": None} if self.data is not None else self.__dict__

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self.cache_path is not None:
            if (images := self._cached_images()) is None:
                raise DatasetNotFoundError(
                    f"the cache {self.cache_path} of {self.root} is gone or changed since this dataset was made (was "
                    f"the folder changed, and cached again?): make the ImageFolder again")
            self._serve_from(images)

    def _decode(self, path):
        """The loader's image of `path`, resized to `size` if given."""
        image = self.loader(path)
        return image if self._resize is None else np.asarray(self._resize(image))

    def _cache_path(self, is_valid_file, cache_key):
        """(<cache root>/folders/<folder name>-<path hash>/<settings>-<selection>-<state>.npy (class docstring),
        the samples' identities (storage.cache.identity) the state was computed from)."""
        root = os.path.realpath(os.path.expanduser(self.root))
        loader = cache_key or callable_key(self.loader)
        if loader is None:
            raise ValueError(
                f"cache=True keys the cache by the loader, but loader={self.loader!r} cannot be identified from one "
                f"run to the next (a bound method, lambda, nested function, partial or callable object may decode "
                f"differently with the same name): pass cache_key='a name that changes whenever the loader does', "
                f"or a loader defined with def at the top of a module, or cache=False")
        state, base, listing = hashlib.sha256(), os.path.expanduser(self.root), [identity(path) for path, _ in self.samples]
        for (path, target), (size, mtime, inode, ctime) in zip(self.samples, listing):
            state.update(os.fsencode(os.path.relpath(path, base)) + f"\0{target}\0{size}\0{mtime}\0{inode}\0{ctime}\n"
                         .encode())
        rules = [repr(IMG_EXTENSIONS) if is_valid_file is None else callable_key(is_valid_file),
                 callable_key(type(self).find_classes), callable_key(type(self).make_dataset)]
        if None in rules:  # a rule that cannot be identified: the chosen files and classes stand for it
            rules.append(repr([(os.path.relpath(path, base), target) for path, target in self.samples]))
        settings, selection = _short_hash(repr((CACHE_VERSION, loader, self.size))), _short_hash(repr(rules))
        folder = f"{re.sub(r'[^A-Za-z0-9_.-]', '_', os.path.basename(root))[:40]}-" \
                 f"{hashlib.sha256(os.fsencode(root)).hexdigest()[:16]}"
        return default_root() / "folders" / folder / f"{settings}-{selection}-{state.hexdigest()[:32]}.npy", listing

    def _cached_images(self, listing=None):
        """The cache at `cache_path`, memory-mapped; if it is missing or damaged and `listing` (the samples'
        identities its name stands for) is given, decoded and written first; else None."""
        if not self.samples:  # nothing to decode (allow_empty=True and no file at all)
            return np.zeros((0,), np.uint8)
        if (images := _open_cache(self.cache_path, len(self))) is not None or listing is None:
            return images
        folder = make_folder(self.cache_path.parent)
        with lock(folder):
            ours = [name for name in os.listdir(folder) if CACHE_NAME.fullmatch(name)]
            if (images := _open_cache(self.cache_path, len(self))) is None:  # not built meanwhile
                for leftover in ours:  # working files of a killed build: none runs but ours
                    if leftover.endswith(".part"):
                        (folder / leftover).unlink(missing_ok=True)
                self._write_cache(listing)
                images = _open_cache(self.cache_path, len(self))
            settings_and_selection = self.cache_path.name.rsplit("-", 1)[0]
            for stale in ours:  # earlier states of this selection, and version 1's <settings>-<state>
                if stale.endswith(".npy") and stale != self.cache_path.name and (
                        stale.startswith(settings_and_selection + "-") or stale.count("-") == 1):
                    (folder / stale).unlink(missing_ok=True)
        return images

    def _write_cache(self, listing):
        """Decode every sample and write them one after another into a temporary .npy, renamed to `cache_path` once
        complete (atomic.replacing): sequential writes meet a full disk or quota as ENOSPC/EDQUOT, a DiskSpaceError,
        where a memory map of a sparse file would die of SIGBUS. A sample whose identity is no longer `listing`'s
        once all are decoded (edited, replaced or removed meanwhile) is a FolderChangedError, and nothing is kept:
        the cache's name would promise the old pixels."""
        from tqdm import tqdm  # only where it is used: tinytorch.data itself needs only NumPy

        first_path = self.samples[0][0]
        first = self._cacheable(first_path)
        shape = (len(self),) + first.shape
        check_space(self.cache_path.parent, len(self) * first.nbytes)
        with replacing(self.cache_path) as handle:  # never through a link planted at the temporary name
            np.lib.format.write_array_header_1_0(handle, {"descr": "|u1", "fortran_order": False, "shape": shape})
            handle.write(np.ascontiguousarray(first).data)
            for path, _ in tqdm(self.samples[1:], desc=f"Caching {self.root}", unit="image", disable=None,
                                leave=False):
                image = self._cacheable(path)
                if image.shape != first.shape:
                    raise ValueError(
                        f"cache=True keeps the images in one array, so they must share a size, but {first_path} "
                        f"decodes to shape {first.shape} (height, width[, channels]) and {path} to "
                        f"{image.shape}; pass size=(height, width) (or size=n for the shorter side) to resize "
                        f"them as they are cached, or cache=False")
                handle.write(np.ascontiguousarray(image).data)
            handle.flush()
            os.fsync(handle.fileno())  # the bytes are on disk (or the disk said it is full) before the rename
            for (path, _), seen in zip(self.samples, listing):
                if _identity_or_none(path) != seen:
                    raise FolderChangedError(
                        f"{path} changed (edited, replaced or removed) while {self.root} was being cached, so the "
                        f"cache was not kept; make the ImageFolder again once the folder is no longer being changed")

    def _cacheable(self, path) -> np.ndarray:
        image = np.asarray(self._decode(path))
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise TypeError(f"cache=True stores uint8 images (H, W) or (H, W, C), but the loader gave an array of "
                            f"shape {image.shape} and dtype {image.dtype} for {path}")
        return image


def callable_key(function) -> str | None:
    """What identifies `function` from one run to the next: its module, qualified name and code (so an edit is
    seen), or None when that does not pin down what it computes (a bound method, whose instance may differ; a
    lambda or nested function; a partial; a callable object)."""
    if isinstance(function, types.BuiltinFunctionType):
        return f"{function.__module__}.{function.__qualname__}"
    if not isinstance(function, types.FunctionType) or "<" in function.__qualname__:
        return None
    code = hashlib.sha256(marshal.dumps(function.__code__) + repr((function.__defaults__, function.__kwdefaults__))
                          .encode()).hexdigest()[:16]
    return f"{function.__module__}.{function.__qualname__}:{code}"


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _identity_or_none(path):
    try:
        return identity(path)
    except OSError:
        return None


def _open_cache(path, length: int):
    """The cache file memory-mapped read-only, or None if it is missing, not to be trusted (atomic.open_trusted:
    a FIFO, a link, another user's file) or does not fit (a damaged file)."""
    if (handle := open_trusted(path)) is None:
        return None
    with handle:
        try:
            if np.lib.format.read_magic(handle) != (1, 0):  # the version _write_cache writes
                return None
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(handle)
            offset = handle.tell()
            if fortran_order or dtype != np.uint8 or len(shape) not in (3, 4) or shape[0] != length \
                    or offset + math.prod(shape) != os.fstat(handle.fileno()).st_size:
                return None
            return np.memmap(handle, dtype=np.uint8, mode="r", offset=offset, shape=shape)
        except (OSError, ValueError, EOFError):
            return None

