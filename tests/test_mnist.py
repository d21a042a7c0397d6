"""MNIST end to end through the loopback server, on fixtures in the real IDX .gz format, plus the IDX reader."""
import gzip
import json
import os
import selectors
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from conftest import SIZES
from formats import gzip_bytes, idx_bytes, md5
from tinytorch.data import MNIST
from tinytorch.data.datasets.downloaded import DownloadedImages
from tinytorch.data.datasets.storage import cache
from tinytorch.data.errors import ChecksumError, CorruptFileError, DatasetNotFoundError
from tinytorch.data.datasets.storage.idx import read_idx

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("fast_retries", "isolated_cache")


def count_hashing(monkeypatch):
    calls = []
    real = cache.new_md5
    monkeypatch.setattr(cache, "new_md5", lambda: calls.append(1) or real())
    return calls


def test_download_then_samples_in_torchvision_layout(fake_mnist, loopback, tmp_path):
    train, test = MNIST(tmp_path, download=True), MNIST(tmp_path, train=False, download=True)
    assert len(train) == SIZES["train"] and len(test) == SIZES["t10k"]
    assert np.array_equal(train.data, fake_mnist["train-images-idx3-ubyte"]) and train.data.dtype == np.uint8
    assert train.targets.dtype == np.int64 and np.array_equal(test.targets, fake_mnist["t10k-labels-idx1-ubyte"])
    image, label = train[3]
    assert image.shape == (28, 28) and image.dtype == np.uint8 and label == fake_mnist["train-labels-idx1-ubyte"][3]
    assert isinstance(label, int) and train.classes[0] == "0 - zero" and len(train.classes) == 10
    assert isinstance(train.data.base, np.memmap)
    raw = tmp_path / "MNIST" / "raw"
    assert {p.name for p in raw.iterdir() if not p.name.startswith(".")} == {*fake_mnist, *(f"{n}.gz" for n in fake_mnist)}
    assert len(loopback.requests) == 4 and all(r.path.startswith("/m1/") for r in loopback.requests)


def test_reopening_needs_no_network_and_no_hashing(fake_mnist, loopback, tmp_path, monkeypatch):
    MNIST.download(tmp_path, quiet=True)
    requests, calls = len(loopback.requests), count_hashing(monkeypatch)
    MNIST(tmp_path, download=True), MNIST(tmp_path, train=False, download=True)
    assert len(loopback.requests) == requests and calls == []


def test_get_batch_and_transforms(fake_mnist, tmp_path):
    train = MNIST(tmp_path, download=True, transform=lambda image: image.astype(np.float32) / 255,
                  target_transform=lambda label: label + 100)
    image, label = train[-1]
    assert image.dtype == np.float32 and image.max() <= 1
    assert label == fake_mnist["train-labels-idx1-ubyte"][-1] + 100
    images, labels = MNIST(tmp_path).get_batch([5, 0, 7])
    assert np.array_equal(images, fake_mnist["train-images-idx3-ubyte"][[5, 0, 7]])
    assert np.array_equal(labels, fake_mnist["train-labels-idx1-ubyte"][[5, 0, 7]])


def test_files_placed_by_hand_are_verified_once(fake_mnist, loopback, tmp_path, monkeypatch):
    raw = MNIST.folder(tmp_path)
    raw.mkdir(parents=True)
    for name, array in fake_mnist.items():
        (raw / name).write_bytes(idx_bytes(array))
    calls = count_hashing(monkeypatch)
    MNIST(tmp_path)
    assert len(calls) == 2
    MNIST(tmp_path)
    assert len(calls) == 2 and loopback.requests == []


def test_gz_files_placed_by_hand_are_extracted_offline(fake_mnist, loopback, tmp_path):
    raw = MNIST.folder(tmp_path)
    raw.mkdir(parents=True)
    for name, array in fake_mnist.items():
        (raw / f"{name}.gz").write_bytes(gzip_bytes(idx_bytes(array)))
    assert np.array_equal(MNIST(tmp_path, train=False).targets, fake_mnist["t10k-labels-idx1-ubyte"])
    assert loopback.requests == []


def test_missing_without_download_says_what_where_and_both_ways_out(fake_mnist, loopback, tmp_path):
    with pytest.raises(DatasetNotFoundError) as raised:
        MNIST(tmp_path)
    message = str(raised.value)
    for part in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", str(MNIST.folder(tmp_path)), "download=True",
                 f"{loopback.url}/m1/train-images-idx3-ubyte.gz", "python -m tinytorch.data download mnist"):
        assert part in message
    assert loopback.requests == []


def test_mirrors_from_the_environment_replace_the_list(fake_mnist, loopback, tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_MNIST_MIRRORS", f"{loopback.url}/m2, {loopback.url}/m1/")
    assert MNIST.urls("x.gz") == [f"{loopback.url}/m2/x.gz", f"{loopback.url}/m1/x.gz"]
    MNIST(tmp_path, download=True)
    assert all(r.path.startswith("/m2/") for r in loopback.requests)


def test_a_dead_first_mirror_falls_back_to_the_second(fake_mnist, loopback, tmp_path):
    for name in fake_mnist:
        loopback.faults[f"/m1/{name}.gz"] = [404]
    assert len(MNIST(tmp_path, download=True)) == SIZES["train"]
    assert len(loopback.requests) == 4  # the training split's two files, each from /m1/ (404) then /m2/


def test_a_damaged_file_is_a_checksum_error_and_download_replaces_it(fake_mnist, tmp_path):
    MNIST(tmp_path, download=True)
    path = MNIST.folder(tmp_path) / "train-labels-idx1-ubyte"
    damaged = bytearray(path.read_bytes())
    damaged[-1] ^= 0xFF
    path.write_bytes(bytes(damaged))
    with pytest.raises(ChecksumError) as raised:
        MNIST(tmp_path)
    assert MNIST.raw_md5s[path.name] in str(raised.value) and md5(bytes(damaged)) in str(raised.value)
    assert str(path) in str(raised.value) and "--force" in str(raised.value)
    assert np.array_equal(MNIST(tmp_path, download=True).targets, fake_mnist[path.name])


def test_a_truncated_file_is_a_corrupt_file_error_naming_it(fake_mnist, tmp_path, monkeypatch):
    MNIST(tmp_path, train=False, download=True)
    path = MNIST.folder(tmp_path) / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-28])
    monkeypatch.setitem(MNIST.raw_md5s, path.name, md5(path.read_bytes()))  # a truncated file that passes its md5
    with pytest.raises(CorruptFileError) as raised:
        MNIST(tmp_path, train=False)
    assert str(path) in str(raised.value) and "download it again" in str(raised.value)


def test_force_download_fetches_everything_again(fake_mnist, loopback, tmp_path):
    MNIST.download(tmp_path, quiet=True)
    MNIST.download(tmp_path, quiet=True)
    assert len(loopback.requests) == 4
    MNIST.download(tmp_path, force=True, quiet=True)
    assert len(loopback.requests) == 8


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(TypeError, match="train must be a bool, got str: 'yes'"):
        MNIST(tmp_path, train="yes")
    with pytest.raises(TypeError, match="root must be a path"):
        MNIST(root=5)


def test_default_root_comes_from_the_environment(fake_mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path / "env-root"))
    MNIST(download=True)
    assert (tmp_path / "env-root" / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file()


def test_several_processes_downloading_at_once_fetch_each_file_once(fake_mnist, loopback, tmp_path):
    release = threading.Event()  # the first download holds the folder's lock until the other three wait for it
    loopback.faults["/m1/train-images-idx3-ubyte.gz"] = [("hold", release)]
    code = ("import json, sys; from tinytorch.data import MNIST; from tinytorch.data.datasets.storage import download;"
            "download.TIMEOUT = 60;"
            "MNIST.resources, MNIST.raw_md5s, MNIST.raw_sizes = (json.loads(a) for a in sys.argv[1].split('|'));"
            "MNIST.mirrors = [sys.argv[3]]; MNIST.download(sys.argv[4]); d = MNIST(sys.argv[4]);"
            "print(len(d), d.targets[:5].tolist())")
    args = ["|".join(map(json.dumps, (MNIST.resources, MNIST.raw_md5s, MNIST.raw_sizes))), "", loopback.url + "/m1/",
            str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=env, text=True) for _ in range(4)]
    try:
        waiting = lines_until(processes, "waiting for", 3)  # the overlap: three processes blocked on the lock
    finally:
        release.set()
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, outputs
    assert len(waiting) == 3 and all("locked by process" in line for line in waiting)
    expected = f"{SIZES['train']} {fake_mnist['train-labels-idx1-ubyte'][:5].tolist()}"
    assert [out.strip() for out, _ in outputs] == [expected] * 4
    assert sorted(r.path for r in loopback.requests) == sorted(f"/m1/{name}.gz" for name in fake_mnist)


def lines_until(processes, text: str, count: int, limit: float = 60.0) -> list:
    """The stderr lines of `processes` containing `text`, read until there are `count` of them (or `limit` seconds
    pass with none arriving: then the test fails on the count, rather than hanging)."""
    found, streams = [], {process.stderr: process for process in processes}
    with selectors.DefaultSelector() as selector:
        for stream in streams:
            selector.register(stream, selectors.EVENT_READ)
        while len(found) < count and (ready := selector.select(limit)):
            for key, _ in ready:
                line = key.fileobj.readline()
                if not line:
                    selector.unregister(key.fileobj)
                elif text in line:
                    found.append(line)
    return found


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([np.uint8, np.int8, ">i2", ">i4", ">f4", ">f8"]),
       st.lists(st.integers(1, 5), min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_idx_round_trip(tmp_path_factory, dtype, shape, random):
    array = np.frombuffer(random.randbytes(int(np.prod(shape)) * np.dtype(dtype).itemsize), dtype=dtype).reshape(shape)
    path = tmp_path_factory.mktemp("idx") / "a"
    path.write_bytes(idx_bytes(array))
    assert np.array_equal(read_idx(path), array, equal_nan=array.dtype.kind == "f")


@pytest.mark.parametrize("content, problem", [
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x07", "magic number starts 0100"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x07", "unknown type code 0x07"),
    (b"\x00\x00\x08\x03\x00\x00", "ends inside it"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x07", r"declares \(3,\) x 1 bytes = 3 bytes of data, the file holds 1"),
    (b"", "magic number starts empty")])
def test_idx_header_problems_are_named(tmp_path, content, problem):
    (tmp_path / "bad-idx").write_bytes(content)
    with pytest.raises(CorruptFileError, match=problem) as raised:
        read_idx(tmp_path / "bad-idx")
    assert str(tmp_path / "bad-idx") in str(raised.value)


RAW = os.environ.get("TINYTORCH_MNIST_RAW")


@pytest.mark.skipif(not RAW or not Path(RAW, "train-images-idx3-ubyte").is_file(),
                    reason="set TINYTORCH_MNIST_RAW to the folder of the real MNIST raw files")
def test_real_mnist_end_to_end(loopback, tmp_path, monkeypatch):
    gz = {name: gzip.compress(Path(RAW, name).read_bytes(), compresslevel=1, mtime=0) for name in MNIST.raw_md5s}
    loopback.files.update({f"/mnist/{name}.gz": data for name, data in gz.items()})
    monkeypatch.setattr(MNIST, "mirrors", [loopback.url + "/mnist/"])
    monkeypatch.setattr(MNIST, "resources", [(f"{name}.gz", md5(data)) for name, data in gz.items()])
    train, test = MNIST(tmp_path, download=True), MNIST(tmp_path, train=False, download=True)
    assert (len(train), len(test)) == (60000, 10000)
    assert train.targets[:5].tolist() == [5, 0, 4, 1, 9] and test.targets[:5].tolist() == [7, 2, 1, 0, 4]
    for path, digest in MNIST.files(tmp_path).items():
        assert cache.md5(path, rehash=True) == digest
    assert np.bincount(train.targets).tolist()[:2] == [5923, 6742] and train.data.shape == (60000, 28, 28)


def test_download_called_on_a_dataset_fetches_into_its_root_as_torchvision(fake_mnist, loopback, tmp_path):
    test = MNIST(tmp_path / "r", train=False, download=True)
    assert len(loopback.requests) == 2
    test.download()  # torchvision's instance method: every file, into the dataset's own root
    assert len(loopback.requests) == 4 and len(MNIST(tmp_path / "r", train=True)) == SIZES["train"]


def test_the_base_declares_every_hook_and_download_is_a_method_not_an_instance_attribute(fake_mnist, tmp_path):
    class Bare(DownloadedImages):
        pass

    hooks = [lambda: Bare.folder(tmp_path), lambda: Bare.split_files(True), lambda: Bare.by_hand(tmp_path, []),
             lambda: Bare.provide(tmp_path, [], network=False, quiet=True), lambda: Bare.source(tmp_path),
             lambda: Bare.load(object.__new__(Bare))]
    for hook in hooks:
        with pytest.raises(NotImplementedError, match="Bare must"):
            hook()
    dataset = MNIST(tmp_path, download=True)
    assert "download" not in vars(dataset)
    with pytest.raises(TypeError):
        MNIST.download(tmp_path, False)  # train, force and quiet are keyword-only


def test_a_gz_whose_trailer_claims_another_size_is_refused_before_decompressing(tmp_path):
    """The real sizes bound decompression: a bomb cannot fill the disk, whatever its trailer says."""
    name = "t10k-labels-idx1-ubyte"
    folder = MNIST.folder(tmp_path)
    folder.mkdir(parents=True)
    (folder / f"{name}.gz").write_bytes(gzip.compress(b"\0" * (10 * MNIST.raw_sizes[name])))
    with pytest.raises(CorruptFileError, match=f"trailer records {10 * MNIST.raw_sizes[name]} bytes, expected "
                                               f"{MNIST.raw_sizes[name]}"):
        MNIST(tmp_path, train=False)
    assert not (folder / name).exists() and not list(folder.glob("*.part"))
    assert MNIST.raw_sizes == {"train-images-idx3-ubyte": 47040016, "train-labels-idx1-ubyte": 60008,
                               "t10k-images-idx3-ubyte": 7840016, "t10k-labels-idx1-ubyte": 10008}
