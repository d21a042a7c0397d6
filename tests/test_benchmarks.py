"""`make bench` runs: every benchmark script imports (the names it takes from tinytorch exist), and its per-batch
helpers run on a tiny input. Their speed is measured by `make bench`, never asserted here."""
import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module", autouse=True)
def benchmarks_importable():
    sys.path.insert(0, str(BENCHMARKS))
    yield
    sys.path.remove(str(BENCHMARKS))


@pytest.mark.parametrize("name", sorted(path.stem for path in BENCHMARKS.glob("bench_*.py")))
def test_every_benchmark_imports(name):
    """What each script takes from tinytorch and the tests' helpers exists (an ImportError fails here)."""
    importlib.import_module(name)


def test_the_worker_benchmarks_per_sample_batch_runs():
    bench_workers = importlib.import_module("bench_workers")
    assert bench_workers.per_sample_batch_ms(rounds=1) > 0


def test_the_numpy_limits_compute_the_loaders_values():
    """The anchors of bench_loader compute what the loader computes (else the ratios compare different work)."""
    bench_loader = importlib.import_module("bench_loader")
    from tinytorch.data import DataLoader, ImageDataset

    images = np.random.default_rng(0).integers(0, 256, (16, 28, 28), dtype=np.uint8)
    labels = np.arange(16)
    loader = DataLoader(ImageDataset(images, labels, transform=bench_loader.Compose(
        [bench_loader.ToTensor(), bench_loader.Normalize((bench_loader.MNIST_MEAN,), (bench_loader.MNIST_STD,))])),
        batch_size=8)
    limit = list(bench_loader.numpy_mnist_epoch(images, labels, 8, np.random.default_rng(0)))
    ours = {int(label): x for batch, batch_labels in loader for x, label in zip(batch, batch_labels)}
    for batch, batch_labels in limit:
        for x, label in zip(batch, batch_labels):
            np.testing.assert_array_equal(x, ours[int(label)])
