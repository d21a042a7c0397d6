"""1986, Rumelhart, Hinton and Williams: backpropagation trains a multi-layer perceptron on the full MNIST.

MNIST(download=True) fetches the 60,000 + 10,000 28x28 digits once (about 11 MB) into milestones/datasets/mnist/
(or $TINYTORCH_DATA); `python milestones/data_manager.py status` shows what is there. Pixels are scaled to [0, 1],
normalised with MNIST's mean and std, and flattened: 784 -> 256 ReLU -> 128 ReLU -> 10, Adam, cross-entropy.
Target: at least 95% test accuracy.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parents[2])]  # milestones/ (shared helpers), the checkout (tinytorch)

from milestone import parser, train_classifier  # noqa: E402  (before NumPy loads: BLAS threads)

from data_manager import data_root  # noqa: E402

from tinytorch import nn  # noqa: E402
from tinytorch.data import MNIST, DataLoader, Subset  # noqa: E402
from tinytorch.data.transforms import Compose, Flatten, Normalize, ToTensor  # noqa: E402

TARGET = 95


def main():
    args = parser(__doc__.splitlines()[0], epochs=5, batch_size=64, lr=1e-3).parse_args()
    epochs = 1 if args.quick else args.epochs
    nn.manual_seed(args.seed)
    transform = Compose([ToTensor(), Normalize((0.1307,), (0.3081,)), Flatten()])
    train_set = MNIST(data_root("mnist"), train=True, transform=transform, download=True)
    test_set = MNIST(data_root("mnist"), train=False, transform=transform, download=True)
    if args.quick:  # a smoke run: a slice of each split
        train_set, test_set = (Subset(s, range(min(n, len(s)))) for s, n in ((train_set, 2000), (test_set, 500)))
    train = DataLoader(train_set, args.batch_size, shuffle=True, generator=args.seed)
    test = DataLoader(test_set, batch_size=1000)

    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = nn.Adam(model.parameters(), lr=args.lr)
    print(f"MNIST: {len(train_set)} training and {len(test_set)} test images of 28x28; "
          f"MLP 784-256-128-10, Adam lr {args.lr}, {epochs} epochs")
    train_classifier(model, optimizer, train, test, epochs, TARGET, args.check)


if __name__ == "__main__":
    main()
