"""TinyDigits: the shipped files, their loader and dataset class, the downsampling, and the rebuild from MNIST."""
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import datasets.tinydigits
from datasets.tinydigits import load_tinydigits
from datasets.tinydigits.build import downsample, main, select
from tinytorch.data import DataLoader, TinyDigits
from tinytorch.data.datasets import tinydigits as tinydigits_module
from tinytorch.data.errors import UnsafePickleError
from tinytorch.data.transforms import Flatten, Lambda

FOLDER = Path(datasets.tinydigits.__file__).parent


@pytest.fixture(scope="module")
def arrays():
    return load_tinydigits()


def test_shapes_dtypes_and_range(arrays):
    X_train, y_train, X_test, y_test = arrays
    assert X_train.shape == (1000, 8, 8) and X_test.shape == (200, 8, 8)
    assert y_train.shape == (1000,) and y_test.shape == (200,)
    assert X_train.dtype == X_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    for images in (X_train, X_test):
        assert images.min() == 0.0 and 0.9 < images.max() <= 1.0


def test_balanced_and_shuffled(arrays):
    _, y_train, _, y_test = arrays
    assert np.bincount(y_train, minlength=10).tolist() == [100] * 10
    assert np.bincount(y_test, minlength=10).tolist() == [20] * 10
    for labels in (y_train, y_test):
        # A shuffled order has every class among the first 50 labels and many label changes, unlike a sorted one.
        assert len(set(labels[:50].tolist())) == 10
        assert np.count_nonzero(np.diff(labels)) > 0.8 * len(labels)


def test_no_image_repeats_within_or_across_splits(arrays):
    X_train, _, X_test, _ = arrays
    rows = {image.tobytes() for image in np.concatenate([X_train, X_test])}
    assert len(rows) == 1200


def test_softmax_regression_reaches_the_quality_bar(arrays):
    X_train, y_train, X_test, y_test = arrays
    X, Xt = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
    W, b, onehot = np.zeros((64, 10)), np.zeros(10), np.eye(10)[y_train]
    for _ in range(300):
        logits = X @ W + b
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        grad = (p / p.sum(axis=1, keepdims=True) - onehot) / len(X)
        W -= X.T @ grad
        b -= grad.sum(axis=0)
    accuracy = np.mean((Xt @ W + b).argmax(axis=1) == y_test)
    assert accuracy >= 0.80


def test_dataset_class_serves_the_shipped_arrays(arrays):
    X_train, y_train, X_test, y_test = arrays
    train, test = TinyDigits(), TinyDigits(train=False)
    assert (len(train), len(test)) == (1000, 200)
    assert train.classes == list("0123456789")
    np.testing.assert_array_equal(train.data, X_train)
    np.testing.assert_array_equal(test.targets, y_test)
    image, label = train[-1]
    assert image.shape == (8, 8) and image.dtype == np.float32 and type(label) is int
    np.testing.assert_array_equal(image, X_train[999])
    assert label == y_train[999]


def test_transforms_apply_per_sample_and_on_the_batched_path(arrays):
    X_train, y_train, _, _ = arrays
    dataset = TinyDigits(transform=Flatten(), target_transform=Lambda(lambda label: label % 2))
    image, label = dataset[3]
    assert image.shape == (64,) and label == y_train[3] % 2
    batches = list(DataLoader(dataset, batch_size=300))
    assert [len(images) for images, _ in batches] == [300, 300, 300, 100]
    np.testing.assert_array_equal(np.concatenate([images for images, _ in batches]), X_train.reshape(1000, 64))
    np.testing.assert_array_equal(np.concatenate([labels for _, labels in batches]), y_train % 2)


@pytest.mark.parametrize("train", ["yes", 1, None])
def test_train_must_be_a_bool(train):
    with pytest.raises(TypeError, match="train must be True or False"):
        TinyDigits(train=train)


class _Shell:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_loading_runs_no_code_from_the_files(tmp_path, monkeypatch):
    (tmp_path / "train.pkl").write_bytes(pickle.dumps({"images": _Shell(), "labels": []}, protocol=4))
    (tmp_path / "test.pkl").write_bytes((tmp_path / "train.pkl").read_bytes())
    monkeypatch.setattr(datasets.tinydigits, "HERE", tmp_path)
    monkeypatch.setattr(tinydigits_module, "shipped_dir", lambda name: tmp_path)
    with pytest.raises(UnsafePickleError, match="posix.system|os.system|nt.system"):
        load_tinydigits()
    with pytest.raises(UnsafePickleError):
        TinyDigits()


digits = hnp.arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=st.integers(0, 255))


@settings(max_examples=60, deadline=None)
@given(digits, st.integers(0, 16), st.integers(0, 16))
def test_downsample_ignores_where_the_digit_sits(digit, top, left):
    canvas = np.zeros((28, 28), np.uint8)
    canvas[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    np.testing.assert_array_equal(downsample(canvas), downsample(digit))


@settings(max_examples=60, deadline=None)
@given(digits)
def test_downsample_averages_areas(digit):
    small = downsample(digit)
    assert small.shape == (8, 8) and small.dtype == np.float32
    assert 0 <= small.min() and small.max() <= 1
    if digit.any():
        rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
        side = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
        # Each 8x8 cell is the mean of side/8 x side/8 pixels, so the cells hold the ink of the side x side square.
        assert small.sum() == pytest.approx(64 * digit.sum() / (255 * side * side), rel=1e-5)
    else:
        assert not small.any()


def test_downsample_of_a_full_block_grid_is_its_block_means():
    blocks = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4 + 1
    image = blocks.repeat(3, axis=0).repeat(3, axis=1)
    np.testing.assert_array_equal(downsample(image), (blocks / 255).astype(np.float32))


@given(st.integers(1, 30), st.integers(0, 2**31))
@settings(max_examples=25, deadline=None)
def test_select_is_balanced_distinct_and_deterministic(per_class, seed):
    labels = np.arange(600) % 10
    chosen = select(labels, per_class, seed)
    assert len(np.unique(chosen)) == len(chosen) == 10 * per_class
    assert np.bincount(labels[chosen], minlength=10).tolist() == [per_class] * 10
    np.testing.assert_array_equal(chosen, select(labels, per_class, seed))


MNIST_RAW = os.environ.get("TINYTORCH_MNIST_RAW")


@pytest.mark.skipif(not MNIST_RAW or not os.path.isdir(MNIST_RAW), reason="TINYTORCH_MNIST_RAW is not set to the MNIST raw files")
@pytest.mark.skipif(int(np.__version__.split(".")[0]) < 2,
                    reason="the files were pickled with NumPy 2, which names its array constructor numpy._core.*")
def test_build_from_mnist_reproduces_the_shipped_bytes(tmp_path, capsys):
    main([MNIST_RAW, "--out", str(tmp_path)])
    assert f"wrote {tmp_path / 'train.pkl'}" in capsys.readouterr().out
    for name in ("train.pkl", "test.pkl"):
        assert (tmp_path / name).read_bytes() == (FOLDER / name).read_bytes(), name
