"""The declared base of every downloaded dataset (MNIST, FashionMNIST, KMNIST, CIFAR10, CIFAR100).

Everything they share follows from class attributes and six hooks: torchvision's constructor and attributes
(`root`, `train`, `class_to_idx`, the repr), the mirrors (and `$TINYTORCH_<NAME>_MIRRORS`), verification (each
file hashed once, the digest remembered), the download under a folder lock, and one wording for every not-found and
checksum error. A family implements the hooks, each stubbed here with NotImplementedError: where its files live
(`folder`), which files a split needs (`split_files`), how to provide missing or refreshed ones (`provide`: from a
local archive, else from the mirrors), how to read a split (`load`), and what to tell a user who fetches files by
hand (`by_hand`, `source`).

Files this library writes from verified sources (CIFAR's `.npy` caches, KMNIST's extracted files, whose digests
are not published) get their md5 recorded when written (cache.record_written), so they are verified too.
"""
from __future__ import annotations

import functools
import os
import shlex
import types
from pathlib import Path

from .storage.cache import default_root, md5, record_written, written_digests
from .base import ImageDataset, vision_repr
from .storage.download import lock
from ..errors import ChecksumError, DatasetNotFoundError


class _ClassOrInstanceMethod:
    """A method that is a classmethod on the class and binds the instance's `root` on an instance, so both
    `MNIST.download(root)` and torchvision's `dataset.download()` work, with no attribute shadowing the method."""

    def __init__(self, function):
        self.function = function
        functools.update_wrapper(self, function)

    def __get__(self, instance, owner):
        if instance is None:
            return types.MethodType(self.function, owner)
        return functools.partial(self.function, owner, instance.root)


class DownloadedImages(ImageDataset):
    """An ImageDataset whose files live under `root` and can be fetched with `download=True`.

    `root` defaults to `$TINYTORCH_DATA`, else `$XDG_CACHE_HOME/tinytorch`, else `~/.cache/tinytorch`. Opening
    needs only the chosen split's files; each is checked against its md5 once (the result is remembered).
    """

    mirrors: list = []

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None, download: bool = False):
        if not isinstance(train, bool):
            raise TypeError(f"train must be a bool, got {type(train).__name__}: {train!r}")
        self.root = os.path.expanduser(root) if isinstance(root, str) else default_root(root)  # as torchvision keeps it
        self.train = train
        self._prepare(default_root(root), train, network=download)
        data, targets = self.load()
        super().__init__(data, targets, transform, target_transform)

    # --- the hooks a family implements ---------------------------------------------------------------------------

    @classmethod
    def folder(cls, root=None) -> Path:
        """The folder holding the files of `split_files` under `root` (default_root(root) when None)."""
        raise NotImplementedError(f"{cls.__name__} must say where its files live: define the classmethod folder")

    @classmethod
    def split_files(cls, train: bool | None) -> dict:
        """{file name in `folder`: md5, or None where none is published} of split `train` (every file when None)."""
        raise NotImplementedError(f"{cls.__name__} must list its files: define the classmethod split_files")

    @classmethod
    def provide(cls, root: Path, names: list, *, network: bool, quiet: bool, force: bool = False) -> None:
        """Put the files `names` in `folder(root)`, from what is already under `root` (an archive placed by hand)
        or, with `network`, from the mirrors. With `force`, fetch from the mirrors even what is there. Called under
        the folder's lock; whatever it writes must be whole and verified before it replaces a file (see
        storage.atomic); the caller checks the result."""
        raise NotImplementedError(f"{cls.__name__} must say how to fetch its files: define the classmethod provide")

    def load(self):
        """(data, targets) of this split, read from the verified files of `split_files(self.train)`."""
        raise NotImplementedError(f"{type(self).__name__} must read its files: define the method load")

    @classmethod
    def by_hand(cls, root: Path, missing: list) -> str:
        """Lines saying where to fetch the files `missing` by hand and where to put them."""
        raise NotImplementedError(f"{cls.__name__} must say how to fetch its files by hand: define by_hand")

    @classmethod
    def source(cls, root: Path) -> str:
        """What the files came from, for an error saying a download did not provide them."""
        raise NotImplementedError(f"{cls.__name__} must name where its files come from: define source")

    # --- what follows from the hooks --------------------------------------------------------------------------------

    @property
    def class_to_idx(self) -> dict:
        return {name: index for index, name in enumerate(self.classes)}

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"

    def __repr__(self) -> str:
        return vision_repr(self)

    @classmethod
    def cli_name(cls) -> str:
        return cls.__name__.lower()

    @classmethod
    def urls(cls, filename: str) -> list[str]:
        """The URLs of `filename` on each mirror, in the order they are tried: `$TINYTORCH_<NAME>_MIRRORS`
        (comma-separated base URLs) when set, else `mirrors`."""
        override = os.environ.get(f"TINYTORCH_{cls.__name__.upper()}_MIRRORS")
        mirrors = [m.strip() for m in override.split(",") if m.strip()] if override else cls.mirrors
        return [mirror.rstrip("/") + "/" + filename for mirror in mirrors]

    @classmethod
    def files(cls, root=None) -> dict:
        """{path: md5} of every file `verify` checks: the dataset's files (both splits) and those derived from them
        that are present (a missing cache is simply built again). The md5 is None for a file whose digest is neither
        published nor recorded."""
        folder, derived = cls.folder(root), written_digests(cls.folder(root))
        files = {folder / name: digest or derived.get(name) for name, digest in cls.split_files(None).items()}
        return files | {folder / name: digest for name, digest in derived.items() if (folder / name).is_file()}

    @_ClassOrInstanceMethod
    def download(cls, root=None, *, train: bool | None = None, force: bool = False, quiet: bool = False) -> None:
        """Make the files of split `train` (both when None) present and verified, fetching only what is missing
        or wrong. With `force`, fetch everything again: each file is replaced only once its fresh copy is verified
        (an identical one is left as it is), so a failed or wrong download deletes nothing. A derived file that
        fails its digest is removed (rebuilt later). On an instance (`dataset.download()`), `root` is its root."""
        cls._prepare(default_root(root), train, network=True, force=force, quiet=quiet)

    @classmethod
    def _prepare(cls, root: Path, train, *, network: bool, force: bool = False, quiet: bool = False) -> None:
        folder, expected = cls.folder(root), cls.split_files(train)
        stale = cls._stale(folder) if network else []  # opening checks its derived files itself (CIFAR's caches)
        if not force and not stale and cls._problems(folder, expected) == ([], {}):
            return  # the common case: verified files, nothing locked or written
        if not network and not folder.is_dir():
            raise cls._not_found(root, train, list(expected))
        with lock(folder):
            for name in stale:  # files this library derived whose bytes changed since: not verified, derived again
                (folder / name).unlink(missing_ok=True)
            record_written(folder, dict.fromkeys(stale))
            missing, bad = cls._problems(folder, expected)
            wanted = list(expected) if force else missing + list(bad) if network else \
                missing + [name for name, (_, want) in bad.items() if not want]
            if wanted:
                cls.provide(root, wanted, network=network, quiet=quiet, force=force)
            missing, bad = cls._problems(folder, expected)
        if missing:
            raise cls._not_found(root, train, missing, downloaded=network)
        if bad:
            raise cls._checksum_error(root, folder, bad, downloaded=network)

    @classmethod
    def _stale(cls, folder: Path) -> list:
        """The derived files of `folder` that are gone or whose bytes changed since they were written."""
        return [name for name, digest in written_digests(folder).items()
                if not (folder / name).is_file() or md5(folder / name) != digest]

    @classmethod
    def _problems(cls, folder: Path, expected: dict) -> tuple[list, dict]:
        """(names missing, {name: (actual md5, expected md5 or None)} of those present but not verified)."""
        missing, bad, derived = [], {}, written_digests(folder)
        for name, digest in expected.items():
            if not (folder / name).is_file():
                missing.append(name)
            elif (want := digest or derived.get(name)) is None or (actual := md5(folder / name)) != want:
                bad[name] = (None if want is None else actual, want)
        return missing, bad

    @classmethod
    def _hint(cls, root: Path, *, force: bool = False) -> str:
        return f"`python -m tinytorch.data download {cls.cli_name()}{' --force' if force else ''} " \
               f"--root={shlex.quote(str(root))}`"

    @classmethod
    def _not_found(cls, root: Path, train, missing: list, downloaded: bool = False) -> DatasetNotFoundError:
        folder, split = cls.folder(root), "" if train is None else f" ({'train' if train else 'test'})"
        if downloaded:
            return DatasetNotFoundError(
                f"{cls.__name__}{split}: the download was verified but did not provide {', '.join(missing)} in "
                f"{folder}: {cls.source(root)} is not {cls.__name__}'s, or has other files. Replace it with the "
                f"official one (or fix your mirror), or put the missing files in {folder} by hand")
        return DatasetNotFoundError(
            f"{cls.__name__}{split} is missing {', '.join(missing)} in {folder}. Either pass download=True (or run "
            f"{cls._hint(root)}), or fetch these by hand and put them where shown:\n{cls.by_hand(root, missing)}")

    @classmethod
    def _checksum_error(cls, root: Path, folder: Path, bad: dict, downloaded: bool) -> ChecksumError:
        lines = "\n".join(f"{folder / name} has md5 {actual}, expected {want}" if want else
                          f"{folder / name} cannot be verified: {cls.__name__} publishes no md5 for it; put the "
                          f"archive it comes from beside it, or pass download=True"
                          for name, (actual, want) in bad.items())
        advice = (f"the download was verified, so these were changed afterwards or by another process; run "
                  f"{cls._hint(root, force=True)} to fetch everything again") if downloaded else (
                  f"they are damaged or not the official files: pass download=True (or run "
                  f"{cls._hint(root, force=True)}) to replace them")
        return ChecksumError(f"{lines}\n{cls.__name__}: {advice}")

