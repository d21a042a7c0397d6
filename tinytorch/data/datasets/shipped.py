"""Where the datasets shipped with the project live: one copy, found from a checkout or an installed package."""
from __future__ import annotations

from pathlib import Path


def shipped_dir(name: str) -> Path:
    """The folder of shipped dataset `name` (e.g. 'tinydigits').

    In a checkout it is `datasets/<name>/` at the repository root; `pip install .` puts that same folder in the
    package as `tinytorch/data/shipped/<name>/` (setup.py maps it), so no top-level `datasets` package is installed.
    """
    package = Path(__file__).resolve().parents[1]
    for folder in (package / "shipped" / name, package.parents[1] / "datasets" / name):
        if folder.is_dir():
            return folder
    raise FileNotFoundError(
        f"the shipped dataset {name!r} is missing: looked in {package / 'shipped' / name} and "
        f"{package.parents[1] / 'datasets' / name}; reinstall tinytorch-data or restore the repository's datasets/ folder"
    )
