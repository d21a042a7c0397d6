"""Where downloaded datasets are cached, and which cached files are known good.

A file's md5 is computed once and remembered in `.tinytorch-md5.json` beside it, keyed by size and modification
time, so reopening a dataset does not re-hash hundreds of megabytes while a replaced or edited file is re-hashed.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
from pathlib import Path

from ...errors import UnusablePathError

MEMO = ".tinytorch-md5.json"


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
    if path.exists() and not path.is_dir():
        raise UnusablePathError(f"{source} is {path}, which is a file, not a folder: point it at a folder (the root "
                                f"argument, --root or $TINYTORCH_DATA)")
    return path


def make_folder(folder) -> Path:
    """Create `folder` (and its parents) if needed; UnusablePathError saying why when it cannot be."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UnusablePathError(f"cannot create the folder {folder} ({exc.strerror or exc}): choose another root (the "
                                f"root argument, --root or $TINYTORCH_DATA)") from None
    return folder


def open_own_file(path):
    """`path` opened for reading and writing ('r+b'), created if missing, never through a link.

    For the data layer's own working files (`.part`, `.lock`, the memo's temporary): a symbolic or hard link planted
    at the name is removed, never what it points to, and a fresh file made, so no write lands outside the root.
    """
    for _ in range(3):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except IsADirectoryError:
            raise UnusablePathError(f"{path} is a folder, but the download needs it as a working file; move it "
                                    f"away and try again") from None
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            os.unlink(path)  # a symbolic link: remove the link itself
            continue
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
            return os.fdopen(fd, "r+b")
        os.close(fd)
        os.unlink(path)  # a hard link or a special file: remove this name of it
    raise UnusablePathError(f"{path} keeps being replaced by a link; something else is writing in this folder")


def read_record(path) -> dict:
    """The JSON object in the file at `path`; a missing, unreadable or malformed file counts as empty."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def write_record(path, record: dict) -> None:
    """Replace the file at `path` by the JSON object `record`, atomically; best effort (a read-only folder or mount
    is fine: these records only save work)."""
    path = Path(path)
    temporary = path.parent / f"{path.name}.{os.getpid()}"
    try:
        with open_own_file(temporary) as handle:
            handle.truncate()
            handle.write(json.dumps(record, indent=0).encode())
        os.replace(temporary, path)
    except (OSError, UnusablePathError):
        with contextlib.suppress(OSError):
            temporary.unlink()


def _memo(folder: Path) -> dict:
    """The folder's memo {name: [size, mtime_ns, md5]}."""
    return read_record(folder / MEMO)


def _key(path: Path) -> list:
    info = path.stat()
    return [info.st_size, info.st_mtime_ns]


def remember(path, digest: str) -> None:
    """Record that `path`, as it is now on disk, has md5 `digest` (best effort: a read-only folder is fine)."""
    path = Path(path)
    memo = _memo(path.parent)
    memo[path.name] = _key(path) + [digest]
    write_record(path.parent / MEMO, memo)


def known_md5(path) -> str | None:
    """The remembered md5 of `path` if it is unchanged since it was hashed, else None (nothing is read)."""
    path = Path(path)
    record = _memo(path.parent).get(path.name)
    valid = isinstance(record, list) and len(record) == 3 and isinstance(record[2], str)
    return record[2] if valid and record[:2] == _key(path) else None


def md5(path, *, rehash: bool = False) -> str:
    """The md5 hex digest of the file at `path`: remembered when unchanged, computed (and remembered) otherwise."""
    digest = None if rehash else known_md5(path)
    if digest is None:
        hasher = new_md5()
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    hasher.update(chunk)
        except OSError as exc:
            raise UnusablePathError(f"cannot read {path} ({exc.strerror}): check that it is a file you may read, or "
                                    f"move it away and download it again") from None
        digest = hasher.hexdigest()
        remember(path, digest)
    return digest


def new_md5():
    """An md5 hasher for integrity checks (allowed on FIPS systems, where md5 for security is not)."""
    return hashlib.md5(usedforsecurity=False)
