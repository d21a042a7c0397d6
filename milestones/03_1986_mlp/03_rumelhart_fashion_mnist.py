"""1986, Rumelhart, Hinton and Williams: the same multi-layer perceptron, on Fashion-MNIST's clothes instead of digits.

FashionMNIST(download=True) fetches the 60,000 + 10,000 28x28 grey images of ten kinds of clothing once (about
30 MB) into milestones/data/fashion-mnist/ (or $TINYTORCH_DATA). Harder than MNIST (shirts, pullovers and
coats look alike), so the same 784 -> 256 ReLU -> 128 ReLU -> 10 MLP (Adam, cross-entropy) trains for 10 epochs,
the learning rate cut tenfold for the last two. Pixels are scaled to [0, 1] and normalised with Fashion-MNIST's
mean and std. Target: at least 85% test accuracy.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parents[2])]  # milestones/ (shared helpers), the checkout (tinytorch)

from milestone import learning_rate, parser, train_mlp_28x28  # noqa: E402  (before NumPy loads: BLAS threads)

from data_manager import data_root  # noqa: E402

from tinytorch.data import FashionMNIST  # noqa: E402

TARGET = 85


def main():
    args = parser(__doc__.splitlines()[0], epochs=10, batch_size=64, lr=1e-3).parse_args()
    train_mlp_28x28(FashionMNIST, "Fashion-MNIST", data_root("fashionmnist"), 0.2860, 0.3530, args, TARGET,
                    schedule=learning_rate)


if __name__ == "__main__":
    main()
