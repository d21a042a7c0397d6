"""Shared fixtures. `loopback`: an HTTP server on 127.0.0.1 for download tests (see tests/http_server.py);
`fake_mnist`, `fake_cifar`: small datasets in the real file formats served by it. `per_sample`: the class of the
dataset a PyTorch user writes, for tests of the loader's per-sample path (a fixture, not an import: when
tests/upstream is collected too, `import conftest` finds its conftest.py; for the same reason a spawned worker
cannot import this class back, so spawn tests use another dataset)."""
import re
import sys

import numpy as np
import pytest

from formats import cifar_archive, gzip_bytes, idx_bytes, md5
from http_server import LoopbackServer
from tinytorch.data import CIFAR10, CIFAR100, MNIST, FashionMNIST, KMNIST, Dataset


class PerSample(Dataset):
    """A dataset written for PyTorch: `__getitem__` and `__len__` only (no `get_batch`), the transform called on
    one image at a time, so a DataLoader takes its per-sample path. Sample i is (transformed images[i], int label)."""

    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        image = self.images[i] if self.transform is None else self.transform(self.images[i])
        return image, int(self.labels[i])


@pytest.fixture
def per_sample():
    """The `PerSample` class."""
    return PerSample
from tinytorch.data.datasets.storage import download

SIZES = {"train": 120, "t10k": 30}  # the fake MNIST's splits
N_TRAIN, N_TEST = 20, 6  # the fake CIFAR-10's splits


@pytest.fixture
def loopback():
    server = LoopbackServer()
    yield server
    server.close()


@pytest.fixture
def fast_retries(monkeypatch):
    """Short timeouts and backoff, so fault tests take milliseconds, not the real defaults' seconds."""
    monkeypatch.setattr(download, "TIMEOUT", 2.0)
    monkeypatch.setattr(download, "BACKOFF", 0.01)
    monkeypatch.setattr(download, "RETRIES", 2)


@pytest.fixture
def isolated_cache(monkeypatch, tmp_path):
    """Point the default dataset root at a fresh temporary folder (never ~/.cache) and clear mirror overrides."""
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path / "default-root"))
    for dataset in (MNIST, FashionMNIST, KMNIST, CIFAR10, CIFAR100):
        monkeypatch.delenv(f"TINYTORCH_{dataset.__name__.upper()}_MIRRORS", raising=False)


def make_split(prefix, n, seed):
    rng = np.random.default_rng(seed)
    return {f"{prefix}-images-idx3-ubyte": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
            f"{prefix}-labels-idx1-ubyte": rng.integers(0, 10, n, dtype=np.uint8)}


def serve_idx(dataset, loopback, monkeypatch, seed: int, mirrors=("/m1/", "/m2/"), raw_md5s: bool = True) -> dict:
    """Serve generated IDX .gz files for `dataset` (an MNIST-format class) on `mirrors` and point it at them, with
    the raw md5s published unless `raw_md5s` is False (as for KMNIST); return the arrays."""
    arrays = {**make_split("train", SIZES["train"], seed), **make_split("t10k", SIZES["t10k"], seed + 1)}
    raw = {name: idx_bytes(array) for name, array in arrays.items()}
    gz = {name: gzip_bytes(data) for name, data in raw.items()}
    for mirror in mirrors:
        loopback.files.update({f"{mirror}{name}.gz": data for name, data in gz.items()})
    monkeypatch.setattr(dataset, "mirrors", [loopback.url + mirror for mirror in mirrors])
    monkeypatch.setattr(dataset, "resources", [(f"{name}.gz", md5(data)) for name, data in gz.items()])
    monkeypatch.setattr(dataset, "raw_md5s", {name: md5(data) for name, data in raw.items()} if raw_md5s else {})
    monkeypatch.setattr(dataset, "raw_sizes", {name: len(data) for name, data in raw.items()}, raising=False)
    return arrays


@pytest.fixture
def fake_mnist(loopback, monkeypatch):
    """Serves generated IDX .gz files on two mirrors (/m1/, /m2/) and points MNIST at them; returns the arrays."""
    return serve_idx(MNIST, loopback, monkeypatch, 0)


@pytest.fixture
def fake_cifar(loopback, monkeypatch):
    """Serves a generated cifar-10-python.tar.gz and points CIFAR10 at it; returns the CHW arrays and labels."""
    rng = np.random.default_rng(0)
    arrays = {"train": (rng.integers(0, 256, (N_TRAIN, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, N_TRAIN)),
              "test": (rng.integers(0, 256, (N_TEST, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, N_TEST))}
    archive, digests = cifar_archive(*arrays["train"], *arrays["test"], CIFAR10.classes)
    loopback.files["/cifar-10-python.tar.gz"] = archive
    monkeypatch.setattr(CIFAR10, "mirrors", [loopback.url])
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5(archive))
    monkeypatch.setattr(CIFAR10, "train_list", [[f"data_batch_{i}", digests[f"data_batch_{i}"]] for i in range(1, 6)])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", digests["test_batch"]]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": digests["batches.meta"]})
    return arrays


PARITY_SKIP = re.compile(r"\b(torch|torchvision) is not installed|could not import '(torch|torchvision)'")
REAL_DATA = {"TINYTORCH_MNIST_RAW": ("MNIST", "../shared/data/mnist"),
             "TINYTORCH_FASHION_MNIST_RAW": ("Fashion-MNIST", "../shared/data/fashion-mnist")}


def pytest_terminal_summary(terminalreporter):
    """The run's last lines: how many parity tests (compared with torch or torchvision: those skipped with "torch
    is not installed", "torchvision is not installed" or pytest.importorskip's "could not import 'torch'" without
    them) and real-data tests (skipped when
    $TINYTORCH_MNIST_RAW or $TINYTORCH_FASHION_MNIST_RAW does not name the raw files) were skipped, and how to run
    them, so that neither kind is skipped unnoticed."""
    reasons = [report.longrepr[2] for report in terminalreporter.stats.get("skipped", [])
               if isinstance(report.longrepr, tuple)]
    parity = sum(bool(PARITY_SKIP.search(reason)) for reason in reasons)
    write = terminalreporter.write_line
    if parity:
        write(f"{parity} parity tests skipped: torch or torchvision is not installed. `make parity` installs torch "
              f"2.13 (CPU) and torchvision 0.28 into .venv and runs the suite with them.")
    elif "torchvision" in sys.modules:
        write("Parity tests: none skipped (torch and torchvision are installed).")
    for variable, (name, shared) in REAL_DATA.items():
        count = sum(variable in reason for reason in reasons)
        if count:
            write(f"{count} real-data tests skipped: {variable} does not name the {name} raw files (make sets it "
                  f"to {shared} when that folder is beside the clone). Run them with "
                  f"`make test {variable}=/path/to/the/raw/files`.")
