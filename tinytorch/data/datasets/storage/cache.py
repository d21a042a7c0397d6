"""Where downloaded datasets are cached, and which cached files are known good.

Each dataset folder keeps one record, `.tinytorch-md5.json`: per file name, its md5 as last hashed with the file's
identity then (size, modification time, inode, change time), so reopening a dataset does not re-hash hundreds of
megabytes while a replaced or edited file is re-hashed (`cp -p`, `touch -r` keep the mtime but not the inode or
change time); and, for files this library derived from verified sources (CIFAR's `.npy` caches, KMNIST's extracted
files), the md5 they had when written, so they are verified too. Records of older versions
(`.tinytorch-derived.json`) are still read, and folded into the one record when it is next written.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .atomic import open_trusted, replacing
from ...errors import DiskSpaceError, UnusablePathError

RECORD = ".tinytorch-md5.json"
OLD_DERIVED_RECORD = ".tinytorch-derived.json"  # written by versions before the record was one file
RECORD_LIMIT = 16 << 20  # bytes: a record is ~200 bytes a file, so a larger one is not ours and is ignored


def default_root(root=None) -> Path:
    """`root` if given, else `$TINYTORCH_DATA`, else `$XDG_CACHE_HOME/tinytorch`, else `~/.cache/tinytorch`."""
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"root must be a path (str or os.PathLike) or None, got {type(root).__name__}: {root!r}")
        path, source = Path(root).expanduser(), "root"
    elif os.environ.get("TINYTORCH_DATA"):
        path, source = Path(os.environ["TINYTORCH_DATA"]).expanduser(), "$TINYTORCH_DATA"
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        path, source = Path(cache).expanduser() / "tinytorch", "the default root"
    if (problem := _not_a_folder(path)) is not None:
        raise UnusablePathError(f"{source} is {path}, {problem}: point it at a folder (the root argument, --root or "
                                f"$TINYTORCH_DATA)")
    return path


def _not_a_folder(path: Path) -> str | None:
    """Why `path` can be neither a folder nor made one (a file, a FIFO, a link to nothing, under a file), or None."""
    if path.is_dir():
        return None
    if path.exists():
        return "which is a file, not a folder" if path.is_file() else "which is not a folder (a FIFO, socket or device)"
    if path.is_symlink():
        return f"which is a link to {os.readlink(path)}, which does not exist"
    existing = next((parent for parent in path.parents if parent.exists()), None)
    if existing is not None and not existing.is_dir():
        return f"which cannot be a folder: {existing} is a file"
    return None


def make_folder(folder) -> Path:
    """Create `folder` (and its parents) if needed; UnusablePathError saying why when it cannot be."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UnusablePathError(f"cannot create the folder {folder} ({exc.strerror or exc}): choose another root (the "
                                f"root argument, --root or $TINYTORCH_DATA)") from None
    return folder


def read_record(path) -> dict:
    """The JSON object in the file at `path`; a missing, unreadable, malformed (too large, too deeply nested) or
    untrusted file (atomic.open_trusted: a FIFO, a link, another user's) counts as empty."""
    handle = open_trusted(path)
    if handle is None:
        return {}
    try:
        with handle:
            text = handle.read(RECORD_LIMIT + 1)
        record = json.loads(text) if len(text) <= RECORD_LIMIT else None
    except (OSError, ValueError, RecursionError):
        return {}
    return record if isinstance(record, dict) else {}


def write_record(path, record: dict) -> None:
    """Replace the file at `path` by the JSON object `record`, atomically; best effort (a read-only folder or mount
    is fine, as is a full disk: these records only save work)."""
    try:
        with replacing(path) as handle:
            handle.write(json.dumps(record, indent=0).encode())
    except (OSError, UnusablePathError, DiskSpaceError):
        pass


def identity(path) -> list:
    """What changes whenever the file at `path` (or an os.stat_result) is replaced or edited: size, mtime, inode
    and change time (ns)."""
    info = path if isinstance(path, os.stat_result) else os.stat(path)
    return [info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns]


def _entries(folder: Path) -> dict:
    """The folder's record {name: {"seen": [*identity, md5], "written": md5}}, entries of other shapes dropped."""
    return {name: entry for name, entry in read_record(folder / RECORD).items() if isinstance(entry, dict)}


def _update(folder: Path, changes: dict) -> None:
    """Merge {name: {field: value or None (drop)}} into the folder's record, folding in an older derived record."""
    entries, old = _entries(folder), folder / OLD_DERIVED_RECORD
    for name, digest in read_record(old).items():
        if isinstance(digest, str):
            entries.setdefault(name, {}).setdefault("written", digest)
    for name, fields in changes.items():
        entry = {**entries.get(name, {}), **fields}
        entries[name] = {field: value for field, value in entry.items() if value is not None}
    write_record(folder / RECORD, {name: entry for name, entry in entries.items() if entry})
    if old.exists() and (folder / RECORD).exists():
        old.unlink(missing_ok=True)


def written_digests(folder) -> dict:
    """{file name: md5 recorded when the library wrote it} for `folder` ({} when absent or unreadable)."""
    folder = Path(folder)
    old = {name: digest for name, digest in read_record(folder / OLD_DERIVED_RECORD).items() if isinstance(digest, str)}
    return old | {name: entry["written"] for name, entry in _entries(folder).items()
                  if isinstance(entry.get("written"), str)}


def record_written(folder, changes: dict) -> None:
    """Record (name: md5) or forget (name: None) files the library derived in `folder`; best effort on a read-only
    folder."""
    _update(Path(folder), {name: {"written": digest} for name, digest in changes.items()})


def remember(path, digest: str, seen=None) -> None:
    """Record that `path`, as it is now on disk (or as `seen`, its identity when hashed), has md5 `digest` (best
    effort: a read-only folder is fine). Nothing is recorded if the file changed since it was `seen`."""
    path = Path(path)
    if seen is None or seen == identity(path):
        _update(path.parent, {path.name: {"seen": identity(path) + [digest]}})


def known_md5(path) -> str | None:
    """The remembered md5 of `path` if it is unchanged since it was hashed, else None (nothing is read)."""
    path = Path(path)
    seen = _entries(path.parent).get(path.name, {}).get("seen")
    valid = isinstance(seen, list) and len(seen) == 5 and isinstance(seen[4], str)
    return seen[4] if valid and seen[:4] == identity(path) else None


def md5(path, *, rehash: bool = False) -> str:
    """The md5 hex digest of the file at `path`: remembered when unchanged, computed otherwise, and then remembered
    only if the file did not change while it was read (a file still being written is hashed again next time)."""
    digest = None if rehash else known_md5(path)
    if digest is None:
        hasher = new_md5()
        try:
            with open(path, "rb") as handle:
                seen = identity(os.fstat(handle.fileno()))
                while chunk := handle.read(1 << 20):
                    hasher.update(chunk)
        except OSError as exc:
            raise UnusablePathError(f"cannot read {path} ({exc.strerror}): check that it is a file you may read, or "
                                    f"move it away and download it again") from None
        digest = hasher.hexdigest()
        remember(path, digest, seen)
    return digest


def new_md5():
    """An md5 hasher for integrity checks (allowed on FIPS systems, where md5 for security is not)."""
    return hashlib.md5(usedforsecurity=False)
