"""Packaging: the wheel `pip install .` builds carries the shipped datasets inside tinytorch, byte for byte, and no
top-level `datasets` package (which would shadow Hugging Face `datasets`); installed, it works from any folder."""
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy
import PIL
import pytest
import setuptools
import tqdm

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["setup.py", "setup.cfg", "pyproject.toml", "README.md", "tinytorch", "datasets"]
PACKAGE_DATA = {".pkl", ".txt", ".json", ".py"}


def _can_build_wheels() -> bool:
    """setuptools builds wheels offline from version 70.1 on, or with the `wheel` package beside it."""
    version = tuple(int(part) for part in setuptools.__version__.split(".")[:2])
    return version >= (70, 1) or importlib.util.find_spec("wheel") is not None


def _run(*command, **kwargs):
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    if not _can_build_wheels():
        pytest.skip("building a wheel offline needs setuptools>=70.1 or `wheel`; `pip install -e .[test]` brings them")
    source, dist = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    for name in SOURCES:  # a copy, so that the build leaves no build/ or egg-info in the checkout
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
         "-w", dist, source)
    [path] = dist.glob("*.whl")
    return path


def shipped_files():
    """Every file under datasets/ that setup.py installs: code, data and READMEs."""
    return [path for path in (ROOT / "datasets").rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
            and (path.suffix in PACKAGE_DATA or path.name == "README.md")]


def test_wheel_installs_tinytorch_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"tinytorch"}
    assert not any(name.startswith("datasets/") for name in names)


def test_wheel_carries_every_shipped_file_unchanged(wheel):
    files = shipped_files()
    assert {"train.pkl", "test.pkl", "README.md"} <= {path.name for path in files if path.parent.name == "tinydigits"}
    with zipfile.ZipFile(wheel) as archive:
        for path in files:
            inside = "tinytorch/data/shipped/" + path.relative_to(ROOT / "datasets").as_posix()
            assert archive.read(inside) == path.read_bytes(), inside


def test_installed_wheel_loads_tinydigits_offline_from_another_folder(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip())
    # The run-time dependencies (and pip) from this interpreter's environment, without a download.
    dependencies = {str(Path(module.__file__).parents[1]) for module in (numpy, PIL, tqdm)}
    dependencies.add(sysconfig.get_path("purelib"))
    (site / "dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    _run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "--quiet", wheel)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import importlib.util, socket, hashlib\n"
        "def refuse(*args): raise OSError('tinytorch tried to use the network')\n"
        "socket.socket.connect = refuse\n"
        "import tinytorch\n"
        "from tinytorch.data import TinyDigits\n"
        "train, test = TinyDigits(), TinyDigits(train=False)\n"
        "assert (len(train), len(test)) == (1000, 200)\n"
        "spec = importlib.util.find_spec('datasets')\n"
        "print(tinytorch.__file__)\n"
        "print(spec.origin if spec else None)\n"
        "print(hashlib.sha256(train.data.tobytes() + train.targets.tobytes()).hexdigest())\n"
    )
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    package, datasets_origin, digest = _run(python, "-c", script, cwd=elsewhere, env=env).split()

    assert Path(package).is_relative_to(site)
    assert datasets_origin == "None" or not Path(datasets_origin).is_relative_to(site)
    from datasets.tinydigits import load_tinydigits
    X_train, y_train, _, _ = load_tinydigits()
    assert digest == hashlib.sha256(X_train.tobytes() + y_train.tobytes()).hexdigest()
