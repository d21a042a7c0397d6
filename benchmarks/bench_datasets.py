"""Dataset opening and conversion speed: `python benchmarks/bench_datasets.py` (prints numbers; asserts nothing).

1. Opening a cached MNIST and CIFAR10, in a fresh process: milliseconds and extra resident memory (targets:
   under 50 ms and under 10 MB, since the arrays are memory-mapped and nothing is hashed again).
2. The first CIFAR-10 conversion (Python 2 batches -> memory-mappable .npy) against a torchvision-style load of
   the same files (pickle.load each batch, vstack, reshape, transpose; torchvision also md5-checks all six batches
   on every construction), side by side on fixture data of the real size, 50000x32x32x3.
MNIST uses the real raw files when $TINYTORCH_MNIST_RAW names their folder, else generated ones of the real size.
"""
import hashlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
from formats import cifar_batch, idx_bytes  # noqa: E402  (the test fixtures' writers of the real formats)

from tinytorch.data import CIFAR10, MNIST  # noqa: E402
from tinytorch.data.datasets.storage import cache  # noqa: E402

OPEN = """
import json, sys, time
def rss(): return int(open("/proc/self/statm").read().split()[1]) * 4096
from tinytorch.data import CIFAR10, MNIST
name, root, md5s = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
MNIST.raw_md5s = md5s if name == "mnist" and md5s else MNIST.raw_md5s
if name == "cifar10":  # the generated batches' digests
    CIFAR10.train_list = [[batch, md5s[batch]] for batch, _ in CIFAR10.train_list]
before, start = rss(), time.perf_counter()
dataset = {"mnist": MNIST, "cifar10": CIFAR10}[name](root)
print(json.dumps([(time.perf_counter() - start) * 1e3, (rss() - before) / 2**20, len(dataset)]))
"""


def open_in_fresh_process(name, root, md5s=None, repeats=5):
    """Best of `repeats` fresh processes: (ms, extra RSS MB) to construct the dataset from its cache."""
    runs = [json.loads(subprocess.run([sys.executable, "-c", OPEN, name, str(root), json.dumps(md5s or {})],
                                      capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)}).stdout)
            for _ in range(repeats)]
    return min(run[0] for run in runs), min(run[1] for run in runs), runs[0][2]


def prepare_mnist(root: Path):
    raw, folder = os.environ.get("TINYTORCH_MNIST_RAW"), MNIST.folder(root)
    folder.mkdir(parents=True)
    if raw and Path(raw, "train-images-idx3-ubyte").is_file():
        for name in MNIST.raw_md5s:
            (folder / name).symlink_to(Path(raw, name))
        return None, "real files"
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 60000), ("t10k", 10000)):
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(rng.integers(0, 256, (n, 28, 28), np.uint8)))
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(rng.integers(0, 10, n, dtype=np.uint8)))
    return {name: cache.md5(folder / name) for name in MNIST.raw_md5s}, "generated files of the real size"


def prepare_cifar(root: Path):
    """Python 2 batches of the real size in root/cifar-10-batches-py, as torchvision leaves them; their md5s."""
    folder = CIFAR10.folder(root)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    digests = {}
    for name in [name for name, _ in CIFAR10.train_list + CIFAR10.test_list]:
        data = cifar_batch(rng.integers(0, 256, (10000, 3, 32, 32), np.uint8), rng.integers(0, 10, 10000).tolist(), name)
        (folder / name).write_bytes(data)
        digests[name] = hashlib.md5(data).hexdigest()
    return digests


def torchvision_style(folder: Path, names, digests=None):
    """What torchvision's CIFAR10.__init__ does: md5 every file (if `digests`), then unpickle, vstack, transpose."""
    if digests:
        for name in digests:
            assert cache.md5(folder / name, rehash=True) == digests[name]
    data, targets = [], []
    for name in names:
        with open(folder / name, "rb") as handle:
            entry = pickle.load(handle, encoding="latin1")
        data.append(entry["data"])
        targets.extend(entry["labels"])
    return np.vstack(data).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1)), targets


CONVERT = """
import json, sys, time
sys.path[:0] = sys.argv[4:]
from pathlib import Path
from bench_datasets import torchvision_style
from tinytorch.data import CIFAR10
from tinytorch.data.datasets.storage import cache
root, case, digests = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
CIFAR10.train_list = [[name, digests[name]] for name, _ in CIFAR10.train_list]
folder, names = CIFAR10.folder(root), [name for name, _ in CIFAR10.train_list]
for path in [*folder.glob("tinytorch_*.npy"), *([folder / cache.RECORD] if case == "hashed" else [])]:
    path.unlink(missing_ok=True)
start = time.perf_counter()
if case.startswith("torchvision"):
    torchvision_style(folder, names, digests if case == "torchvision-md5" else None)
else:
    CIFAR10(root)
print((time.perf_counter() - start) * 1e3)
"""
CASES = {"torchvision": "torchvision-style load (pickle.load, vstack, transpose view)",
         "torchvision-md5": "torchvision-style load + md5 of the 6 files (its every construction)",
         "hashed": "first conversion, batches hashed once (torchvision-filled folder)",
         "known": "first conversion, digests known (we extracted the archive)"}


def convert_in_fresh_process(root, case, digests, repeats=3):
    """Best of `repeats` fresh processes: milliseconds for one CIFAR-10 training-split load or conversion."""
    paths = [str(REPO), str(REPO / "tests"), str(Path(__file__).parent)]
    return min(float(subprocess.run([sys.executable, "-c", CONVERT, str(root), case, json.dumps(digests), *paths],
                                    capture_output=True, text=True, check=True).stdout) for _ in range(repeats))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        md5s, source = prepare_mnist(root)
        MNIST.raw_md5s = md5s or MNIST.raw_md5s
        MNIST(root), MNIST(root, train=False)  # the one-time check, remembered
        ms, mb, n = open_in_fresh_process("mnist", root, md5s)
        print(f"open cached MNIST ({source}, {n} samples): {ms:.1f} ms, {mb:.1f} MB extra RSS (target < 50 ms, < 10 MB)")

        digests = prepare_cifar(root)
        CIFAR10.train_list = [[name, digests[name]] for name, _ in CIFAR10.train_list]
        CIFAR10.test_list = [[name, digests[name]] for name, _ in CIFAR10.test_list]
        CIFAR10(root)  # digests remembered and the page cache warm, for every case alike
        best = {case: convert_in_fresh_process(root, case, digests) for case in CASES}
        print("CIFAR-10 training split, 50000x32x32x3, each in a fresh process, best of 3:")
        for case, label in CASES.items():
            print(f"  {label:72s} {best[case]:6.0f} ms  {best[case] / best['torchvision']:.2f}x  "
                  f"{best[case] / best['torchvision-md5']:.2f}x")
        print(f"  {'(ratios: to the torchvision-style load, to it with its md5 check)':72s}")
        CIFAR10(root)
        ms, mb, n = open_in_fresh_process("cifar10", root, digests)
        print(f"open cached CIFAR10 ({n} samples): {ms:.1f} ms, {mb:.1f} MB extra RSS (target < 50 ms, < 10 MB); "
              f"{best['torchvision'] / ms:.0f}x faster than a torchvision-style load")


if __name__ == "__main__":
    main()
