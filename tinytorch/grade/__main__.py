"""python -m tinytorch.grade 08_dataloader [PATH] [--json FILE]: grade a student's module against tinytorch.data.

PATH defaults to the module's student file in the checkout (modules/08_dataloader/dataloader.py). The exit status
is 0 only at full marks. --json writes Gradescope's autograder results.json.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import checks_of, grade, report, write_gradescope


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinytorch.grade", description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("module", help="the module to grade, e.g. 08_dataloader")
    parser.add_argument("path", nargs="?", type=Path, help="the student's file (default: the module's in the checkout)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write Gradescope's results.json to FILE")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per check (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the generated cases (default 0)")
    args = parser.parse_args(argv)
    try:
        checks_of(args.module)
    except ValueError as error:
        parser.error(str(error))
    path = args.path or default_path(args.module)
    if not path.is_file():
        parser.error(f"no file {path}: give the path of your {args.module} file")
    start = time.perf_counter()
    results = grade(args.module, path, args.timeout, args.seed)
    print(report(results, path, args.module))
    if args.json:
        write_gradescope(results, time.perf_counter() - start, args.json)
    return 0 if all(result.status == "passed" for result in results) else 1


def default_path(module: str) -> Path:
    from tinytorch.modules import module_paths

    try:
        return module_paths(module)[1]
    except FileNotFoundError:
        return Path("modules") / module / f"{module.split('_', 1)[-1]}.py"


if __name__ == "__main__":
    sys.exit(main())
