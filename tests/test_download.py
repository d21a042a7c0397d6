"""The downloader against a loopback server: mirrors, retries, resume, integrity, locking and safe extraction."""
import gzip
import hashlib
import io
import os
import socket
import sys
import tarfile
import threading
from collections import namedtuple

import pytest
from hypothesis import given, settings, strategies as st

from formats import md5
from tinytorch.data.datasets.storage import cache, download
from tinytorch.data.datasets.storage.download import download_file, extract_tar, gunzip, lock
from tinytorch.data.errors import (ChecksumError, CorruptFileError, DataError, DiskSpaceError, DownloadError,
                                   UnsafeArchiveError)

DATA = bytes(range(256)) * 400  # 102400 bytes, several chunks
DIGEST = md5(DATA)

pytestmark = pytest.mark.usefixtures("fast_retries")


def serve(loopback, *paths):
    for path in paths:
        loopback.files[path] = DATA
    return [loopback.url + path for path in paths]


def test_download_lands_atomically_with_user_agent_and_remembered_digest(loopback, tmp_path):
    target = download_file(serve(loopback, "/a/file.bin"), tmp_path / "file.bin", DIGEST, quiet=True)
    assert target.read_bytes() == DATA
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tinytorch-md5.json", "file.bin"]
    assert loopback.requests[0].user_agent == download.USER_AGENT
    assert cache.known_md5(target) == DIGEST


def test_a_verified_file_is_kept_without_any_request(loopback, tmp_path):
    (tmp_path / "file.bin").write_bytes(DATA)
    download_file(serve(loopback, "/a/file.bin"), tmp_path / "file.bin", DIGEST)
    assert loopback.requests == []


def test_a_damaged_file_is_downloaded_again(loopback, tmp_path):
    (tmp_path / "file.bin").write_bytes(DATA[:-1] + b"!")
    download_file(serve(loopback, "/a/file.bin"), tmp_path / "file.bin", DIGEST, quiet=True)
    assert (tmp_path / "file.bin").read_bytes() == DATA and len(loopback.requests) == 1


@pytest.mark.parametrize("status, attempts", [(404, 1), (403, 1), (503, 1 + 2), (500, 1 + 2)])
def test_a_failing_first_mirror_is_retried_only_if_transient_then_left(loopback, tmp_path, status, attempts):
    urls = serve(loopback, "/m1/f", "/m2/f")
    loopback.faults["/m1/f"] = [status] * 10
    download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    assert (tmp_path / "f").read_bytes() == DATA
    assert len(loopback.hits("/m1/f")) == attempts and len(loopback.hits("/m2/f")) == 1


def test_a_transient_failure_is_retried_on_the_same_mirror(loopback, tmp_path):
    urls = serve(loopback, "/m1/f", "/m2/f")
    loopback.faults["/m1/f"] = [503]
    download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    assert [r.status for r in loopback.hits("/m1/f")] == [503, 200] and loopback.hits("/m2/f") == []


def test_a_dropped_connection_resumes_with_a_range_request_for_only_the_rest(loopback, tmp_path):
    urls = serve(loopback, "/f")
    loopback.faults["/f"] = [("drop", 30000)]
    download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    first, second = loopback.requests
    assert (first.range, first.body_bytes) == (None, 30000)
    assert (second.range, second.status, second.body_bytes) == ("bytes=30000-", 206, len(DATA) - 30000)
    assert (tmp_path / "f").read_bytes() == DATA


def test_a_part_file_left_by_a_killed_download_is_resumed(loopback, tmp_path):
    (tmp_path / "f.part").write_bytes(DATA[:5000])
    download_file(serve(loopback, "/f"), tmp_path / "f", DIGEST, quiet=True)
    assert [(r.range, r.body_bytes) for r in loopback.requests] == [("bytes=5000-", len(DATA) - 5000)]
    assert (tmp_path / "f").read_bytes() == DATA and not (tmp_path / "f.part").exists()


def test_a_part_file_the_server_cannot_continue_is_restarted(loopback, tmp_path):
    (tmp_path / "f.part").write_bytes(DATA + b"extra")  # longer than the file: 416
    download_file(serve(loopback, "/f"), tmp_path / "f", DIGEST, quiet=True)
    assert [r.status for r in loopback.requests] == [416, 200] and (tmp_path / "f").read_bytes() == DATA


def test_a_damaged_part_file_is_discarded_and_the_same_mirror_fetches_afresh(loopback, tmp_path):
    (tmp_path / "f.part").write_bytes(b"x" * 5000)
    download_file(serve(loopback, "/m1/f", "/m2/f"), tmp_path / "f", DIGEST, quiet=True)
    assert [(r.path, r.range) for r in loopback.requests] == [("/m1/f", "bytes=5000-"), ("/m1/f", None)]
    assert (tmp_path / "f").read_bytes() == DATA


def test_wrong_bytes_everywhere_raise_checksum_error_and_leave_nothing(loopback, tmp_path):
    urls = serve(loopback, "/m1/f", "/m2/f")
    wrong = b"not the file" * 100
    loopback.faults = {"/m1/f": [("wrong", wrong)], "/m2/f": [("wrong", wrong)]}
    with pytest.raises(ChecksumError) as raised:
        download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    message = str(raised.value)
    assert DIGEST in message and md5(wrong) in message and urls[0] in message and urls[1] in message
    assert list(tmp_path.iterdir()) == []


def test_wrong_bytes_on_one_mirror_fall_back_to_the_next(loopback, tmp_path):
    urls = serve(loopback, "/m1/f", "/m2/f")
    loopback.faults["/m1/f"] = [("wrong", b"junk")]
    download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    assert (tmp_path / "f").read_bytes() == DATA


def test_a_response_slower_than_the_timeout_is_retried(loopback, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "TIMEOUT", 1.0)
    urls = serve(loopback, "/f")
    loopback.faults["/f"] = [("hold_until_retry", None)]  # no answer at all until the client has given up
    download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    assert [r.range for r in loopback.requests] == [None, None] and (tmp_path / "f").read_bytes() == DATA


def test_a_body_that_stalls_past_the_timeout_is_resumed(loopback, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "TIMEOUT", 1.0)
    urls = serve(loopback, "/f")
    loopback.faults["/f"] = [("hold_body_until_retry", None)]  # the headers, then nothing until the client retries
    download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    assert len(loopback.requests) == 2 and (tmp_path / "f").read_bytes() == DATA


def test_redirects_are_followed(loopback, tmp_path):
    urls = serve(loopback, "/old/f", "/new/f")
    loopback.faults["/old/f"] = [("redirect", "/new/f")]
    download_file(urls[:1], tmp_path / "f", DIGEST, quiet=True)
    assert [r.path for r in loopback.requests] == ["/old/f", "/new/f"]
    assert (tmp_path / "f").read_bytes() == DATA


def test_every_mirror_failing_gives_one_message_listing_each(loopback, tmp_path):
    urls = serve(loopback, "/m1/f", "/m2/f")
    loopback.faults = {"/m1/f": [404], "/m2/f": [503] * 10}
    with pytest.raises(DownloadError) as raised:
        download_file(urls, tmp_path / "f", DIGEST, quiet=True)
    message = str(raised.value)
    assert f"{urls[0]}: HTTP 404" in message and f"{urls[1]}: HTTP 503" in message and str(tmp_path / "f") in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert isinstance(raised.value, DataError) and isinstance(raised.value, RuntimeError)


def closed_port_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/f"


def test_no_network_says_so_instead_of_a_stack_of_urllib_errors(tmp_path):
    url = closed_port_url()
    with pytest.raises(DownloadError, match="no network connection") as raised:
        download_file([url], tmp_path / "f", DIGEST, quiet=True)
    assert url in str(raised.value) and raised.value.__cause__ is None


def test_too_little_disk_space_refuses_before_writing(loopback, tmp_path, monkeypatch):
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(download.shutil, "disk_usage", lambda folder: Usage(10**9, 10**9, 1000))
    with pytest.raises(DiskSpaceError, match="MB are needed .* plus a 16.8 MB margin"):
        download_file(serve(loopback, "/f"), tmp_path / "f", DIGEST, quiet=True)
    assert not (tmp_path / "f").exists() and not (tmp_path / "f.part").exists()


def test_progress_bar_is_silent_when_output_is_not_a_terminal(loopback, tmp_path, capsys):
    download_file(serve(loopback, "/f"), tmp_path / "f", DIGEST)
    assert capsys.readouterr() == ("", "")


def stderr_event(monkeypatch, text: str) -> threading.Event:
    """An event set once `text` is written to sys.stderr (replaced by a StringIO for the test): a thread that waits
    for the dataset lock says so there, so this is the event that it is blocked."""
    said = threading.Event()

    class Stderr(io.StringIO):
        def write(self, written):
            count = super().write(written)
            if text in self.getvalue():
                said.set()
            return count

    monkeypatch.setattr(sys, "stderr", Stderr())
    return said


def test_lock_excludes_a_second_holder_until_released(tmp_path, monkeypatch):
    entered, waiting = threading.Event(), stderr_event(monkeypatch, "waiting for")

    def second():
        with lock(tmp_path):
            entered.set()

    with lock(tmp_path):
        thread = threading.Thread(target=second)
        thread.start()
        assert waiting.wait(60) and not entered.is_set()
    thread.join(60)
    assert entered.is_set()


def test_gunzip_writes_atomically_and_remembers_the_digest(tmp_path):
    (tmp_path / "f.gz").write_bytes(gzip.compress(DATA))
    gunzip(tmp_path / "f.gz", tmp_path / "f")
    assert (tmp_path / "f").read_bytes() == DATA and cache.known_md5(tmp_path / "f") == DIGEST


def test_gunzip_of_a_truncated_file_names_it_and_leaves_nothing(tmp_path):
    (tmp_path / "f.gz").write_bytes(gzip.compress(DATA)[:-100])
    with pytest.raises(CorruptFileError, match="f.gz"):
        gunzip(tmp_path / "f.gz", tmp_path / "f")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.gz"]


def tar_of(*members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def file_member(name, data=b"payload"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def special_member(name, kind, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info, None


def test_extract_tar_writes_files_and_folders_with_remembered_digests(tmp_path):
    (tmp_path / "a.tar.gz").write_bytes(tar_of(file_member("top/x.bin", DATA), file_member("top/sub/y", b"y")))
    written = extract_tar(tmp_path / "a.tar.gz", tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == ["top/sub/y", "top/x.bin"]
    assert (tmp_path / "out/top/x.bin").read_bytes() == DATA and cache.known_md5(tmp_path / "out/top/x.bin") == DIGEST


@pytest.mark.parametrize("bad", [
    file_member("../escape"), file_member("/abs/escape"), file_member("top/../../escape"),
    special_member("top/link", tarfile.SYMTYPE, "/etc/passwd"), special_member("top/hard", tarfile.LNKTYPE, "top/x"),
    special_member("top/dev", tarfile.CHRTYPE), special_member("top/fifo", tarfile.FIFOTYPE)])
def test_extract_tar_refuses_the_whole_archive_for_one_unsafe_member(tmp_path, bad):
    (tmp_path / "a.tar.gz").write_bytes(tar_of(file_member("top/x"), bad))
    with pytest.raises(UnsafeArchiveError, match="refused"):
        extract_tar(tmp_path / "a.tar.gz", tmp_path / "out")
    assert not (tmp_path / "out" / "top").exists() and not (tmp_path / "escape").exists()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "..", ".", ""]), min_size=1, max_size=5))
def test_extract_tar_never_writes_outside_its_folder(tmp_path_factory, parts):
    base = tmp_path_factory.mktemp("tar")
    name = "/".join(parts) + "/f"
    (base / "a.tar.gz").write_bytes(tar_of(file_member(name)))
    (base / "out").mkdir()
    try:
        written = extract_tar(base / "a.tar.gz", base / "out")
    except UnsafeArchiveError:
        written = []
    assert all((base / "out").resolve() in p.resolve().parents for p in written)
    assert sorted(p.name for p in base.iterdir()) == ["a.tar.gz", "out"]


def test_extract_tar_of_a_damaged_archive_is_a_corrupt_file_error(tmp_path):
    (tmp_path / "a.tar.gz").write_bytes(tar_of(file_member("top/x", DATA))[:200])
    with pytest.raises(CorruptFileError, match="a.tar.gz"):
        extract_tar(tmp_path / "a.tar.gz", tmp_path / "out")


def test_md5_is_remembered_and_recomputed_when_the_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "f"
    path.write_bytes(DATA)
    calls = []
    monkeypatch.setattr(cache, "new_md5", lambda: calls.append(1) or hashlib.md5())
    assert cache.md5(path) == DIGEST and cache.md5(path) == DIGEST and len(calls) == 1
    path.write_bytes(b"other")
    assert cache.md5(path) == md5(b"other") and len(calls) == 2
    os.utime(path, ns=(1, 1))
    assert cache.md5(path) == md5(b"other") and len(calls) == 3


def test_default_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path / "data"))
    assert cache.default_root() == tmp_path / "data"
    assert cache.default_root(tmp_path / "given") == tmp_path / "given"
    monkeypatch.delenv("TINYTORCH_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.default_root() == tmp_path / "xdg" / "tinytorch"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.default_root() == tmp_path / "home" / ".cache" / "tinytorch"
    with pytest.raises(TypeError, match="root must be a path.*got int: 3"):
        cache.default_root(3)


def test_a_file_rewritten_in_place_with_its_size_and_mtime_kept_is_hashed_again(tmp_path):
    """`cp -p`, `rsync -t`, `touch -r`: the size and the mtime are kept, the change time is not."""
    path = tmp_path / "f"
    path.write_bytes(DATA)
    assert cache.md5(path) == DIGEST
    mtime = path.stat().st_mtime_ns
    with open(path, "r+b") as handle:
        handle.write(b"!")
    os.utime(path, ns=(mtime, mtime))
    assert cache.known_md5(path) is None and cache.md5(path) == md5(b"!" + DATA[1:])


def test_gunzip_with_a_digest_never_replaces_a_file_with_wrong_bytes(tmp_path):
    (tmp_path / "f").write_bytes(b"verified")
    (tmp_path / "f.gz").write_bytes(gzip.compress(DATA))
    with pytest.raises(ChecksumError, match="nothing was kept"):
        gunzip(tmp_path / "f.gz", tmp_path / "f", md5="0" * 32)
    assert (tmp_path / "f").read_bytes() == b"verified" and sorted(p.name for p in tmp_path.iterdir()) == ["f", "f.gz"]
    assert gunzip(tmp_path / "f.gz", tmp_path / "f", md5=DIGEST).read_bytes() == DATA


def test_each_folder_keeps_one_record_and_still_reads_the_older_derived_record(tmp_path):
    (tmp_path / cache.OLD_DERIVED_RECORD).write_text('{"cache.npy": "0123"}')
    assert cache.written_digests(tmp_path) == {"cache.npy": "0123"}
    (tmp_path / "f").write_bytes(DATA)
    assert cache.md5(tmp_path / "f") == DIGEST  # writes the record, folding the older one in
    assert sorted(p.name for p in tmp_path.iterdir()) == [cache.RECORD, "f"]
    assert cache.written_digests(tmp_path) == {"cache.npy": "0123"} and cache.known_md5(tmp_path / "f") == DIGEST
    cache.record_written(tmp_path, {"cache.npy": None})
    assert cache.written_digests(tmp_path) == {} and cache.known_md5(tmp_path / "f") == DIGEST


def test_a_waiter_reads_the_lock_holder_written_just_after_it_took_the_lock():
    """The holder writes who it is just after taking the lock: a waiter that finds the file still empty reads it
    again, so it names the holder rather than "another process" (the race seen in a CI run)."""
    from tinytorch.data.datasets.storage.download import lock_holder

    class LockFile:
        def __init__(self, reads):
            self.reads = list(reads)

        def seek(self, position):
            assert position == 0

        def read(self, size):
            return self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]

    assert lock_holder(LockFile([b"", b"", b"process 7 since noon\n"])) == "process 7 since noon"
    assert lock_holder(LockFile([b""])) == "another process"
