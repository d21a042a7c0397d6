"""1986, Rumelhart, Hinton and Williams: backpropagation trains a multi-layer perceptron on the full MNIST.

MNIST(download=True) fetches the 60,000 + 10,000 28x28 digits once (about 11 MB) into milestones/data/mnist/
(or $TINYTORCH_DATA); `python milestones/data_manager.py status` shows what is there. Pixels are scaled to [0, 1],
normalised with MNIST's mean and std, and flattened: 784 -> 256 ReLU -> 128 ReLU -> 10, Adam, cross-entropy.
Target: at least 95% test accuracy.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parents[2])]  # milestones/ (shared helpers), the checkout (tinytorch)

from milestone import parser, train_mlp_28x28  # noqa: E402  (before NumPy loads: BLAS threads)

from data_manager import data_root  # noqa: E402

from tinytorch.data import MNIST  # noqa: E402

TARGET = 95


def main():
    args = parser(__doc__.splitlines()[0], epochs=5, batch_size=64, lr=1e-3).parse_args()
    train_mlp_28x28(MNIST, "MNIST", data_root("mnist"), 0.1307, 0.3081, args, TARGET)


if __name__ == "__main__":
    main()
