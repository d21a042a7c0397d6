"""python -m tinytorch.modules release NAME [--check | --out DIR]: write a module's student file, verify it, or
write a whole student repository."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import module_paths, release, release_repository, student_text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinytorch.modules", description=__doc__.split(": ", 1)[1])
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("release", help="generate modules/NAME/<stem>.py from <stem>_dev.py")
    command.add_argument("name", help="the module's folder, e.g. 08_dataloader")
    action = command.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when the committed student file differs from the generated one")
    action.add_argument("--out", type=Path, metavar="DIR",
                        help="write the student repository into DIR (a new folder): the checkout without any answer "
                             "key, with each module's student .py and .ipynb")
    args = parser.parse_args(argv)
    try:
        dev, student = module_paths(args.name)
    except FileNotFoundError as error:
        parser.error(str(error))
    if args.check:
        expected = student_text(dev.read_text(encoding="utf-8"), args.name, dev.name)
        if not student.is_file() or student.read_text(encoding="utf-8") != expected:
            print(f"{student} is out of date: run python -m tinytorch.modules release {args.name}")
            return 1
        print(f"{student} is up to date")
        return 0
    if args.out:
        try:
            written = release_repository(args.out)
        except (FileExistsError, RuntimeError) as error:
            parser.error(str(error))
        files = ", ".join(str(path.relative_to(args.out)) for path in written)
        print(f"wrote the student repository {args.out} ({files})")
        return 0
    print(f"wrote {release(args.name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
