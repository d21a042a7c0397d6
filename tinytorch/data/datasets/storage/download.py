"""The one downloader behind every dataset: mirrors, retries, resume, integrity, locking and safe extraction.

A file is streamed into `<name>.part` beside its final path, checked against its md5, then renamed into place, so
a killed download never leaves a corrupt file under the final name; the next attempt resumes the `.part` file
with an HTTP Range request. Transient failures (timeouts, dropped connections, 5xx) are retried with backoff on
the same mirror, anything else moves on to the next mirror. Working files are never opened through a link, redirects
go only to http(s), a source slower than MIN_RATE is abandoned, and running out of disk space stops everything with
nothing partial left. Stdlib urllib only; tqdm draws a progress bar when it is installed.
"""
from __future__ import annotations

import contextlib
import gzip
import http.client
import os
import posixpath
import shutil
import stat
import struct
import sys
import tarfile
import time
import zlib
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin, urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

from . import atomic, cache
from .atomic import FULL_DISK, disk_full, install, replacing
from ...errors import (ChecksumError, CorruptFileError, DataError, DiskSpaceError, DownloadError, TooSlowError,
                       UnsafeArchiveError, UnusablePathError)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no cross-process lock, the atomic renames still keep files whole
    fcntl = None

USER_AGENT = "tinytorch-data/0.1 (Python urllib; educational dataset downloader)"
CHUNK = 1 << 16
TIMEOUT = 30.0  # seconds without a byte before an attempt counts as failed
RETRIES = 3  # further attempts per URL after a transient failure, waiting BACKOFF * 2**attempt seconds first
BACKOFF = 1.0
MIN_RATE = 1024  # bytes/s: a source averaging less over RATE_WINDOW seconds (an endless trickle) is abandoned
RATE_WINDOW = 60.0
SPACE_MARGIN = 16 << 20  # bytes left free beyond the file itself, so the disk is not filled to the last byte


class _Refused(Exception):
    """A source announced a file that cannot be this one (wrong size, larger than the free space): skip it."""

    def __init__(self, error: DataError):
        super().__init__(str(error))
        self.error = error


class _HttpOnlyRedirects(HTTPRedirectHandler):
    def http_error_302(self, request, fp, code, msg, headers):
        target = urljoin(request.full_url, headers.get("Location") or headers.get("URI") or "")
        if urlsplit(target).scheme not in ("http", "https"):
            raise HTTPError(request.full_url, code, f"redirect to {target} refused: only http:// and https:// "
                                                    f"redirects are followed", headers, fp)
        return super().http_error_302(request, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


_OPENER = build_opener(_HttpOnlyRedirects)


def lock_holder(handle) -> str:
    """Who holds the lock, as its holder wrote it in the lock file ("process N since ..."). A holder writes that just
    after it takes the lock, so an empty file is read again for up to 0.2 s before the answer is "another process"."""
    for _ in range(20):
        handle.seek(0)
        holder = handle.read(200).decode(errors="replace").strip()
        if holder:
            return holder
        time.sleep(0.01)
    return "another process"


@contextlib.contextmanager
def lock(folder):
    """Hold an exclusive cross-process lock on `folder` (created if needed), so concurrent callers download once.

    A process that has to wait says on stderr which process holds the lock and since when. The lock file is never
    opened through a link; a folder that cannot be written (a read-only classroom copy) needs no lock. A folder in
    place of the lock file is an UnusablePathError: going on unlocked would let two downloads share one `.part`.
    """
    folder = Path(folder)
    try:
        handle = atomic.open_own_file(cache.make_folder(folder) / ".lock")
    except OSError:  # a read-only folder: nobody can write there, so there is nothing to guard
        handle = None
    try:
        if handle is not None and fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = lock_holder(handle)
                print(f"tinytorch.data: waiting for {folder}, locked by {holder} ({folder / '.lock'})", file=sys.stderr)
                fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            handle.truncate()
            with contextlib.suppress(OSError):  # who holds it is a courtesy: a full disk must not stop the work
                os.write(handle.fileno(), f"process {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S %Z')}"
                         .encode())  # unbuffered: nothing left to fail when the handle is closed
        yield
    finally:
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.truncate(0)
            handle.close()  # releases the lock


def check_space(folder, needed: int | None) -> None:
    """Raise DiskSpaceError if `folder` has less than `needed` bytes free plus SPACE_MARGIN (16 MB)."""
    free = shutil.disk_usage(folder).free
    if needed and free < needed + SPACE_MARGIN:
        raise DiskSpaceError(f"{needed / 1e6:.1f} MB are needed in {folder}, plus a {SPACE_MARGIN / 1e6:.1f} MB "
                             f"margin, but only {free / 1e6:.1f} MB are free; free some space or choose another root "
                             f"(the root argument or $TINYTORCH_DATA)")


def download_file(urls, path, md5: str, *, quiet: bool = False, accept=None, size: int | None = None,
                  force: bool = False) -> Path:
    """Fetch `path` from the first of `urls` that delivers bytes with digest `md5`; return `path`.

    An existing file with the right digest is kept without any network access, unless `force`: then it is fetched
    again into `<name>.part`, and only a verified copy replaces it (an identical one leaves it untouched).
    `accept(part)`, when given, may still accept delivered bytes whose md5 differs (a gzip whose extracted bytes are
    the official ones). `size`, the
    file's size in bytes when known, lets a source announcing another size be skipped (unless `accept` is given) and
    a true lack of disk space be told before anything is fetched. A `.part` kept from an earlier attempt that fails
    the check is discarded and the file fetched once afresh. Raises ChecksumError when every URL delivered wrong
    bytes, DiskSpaceError when the disk is (or every source says it would be) too full, DownloadError (listing each
    URL and its failure) when any failed otherwise.
    """
    path = Path(path)
    if not force and path.is_file() and cache.md5(path) == md5:
        return path
    _check_writable(cache.make_folder(path.parent))
    part = path.with_name(path.name + ".part")
    if size is not None:
        check_space(path.parent, size - _kept_size(part))
    failures = []
    for url in urls:
        try:
            kept = _kept_size(part)
            actual = _fetch(url, part, quiet, None if accept else size)
            good = actual == md5 or (accept is not None and accept(part))
            if kept and not good:  # the bytes kept from an earlier attempt may be what is wrong: start afresh
                part.unlink()
                actual = _fetch(url, part, quiet, None if accept else size)
                good = actual == md5 or (accept is not None and accept(part))
        except _Refused as refused:
            failures.append((url, refused.error))
            continue
        except (OSError, http.client.HTTPException) as exc:
            failures.append((url, exc))
            continue
        if good:
            _keep_or_install(part, path, actual)
            return path
        part.unlink()
        failures.append((url, ChecksumError(f"md5 {actual}, expected {md5}")))
    lines = "\n".join(f"  {url}: {_describe(exc)}" for url, exc in failures)
    if failures and all(isinstance(exc, ChecksumError) for _, exc in failures):
        raise ChecksumError(f"{path.name}: every source delivered wrong bytes (nothing was kept):\n{lines}")
    if failures and all(isinstance(exc, DiskSpaceError) for _, exc in failures):
        raise DiskSpaceError(f"{path.name}: no source's file fits in {path.parent} (nothing was fetched):\n{lines}")
    offline = failures and all(isinstance(exc, URLError) and not isinstance(exc, HTTPError)
                               and not isinstance(exc.reason, TimeoutError) for _, exc in failures)
    cause = "no network connection (no source could be reached)" if offline else "every source failed"
    raise DownloadError(f"could not download {path.name}: {cause}:\n{lines}\n"
                        f"Fetch it by hand from one of these URLs and put it at {path}") from None


def _check_writable(folder: Path) -> None:
    """UnusablePathError when `folder` cannot be written (a read-only mount or folder), before any byte is fetched."""
    if not os.access(folder, os.W_OK):
        raise UnusablePathError(f"{folder} is read-only, so nothing can be downloaded or extracted there: choose a "
                                f"root you can write to (the root argument, --root or $TINYTORCH_DATA), or place the "
                                f"finished files there by hand")


def _keep_or_install(part: Path, path: Path, digest: str) -> None:
    """Put the verified `part` (md5 `digest`) at `path`, unless `path` already holds those bytes: then `part` is
    dropped and `path` left as it is (a file the user linked in is never rewritten for nothing)."""
    if path.is_file() and cache.md5(path) == digest:
        part.unlink()
    else:
        install(part, path)
        cache.remember(path, digest)


def _kept_size(part: Path) -> int:
    """Bytes in `part` to resume from: 0 if it is missing or not a plain file of its own (a planted link)."""
    try:
        info = part.lstat()
    except FileNotFoundError:
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) and info.st_nlink == 1 else 0


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


def _fetch(url, part: Path, quiet: bool, size: int | None) -> str:
    """Stream `url` into `part`, retrying transient failures with exponential backoff; return the file's md5."""
    for attempt in range(RETRIES + 1):
        try:
            return _stream(url, part, quiet, size)
        except (OSError, http.client.HTTPException) as exc:
            if attempt == RETRIES or not _transient(exc):
                raise
            if isinstance(exc, HTTPError) and exc.code == 416:  # the .part is not a prefix the server can continue
                part.unlink(missing_ok=True)
        time.sleep(BACKOFF * 2 ** attempt)


def _stream(url, part: Path, quiet: bool, size: int | None) -> str:
    have = _kept_size(part)
    headers = {"User-Agent": USER_AGENT, **({"Range": f"bytes={have}-"} if have else {})}
    with _OPENER.open(Request(url, headers=headers), timeout=TIMEOUT) as response:
        resumed = have and response.status == 206 and response.headers.get("Content-Range", "").startswith(
            f"bytes {have}-")
        have = have if resumed else 0
        length = (response.headers.get("Content-Length") or "").strip()
        remaining = int(length) if length.isascii() and length.isdigit() else None
        if remaining is not None:
            if size is not None and have + remaining != size:
                raise _Refused(ChecksumError(f"announces {have + remaining} bytes, expected {size}"))
            try:
                check_space(part.parent, remaining)
            except DiskSpaceError as exc:
                if size is None:  # an announced size nothing confirms: maybe this source is wrong, try the next
                    raise _Refused(exc) from None
                raise
        try:
            with _open_part(part) as out:
                digest = _receive(response, out, have, remaining, part.name[:-5], quiet)
        except OSError as exc:
            if exc.errno not in FULL_DISK:
                raise
            part.unlink(missing_ok=True)
            raise disk_full(part, f"{part.name[:-5]} from {url}") from None
    return digest


def _open_part(part: Path):
    """The working file `part`, opened by atomic.open_own_file; UnusablePathError if its folder cannot be written."""
    try:
        return atomic.open_own_file(part)
    except OSError as exc:
        if exc.errno in FULL_DISK:
            raise
        raise UnusablePathError(f"cannot write {part} ({exc.strerror}): choose a root you can write to (the root "
                                f"argument, --root or $TINYTORCH_DATA), or place the finished files there by hand") from None


def _receive(response, out, have: int, remaining: int | None, name: str, quiet: bool) -> str:
    """Append the body of `response` to `out` after its first `have` bytes; return the md5 of the whole file."""
    out.truncate(have)
    digest = cache.new_md5()
    while have and (chunk := out.read(CHUNK)):  # the bytes kept from the interrupted attempt
        digest.update(chunk)
    bar = _progress_bar(None if remaining is None else have + remaining, have, name, quiet)
    written, window_start, window_bytes = 0, time.monotonic(), 0
    try:
        while chunk := response.read1(CHUNK):
            out.write(chunk)
            digest.update(chunk)
            written += len(chunk)
            window_bytes += len(chunk)
            if bar is not None:
                bar.update(len(chunk))
            if (elapsed := time.monotonic() - window_start) >= RATE_WINDOW:
                if window_bytes < MIN_RATE * elapsed:
                    raise TooSlowError(f"{window_bytes} bytes in {elapsed:.1f} s, slower than the minimum "
                                       f"{MIN_RATE} bytes/s (tinytorch.data.datasets.storage.download.MIN_RATE)")
                window_start, window_bytes = time.monotonic(), 0
    finally:
        if bar is not None:
            bar.close()
    if remaining is not None and written != remaining:
        raise http.client.IncompleteRead(b"", remaining - written)
    return digest.hexdigest()


def _progress_bar(total, initial: int, name: str, quiet: bool):
    """A tqdm progress bar (shown on a terminal only), or None when quiet or tqdm is not installed."""
    if quiet:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, desc=name, leave=False,
                disable=None)


def _copy(source, destination: Path, limit: int | None = None, md5: str | None = None) -> bool:
    """Stream `source` (a binary file) into `destination`, whole or not at all (atomic.replacing), remembering its
    md5 so the extracted file is never hashed again. More than `limit` bytes is a ValueError; bytes whose md5 is not
    `md5` (when given) a ChecksumError, with `destination` untouched; a full disk a DiskSpaceError. A destination
    already holding the same bytes is left as it is. Return whether `destination` changed."""
    digest, written, part = cache.new_md5(), 0, destination.with_name(destination.name + ".part")
    with replacing(destination, part) as out:
        while chunk := source.read(CHUNK if limit is None else min(CHUNK, limit - written + 1)):
            written += len(chunk)
            if limit is not None and written > limit:
                raise ValueError(f"it expands to more than {limit} bytes, the size it should have")
            out.write(chunk)
            digest.update(chunk)
        if md5 is not None and digest.hexdigest() != md5:
            raise ChecksumError(f"{destination.name}: the extracted bytes have md5 {digest.hexdigest()}, expected "
                                f"{md5}; nothing was kept")
        if destination.is_file() and cache.md5(destination) == digest.hexdigest():
            part.unlink()  # the same bytes are there already: replacing() leaves `destination` as it is
            return False
    cache.remember(destination, digest.hexdigest())
    return True


def gunzip(archive, destination, *, expected_size: int | None = None, md5: str | None = None) -> Path:
    """Decompress the gzip file `archive` into `destination`, atomically; return `destination`.

    With `md5`, the decompressed bytes must have that digest before they replace `destination` (else ChecksumError,
    and `destination` is untouched), so a verified file is only ever replaced by a verified one.

    Decompression stops as soon as the output exceeds `expected_size` (the decompressed size in bytes, when the
    caller knows it) or else the size recorded in the gzip trailer, so a small file whose trailer lies cannot fill
    the disk (a gzip bomb). The trailer records the size modulo 4 GiB: larger files need `expected_size`.
    Raises CorruptFileError naming `archive` for a damaged, truncated or oversized stream (nothing is left behind).
    """
    archive, destination = Path(archive), Path(destination)
    try:
        with open(archive, "rb") as handle:
            if (length := handle.seek(0, os.SEEK_END)) < 18:
                raise EOFError(f"it holds {length} bytes, fewer than any gzip file")
            handle.seek(-4, os.SEEK_END)
            recorded = struct.unpack("<I", handle.read(4))[0]
        if expected_size is not None and recorded != expected_size % (1 << 32):
            raise ValueError(f"its trailer records {recorded} bytes, expected {expected_size}")
        limit = recorded if expected_size is None else expected_size
        _check_writable(destination.parent)
        check_space(destination.parent, limit)
        with gzip.open(archive, "rb") as source:
            _copy(source, destination, limit, md5)
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        raise CorruptFileError(f"{archive} is not a valid gzip file ({exc}); delete it and download it again") from exc
    return destination


def extract_tar(archive, folder) -> list[Path]:
    """Extract the regular files and folders of tar archive `archive` under `folder`; return the files written (a
    file already holding a member's bytes is left as it is, and not listed).

    Every member is checked first, by its name alone: one that is a link or a device, whose path leads outside
    `folder` (or is `folder` itself, for a file), or that is both a file and a folder of another member refuses the
    whole archive (UnsafeArchiveError) before anything is written. Folders the user linked elsewhere are followed.
    """
    archive, folder = Path(archive), Path(folder)
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            places = [_place(archive, folder, member) for member in members]
            files = {place for member, place in zip(members, places) if member.isfile()}
            folders = {parent for place in places for parent in place.parents} | {
                place for member, place in zip(members, places) if member.isdir()}
            if clash := sorted(files & folders):
                raise UnsafeArchiveError(f"{archive}: {clash[0].as_posix()!r} is both a file and a folder in the "
                                         f"archive; refused")
            _check_writable(cache.make_folder(folder))
            check_space(folder, sum(member.size for member in members))
            written = []
            for member, place in zip(members, places):
                target = folder / place
                _make_folders(archive, target if member.isdir() else target.parent)
                if member.isfile() and _copy(tar.extractfile(member), target):
                    written.append(target)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise CorruptFileError(f"{archive} is not a valid tar archive ({exc}); delete it and download it again") from exc
    return written


def _place(archive: Path, folder: Path, member: tarfile.TarInfo) -> Path:
    """Where `member` goes, relative to the extraction folder (`.` for the folder itself); refuses unsafe members."""
    if not (member.isfile() or member.isdir()):
        raise UnsafeArchiveError(f"{archive}: member {member.name!r} is a link or a device; refused")
    name = posixpath.normpath(member.name)
    if name.startswith("/") or name == ".." or name.startswith("../"):
        raise UnsafeArchiveError(f"{archive}: member {member.name!r} would land outside {folder}; refused")
    if member.isfile() and name == ".":
        raise UnsafeArchiveError(f"{archive}: member {member.name!r} is a file in place of {folder} itself; refused")
    return Path(name)


def _make_folders(archive: Path, folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UnusablePathError(f"{archive} has a folder at {folder}, where there is a file; move that file away and "
                                f"try again") from None
