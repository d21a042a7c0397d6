"""FashionMNIST and KMNIST (MNIST's format, other mirrors, digests and classes) on the shared base, torchvision's
attributes and repr for the whole family, and integration tests on the real Fashion-MNIST files when present."""
import gzip
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import SIZES, serve_idx
from formats import idx_bytes, md5
from tinytorch.data import CIFAR10, KMNIST, MNIST, DataLoader, FashionMNIST
from tinytorch.data.datasets.storage import cache
from tinytorch.data.cli import main as cli
from tinytorch.data.datasets.storage.cache import written_digests
from tinytorch.data.errors import ChecksumError, DatasetNotFoundError
from tinytorch.data.transforms import Compose, Normalize, ToTensor
from torch_reference import torchvision_or_none

pytestmark = pytest.mark.usefixtures("fast_retries", "isolated_cache")


@pytest.fixture
def fake_fashion(loopback, monkeypatch):
    return serve_idx(FashionMNIST, loopback, monkeypatch, 20, mirrors=("/fashion/",))


@pytest.fixture
def fake_kmnist(loopback, monkeypatch):
    """KMNIST publishes no digests of its extracted files: only the .gz digests are known."""
    return serve_idx(KMNIST, loopback, monkeypatch, 30, mirrors=("/kmnist/",), raw_md5s=False)


def test_a_new_idx_dataset_is_class_attributes_only():
    for dataset in (FashionMNIST, KMNIST):
        assert issubclass(dataset, MNIST) and {name for name in vars(dataset) if not name.startswith("__")} == {
            "mirrors", "resources", "raw_md5s", "classes"}


def test_fashion_downloads_into_its_own_folder_with_its_classes(fake_fashion, loopback, tmp_path):
    train = FashionMNIST(tmp_path, download=True)
    assert np.array_equal(train.data, fake_fashion["train-images-idx3-ubyte"]) and len(train) == SIZES["train"]
    assert train.classes[9] == "Ankle boot" and train.class_to_idx["T-shirt/top"] == 0
    assert train.raw_folder == str(tmp_path / "FashionMNIST" / "raw") and train.root == tmp_path and train.train
    assert sorted(r.path for r in loopback.requests) == ["/fashion/train-images-idx3-ubyte.gz",
                                                         "/fashion/train-labels-idx1-ubyte.gz"]
    assert not (tmp_path / "MNIST").exists() and isinstance(train.data.base, np.memmap)
    with pytest.raises(DatasetNotFoundError, match=r"FashionMNIST \(test\) is missing t10k-images-idx3-ubyte.*"
                                                   r"download fashionmnist"):
        FashionMNIST(tmp_path, train=False)


def test_each_dataset_has_its_own_mirror_variable(fake_fashion, loopback, tmp_path, monkeypatch):
    loopback.files.update({path.replace("/fashion/", "/classroom/"): data for path, data in loopback.files.items()})
    monkeypatch.setenv("TINYTORCH_FASHIONMNIST_MIRRORS", f"{loopback.url}/classroom/")
    monkeypatch.setenv("TINYTORCH_MNIST_MIRRORS", f"{loopback.url}/nowhere/")  # MNIST's does not apply
    FashionMNIST(tmp_path, train=False, download=True)
    assert {r.path.split("/")[1] for r in loopback.requests} == {"classroom"}
    monkeypatch.setenv("TINYTORCH_CIFAR10_MIRRORS", "http://a/, http://b/x")
    assert CIFAR10.urls("c.tar.gz") == ["http://a/c.tar.gz", "http://b/x/c.tar.gz"]


def test_kmnist_trusts_its_gz_digests_and_records_what_it_extracted(fake_kmnist, loopback, tmp_path, capsys):
    train = KMNIST(tmp_path, download=True)
    assert np.array_equal(train.targets, fake_kmnist["train-labels-idx1-ubyte"]) and train.classes[3] == "tsu"
    folder = KMNIST.folder(tmp_path)
    assert written_digests(folder) == {name: md5(idx_bytes(fake_kmnist[name])) for name in ("train-images-idx3-ubyte",
                                                                             "train-labels-idx1-ubyte")}
    assert cli(["verify", "kmnist", "--root", str(tmp_path)]) == 1  # the test split is not downloaded
    out = capsys.readouterr().out
    assert out.count(": ok\n") == 2 and out.count(": missing\n") == 2
    labels = folder / "train-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-1] + b"\x09")
    with pytest.raises(ChecksumError, match="train-labels-idx1-ubyte has md5"):
        KMNIST(tmp_path)
    assert np.array_equal(KMNIST(tmp_path, download=True).targets, fake_kmnist["train-labels-idx1-ubyte"])
    assert len(loopback.requests) == 2  # repaired from the verified .gz, nothing fetched again


def test_kmnist_files_without_their_gz_cannot_be_verified(fake_kmnist, loopback, tmp_path):
    folder = KMNIST.folder(tmp_path)
    folder.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (folder / name).write_bytes(idx_bytes(fake_kmnist[name]))
    with pytest.raises(ChecksumError, match="cannot be verified: KMNIST publishes no md5"):
        KMNIST(tmp_path)
    assert len(KMNIST(tmp_path, download=True)) == SIZES["train"]  # the .gz downloads vouch for them


@pytest.mark.parametrize("name, fixture", [("fashionmnist", "fake_fashion"), ("kmnist", "fake_kmnist")])
def test_cli_download_info_verify_list_and_preview(name, fixture, request, tmp_path, capsys):
    request.getfixturevalue(fixture)
    root = ["--root", str(tmp_path)]
    assert cli(["download", name, *root, "--quiet"]) == 0
    assert cli(["info", name, *root]) == 0 and "4 of 4 present, 4 verified" in capsys.readouterr().out
    assert cli(["verify", name, *root]) == 0 and capsys.readouterr().out.count(": ok\n") == 4
    assert cli(["list", *root]) == 0
    assert any(line.startswith(name) and "here, verified" in line for line in capsys.readouterr().out.splitlines())
    assert cli(["preview", name, *root, "--out", str(tmp_path / "g.png"), "--count", "16", "--test"]) == 0
    assert (tmp_path / "g.png").stat().st_size > 0


@pytest.mark.parametrize("dataset, fixture", [(MNIST, "fake_mnist"), (FashionMNIST, "fake_fashion")])
def test_repr_class_to_idx_root_and_train_match_torchvision(dataset, fixture, request, tmp_path):
    request.getfixturevalue(fixture)
    dataset.download(tmp_path, quiet=True)  # both splits: torchvision wants them all
    transform = Compose([ToTensor(), Normalize((0.5,), (0.25,))])
    ours = dataset(str(tmp_path), train=False, download=True, transform=transform)
    expected = (f"Dataset {dataset.__name__}\n    Number of datapoints: {SIZES['t10k']}\n"
                f"    Root location: {tmp_path}\n    Split: Test\n    StandardTransform\nTransform: {repr(transform).splitlines()[0]}")
    assert repr(ours).startswith(expected) and ours.root == str(tmp_path) and ours.train is False
    assert repr(dataset(tmp_path, train=False)).endswith("    Split: Test")  # no transforms, no transform lines
    assert ours.class_to_idx == {name: i for i, name in enumerate(dataset.classes)}
    torchvision = torchvision_or_none()
    if torchvision is None:
        return
    theirs = getattr(torchvision.datasets, dataset.__name__)(str(tmp_path), train=False, transform=transform)
    assert repr(ours) == repr(theirs) and ours.class_to_idx == theirs.class_to_idx
    assert ours.raw_folder == theirs.raw_folder and ours.root == theirs.root and len(ours) == len(theirs)
    assert np.array_equal(ours.targets, theirs.targets.numpy()) and np.array_equal(ours.data, theirs.data.numpy())


def test_cifar_repr_matches_torchvision(fake_cifar, tmp_path, monkeypatch):
    CIFAR10.download(tmp_path, quiet=True)  # both splits: torchvision checks them all
    ours = CIFAR10(tmp_path, train=False, target_transform=lambda y: y)
    lines = repr(ours).splitlines()
    assert lines[:5] == ["Dataset CIFAR10", "    Number of datapoints: 6", f"    Root location: {tmp_path}",
                         "    Split: Test", "    StandardTransform"]
    assert lines[5].startswith("Target transform: <function")
    assert ours.class_to_idx["truck"] == 9
    torchvision = torchvision_or_none()
    if torchvision is not None:
        for name in ("train_list", "test_list", "meta"):  # the fixture's digests
            monkeypatch.setattr(torchvision.datasets.CIFAR10, name, getattr(CIFAR10, name))
        theirs = torchvision.datasets.CIFAR10(tmp_path, train=False, target_transform=ours.target_transform)
        assert repr(ours) == repr(theirs)


FASHION = os.environ.get("TINYTORCH_FASHION_MNIST_RAW")
needs_real = pytest.mark.skipif(not FASHION or not Path(FASHION, "train-images-idx3-ubyte").is_file(),
                                reason="TINYTORCH_FASHION_MNIST_RAW (the real Fashion-MNIST raw files) not set")


@needs_real
def test_real_fashion_mnist_from_a_mirror_that_gzipped_the_files_itself(loopback, tmp_path, monkeypatch):
    """A teacher's mirror: the raw files gzipped here are not byte copies of the official archives (their md5s
    differ), but they extract to the official bytes, which are the authority."""
    for name in FashionMNIST.raw_md5s:
        loopback.files[f"/teacher/{name}.gz"] = gzip.compress(Path(FASHION, name).read_bytes(), compresslevel=1)
        assert md5(loopback.files[f"/teacher/{name}.gz"]) != dict(FashionMNIST.resources)[f"{name}.gz"]
    monkeypatch.setenv("TINYTORCH_FASHIONMNIST_MIRRORS", loopback.url + "/teacher/")
    train, test = FashionMNIST(tmp_path, download=True), FashionMNIST(tmp_path, train=False, download=True)
    assert (len(train), len(test)) == (60000, 10000) and train.data.shape == (60000, 28, 28)
    assert train.targets[:5].tolist() == [9, 0, 0, 3, 0] and test.targets[:5].tolist() == [9, 2, 1, 1, 6]
    assert np.bincount(train.targets).tolist() == [6000] * 10 and np.bincount(test.targets).tolist() == [1000] * 10
    for path, digest in FashionMNIST.files(tmp_path).items():
        assert cache.md5(path, rehash=True) == digest
    assert len(loopback.requests) == 4
    mean = train.data.mean() / 255
    assert abs(mean - 0.2860) < 5e-4  # the README's published mean pixel


@needs_real
def test_real_fashion_mnist_placed_by_hand_and_loaded_in_batches(tmp_path, loopback):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in FashionMNIST.raw_md5s:
        (raw / name).symlink_to(Path(FASHION, name).resolve())
    test = FashionMNIST(tmp_path, train=False, transform=Compose([ToTensor(), Normalize((0.2860,), (0.3530,))]))
    images, labels = next(iter(DataLoader(test, batch_size=256)))
    assert images.shape == (256, 1, 28, 28) and images.dtype == np.float32 and labels[:5].tolist() == [9, 2, 1, 1, 6]
    assert loopback.requests == []


MILESTONE = Path(__file__).resolve().parents[1] / "milestones" / "03_1986_mlp" / "03_rumelhart_fashion_mnist.py"
LAST_LINE = re.compile(r"test accuracy: (\d+\.\d\d)% \(target >= 85%\)")


def test_fashion_milestone_quick_mode_downloads_through_the_library(fake_fashion, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [str(MILESTONE), "--quick", "--batch-size", "16"])
    monkeypatch.setattr(sys, "path", list(sys.path))
    runpy.run_path(str(MILESTONE), run_name="__main__")
    out = capsys.readouterr().out
    assert f"Fashion-MNIST: {SIZES['train']} training and {SIZES['t10k']} test images" in out
    assert LAST_LINE.fullmatch(out.strip().splitlines()[-1])
    assert (Path(os.environ["TINYTORCH_DATA"]) / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte").is_file()


@needs_real
def test_fashion_milestone_reaches_its_target_on_the_real_files(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"  # torchvision's layout, the files linked rather than copied
    raw.mkdir(parents=True)
    for name in FashionMNIST.raw_md5s:
        (raw / name).symlink_to(Path(FASHION, name).resolve())
    result = subprocess.run([sys.executable, str(MILESTONE), "--check"], capture_output=True, text=True, timeout=1800,
                            env={**os.environ, "TINYTORCH_DATA": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert float(LAST_LINE.fullmatch(result.stdout.strip().splitlines()[-1])[1]) >= 85
