"""python -m tinytorch.grade: grade a student's module against tinytorch.data, or build a Gradescope autograder.

  python -m tinytorch.grade 08_dataloader [PATH] [--json FILE]   grade PATH (.py or .ipynb; default: the module's
                                                                  student file in the checkout); exit 0 at full marks
  python -m tinytorch.grade bundle 08_dataloader --out FILE.zip   write a Gradescope autograder
  python -m tinytorch.grade gradescope                            what the bundle's run_autograder runs
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import checks_of, grade, modules, report, write_results


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bundle"]:
        return bundle_command(argv[1:])
    if argv[:1] == ["gradescope"]:
        from .bundle import run_gradescope

        return run_gradescope()
    summary, usage = __doc__.split("\n\n")[:2]
    parser = argparse.ArgumentParser(prog="python -m tinytorch.grade", description=summary.split(": ", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=usage)
    parser.add_argument("module", help="the module to grade, e.g. 08_dataloader")
    parser.add_argument("path", nargs="?", type=Path, help="the student's .py or .ipynb (default: the module's file)")
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
    grading = grade(args.module, path, args.timeout, args.seed)
    print(report(grading))
    if args.json:
        write_results(grading, args.json)
    return 0 if grading.score == grading.total else 1


def bundle_command(argv) -> int:
    from .bundle import build

    parser = argparse.ArgumentParser(prog="python -m tinytorch.grade bundle",
                                     description="write a Gradescope autograder .zip for a module; its seed (which "
                                                 "generates the hidden cases) is drawn now and stays in the bundle")
    parser.add_argument("module", choices=sorted(modules()), help="the module, e.g. 08_dataloader")
    parser.add_argument("--out", type=Path, required=True, help="the .zip to write, e.g. autograder.zip")
    args = parser.parse_args(argv)
    print(f"wrote {build(args.module, args.out)} (upload it as the assignment's autograder)")
    return 0


def default_path(module: str) -> Path:
    from tinytorch.modules import module_paths

    try:
        return module_paths(module)[1]
    except FileNotFoundError:
        return Path("modules") / module / f"{module.split('_', 1)[-1]}.py"


if __name__ == "__main__":
    sys.exit(main())
