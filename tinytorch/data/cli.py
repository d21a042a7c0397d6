"""`python -m tinytorch.data` (console script `tinytorch-data`): download, verify, inspect and preview datasets.

    python -m tinytorch.data download mnist cifar10 [--root DIR] [--force] [--quiet]
    python -m tinytorch.data verify [NAME ...]     re-hash every file against its known md5
    python -m tinytorch.data info [NAME ...]       where, size on disk, verified or not (nothing is hashed)
    python -m tinytorch.data list [--root DIR]     every dataset, shipped or downloaded, and whether it is here
    python -m tinytorch.data preview NAME --out grid.png [--test] [--count 32] [--seed 0]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from .datasets import CIFAR10, CIFAR100, KMNIST, MNIST, FashionMNIST, TinyDigits, TinyTalks
from .datasets.storage.cache import default_root, known_md5, md5
from .errors import DataError

DATASETS = {dataset.cli_name(): dataset for dataset in (MNIST, FashionMNIST, KMNIST, CIFAR10, CIFAR100)}
SHIPPED = {"tinydigits": TinyDigits, "tinytalks": TinyTalks}
PREVIEW = {**DATASETS, "tinydigits": TinyDigits}


def download(args) -> int:
    for name in args.names:
        DATASETS[name].download(args.root, force=args.force, quiet=args.quiet)
        print(f"{name}: ready in {DATASETS[name].folder(args.root)}")
    return 0


def verify(args) -> int:
    failed = 0
    for name in args.names:
        for path, expected in DATASETS[name].files(args.root).items():
            actual = md5(path, rehash=True) if path.is_file() else None
            status = ("missing" if actual is None else "ok" if actual == expected else
                      "present, but no md5 is published or recorded for it" if expected is None else
                      f"md5 {actual}, expected {expected}")
            failed += status != "ok"
            print(f"{name}: {path}: {status}")
    return 1 if failed else 0


def status(name: str, root) -> tuple[int, int, int, str]:
    """(files present, verified, expected, advice) for downloaded dataset `name`, without hashing anything."""
    files = DATASETS[name].files(root)
    present = [path for path in files if path.is_file()]
    verified = sum(files[path] is not None and known_md5(path) == files[path] for path in present)
    command = "verify" if len(present) == len(files) else "download"
    option = f" --root {root}" if root is not None else ""
    advice = "" if verified == len(files) else f"run `python -m tinytorch.data {command} {name}{option}`"
    return len(present), verified, len(files), advice


def info(args) -> int:
    for name in args.names:
        folder = DATASETS[name].folder(args.root)
        size = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else 0
        present, verified, expected, advice = status(name, args.root)
        print(f"{name}: {folder}\n  size on disk: {size / 1e6:.1f} MB\n  files: {present} of {expected} present, "
              f"{verified} verified" + (f" ({advice})" if advice else ""))
    return 0


def list_datasets(args) -> int:
    for name, dataset in {**SHIPPED, **DATASETS}.items():
        if name in SHIPPED:
            state = "shipped, always here"
        else:
            present, verified, expected, _ = status(name, args.root)
            state = ("not downloaded" if not present else "here, verified" if verified == expected else
                     f"{present} of {expected} files, {verified} verified")
        print(f"{name:13s} {state:24s} {dataset.__doc__.splitlines()[0].split(': ')[0]}")
    print(f"root: {default_root(args.root)} (set $TINYTORCH_DATA or pass --root to change it); `info NAME` and "
          f"`verify NAME` say more")
    return 0


def preview(args) -> int:
    from PIL import Image, ImageDraw  # Pillow only where it is used: the rest of the CLI needs only NumPy

    dataset = TinyDigits(train=not args.test) if args.name == "tinydigits" else DATASETS[args.name](
        args.root, train=not args.test)
    indices = np.random.default_rng(args.seed).choice(len(dataset), size=min(args.count, len(dataset)), replace=False)
    images, labels = dataset.get_batch(indices)
    columns, scale, caption = 8, 3, 14
    height, width = images.shape[1] * scale, images.shape[2] * scale
    grid = Image.new("RGB", (columns * width, -(-len(indices) // columns) * (height + caption)), "white")
    draw = ImageDraw.Draw(grid)
    for position, (image, label) in enumerate(zip(images, labels)):
        x, y = position % columns * width, position // columns * (height + caption)
        pixels = np.asarray(image)
        pixels = (pixels * 255).round().astype(np.uint8) if pixels.dtype.kind == "f" else pixels  # TinyDigits: [0, 1]
        tile = Image.fromarray(pixels).convert("RGB").resize((width, height), Image.NEAREST)
        grid.paste(tile, (x, y))
        draw.text((x + 2, y + height + 1), str(dataset.classes[label]), fill="black")
    grid.save(args.out)
    print(f"{args.name}: {len(indices)} samples written to {args.out}")
    return 0


def main(argv=None) -> int:
    """Run the command line `argv` (default sys.argv[1:]); return the exit status (1 on a data error)."""
    parser = argparse.ArgumentParser(prog="tinytorch-data", description="Download, verify and inspect datasets.")
    commands = parser.add_subparsers(dest="command", required=True)
    root = argparse.ArgumentParser(add_help=False)
    root.add_argument("--root", help="dataset root (default: $TINYTORCH_DATA, else ~/.cache/tinytorch)")
    some = {"nargs": "*", "metavar": "NAME", "help": f"any of {', '.join(DATASETS)} (default: all)"}
    command = commands.add_parser("download", parents=[root], help="fetch datasets and verify them")
    command.add_argument("names", nargs="+", metavar="NAME", help=f"any of {', '.join(DATASETS)}")
    command.add_argument("--force", action="store_true", help="delete and fetch again even if present")
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    commands.add_parser("verify", parents=[root], help="re-hash every file").add_argument("names", **some)
    commands.add_parser("info", parents=[root], help="where, size, verified").add_argument("names", **some)
    commands.add_parser("list", parents=[root], help="every dataset and whether it is here and verified")
    command = commands.add_parser("preview", parents=[root], help="save a labelled grid of samples")
    command.add_argument("name", choices=list(PREVIEW))
    command.add_argument("--out", required=True, help="image file to write, e.g. grid.png")
    command.add_argument("--test", action="store_true", help="the test split instead of the training split")
    command.add_argument("--count", type=int, default=32, help="number of samples (default 32)")
    command.add_argument("--seed", type=int, default=0, help="which samples (default 0)")
    args = parser.parse_args(argv)
    if hasattr(args, "names"):
        args.names = args.names or list(DATASETS)
        for name in set(args.names) - set(DATASETS):
            parser.error(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    if getattr(args, "count", 1) < 1:
        parser.error(f"--count must be a positive integer, got {args.count}")
    handlers = {"download": download, "verify": verify, "info": info, "list": list_datasets, "preview": preview}
    try:
        exit_status = handlers[args.command](args)
        sys.stdout.flush()  # a reader that went away (`| head`) shows up here, inside the try
        return exit_status
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail again
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except DataError as exc:  # every failure is one message, never a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. --out in a folder that does not exist
        print(f"error: {exc.filename}: {exc.strerror}" if exc.filename else f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - e.g. Pillow refusing an image format
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1

