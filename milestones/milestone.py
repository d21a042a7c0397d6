"""What every milestone script shares: its command line, training with a tqdm bar per epoch, accuracy, and the
last line `test accuracy: XX.XX% (target >= YY%)`, with exit status 1 under --check when the target is missed.

The scripts live one folder down and import this module after putting `milestones/` on sys.path, before
anything that loads NumPy: OpenBLAS reads its thread count once, when NumPy loads.
"""
from __future__ import annotations

import os

# One BLAS thread unless told otherwise: the milestones' matrices are small, and on a busy machine a spinning
# second thread made an MNIST epoch ten times slower (measured). OPENBLAS_NUM_THREADS=2 restores it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

try:
    import numpy  # noqa: E402, F401
    from tqdm import tqdm  # noqa: E402
except ImportError as missing:  # run with a Python that lacks the project's packages: one line, no traceback
    sys.exit(f"{missing.name} is not installed for {sys.executable}: run the milestones in the project's environment "
             f"(`make demo` creates it once, then `source .venv/bin/activate`, or run `.venv/bin/python <script>`)")

from tinytorch import nn  # noqa: E402
from tinytorch.data import DataLoader, Subset  # noqa: E402
from tinytorch.data.transforms import Compose, Flatten, Normalize, ToTensor  # noqa: E402
from tinytorch.nn import Tensor  # noqa: E402
from tinytorch.nn.functional import cross_entropy  # noqa: E402


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def parser(description: str, epochs: int, batch_size: int, lr: float) -> argparse.ArgumentParser:
    """The options every milestone takes; a script adds its own before calling parse_args()."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=positive_int, default=epochs, help=f"training epochs (default {epochs})")
    p.add_argument("--batch-size", type=positive_int, default=batch_size, help=f"default {batch_size}")
    p.add_argument("--lr", type=positive_float, default=lr, help=f"learning rate (default {lr})")
    p.add_argument("--seed", type=int, default=0, help="seeds the initial weights, the shuffling and the augmentation")
    p.add_argument("--quick", action="store_true", help="a smoke run of a few seconds: fewer epochs, less data")
    p.add_argument("--check", action="store_true", help="exit with status 1 when the accuracy target is missed")
    return p


def learning_rate(base: float, epoch: int, epochs: int) -> float:
    """`base`, cut tenfold for the last fifth of the epochs (1-based `epoch`): the late drop that settles training."""
    return base * (0.1 if epoch > epochs - epochs // 5 else 1.0)


def train_epoch(loader, loss_of, optimizer, epoch: int, epochs: int) -> float:
    """One pass over `loader`: loss_of(inputs, targets) -> scalar Tensor, then a step. Returns the mean loss and
    prints it with the epoch's time."""
    start, total, count = time.perf_counter(), 0.0, 0
    # the bar shows in a terminal and is replaced by the summary line; disable=None keeps it out of logs and pipes
    bar = tqdm(loader, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=False, disable=None)
    for inputs, targets in bar:
        loss = loss_of(inputs, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total, count = total + float(loss.data), count + 1
        bar.set_postfix(loss=f"{total / count:.4f}", refresh=False)
    print(f"epoch {epoch}/{epochs}: loss {total / count:.4f}, {time.perf_counter() - start:.2f} s", flush=True)
    return total / count


def train_classifier(model, optimizer, train, test, epochs: int, target: float, check: bool, schedule=None) -> None:
    """Train `model` on `train` with cross-entropy for `epochs` epochs, then print its accuracy on `test` (the last
    line). `schedule(epoch)`, when given, sets the learning rate of each 1-based epoch."""
    for epoch in range(1, epochs + 1):
        if schedule is not None:
            optimizer.lr = schedule(epoch)
        train_epoch(train, lambda x, y: cross_entropy(model(Tensor(x)), y), optimizer, epoch, epochs)
    report(accuracy(model, test), target, check)


def train_mlp_28x28(dataset, title: str, root, mean: float, std: float, args, target: float, schedule=None) -> None:
    """The 1986 MLP (784 -> 256 ReLU -> 128 ReLU -> 10, Adam, cross-entropy) on `dataset`, a 28x28 grey dataset in
    MNIST's format downloaded into `root`: pixels scaled to [0, 1], normalised with `mean` and `std`, flattened.
    `args` are the parsed common options (with --quick, one epoch on a slice of each split); `schedule(lr, epoch,
    epochs)`, when given, sets each epoch's learning rate."""
    epochs = 1 if args.quick else args.epochs
    nn.manual_seed(args.seed)
    transform = Compose([ToTensor(), Normalize((mean,), (std,)), Flatten()])
    train_set = dataset(root, train=True, transform=transform, download=True)
    test_set = dataset(root, train=False, transform=transform, download=True)
    if args.quick:  # a smoke run: a slice of each split
        train_set, test_set = (Subset(s, range(min(n, len(s)))) for s, n in ((train_set, 2000), (test_set, 500)))
    train = DataLoader(train_set, args.batch_size, shuffle=True, generator=args.seed)
    test = DataLoader(test_set, batch_size=1000)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = nn.Adam(model.parameters(), lr=args.lr)
    print(f"{title}: {len(train_set)} training and {len(test_set)} test images of 28x28; "
          f"MLP 784-256-128-10, Adam lr {args.lr}, {epochs} epochs")
    train_classifier(model, optimizer, train, test, epochs, target, args.check,
                     None if schedule is None else lambda epoch: schedule(args.lr, epoch, epochs))


def accuracy(model, loader) -> float:
    """The fraction of samples in `loader` whose largest logit is at the true label."""
    correct = total = 0
    for images, labels in loader:
        correct += int((model(Tensor(images)).data.argmax(axis=1) == labels).sum())
        total += len(labels)
    return correct / total


def report(value: float, target: float, check: bool, what: str = "test accuracy") -> None:
    """Print the last line; under --check, exit 1 when `value` (a fraction) is below `target` (a percentage)."""
    print(f"{what}: {100 * value:.2f}% (target >= {target:g}%)", flush=True)
    if check and round(100 * value, 2) < target:
        sys.exit(1)

