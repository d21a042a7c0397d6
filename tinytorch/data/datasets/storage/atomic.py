"""Files written whole or not at all: a working file beside the target, renamed over it once complete.

Every file the data layer writes (downloads, extracted members, md5 records, NumPy and image caches) goes through
here, so a killed process, a full disk or a failed check never leaves a partial file under the final name. Working
files are never opened through a link planted at their name, so no write lands outside the root.
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from ...errors import DiskSpaceError, UnusablePathError

FULL_DISK = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))  # errnos of a full disk or an exhausted quota


def open_own_file(path):
    """`path` opened for reading and writing ('r+b'), created if missing, never through a link.

    For the data layer's own working files (`.part`, `.lock`, temporaries): a symbolic or hard link planted at the
    name is removed, never what it points to, and a fresh file made.
    """
    for _ in range(3):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except IsADirectoryError:
            raise UnusablePathError(f"{path} is a folder, but the data layer needs it as a working file; move it "
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


def open_trusted(path):
    """`path` opened for reading ('rb') if it is a regular file owned by this user and not a link, else None.

    For what the data layer trusts without checking (md5 records, decoded caches): a FIFO planted at the name is
    never waited on, a link is not followed, and a file another user could have written in a shared folder (whose
    name anyone can compute) is ignored, so it cannot vouch for bytes it never saw.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != getattr(os, "geteuid", lambda: info.st_uid)():
        os.close(fd)
        return None
    return os.fdopen(fd, "rb")


def disk_full(path, what: str) -> DiskSpaceError:
    """The DiskSpaceError for `what` not fitting beside `path` (its partial file already removed)."""
    return DiskSpaceError(f"the disk holding {Path(path).parent} is full (or its quota is used up): {what} did not "
                          f"fit and its partial file was removed; free some space or choose another root (the root "
                          f"argument or $TINYTORCH_DATA)")


def install(part, path) -> None:
    """Rename the finished working file `part` over `path`; UnusablePathError (and no `part` left) when `path` is
    taken by a folder or cannot be written."""
    try:
        os.replace(part, path)
    except OSError as exc:
        Path(part).unlink(missing_ok=True)
        raise UnusablePathError(f"cannot put the file at {path} ({exc.strerror}); move away what is there and try "
                                f"again") from None


@contextlib.contextmanager
def replacing(path, part=None):
    """Write `path` whole or not at all: yields an empty working file (`part`, default `<path>.<pid>.part`) opened
    'r+b'; when the block ends normally it is renamed over `path`, on any exception removed. A full disk or quota
    is a DiskSpaceError; a folder that cannot be written (read-only, not ours) an UnusablePathError. A block that
    decides to keep `path` as it is deletes the working file and returns."""
    path = Path(path)
    part = Path(part) if part is not None else path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        try:
            working = open_own_file(part)
        except OSError as exc:
            if exc.errno in FULL_DISK:
                raise
            raise UnusablePathError(f"cannot write {path} ({exc.strerror}): its folder cannot be written; choose a "
                                    f"root you can write to (the root argument, --root or $TINYTORCH_DATA)") from None
        with working as handle:
            handle.truncate()
            yield handle
        if part.exists():
            install(part, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            part.unlink()
        if isinstance(exc, OSError) and exc.errno in FULL_DISK:
            raise disk_full(part, path.name) from None
        raise
