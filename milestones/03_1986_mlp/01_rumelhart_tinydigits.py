"""1986, Rumelhart, Hinton and Williams: a multi-layer perceptron trained by backpropagation learns to read digits.

TinyDigits ships with the repository (1,000 training and 200 test 8x8 digits), so this runs offline in seconds:
64 pixels -> 128 hidden ReLU units -> 10 classes, Adam, cross-entropy. Target: at least 85% test accuracy.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parents[2])]  # milestones/ (shared helpers), the checkout (tinytorch)

from milestone import parser, train_classifier  # noqa: E402  (before NumPy loads: BLAS threads)


from tinytorch import nn  # noqa: E402
from tinytorch.data import DataLoader, TinyDigits  # noqa: E402
from tinytorch.data.transforms import Flatten  # noqa: E402

TARGET = 85


def main():
    args = parser(__doc__.splitlines()[0], epochs=30, batch_size=32, lr=0.005).parse_args()
    epochs = 2 if args.quick else args.epochs
    nn.manual_seed(args.seed)
    train = DataLoader(TinyDigits(train=True, transform=Flatten()), args.batch_size, shuffle=True, generator=args.seed)
    test = DataLoader(TinyDigits(train=False, transform=Flatten()), batch_size=200)

    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = nn.Adam(model.parameters(), lr=args.lr)
    print(f"TinyDigits: {len(train.dataset)} training and {len(test.dataset)} test images of 8x8; "
          f"MLP 64-128-10, Adam lr {args.lr}, {epochs} epochs")
    train_classifier(model, optimizer, train, test, epochs, TARGET, args.check)


if __name__ == "__main__":
    main()
