"""A Gradescope autograder for a module: `build` writes the .zip, `run_gradescope` is what its run_autograder runs.

Gradescope unpacks the .zip into /autograder/source, runs setup.sh once when the image is built, then, for each
submission, run_autograder as root with the student's files in /autograder/submission/ (`dataloader.py` is graded,
else `dataloader.ipynb`, else the first .py or .ipynb); it reads /autograder/results/results.json.
TINYTORCH_AUTOGRADER_ROOT replaces /autograder (a test lays out a temporary folder the same way) and
TINYTORCH_AUTOGRADER_PYTHON the python3 that runs the grader.

The bundle holds the grader and the reference (tinytorch/, the shipped TinyDigits), never a module's answer key, and
grader.json: the module and the seed of the hidden cases, drawn when the bundle is built. run_autograder makes
source/ readable by root only before grading, so the submission (which runs under a user id of its own) can read
neither the seed nor the grader.
"""
from __future__ import annotations

import json
import os
import secrets
import sys
import time
import zipfile
from pathlib import Path

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image: the grader's runtime dependencies.
set -euo pipefail
apt-get install -y python3 python3-pip > /dev/null || true
python3 -m pip install --quiet {requirements} || python3 -m pip install --quiet --break-system-packages {requirements}
"""
RUN = """#!/usr/bin/env bash
# Gradescope runs this as root for each submission: the student's files are in $ROOT/submission/, the results go
# to $ROOT/results/results.json. TINYTORCH_AUTOGRADER_ROOT (default /autograder) lets a test run it elsewhere.
set -euo pipefail
ROOT="${TINYTORCH_AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
chmod -R go-rwx "$SOURCE"  # the submission's own user reads neither the seed nor the grader
cd "$SOURCE"
exec "${TINYTORCH_AUTOGRADER_PYTHON:-python3}" -m tinytorch.grade gradescope
"""
REQUIREMENTS = ("numpy>=1.23", "pillow>=9", "tqdm>=4.60")  # setup.cfg's install_requires


def build(module: str, out, seed: int | None = None) -> Path:
    """Write the autograder .zip of `module` to `out`, with `seed` (default: a fresh secret one)."""
    from . import checks_of

    checks_of(module)  # an unknown module is refused before anything is written
    root = Path(__file__).resolve().parents[2]
    seed = secrets.randbits(62) if seed is None else seed
    out = Path(out)
    temporary = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("setup.sh", SETUP.format(requirements=" ".join(f"'{r}'" for r in REQUIREMENTS))),
                           ("run_autograder", RUN)):
            info = zipfile.ZipInfo(name, time.localtime()[:6])
            info.external_attr = 0o755 << 16
            archive.writestr(info, text)
        archive.writestr("grader.json", json.dumps({"module": module, "seed": seed}) + "\n")
        for folder in ("tinytorch", "datasets"):
            for path in sorted((root / folder).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                    archive.write(path, path.relative_to(root).as_posix())
    os.replace(temporary, out)
    return out


def run_gradescope() -> int:
    """Grade the submission in $ROOT/submission with the bundle's module and seed; write $ROOT/results/results.json."""
    from . import grade, report, write_json, write_results

    root = Path(os.environ.get("TINYTORCH_AUTOGRADER_ROOT", "/autograder"))
    config = json.loads((root / "source" / "grader.json").read_text(encoding="utf-8"))
    module, seed = config["module"], config["seed"]
    stem = module.split("_", 1)[-1]
    found = [path for name in (f"{stem}.py", f"{stem}.ipynb") for path in sorted((root / "submission").rglob(name))]
    found = found or sorted(path for path in (root / "submission").rglob("*") if path.suffix in (".py", ".ipynb"))
    results = root / "results" / "results.json"
    if not found:
        write_json(results, {"score": 0, "tests": [], "output": f"no {stem}.py or {stem}.ipynb in the submission: "
                                                                  f"upload your modules/{module}/{stem}.py or .ipynb"})
        return 0
    grading = grade(module, found[0], seed=seed)
    print(report(grading))
    write_results(grading, results)
    return 0


if __name__ == "__main__":
    sys.exit(run_gradescope())
