"""Where downloaded datasets are cached, and which cached files are known good.

A file's md5 is computed once and remembered in `.tinytorch-md5.json` beside it, keyed by size and modification
time, so reopening a dataset does not re-hash hundreds of megabytes while a replaced or edited file is re-hashed.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

MEMO = ".tinytorch-md5.json"


def default_root(root=None) -> Path:
    """`root` if given, else `$TINYTORCH_DATA`, else `$XDG_CACHE_HOME/tinytorch`, else `~/.cache/tinytorch`."""
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"root must be a path (str or os.PathLike) or None, got {type(root).__name__}: {root!r}")
        return Path(root).expanduser()
    if os.environ.get("TINYTORCH_DATA"):
        return Path(os.environ["TINYTORCH_DATA"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "tinytorch"


def _memo(folder: Path) -> dict:
    try:
        return json.loads((folder / MEMO).read_text())
    except (OSError, ValueError):
        return {}


def _key(path: Path) -> list:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def remember(path, digest: str) -> None:
    """Record that `path`, as it is now on disk, has md5 `digest` (best effort: a read-only folder is fine)."""
    path = Path(path)
    memo = _memo(path.parent)
    memo[path.name] = _key(path) + [digest]
    temporary = path.parent / f"{MEMO}.{os.getpid()}"
    try:
        temporary.write_text(json.dumps(memo, indent=0))
        os.replace(temporary, path.parent / MEMO)
    except OSError:
        temporary.unlink(missing_ok=True)


def known_md5(path) -> str | None:
    """The remembered md5 of `path` if it is unchanged since it was hashed, else None (nothing is read)."""
    path = Path(path)
    record = _memo(path.parent).get(path.name)
    return record[2] if record and record[:2] == _key(path) else None


def md5(path, *, rehash: bool = False) -> str:
    """The md5 hex digest of the file at `path`: remembered when unchanged, computed (and remembered) otherwise."""
    digest = None if rehash else known_md5(path)
    if digest is None:
        hasher = new_md5()
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                hasher.update(chunk)
        digest = hasher.hexdigest()
        remember(path, digest)
    return digest


def new_md5():
    """An md5 hasher for integrity checks (allowed on FIPS systems, where md5 for security is not)."""
    return hashlib.md5(usedforsecurity=False)


def check_files(folder, expected: dict, *, rehash: bool = False) -> tuple[list, dict]:
    """Which of `expected` ({file name: md5}) in `folder` are missing, and which differ ({name: actual md5})."""
    folder = Path(folder)
    missing = [name for name in expected if not (folder / name).is_file()]
    bad = {name: actual for name, md5_ in expected.items() if name not in missing
           and (actual := md5(folder / name, rehash=rehash)) != md5_}
    return missing, bad
