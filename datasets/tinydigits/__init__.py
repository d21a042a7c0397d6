"""TinyDigits: 1,000 training and 200 test 8x8 grey-scale digits, downsampled from MNIST, in the repository.

Each split is a pickled dict {'images': float32 (N, 8, 8) in [0, 1], 'labels': int64 (N,)}, read with a
restricted unpickler that builds NumPy arrays and runs no other code. See README.md for how it was made.
"""
from pathlib import Path

from tinytorch.data.datasets.tinydigits import read_split

HERE = Path(__file__).resolve().parent


def load_tinydigits():
    """(X_train float32 (1000, 8, 8), y_train int64 (1000,), X_test float32 (200, 8, 8), y_test int64 (200,))."""
    return (*read_split(HERE / "train.pkl"), *read_split(HERE / "test.pkl"))
