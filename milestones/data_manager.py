"""Where the milestones keep the datasets they download, and a command line to see, fetch and check them.

Each downloaded dataset lives in its own folder under `milestones/data/` (ignored by git): `mnist/`,
`fashion-mnist/`, `cifar-10/`, unless $TINYTORCH_DATA is set: then all use that root, as the library does.
Downloading, checksums and the report all belong to tinytorch.data; this file only chooses each dataset's root
and hands it the command.

    python milestones/data_manager.py                        the status of every dataset (same as `status`)
    python milestones/data_manager.py status   [NAME ...]    where, size on disk, files present and verified
    python milestones/data_manager.py download [NAME ...]    fetch what is missing or damaged, then verify
    python milestones/data_manager.py verify   [NAME ...]    re-hash every file against its known md5
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(1, str(HERE.parent))  # the checkout, for tinytorch when it is not installed

try:
    from tinytorch.data.cli import OneLineParser, main as data_cli  # noqa: E402
except ImportError as missing:  # a Python without the project's packages: one line, no traceback
    sys.exit(f"{missing.name} is not installed for {sys.executable}: run this in the project's environment "
             f"(`make demo` creates it once, then `source .venv/bin/activate`, or run `.venv/bin/python {__file__}`)")

FOLDERS = {"mnist": "mnist", "fashionmnist": "fashion-mnist", "cifar10": "cifar-10"}
COMMANDS = {"status": "info", "download": "download", "verify": "verify"}


def data_root(name: str) -> Path:
    """The root to pass as `root=` to the dataset `name` (one of FOLDERS' keys)."""
    if name not in FOLDERS:
        raise ValueError(f"name must be one of {', '.join(map(repr, FOLDERS))}, got {name!r}")
    if os.environ.get("TINYTORCH_DATA"):  # checked where it is used: a file there is a one-line error, not a traceback
        return Path(os.environ["TINYTORCH_DATA"]).expanduser()
    return HERE / "data" / FOLDERS[name]


def main(argv=None) -> int:
    """Run `command` (default: status) for each named dataset (default: all) in its milestone root; the exit
    status is 1 if any fails."""
    parser = OneLineParser(description=__doc__.splitlines()[0])  # a usage error: one line, exit status 2
    parser.add_argument("command", nargs="?", default="status", choices=list(COMMANDS),
                        help="status (the default), download or verify")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(FOLDERS)} (default: all)")
    args = parser.parse_args(argv)
    for name in args.names:
        if name not in FOLDERS:
            parser.error(f"unknown dataset {name!r}; expected any of {', '.join(FOLDERS)}")
    failed = 0
    for name in args.names or list(FOLDERS):
        failed |= data_cli([COMMANDS[args.command], name, f"--root={data_root(name)}"])  # a root may start with -
    return failed


if __name__ == "__main__":
    sys.exit(main())
