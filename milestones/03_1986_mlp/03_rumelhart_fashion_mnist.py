"""1986, Rumelhart, Hinton and Williams: the same multi-layer perceptron, on Fashion-MNIST's clothes instead of digits.

FashionMNIST(download=True) fetches the 60,000 + 10,000 28x28 grey images of ten kinds of clothing once (about
30 MB) into milestones/datasets/fashion-mnist/ (or $TINYTORCH_DATA). Harder than MNIST (shirts, pullovers and
coats look alike), so the same 784 -> 256 ReLU -> 128 ReLU -> 10 MLP, Adam, cross-entropy, trains for longer.
Pixels are scaled to [0, 1] and normalised with Fashion-MNIST's mean and std. Target: at least 85% test accuracy.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parents[2])]  # milestones/ (shared helpers), the checkout (tinytorch)

from milestone import learning_rate, parser, train_classifier  # noqa: E402  (before NumPy loads: BLAS threads)

from data_manager import data_root  # noqa: E402

from tinytorch import nn  # noqa: E402
from tinytorch.data import DataLoader, FashionMNIST, Subset  # noqa: E402
from tinytorch.data.transforms import Compose, Flatten, Normalize, ToTensor  # noqa: E402

TARGET = 85


def main():
    args = parser(__doc__.splitlines()[0], epochs=10, batch_size=64, lr=1e-3).parse_args()
    epochs = 1 if args.quick else args.epochs
    nn.manual_seed(args.seed)
    transform = Compose([ToTensor(), Normalize((0.2860,), (0.3530,)), Flatten()])
    train_set = FashionMNIST(data_root("fashionmnist"), train=True, transform=transform, download=True)
    test_set = FashionMNIST(data_root("fashionmnist"), train=False, transform=transform, download=True)
    if args.quick:  # a smoke run: a slice of each split
        train_set, test_set = (Subset(s, range(min(n, len(s)))) for s, n in ((train_set, 2000), (test_set, 500)))
    train = DataLoader(train_set, args.batch_size, shuffle=True, generator=args.seed)
    test = DataLoader(test_set, batch_size=1000)

    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = nn.Adam(model.parameters(), lr=args.lr)
    print(f"Fashion-MNIST: {len(train_set)} training and {len(test_set)} test images of 28x28; "
          f"MLP 784-256-128-10, Adam lr {args.lr}, {epochs} epochs")
    train_classifier(model, optimizer, train, test, epochs, TARGET, args.check,
                     schedule=lambda epoch: learning_rate(args.lr, epoch, epochs))


if __name__ == "__main__":
    main()
