"""Hostile input to the download, cache and format code: archives, pickles, caches, servers, roots and the CLI.

Every case ends in a clear DataError naming the file or URL and what to do (or in a success), with nothing corrupt
left behind and nothing written outside the root. Servers are the loopback server with injected faults; limits
(rates, sizes) are made small instead of waiting, and nothing asserts a duration.
"""
import errno
import os
import struct
import subprocess
import sys
import tarfile
import threading
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from formats import gzip_bytes, idx_bytes
from test_download import DATA, DIGEST, closed_port_url, file_member, serve, stderr_event, tar_of
from tinytorch.data.datasets.storage import atomic, cache, download, safe_pickle
from tinytorch.data.cli import main
from tinytorch.data.datasets.storage.download import download_file, extract_tar, gunzip, lock
from tinytorch.data.errors import (ChecksumError, CorruptFileError, DiskSpaceError, DownloadError, UnsafeArchiveError,
                                   UnusablePathError)
from tinytorch.data.datasets.storage.idx import read_idx

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.usefixtures("fast_retries")


def tree(folder):
    """Every path under `folder`, relative, as sorted strings (links are listed, not followed)."""
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*"))


# --- archives -------------------------------------------------------------------------------------------------------

def dir_member(name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    return info, None


@pytest.mark.parametrize("name", [".", "./", "sub/..", "a/b/../.."])
def test_a_file_member_in_place_of_the_folder_itself_is_refused_and_nothing_lands_beside_it(tmp_path, name):
    (tmp_path / "a.tgz").write_bytes(tar_of(file_member(name)))
    with pytest.raises(UnsafeArchiveError, match=f"a.tgz: member '{name}' is a file in place of .*out itself"):
        extract_tar(tmp_path / "a.tgz", tmp_path / "out")
    assert tree(tmp_path) == ["a.tgz"]  # no out.part beside the folder


@pytest.mark.parametrize("members", [
    [file_member("top/sub"), dir_member("top/sub")],
    [dir_member("top/sub"), file_member("top/sub")],
    [file_member("top/sub"), file_member("top/sub/x")],
    [file_member("top/sub/x"), file_member("top/sub")],
    [file_member("top/sub"), file_member("top/sub/../sub/y")]])
def test_members_that_are_both_a_file_and_a_folder_refuse_the_archive_before_writing(tmp_path, members):
    (tmp_path / "a.tgz").write_bytes(tar_of(file_member("top/first"), *members))
    with pytest.raises(UnsafeArchiveError, match="'top/sub' is both a file and a folder in the archive; refused"):
        extract_tar(tmp_path / "a.tgz", tmp_path / "out")
    assert tree(tmp_path) == ["a.tgz"]


def test_a_user_file_where_the_archive_has_a_folder_is_kept_and_named(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "top").write_bytes(b"mine")
    (tmp_path / "a.tgz").write_bytes(tar_of(file_member("top/x")))
    with pytest.raises(UnusablePathError, match=r"has a folder at .*out/top, where there is a file; move that file"):
        extract_tar(tmp_path / "a.tgz", tmp_path / "out")
    assert (tmp_path / "out" / "top").read_bytes() == b"mine" and tree(tmp_path) == ["a.tgz", "out", "out/top"]


def test_a_user_folder_where_the_archive_has_a_file_is_kept_and_no_part_is_left(tmp_path):
    (tmp_path / "out" / "top" / "x").mkdir(parents=True)
    (tmp_path / "a.tgz").write_bytes(tar_of(file_member("top/x")))
    with pytest.raises(UnusablePathError, match=r"cannot put the file at .*out/top/x"):
        extract_tar(tmp_path / "a.tgz", tmp_path / "out")
    assert tree(tmp_path / "out") == ["top", "top/x"]


def test_a_folder_the_user_linked_elsewhere_is_followed(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "top").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "a.tgz").write_bytes(tar_of(file_member("top/x", DATA)))
    extract_tar(tmp_path / "a.tgz", tmp_path / "out")
    assert (tmp_path / "elsewhere" / "x").read_bytes() == DATA


def test_a_link_planted_at_an_extraction_part_file_is_not_written_through(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (tmp_path / "out" / "top").mkdir(parents=True)
    (tmp_path / "out" / "top" / "x.part").symlink_to(victim)
    (tmp_path / "a.tgz").write_bytes(tar_of(file_member("top/x", DATA)))
    extract_tar(tmp_path / "a.tgz", tmp_path / "out")
    assert victim.read_bytes() == b"precious" and (tmp_path / "out" / "top" / "x").read_bytes() == DATA
    assert not os.path.lexists(tmp_path / "out" / "top" / "x.part")


names = st.lists(st.sampled_from(["a", "b", "..", ".", ""]), min_size=1, max_size=4).map("/".join)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(names, st.booleans()), min_size=1, max_size=4))
def test_any_mix_of_file_and_folder_members_is_extracted_whole_or_refused_whole(tmp_path_factory, members):
    """Either UnsafeArchiveError with nothing written, or every file holds its member's bytes; never a .part left,
    never a raw OSError, never a write beside the folder."""
    base = tmp_path_factory.mktemp("tar")
    (base / "a.tgz").write_bytes(tar_of(*[file_member(name, name.encode()) if is_file else dir_member(name)
                                          for name, is_file in members]))
    try:
        written = extract_tar(base / "a.tgz", base / "out")
    except UnsafeArchiveError:
        assert tree(base) == ["a.tgz"]
        return
    files = {os.path.normpath(name): name.encode() for name, is_file in members if is_file}  # the last one wins
    assert {p.relative_to(base / "out").as_posix(): p.read_bytes() for p in written if p.exists()} == files
    assert not any(path.endswith(".part") for path in tree(base)) and sorted(os.listdir(base)) == ["a.tgz", "out"]


@pytest.mark.parametrize("size", [0, 1, 3, 17])
def test_a_gzip_too_short_to_be_one_is_a_corrupt_file_error_naming_it(tmp_path, size):
    (tmp_path / "f.gz").write_bytes(gzip_bytes(DATA)[:size])
    with pytest.raises(CorruptFileError, match=rf"f.gz is not a valid gzip file \(it holds {size} bytes"):
        gunzip(tmp_path / "f.gz", tmp_path / "f")
    assert tree(tmp_path) == ["f.gz"]


def lying_trailer(data: bytes, claimed: int) -> bytes:
    """`data` gzipped, with the trailer's size field replaced by `claimed` (CRC left as is)."""
    return gzip_bytes(data)[:-4] + struct.pack("<I", claimed)


def test_a_gzip_bomb_whose_trailer_lies_stops_at_the_recorded_size(tmp_path):
    (tmp_path / "f.gz").write_bytes(lying_trailer(bytes(20 << 20), 1000))  # 20 MB of zeros, "1000 bytes"
    with pytest.raises(CorruptFileError, match="f.gz is not a valid gzip file .*more than 1000 bytes"):
        gunzip(tmp_path / "f.gz", tmp_path / "f")
    assert tree(tmp_path) == ["f.gz"]


def test_with_the_expected_size_a_trailer_that_disagrees_is_refused_before_decompressing(tmp_path):
    (tmp_path / "f.gz").write_bytes(lying_trailer(bytes(20 << 20), (1 << 32) - 1))
    with pytest.raises(CorruptFileError, match="f.gz .*trailer records 4294967295 bytes, expected 1000"):
        gunzip(tmp_path / "f.gz", tmp_path / "f", expected_size=1000)
    assert tree(tmp_path) == ["f.gz"]


def test_with_the_expected_size_a_stream_longer_than_it_stops_there(tmp_path):
    """The trailer's size is modulo 4 GiB: one that agrees with the expected size can still hide more data."""
    (tmp_path / "f.gz").write_bytes(lying_trailer(bytes(20 << 20), 1000))
    with pytest.raises(CorruptFileError, match="more than 1000 bytes"):
        gunzip(tmp_path / "f.gz", tmp_path / "f", expected_size=1000)
    assert tree(tmp_path) == ["f.gz"]
    (tmp_path / "g.gz").write_bytes(gzip_bytes(DATA))
    assert gunzip(tmp_path / "g.gz", tmp_path / "g", expected_size=len(DATA)).read_bytes() == DATA


# --- pickles --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stream", [
    b"\x80\x04\x8e" + struct.pack("<Q", 1 << 62) + b"abc.",  # BINBYTES8 declaring 4 EiB
    b"\x80\x02X" + struct.pack("<I", (1 << 32) - 1) + b"abc.",  # BINUNICODE declaring 4 GiB
    b"\x80\x02cnumpy\nndarray\n(\x8a\x08" + struct.pack("<q", 1 << 61) + b"\x85tR.",  # ndarray((2**61,))
    b"\x80\x02c__builtin__\nbytearray\n\x8a\x08" + struct.pack("<q", 1 << 62) + b"\x85R.",  # bytearray(2**62)
])
def test_huge_declared_lengths_in_a_pickle_are_corrupt_file_errors_naming_it(tmp_path, stream):
    (tmp_path / "batch.pkl").write_bytes(stream)
    with pytest.raises(CorruptFileError, match="batch.pkl is truncated or not a valid pickle"):
        safe_pickle.load(tmp_path / "batch.pkl")


# --- caches and formats ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("memo", ["[]", "null", '{"f": 5}', '{"f": [1, 2]}', '{"f": [1, 2, 3]}', "{", '"text"'])
def test_a_malformed_md5_memo_counts_as_absent_and_is_rewritten(tmp_path, memo):
    (tmp_path / "f").write_bytes(DATA)
    (tmp_path / cache.RECORD).write_text(memo)
    assert cache.known_md5(tmp_path / "f") is None
    assert cache.md5(tmp_path / "f") == DIGEST and cache.known_md5(tmp_path / "f") == DIGEST


def test_a_memo_that_cannot_be_written_is_skipped_silently(tmp_path, monkeypatch):
    """A read-only mount (EROFS) or folder: hashing and locking work and write nothing."""
    (tmp_path / "f").write_bytes(DATA)

    def read_only(path):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(atomic, "open_own_file", read_only)
    with lock(tmp_path):
        assert cache.md5(tmp_path / "f") == DIGEST
    assert tree(tmp_path) == ["f"]


@pytest.fixture
def read_only(tmp_path, monkeypatch):
    """A folder `ro` under tmp_path that reports itself read-only, as a read-only mount or folder does (the tests
    may run as root, who may write anywhere); returns it."""
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: (
        False if mode & os.W_OK and Path(path) == tmp_path / "ro" else real(path, mode, **kw)))
    (tmp_path / "ro").mkdir()
    return tmp_path / "ro"


def test_a_read_only_folder_is_said_to_be_so_before_any_request(loopback, read_only):
    with pytest.raises(UnusablePathError, match=f"{read_only} is read-only, so nothing can be downloaded"):
        download_file(serve(loopback, "/f"), read_only / "f", DIGEST, quiet=True)
    assert loopback.requests == [] and tree(read_only) == []


def test_a_verified_file_in_a_read_only_folder_needs_nothing_written(loopback, read_only, monkeypatch):
    (read_only / "f").write_bytes(DATA)
    monkeypatch.setattr(atomic, "open_own_file", lambda path: (_ for _ in ()).throw(OSError(errno.EROFS, "Read-only")))
    assert download_file(serve(loopback, "/f"), read_only / "f", DIGEST, quiet=True) == read_only / "f"
    assert loopback.requests == [] and tree(read_only) == ["f"]


def test_a_gzip_in_a_read_only_folder_is_not_called_corrupt(read_only):
    (read_only / "f.gz").write_bytes(gzip_bytes(DATA))
    with pytest.raises(UnusablePathError, match="is read-only"):
        gunzip(read_only / "f.gz", read_only / "f")
    assert tree(read_only) == ["f.gz"]


def test_a_part_file_that_cannot_be_written_stops_without_trying_other_mirrors(loopback, tmp_path, monkeypatch):
    def read_only_file_system(path):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(atomic, "open_own_file", read_only_file_system)
    urls = serve(loopback, "/m1/f", "/m2/f")
    with pytest.raises(UnusablePathError, match=r"cannot write .*f.part \(Read-only file system\)"):
        download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    assert loopback.hits("/m2/f") == [] and tree(tmp_path) == []


def test_a_link_planted_at_the_memos_temporary_file_is_not_written_through(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "f").write_bytes(DATA)
    planted = tmp_path / "data" / f"{cache.RECORD}.{os.getpid()}.part"  # the name atomic.replacing writes first
    planted.symlink_to(victim)
    assert cache.md5(tmp_path / "data" / "f") == DIGEST and cache.known_md5(tmp_path / "data" / "f") == DIGEST
    assert victim.read_bytes() == b"precious" and not planted.is_symlink()


def test_a_file_that_cannot_be_read_is_named_when_hashing(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").mkdir()
    with pytest.raises(UnusablePathError, match=r"cannot read .*train-images-idx3-ubyte \(Is a directory\)"):
        cache.md5(tmp_path / "train-images-idx3-ubyte")


def idx_header(code, dims):
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


@pytest.mark.parametrize("content, reason", [
    (idx_header(8, [65536] * 4), r"\(65536, 65536, 65536, 65536\) x 1 bytes = 18446744073709551616 bytes"),
    (idx_header(0x0E, [65536] * 4) + bytes(8), "147573952589676412928 bytes of data, the file holds 8"),
    (idx_header(8, [1] * 255) + b"x", "declares 255 dimensions, more than the 32"),
    (idx_header(8, [0] + [2**32 - 1] * 3), "non-zero dimensions multiply to more bytes than an array can hold"),
])
def test_idx_dimensions_that_overflow_or_are_too_many_are_corrupt_file_errors(tmp_path, content, reason):
    (tmp_path / "images-idx3-ubyte").write_bytes(content)
    with pytest.raises(CorruptFileError, match=f"images-idx3-ubyte is not a valid IDX file: .*{reason}"):
        read_idx(tmp_path / "images-idx3-ubyte")


def test_a_valid_idx_file_still_reads(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "x").write_bytes(idx_bytes(array))
    assert np.array_equal(read_idx(tmp_path / "x"), array)
    (tmp_path / "empty").write_bytes(idx_header(8, [0, 28, 28]))
    assert read_idx(tmp_path / "empty").shape == (0, 28, 28)


# --- roots ----------------------------------------------------------------------------------------------------------

def test_a_root_that_is_a_file_is_named_with_where_it_came_from(tmp_path, monkeypatch):
    (tmp_path / "file").write_bytes(b"")
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path / "file"))
    with pytest.raises(UnusablePathError, match=r"\$TINYTORCH_DATA is .*file, which is a file, not a folder"):
        cache.default_root()
    with pytest.raises(UnusablePathError, match=r"root is .*file, which is a file"):
        cache.default_root(tmp_path / "file")


@pytest.mark.parametrize("where", ["file/below", "/proc/tinytorch-cannot-be-here"])
def test_a_folder_that_cannot_be_created_is_an_error_naming_it_before_any_request(loopback, tmp_path, where):
    (tmp_path / "file").write_bytes(b"")
    folder = tmp_path / where
    with pytest.raises(UnusablePathError, match=f"cannot create the folder {folder} .*choose another root"):
        download_file(serve(loopback, "/f"), folder / "f", DIGEST, quiet=True)
    assert loopback.requests == []


# --- servers --------------------------------------------------------------------------------------------------------

def test_an_impossible_content_length_skips_that_mirror(loopback, tmp_path):
    urls = serve(loopback, "/m1/f", "/m2/f")
    loopback.faults["/m1/f"] = [("length", 10**15)]
    download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    assert (tmp_path / "f").read_bytes() == DATA and len(loopback.hits("/m2/f")) == 1


def test_when_every_mirror_announces_too_much_it_is_a_disk_space_error_listing_them(loopback, tmp_path):
    urls = serve(loopback, "/m1/f", "/m2/f")
    loopback.faults = {"/m1/f": [("length", 10**15)], "/m2/f": [("length", 10**15)]}
    with pytest.raises(DiskSpaceError, match="no source's file fits") as raised:
        download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    assert all(f"{url}: DiskSpaceError: 1000000000.0 MB are needed" in str(raised.value) for url in urls)
    assert tree(tmp_path) == []


def test_with_a_known_size_a_mirror_announcing_another_is_skipped(loopback, tmp_path):
    urls = serve(loopback, "/m1/f", "/m2/f")
    loopback.faults["/m1/f"] = [("length", len(DATA) + 1)]
    download_file(urls, tmp_path / "f", DIGEST, quiet=True, size=len(DATA))
    assert (tmp_path / "f").read_bytes() == DATA and [r.path for r in loopback.requests] == ["/m1/f", "/m2/f"]


def test_with_a_known_size_a_true_lack_of_space_stops_before_any_request_and_states_the_margin(
        loopback, tmp_path, monkeypatch):
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(download.shutil, "disk_usage", lambda folder: Usage(10**9, 10**9, 16 << 20))
    with pytest.raises(DiskSpaceError, match=r"0.1 MB are needed in .*, plus a 16.8 MB margin, but only 16.8 MB"):
        download_file(serve(loopback, "/m1/f", "/m2/f"), tmp_path / "f", DIGEST, quiet=True, size=len(DATA))
    assert loopback.requests == [] and tree(tmp_path) == []


class FullDisk:
    """A file whose writes fail as on a full disk."""

    def __init__(self, handle):
        self.handle = handle

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_every_writer_goes_through_the_one_atomic_helper_and_leaves_nothing_on_a_full_disk(fake_cifar, tmp_path,
                                                                                           monkeypatch):
    """The md5 record, CIFAR's NumPy cache and ImageFolder's cache all write through atomic.replacing: a full disk
    leaves no partial file (the record is skipped, CIFAR keeps its arrays in memory, ImageFolder says so)."""
    from PIL import Image
    from tinytorch.data import CIFAR10, ImageFolder

    CIFAR10.download(tmp_path / "data", quiet=True)
    (tmp_path / "photos" / "c").mkdir(parents=True)
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "photos" / "c" / "1.png")
    before = sorted(p.name for p in CIFAR10.folder(tmp_path / "data").iterdir())
    real = atomic.open_own_file
    monkeypatch.setattr(atomic, "open_own_file", lambda path: FullDisk(real(path)))
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path / "cache"))
    cache.remember(tmp_path / "photos" / "c" / "1.png", "0" * 32)  # best effort: skipped
    assert len(CIFAR10(tmp_path / "data", train=False)) == 6  # in memory
    with pytest.raises(DiskSpaceError, match="is full"):
        ImageFolder(tmp_path / "photos", cache=True)
    assert sorted(p.name for p in CIFAR10.folder(tmp_path / "data").iterdir()) == before
    assert [p.name for p in (tmp_path / "photos" / "c").iterdir()] == ["1.png"]
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.name != ".lock"]


def test_a_full_disk_without_content_length_stops_with_nothing_left(loopback, tmp_path, monkeypatch):
    real = atomic.open_own_file
    monkeypatch.setattr(atomic, "open_own_file", lambda path: FullDisk(real(path)))
    urls = serve(loopback, "/m1/f", "/m2/f")
    loopback.faults["/m1/f"] = [("length", None)]
    with pytest.raises(DiskSpaceError, match=r"disk holding .* is full \(or its quota is used up\): f from .*/m1/f "):
        download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    assert loopback.hits("/m2/f") == [] and tree(tmp_path) == []


def test_a_full_disk_while_decompressing_is_a_disk_space_error_with_nothing_left(tmp_path, monkeypatch):
    (tmp_path / "f.gz").write_bytes(gzip_bytes(DATA))
    real = atomic.open_own_file
    monkeypatch.setattr(atomic, "open_own_file", lambda path: FullDisk(real(path)))
    with pytest.raises(DiskSpaceError, match=r"is full \(or its quota is used up\): f did not fit"):
        gunzip(tmp_path / "f.gz", tmp_path / "f")
    assert tree(tmp_path) == ["f.gz"]


@pytest.mark.parametrize("length", [None, "abc", "-5", "\xb2"])
def test_a_missing_or_malformed_content_length_still_downloads(loopback, tmp_path, length):
    urls = serve(loopback, "/f")
    loopback.faults["/f"] = [("length", length)]
    download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    assert (tmp_path / "f").read_bytes() == DATA


def test_a_garbage_part_file_with_a_single_source_is_discarded_and_fetched_afresh(loopback, tmp_path):
    (tmp_path / "f.part").write_bytes(b"garbage!" * 625)
    download_file(serve(loopback, "/f"), tmp_path / "f", DIGEST, quiet=True)
    assert [r.range for r in loopback.requests] == ["bytes=5000-", None]
    assert tree(tmp_path) == [cache.RECORD, "f"] and (tmp_path / "f").read_bytes() == DATA


def test_wrong_bytes_fetched_afresh_are_still_a_checksum_error(loopback, tmp_path):
    (tmp_path / "f.part").write_bytes(b"garbage!" * 625)
    urls = serve(loopback, "/f")
    loopback.faults["/f"] = [("wrong", b"junk" * 2000), ("wrong", b"junk" * 2000)]
    with pytest.raises(ChecksumError, match="every source delivered wrong bytes"):
        download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    assert tree(tmp_path) == [] and len(loopback.requests) == 2


@pytest.mark.parametrize("target", ["ftp://127.0.0.1:1/f", "file:///etc/passwd", "gopher://127.0.0.1/f"])
def test_a_redirect_to_another_scheme_is_refused_clearly(loopback, tmp_path, target):
    urls = serve(loopback, "/m1/f")
    loopback.faults["/m1/f"] = [("redirect", target)]
    with pytest.raises(DownloadError) as raised:
        download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    message = str(raised.value)
    assert "no network" not in message and "every source failed" in message
    assert f"{urls[0]}: HTTP 302 redirect to {target} refused: only http:// and https:// redirects" in message
    assert tree(tmp_path) == []


def test_after_a_refused_redirect_the_next_mirror_is_used(loopback, tmp_path):
    urls = serve(loopback, "/m1/f", "/m2/f")
    loopback.faults["/m1/f"] = [("redirect", "ftp://127.0.0.1:1/f")]
    download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    assert (tmp_path / "f").read_bytes() == DATA


def test_an_endless_trickle_is_abandoned_for_the_next_mirror(loopback, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "MIN_RATE", 1000)
    monkeypatch.setattr(download, "RATE_WINDOW", 0.2)
    urls = serve(loopback, "/m1/f", "/m2/f")
    loopback.faults["/m1/f"] = [("trickle", 0.02)]
    download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    assert (tmp_path / "f").read_bytes() == DATA and len(loopback.hits("/m1/f")) == 1


def test_an_endless_trickle_on_the_only_mirror_is_a_download_error_naming_the_rate(loopback, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "MIN_RATE", 1000)
    monkeypatch.setattr(download, "RATE_WINDOW", 0.2)
    urls = serve(loopback, "/f")
    loopback.faults["/f"] = [("trickle", 0.02)]
    with pytest.raises(DownloadError, match=r"/f: TooSlowError: \d+ bytes in .* slower than the minimum 1000 bytes/s"):
        download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    assert not (tmp_path / "f").exists()


def test_a_process_waiting_for_the_lock_is_told_who_holds_it(tmp_path, monkeypatch):
    entered, waiting = threading.Event(), stderr_event(monkeypatch, f"({tmp_path / '.lock'})\n")

    def second():
        with lock(tmp_path):
            entered.set()

    with lock(tmp_path):
        assert f"process {os.getpid()} since " in (tmp_path / ".lock").read_text()
        thread = threading.Thread(target=second)
        thread.start()
        assert waiting.wait(60) and not entered.is_set()
    thread.join(60)
    assert entered.is_set()
    assert f"waiting for {tmp_path}, locked by process {os.getpid()} since " in sys.stderr.getvalue()


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_a_link_planted_at_the_part_file_is_not_written_through(loopback, tmp_path, kind):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (tmp_path / "root").mkdir()
    part = tmp_path / "root" / "f.part"
    part.symlink_to(victim) if kind == "symlink" else os.link(victim, part)
    download_file(serve(loopback, "/f"), tmp_path / "root" / "f", DIGEST, quiet=True)
    assert victim.read_bytes() == b"precious" and (tmp_path / "root" / "f").read_bytes() == DATA
    assert loopback.requests[0].range is None  # the linked bytes were not taken as a download to resume


@pytest.mark.parametrize("exists", [True, False])
def test_a_link_planted_at_the_lock_file_is_not_followed(tmp_path, exists):
    victim = tmp_path / "victim"
    if exists:
        victim.write_bytes(b"precious")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / ".lock").symlink_to(victim)
    with lock(tmp_path / "root"):
        pass
    assert (victim.read_bytes() == b"precious") if exists else not victim.exists()


# --- command line ---------------------------------------------------------------------------------------------------

def run_cli(*args, env=None, **kwargs):
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "tinytorch.data", *args], capture_output=True, text=True,
                          cwd=REPO, env=environment, timeout=60, **kwargs)


@pytest.mark.parametrize("root", ["/proc/tinytorch-x", "file"])
def test_a_cli_download_into_an_unusable_root_is_one_line_and_a_non_zero_exit(tmp_path, root):
    (tmp_path / "file").write_bytes(b"")
    result = run_cli("download", "mnist", "--root", str(tmp_path / root), "--quiet",
                     env={"TINYTORCH_MNIST_MIRRORS": closed_port_url().removesuffix("f")})
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert str(tmp_path / root) in result.stderr


def test_a_cli_preview_to_an_unwritable_place_is_one_line(fake_mnist, tmp_path, capsys):
    assert main(["download", "mnist", "--root", str(tmp_path), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["preview", "mnist", "--root", str(tmp_path), "--out", "/nonexistent/g.png"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1 and "/nonexistent/g.png" in captured.err


def test_a_cli_whose_reader_goes_away_exits_without_a_traceback(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head` that has already quit
    try:
        result = subprocess.run([sys.executable, "-m", "tinytorch.data", "list"], stdout=write_end,
                                stderr=subprocess.PIPE, text=True, cwd=REPO, timeout=60,
                                env={**os.environ, "PYTHONPATH": str(REPO), "TINYTORCH_DATA": str(tmp_path)})
    finally:
        os.close(write_end)
    assert result.stderr == "" and result.returncode != 0


# --- students: NumPy only -------------------------------------------------------------------------------------------

BLOCK_TQDM_AND_PILLOW = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tqdm", "PIL"):
            raise ImportError(f"{name} is not installed (blocked by the test)")
sys.meta_path.insert(0, Block())
"""


def test_the_shipped_data_and_the_loader_need_only_numpy():
    script = BLOCK_TQDM_AND_PILLOW + """
from tinytorch.data import DataLoader, TinyDigits
from datasets.tinydigits import load_tinydigits
images, labels = next(iter(DataLoader(TinyDigits(), batch_size=64, shuffle=True, generator=0)))
print(images.shape, images.dtype, labels.shape, load_tinydigits()[0].shape)
try:
    import tqdm
except ImportError:
    print("tqdm blocked")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["(64, 8, 8) float32 (64,) (1000, 8, 8)", "tqdm blocked"]


def test_downloads_work_without_tqdm(loopback, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `import tqdm` now raises ImportError
    download_file(serve(loopback, "/f"), tmp_path / "f", DIGEST)
    assert (tmp_path / "f").read_bytes() == DATA

