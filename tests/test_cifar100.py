"""CIFAR100 end to end through the loopback server, on an archive of Python 2 pickles in the real CIFAR-100 format."""
import io
import pickletools
import tarfile

import numpy as np
import pytest

from formats import cifar100_archive, md5
from tinytorch.data import CIFAR100, DataLoader
from tinytorch.data.cli import main
from tinytorch.data.errors import ChecksumError, CorruptFileError
from torch_reference import torchvision_or_none

pytestmark = pytest.mark.usefixtures("fast_retries", "isolated_cache")
N_TRAIN, N_TEST = 24, 8


@pytest.fixture
def fake_cifar100(loopback, monkeypatch):
    """Serves a generated cifar-100-python.tar.gz on /c100/ and points CIFAR100 at it; returns the CHW arrays."""
    rng = np.random.default_rng(7)
    arrays = {split: (rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 100, n),
                      rng.integers(0, 20, n)) for split, n in (("train", N_TRAIN), ("test", N_TEST))}
    archive, digests = cifar100_archive(arrays["train"], arrays["test"], CIFAR100.classes, CIFAR100.coarse_classes)
    loopback.files["/c100/cifar-100-python.tar.gz"] = archive
    monkeypatch.setattr(CIFAR100, "mirrors", [loopback.url + "/c100/"])
    monkeypatch.setattr(CIFAR100, "tgz_md5", md5(archive))
    monkeypatch.setattr(CIFAR100, "train_list", [["train", digests["train"]]])
    monkeypatch.setattr(CIFAR100, "test_list", [["test", digests["test"]]])
    monkeypatch.setattr(CIFAR100, "meta", {**CIFAR100.meta, "md5": digests["meta"]})
    return arrays


def test_fixture_is_a_python2_cpickle_stream_with_the_real_keys(fake_cifar100, loopback):
    with tarfile.open(fileobj=io.BytesIO(loopback.files["/c100/cifar-100-python.tar.gz"])) as tar:
        assert sorted(tar.getnames()) == ["cifar-100-python/meta", "cifar-100-python/test", "cifar-100-python/train"]
        stream = tar.extractfile("cifar-100-python/train").read()
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(stream)]
    keys = [arg for name, arg in ops if name == "SHORT_BINSTRING" and arg in
            ("filenames", "batch_label", "fine_labels", "coarse_labels", "data")]
    assert ops[0] == ("PROTO", 2) and keys == ["filenames", "batch_label", "fine_labels", "coarse_labels", "data"]
    assert ("GLOBAL", "numpy.core.multiarray _reconstruct") in ops


def test_download_gives_fine_targets_coarse_targets_and_torchvision_attributes(fake_cifar100, loopback, tmp_path):
    train, test = CIFAR100(tmp_path, download=True), CIFAR100(tmp_path, train=False)
    images, fine, coarse = fake_cifar100["train"]
    assert train.data.shape == (N_TRAIN, 32, 32, 3) and np.array_equal(train.data, images.transpose(0, 2, 3, 1))
    assert train.targets.dtype == np.int64 and np.array_equal(train.targets, fine)
    assert np.array_equal(train.coarse_targets, coarse)
    assert np.array_equal(test.coarse_targets, fake_cifar100["test"][2])
    assert len(train.classes) == 100 and train.classes[:3] == ["apple", "aquarium_fish", "baby"]
    assert train.class_to_idx["worm"] == 99 and len(CIFAR100.coarse_classes) == 20
    image, label = test[5]
    assert image.shape == (32, 32, 3) and label == fake_cifar100["test"][1][5] and isinstance(label, int)
    assert (tmp_path / "cifar-100-python" / "tinytorch_train_coarse_targets.npy").is_file()
    assert isinstance(CIFAR100(tmp_path).coarse_targets.base, np.memmap) and len(loopback.requests) == 1
    batch = next(iter(DataLoader(test, batch_size=4)))
    assert batch[0].shape == (4, 32, 32, 3) and batch[1].tolist() == fake_cifar100["test"][1][:4].tolist()


def test_training_on_the_superclasses(fake_cifar100, tmp_path):
    dataset = CIFAR100(tmp_path, download=True)
    dataset.targets, dataset.classes = dataset.coarse_targets, CIFAR100.coarse_classes
    assert [dataset[i][1] for i in range(3)] == fake_cifar100["train"][2][:3].tolist()


@pytest.mark.parametrize("label", [100, -1])
def test_a_fine_label_out_of_range_is_a_corrupt_file_error(fake_cifar100, loopback, tmp_path, monkeypatch, label):
    images, fine, coarse = fake_cifar100["train"]
    fine = fine.copy()
    fine[3] = label
    archive, digests = cifar100_archive((images, fine, coarse), fake_cifar100["test"], CIFAR100.classes,
                                        CIFAR100.coarse_classes)
    loopback.files["/c100/cifar-100-python.tar.gz"] = archive
    monkeypatch.setattr(CIFAR100, "tgz_md5", md5(archive))
    monkeypatch.setattr(CIFAR100, "train_list", [["train", digests["train"]]])
    with pytest.raises(CorruptFileError, match=rf"cifar-100-python/train is not a CIFAR100 batch .*fine_labels range "
                                               rf"from .*{label}.*, expected 0 to 99"):
        CIFAR100(tmp_path, download=True)


def test_a_damaged_split_file_is_a_checksum_error(fake_cifar100, tmp_path):
    CIFAR100.download(tmp_path, quiet=True)
    path = tmp_path / "cifar-100-python" / "test"
    path.write_bytes(path.read_bytes()[:-2] + b"x.")
    with pytest.raises(ChecksumError, match="test has md5"):
        CIFAR100(tmp_path, train=False)
    assert len(CIFAR100(tmp_path, train=False, download=True)) == N_TEST


def test_cli_download_verify_info_and_preview(fake_cifar100, tmp_path, capsys):
    assert main(["download", "cifar100", "--root", str(tmp_path), "--quiet"]) == 0
    assert main(["preview", "cifar100", "--root", str(tmp_path), "--out", str(tmp_path / "g.png"), "--count", "3"]) == 0
    assert main(["verify", "cifar100", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok\n") == 6  # train, test, meta, and the training split's three cache files
    assert "tinytorch_train_data.npy: ok" in out
    assert main(["info", "cifar100", "--root", str(tmp_path)]) == 0
    assert "6 of 6 present, 6 verified" in capsys.readouterr().out


def test_same_data_targets_classes_and_repr_as_torchvision(fake_cifar100, tmp_path, monkeypatch):
    torchvision = torchvision_or_none()
    if torchvision is None:
        pytest.skip("torchvision is not installed")
    CIFAR100.download(tmp_path, quiet=True)
    for name in ("train_list", "test_list", "meta"):  # the fixture's digests
        monkeypatch.setattr(torchvision.datasets.CIFAR100, name, getattr(CIFAR100, name))
    for train in (True, False):
        ours, theirs = CIFAR100(tmp_path, train=train), torchvision.datasets.CIFAR100(tmp_path, train=train)
        assert np.array_equal(ours.data, theirs.data) and ours.targets.tolist() == theirs.targets
        assert ours.classes == theirs.classes and ours.class_to_idx == theirs.class_to_idx
        assert repr(ours) == repr(theirs)
