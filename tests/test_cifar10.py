"""CIFAR10 end to end through the loopback server, on an archive of Python 2 pickles in the real format."""
import io
import pickle
import pickletools
import tarfile

import numpy as np
import pytest

from conftest import N_TRAIN
from formats import Py2Pickle, cifar_archive, md5, tar_gz
from tinytorch.data import CIFAR10
from tinytorch.data.datasets.storage import cache, safe_pickle
from tinytorch.data.datasets import cifar
from tinytorch.data.errors import (ChecksumError, CorruptFileError, DatasetNotFoundError, UnsafeArchiveError,
                                   UnsafePickleError)

pytestmark = pytest.mark.usefixtures("fast_retries", "isolated_cache")


def test_fixture_batches_are_python2_cpickle_streams():
    stream = cifar_archive(np.full((5, 3, 32, 32), 200, np.uint8), [1] * 5, np.zeros((1, 3, 32, 32), np.uint8), [2],
                           CIFAR10.classes)[0]
    with tarfile.open(fileobj=io.BytesIO(stream)) as tar:
        batch = tar.extractfile("cifar-10-batches-py/data_batch_1").read()
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(batch)]
    assert ops[0] == ("PROTO", 2) and ("SHORT_BINSTRING", "data") in ops and ("BINSTRING", "\xc8" * 3072) in ops
    assert ("GLOBAL", "numpy.core.multiarray _reconstruct") in ops and ("GLOBAL", "numpy dtype") in ops
    assert not any(name in ("BINUNICODE", "SHORT_BINUNICODE", "STACK_GLOBAL") for name, _ in ops)
    with pytest.raises(UnicodeDecodeError):  # as with the real files, Python 3 needs an encoding for py2 str
        pickle.loads(batch[:batch.index(b"U\x06labels")] + b"u.")


def test_download_converts_to_hwc_and_caches(fake_cifar, loopback, tmp_path):
    train, test = CIFAR10(tmp_path, download=True), CIFAR10(tmp_path, train=False)
    images, labels = fake_cifar["train"]
    assert train.data.shape == (N_TRAIN, 32, 32, 3) and train.data.dtype == np.uint8
    assert np.array_equal(train.data, images.transpose(0, 2, 3, 1)) and np.array_equal(train.targets, labels)
    assert train.targets.dtype == np.int64 and np.array_equal(test.targets, fake_cifar["test"][1])
    image, label = test[2]
    assert image.shape == (32, 32, 3) and np.array_equal(image, fake_cifar["test"][0][2].transpose(1, 2, 0))
    assert isinstance(label, int) and train.classes[:2] == ["airplane", "automobile"]
    folder = tmp_path / "cifar-10-batches-py"
    assert (folder / "tinytorch_train_data.npy").is_file() and (folder / "tinytorch_test_targets.npy").is_file()
    assert (tmp_path / "cifar-10-python.tar.gz").is_file() and len(loopback.requests) == 1
    batch_images, batch_labels = train.get_batch([4, 0])
    assert np.array_equal(batch_images, images[[4, 0]].transpose(0, 2, 3, 1)) and batch_labels.tolist() == labels[[4, 0]].tolist()


def test_reopening_memory_maps_the_cache_without_hashing_or_unpickling(fake_cifar, loopback, tmp_path, monkeypatch):
    CIFAR10(tmp_path, download=True)
    calls = []
    monkeypatch.setattr(cache, "new_md5", lambda: calls.append(1))
    monkeypatch.setattr(safe_pickle, "load", lambda *a, **k: calls.append(2))
    reopened = CIFAR10(tmp_path, download=True)
    assert calls == [] and len(loopback.requests) == 1 and isinstance(reopened.data.base, np.memmap)


def test_the_first_conversion_does_not_rehash_batches_it_extracted(fake_cifar, tmp_path, monkeypatch):
    CIFAR10.download(tmp_path, quiet=True)
    hashed = []
    real = cache.md5
    monkeypatch.setattr(cifar, "md5", lambda path, **kw: hashed.append(path.name) or real(path, **kw))
    calls = count_hashers(monkeypatch)
    assert len(CIFAR10(tmp_path)) == N_TRAIN
    assert len(calls) == 2  # the two cache files, hashed as they are written; the batches were hashed on extraction


def count_hashers(monkeypatch):
    calls, real = [], cache.new_md5
    monkeypatch.setattr(cache, "new_md5", lambda: calls.append(1) or real())
    monkeypatch.setattr(cifar, "new_md5", cache.new_md5)
    return calls


def test_a_folder_filled_by_torchvision_is_used_without_download(fake_cifar, loopback, tmp_path):
    archive = loopback.files["/cifar-10-python.tar.gz"]
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tmp_path, filter="data")
    assert np.array_equal(CIFAR10(tmp_path).targets, fake_cifar["train"][1]) and loopback.requests == []


def test_missing_without_download_names_files_folder_and_url(fake_cifar, tmp_path):
    with pytest.raises(DatasetNotFoundError) as raised:
        CIFAR10(tmp_path, train=False)
    message = str(raised.value)
    for part in ("test_batch", str(tmp_path / "cifar-10-batches-py"), "download=True",
                 f"{CIFAR10.mirrors[0]}/cifar-10-python.tar.gz", str(tmp_path)):
        assert part in message


def test_a_damaged_batch_is_a_checksum_error_and_download_repairs_it_from_the_archive(fake_cifar, loopback, tmp_path):
    CIFAR10.download(tmp_path, quiet=True)
    batch = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:-5] + b"xxxx.")
    with pytest.raises(ChecksumError) as raised:
        CIFAR10(tmp_path)
    assert str(batch) in str(raised.value) and dict(CIFAR10.train_list)["data_batch_3"] in str(raised.value)
    assert np.array_equal(CIFAR10(tmp_path, download=True).targets, fake_cifar["train"][1])
    assert len(loopback.requests) == 1  # the verified archive was extracted again, not fetched


def replace_batch(tmp_path, monkeypatch, name, data):
    CIFAR10.download(tmp_path, quiet=True)
    (tmp_path / "cifar-10-batches-py" / name).write_bytes(data)
    monkeypatch.setattr(CIFAR10, "train_list", [[n, md5(data) if n == name else d] for n, d in CIFAR10.train_list])


def test_a_batch_naming_another_global_is_refused_and_nothing_runs(fake_cifar, tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    evil = Py2Pickle()
    evil.out += f"cos\nmkdir\n(U{chr(len(str(marker)))}".encode() + str(marker).encode() + b"tR"
    replace_batch(tmp_path, monkeypatch, "data_batch_2", evil.bytes())
    with pytest.raises(UnsafePickleError, match="os.mkdir|posix.mkdir") as raised:
        CIFAR10(tmp_path)
    assert "data_batch_2" in str(raised.value) and not marker.exists()


def test_a_truncated_batch_is_a_corrupt_file_error_naming_it(fake_cifar, tmp_path, monkeypatch):
    CIFAR10.download(tmp_path, quiet=True)
    data = (tmp_path / "cifar-10-batches-py" / "data_batch_4").read_bytes()[:5000]
    replace_batch(tmp_path, monkeypatch, "data_batch_4", data)
    with pytest.raises(CorruptFileError, match="data_batch_4.*truncated"):
        CIFAR10(tmp_path)


def test_a_batch_without_data_is_a_corrupt_file_error(fake_cifar, tmp_path, monkeypatch):
    replace_batch(tmp_path, monkeypatch, "data_batch_1", pickle.dumps({"labels": [1, 2]}, protocol=2))
    with pytest.raises(CorruptFileError, match="data_batch_1 is not a CIFAR10 batch"):
        CIFAR10(tmp_path)


def test_a_damaged_cache_is_rebuilt(fake_cifar, tmp_path):
    CIFAR10(tmp_path, download=True)
    cached = tmp_path / "cifar-10-batches-py" / "tinytorch_train_data.npy"
    cached.write_bytes(cached.read_bytes()[:1000])
    assert np.array_equal(CIFAR10(tmp_path).data, fake_cifar["train"][0].transpose(0, 2, 3, 1))


def test_an_archive_with_a_member_outside_the_folder_is_refused(fake_cifar, loopback, tmp_path, monkeypatch):
    archive = tar_gz({"../outside": b"x"})
    loopback.files["/cifar-10-python.tar.gz"] = archive
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5(archive))
    with pytest.raises(UnsafeArchiveError, match="outside"):
        CIFAR10(tmp_path / "root", download=True)
    assert not (tmp_path / "outside").exists()


def test_force_download_fetches_again_and_replaces_a_damaged_batch(fake_cifar, loopback, tmp_path):
    CIFAR10(tmp_path, download=True)
    batch = tmp_path / "cifar-10-batches-py" / "data_batch_2"
    batch.write_bytes(b"\0" * batch.stat().st_size)
    CIFAR10.download(tmp_path, force=True, quiet=True)
    assert len(loopback.requests) == 2 and md5(batch.read_bytes()) == dict(CIFAR10.train_list)["data_batch_2"]
    assert np.array_equal(CIFAR10(tmp_path).targets, fake_cifar["train"][1])


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(TypeError, match="train must be a bool, got int: 1"):
        CIFAR10(tmp_path, train=1)
    assert cifar.CIFAR10 is CIFAR10
