"""`python -m tinytorch.data` (console script `tinytorch-data`): download, verify, inspect and preview datasets.

    python -m tinytorch.data download mnist cifar10 [--root DIR] [--force] [--quiet]
    python -m tinytorch.data verify [NAME ...]     re-hash every file against its known md5 (no NAME: what is here)
    python -m tinytorch.data info [NAME ...]       where, size on disk, verified or not (nothing is hashed)
    python -m tinytorch.data list [--root DIR]     every dataset, shipped or downloaded, and whether it is here
    python -m tinytorch.data preview NAME --out grid.png [--test] [--count 32] [--seed 0]

Every failure is one line on stderr, `error: ...`: exit status 1 for a data error (a file missing, damaged or not
downloadable), 2 for a usage error (an unknown command, dataset or option). Printed commands quote their paths, so
they work when pasted.
"""
from __future__ import annotations

import argparse
import os
import shlex
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
    """Re-hash the files of the named datasets (a missing one fails); with no names, of every dataset with a file
    here, saying in one line which are not downloaded. Exit 1 for a file present and wrong, a missing file of a
    named dataset, or when no dataset at all is here."""
    named = bool(args.names)
    names = args.names or [name for name, dataset in DATASETS.items()
                           if any(path.is_file() for path in dataset.files(args.root))]
    failed = 0
    for name in names:
        for path, expected in DATASETS[name].files(args.root).items():
            actual = md5(path, rehash=True) if path.is_file() else None
            status = ("missing" if actual is None else "ok" if actual == expected else
                      "present, but no md5 is published or recorded for it" if expected is None else
                      f"md5 {actual}, expected {expected}")
            failed += status != "ok" and (named or actual is not None)
            print(f"{name}: {path}: {status}")
    if not named:
        absent = [name for name in DATASETS if name not in names]
        if absent:
            print(f"not downloaded: {', '.join(absent)} (`python -m tinytorch.data download NAME"
                  f"{root_option(args.root)}` fetches one)")
        if not names:
            print(f"error: no dataset is downloaded in {default_root(args.root)}, so nothing was verified",
                  file=sys.stderr)
            return 1
    return 1 if failed else 0


def root_option(root) -> str:
    """` --root=<root>` quoted for a shell (empty for the default root), for commands printed as advice."""
    return "" if root is None else f" --root={shlex.quote(str(root))}"


def status(name: str, root) -> tuple[int, int, int, str]:
    """(files present, verified, expected, advice) for downloaded dataset `name`, without hashing anything."""
    files = DATASETS[name].files(root)
    present = [path for path in files if path.is_file()]
    verified = sum(files[path] is not None and known_md5(path) == files[path] for path in present)
    command = "verify" if len(present) == len(files) else "download"
    advice = "" if verified == len(files) else f"run `python -m tinytorch.data {command} {name}{root_option(root)}`"
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


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, `error: ... (see --help)`, and exit status 2."""

    def error(self, message):
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def one_line(message: str) -> str:
    """A (possibly multi-line) message on one line: its lines joined with '; ', their indentation dropped."""
    return "; ".join(line.strip() for line in message.splitlines() if line.strip()).replace(":; ", ": ")


def main(argv=None) -> int:
    """Run the command line `argv` (default sys.argv[1:]); return the exit status (1 on a data error; a usage
    error exits with status 2)."""
    parser = OneLineParser(prog="tinytorch-data", description="Download, verify and inspect datasets.")
    commands = parser.add_subparsers(dest="command", required=True)
    root = OneLineParser(add_help=False)
    root.add_argument("--root", help="dataset root (default: $TINYTORCH_DATA, else $XDG_CACHE_HOME/tinytorch, else "
                                     "~/.cache/tinytorch)")
    some = {"nargs": "*", "metavar": "NAME", "help": f"any of {', '.join(DATASETS)} (default: those here)"}
    command = commands.add_parser("download", parents=[root], help="fetch datasets and verify them")
    command.add_argument("names", nargs="+", metavar="NAME", help=f"any of {', '.join(DATASETS)}")
    command.add_argument("--force", action="store_true",
                         help="fetch again even if present (a file is replaced only by a verified copy)")
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    commands.add_parser("verify", parents=[root], help="re-hash every file").add_argument("names", **some)
    commands.add_parser("info", parents=[root], help="where, size, verified").add_argument(
        "names", **{**some, "help": f"any of {', '.join(DATASETS)} (default: all)"})
    commands.add_parser("list", parents=[root], help="every dataset and whether it is here and verified")
    command = commands.add_parser("preview", parents=[root], help="save a labelled grid of samples")
    command.add_argument("name", choices=list(PREVIEW))
    command.add_argument("--out", required=True, help="image file to write, e.g. grid.png")
    command.add_argument("--test", action="store_true", help="the test split instead of the training split")
    command.add_argument("--count", type=int, default=32, help="number of samples (default 32)")
    command.add_argument("--seed", type=int, default=0, help="which samples (default 0)")
    args = parser.parse_args(argv)
    if hasattr(args, "names"):
        for name in set(args.names) - set(DATASETS):
            parser.error(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
        if args.command == "info":
            args.names = args.names or list(DATASETS)
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
    except DataError as exc:  # every failure is one line, never a traceback
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. --out in a folder that does not exist
        print(f"error: {exc.filename}: {exc.strerror}" if exc.filename else f"error: {one_line(str(exc))}",
              file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - e.g. Pillow refusing an image format
        print(f"error: {type(exc).__name__}: {one_line(str(exc))}", file=sys.stderr)
        return 1

