"""The one downloader behind every dataset: mirrors, retries, resume, integrity, locking and safe extraction.

A file is streamed into `<name>.part` beside its final path, checked against its md5, then renamed into place, so
a killed download never leaves a corrupt file under the final name; the next attempt resumes the `.part` file
with an HTTP Range request. Transient failures (timeouts, dropped connections, 5xx) are retried with backoff on
the same mirror, anything else moves on to the next mirror. Stdlib urllib only.
"""
from __future__ import annotations

import contextlib
import gzip
import http.client
import os
import shutil
import struct
import tarfile
import time
import zlib
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from tqdm import tqdm

from . import cache
from .errors import ChecksumError, CorruptFileError, DiskSpaceError, DownloadError, UnsafeArchiveError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no cross-process lock, the atomic renames still keep files whole
    fcntl = None

USER_AGENT = "tinytorch-data/0.1 (Python urllib; educational dataset downloader)"
CHUNK = 1 << 16
TIMEOUT = 30.0  # seconds without a byte before an attempt counts as failed
RETRIES = 3  # further attempts per URL after a transient failure, waiting BACKOFF * 2**attempt seconds first
BACKOFF = 1.0


@contextlib.contextmanager
def lock(folder):
    """Hold an exclusive cross-process lock on `folder` (created if needed), so concurrent callers download once."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / ".lock", "a+b")
    except OSError:  # a read-only folder: nobody can write there, so there is nothing to guard
        handle = None
    try:
        if handle is not None and fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        if handle is not None:
            handle.close()  # releases the lock


def check_space(folder, needed: int | None) -> None:
    """Raise DiskSpaceError if `folder` has less than `needed` bytes free (plus a small margin)."""
    free = shutil.disk_usage(folder).free
    if needed and free < needed + (16 << 20):
        raise DiskSpaceError(f"{needed / 1e6:.1f} MB are needed in {folder} but only {free / 1e6:.1f} MB are free; "
                             f"free some space or choose another root (the root argument or $TINYTORCH_DATA)")


def download_file(urls, path, md5: str, *, quiet: bool = False, accept=None) -> Path:
    """Fetch `path` from the first of `urls` that delivers bytes with digest `md5`; return `path`.

    An existing file with the right digest is kept without any network access. `accept(part)`, when given, may
    still accept delivered bytes whose md5 differs (a gzip whose extracted bytes are the official ones). Raises
    ChecksumError when every URL delivered wrong bytes, DownloadError (listing each URL and its failure) when any
    failed otherwise.
    """
    path = Path(path)
    if path.is_file() and cache.md5(path) == md5:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    failures = []
    for url in urls:
        try:
            actual = _fetch(url, part, quiet)
        except (OSError, http.client.HTTPException) as exc:
            failures.append((url, exc))
            continue
        if actual == md5 or (accept is not None and accept(part)):
            os.replace(part, path)
            cache.remember(path, actual)
            return path
        part.unlink()
        failures.append((url, ChecksumError(f"md5 {actual}, expected {md5}")))
    lines = "\n".join(f"  {url}: {_describe(exc)}" for url, exc in failures)
    if failures and all(isinstance(exc, ChecksumError) for _, exc in failures):
        raise ChecksumError(f"{path.name}: every source delivered wrong bytes (nothing was kept):\n{lines}")
    offline = failures and all(isinstance(exc, URLError) and not isinstance(exc, HTTPError)
                               and not isinstance(exc.reason, TimeoutError) for _, exc in failures)
    cause = "no network connection (no source could be reached)" if offline else "every source failed"
    raise DownloadError(f"could not download {path.name}: {cause}:\n{lines}\n"
                        f"Fetch it by hand from one of these URLs and put it at {path}") from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, HTTPError):
        return exc.code >= 500 or exc.code in (408, 416, 429)
    if isinstance(exc, URLError):
        exc = exc.reason
    return isinstance(exc, (TimeoutError, ConnectionResetError, ConnectionAbortedError, http.client.IncompleteRead))


def _fetch(url, part: Path, quiet: bool) -> str:
    """Stream `url` into `part`, retrying transient failures with exponential backoff; return the file's md5."""
    for attempt in range(RETRIES + 1):
        try:
            return _stream(url, part, quiet)
        except (OSError, http.client.HTTPException) as exc:
            if attempt == RETRIES or not _transient(exc):
                raise
            if isinstance(exc, HTTPError) and exc.code == 416:  # the .part is not a prefix the server can continue
                part.unlink(missing_ok=True)
        time.sleep(BACKOFF * 2 ** attempt)


def _stream(url, part: Path, quiet: bool) -> str:
    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT, **({"Range": f"bytes={have}-"} if have else {})}
    with urlopen(Request(url, headers=headers), timeout=TIMEOUT) as response:
        resumed = have and response.status == 206 and response.headers.get("Content-Range", "").startswith(
            f"bytes {have}-")
        have = have if resumed else 0
        length = response.headers.get("Content-Length")
        remaining = int(length) if length else None
        check_space(part.parent, remaining)
        digest = cache.new_md5()
        with open(part, "r+b" if resumed else "wb") as out:
            while have and (chunk := out.read(CHUNK)):  # the bytes kept from the interrupted attempt
                digest.update(chunk)
            bar = tqdm(total=None if remaining is None else have + remaining, initial=have, unit="B", unit_scale=True,
                       unit_divisor=1024, desc=part.name[:-5], disable=True if quiet else None, leave=False)
            with bar:
                written = 0
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                    bar.update(len(chunk))
        if remaining is not None and written != remaining:
            raise http.client.IncompleteRead(b"", remaining - written)
    return digest.hexdigest()


def _copy(source, destination: Path) -> None:
    """Stream `source` (a binary file) into `destination` through a `.part` file and an atomic rename, remembering
    its md5 so the extracted file is never hashed again."""
    part = destination.with_name(destination.name + ".part")
    digest = cache.new_md5()
    with open(part, "wb") as out:
        while chunk := source.read(1 << 20):
            out.write(chunk)
            digest.update(chunk)
    os.replace(part, destination)
    cache.remember(destination, digest.hexdigest())


def gunzip(archive, destination) -> Path:
    """Decompress the gzip file `archive` into `destination`, atomically."""
    archive, destination = Path(archive), Path(destination)
    with open(archive, "rb") as handle:
        handle.seek(-4, os.SEEK_END)
        check_space(destination.parent, struct.unpack("<I", handle.read(4))[0])
    try:
        with gzip.open(archive, "rb") as source:
            _copy(source, destination)
    except (OSError, EOFError, zlib.error) as exc:
        destination.with_name(destination.name + ".part").unlink(missing_ok=True)
        raise CorruptFileError(f"{archive} is not a valid gzip file ({exc}); delete it and download it again") from exc
    return destination


def extract_tar(archive, folder) -> list[Path]:
    """Extract the regular files and folders of tar archive `archive` under `folder`; return the files written.

    Every member is checked first: one that is a link or a device, or whose path leads outside `folder`, refuses
    the whole archive (UnsafeArchiveError) before anything is written.
    """
    archive, folder = Path(archive), Path(folder).resolve()
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            for member in members:
                target = (folder / member.name).resolve()
                if not (member.isfile() or member.isdir()):
                    raise UnsafeArchiveError(f"{archive}: member {member.name!r} is a link or a device; refused")
                if folder not in target.parents and target != folder:
                    raise UnsafeArchiveError(f"{archive}: member {member.name!r} would land outside {folder}; refused")
            folder.mkdir(parents=True, exist_ok=True)
            check_space(folder, sum(member.size for member in members))
            written = []
            for member in members:
                target = folder / member.name
                (target if member.isdir() else target.parent).mkdir(parents=True, exist_ok=True)
                if member.isfile():
                    _copy(tar.extractfile(member), target)
                    written.append(target)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise CorruptFileError(f"{archive} is not a valid tar archive ({exc}); delete it and download it again") from exc
    return written
