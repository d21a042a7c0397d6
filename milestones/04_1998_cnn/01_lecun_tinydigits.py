"""1998, LeCun, Bottou, Bengio and Haffner: a convolutional network shares its weights across the image.

On the shipped 8x8 TinyDigits (offline, seconds): two 3x3 convolution + ReLU + 2x2 max-pool stages (8 then 16
channels, 8x8 -> 4x4 -> 2x2), then a linear classifier; Adam, cross-entropy. Target: at least 88% test accuracy.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parents[2])]  # milestones/ (shared helpers), the checkout (tinytorch)

from milestone import parser, train_classifier  # noqa: E402  (before NumPy loads: BLAS threads)


from tinytorch import nn  # noqa: E402
from tinytorch.data import DataLoader, TinyDigits  # noqa: E402
from tinytorch.data.transforms import ToTensor  # noqa: E402

TARGET = 88


def main():
    args = parser(__doc__.splitlines()[0], epochs=20, batch_size=32, lr=0.005).parse_args()
    epochs = 2 if args.quick else args.epochs
    nn.manual_seed(args.seed)
    # ToTensor keeps the float pixels in [0, 1] and adds the channel axis: (8, 8) -> (1, 8, 8)
    train = DataLoader(TinyDigits(train=True, transform=ToTensor()), args.batch_size, shuffle=True, generator=args.seed)
    test = DataLoader(TinyDigits(train=False, transform=ToTensor()), batch_size=200)

    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 2 * 2, 10),
    )
    optimizer = nn.Adam(model.parameters(), lr=args.lr)
    print(f"TinyDigits: {len(train.dataset)} training and {len(test.dataset)} test images of 1x8x8; "
          f"CNN conv8-pool-conv16-pool-linear, Adam lr {args.lr}, {epochs} epochs")
    train_classifier(model, optimizer, train, test, epochs, TARGET, args.check)


if __name__ == "__main__":
    main()
