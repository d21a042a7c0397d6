"""`download --force` (issue 16, bug 1): everything is fetched again, but a verified file is only ever replaced by its
verified replacement, never deleted first, and nothing is deleted through a link into the user's own folder."""
import gzip
import shutil

import numpy as np
import pytest

from formats import idx_bytes
from tinytorch.data import CIFAR10, MNIST
from tinytorch.data.cli import main as cli
from tinytorch.data.datasets.storage import cache

pytestmark = pytest.mark.usefixtures("fast_retries", "isolated_cache")
DEAD = "http://127.0.0.1:9/"  # the discard port: nothing listens, the connection is refused at once


def contents(folder):
    """{name: (bytes, inode)} of the files in `folder` but the library's own records and lock: what a user would
    miss, and whether it was rewritten."""
    return {path.name: (path.read_bytes(), path.stat().st_ino) for path in sorted(folder.iterdir())
            if path.is_file() and path.name not in (cache.RECORD, ".lock")}


@pytest.fixture
def linked_mnist(fake_mnist, tmp_path):
    """The issue's repro: my_mnist holds the 4 verified raw files and NOTES.txt; root/MNIST/raw links to it."""
    MNIST.download(tmp_path / "scratch", quiet=True)
    mine = tmp_path / "my_mnist"
    mine.mkdir()
    for name in fake_mnist:
        shutil.copy(MNIST.folder(tmp_path / "scratch") / name, mine / name)
    (mine / "NOTES.txt").write_text("my notes")
    root = tmp_path / "r"
    (root / "MNIST").mkdir(parents=True)
    (root / "MNIST" / "raw").symlink_to(mine, target_is_directory=True)
    return root, mine


def test_force_with_a_dead_mirror_deletes_nothing_in_the_users_linked_folder(linked_mnist, monkeypatch, capsys):
    root, mine = linked_mnist
    before = contents(mine)
    monkeypatch.setenv("TINYTORCH_MNIST_MIRRORS", DEAD)
    assert cli(["download", "mnist", "--force", "--quiet", "--root", str(root)]) == 1
    assert contents(mine) == before
    assert capsys.readouterr().err.startswith("error: could not download")
    assert len(MNIST(root, train=False)) == 30  # still verified, still usable offline


def test_force_with_a_mirror_of_wrong_bytes_keeps_the_verified_files(linked_mnist, fake_mnist, loopback, monkeypatch):
    root, mine = linked_mnist
    before = contents(mine)
    for name, array in fake_mnist.items():  # .gz files that are not the official ones and extract to other bytes
        loopback.files[f"/bad/{name}.gz"] = gzip.compress(idx_bytes(array ^ 1), mtime=5)
    monkeypatch.setenv("TINYTORCH_MNIST_MIRRORS", f"{loopback.url}/bad/")
    assert cli(["download", "mnist", "--force", "--quiet", "--root", str(root)]) == 1
    assert contents(mine) == before
    assert not list(mine.glob("*.part"))


def test_force_with_a_good_mirror_fetches_again_and_leaves_identical_files_untouched(linked_mnist, loopback):
    root, mine = linked_mnist
    before = contents(mine)
    assert cli(["download", "mnist", "--force", "--quiet", "--root", str(root)]) == 0
    assert sorted(r.path for r in loopback.requests if r.path.startswith("/m1/")).count(
        "/m1/train-images-idx3-ubyte.gz") == 2  # the scratch download, then the forced one
    after = contents(mine)
    assert {name: after[name] for name in before} == before  # the same bytes, not even rewritten
    assert sorted(set(after) - set(before)) == sorted(f"{name}.gz" for name in MNIST.split_files(None))


def test_force_replaces_a_damaged_file_only_with_its_verified_replacement(fake_mnist, loopback, tmp_path):
    MNIST.download(tmp_path, quiet=True)
    damaged = MNIST.folder(tmp_path) / "t10k-labels-idx1-ubyte"
    damaged.write_bytes(b"\0" * damaged.stat().st_size)
    MNIST.download(tmp_path, force=True, quiet=True)
    assert np.array_equal(MNIST(tmp_path, train=False).targets, fake_mnist["t10k-labels-idx1-ubyte"])


def test_cifar_force_with_a_dead_mirror_keeps_the_batches_archive_and_caches(fake_cifar, tmp_path, monkeypatch):
    CIFAR10(tmp_path, download=True)
    CIFAR10(tmp_path, train=False)
    before, archive = contents(CIFAR10.folder(tmp_path)), (tmp_path / CIFAR10.filename).read_bytes()
    monkeypatch.setenv("TINYTORCH_CIFAR10_MIRRORS", DEAD)
    assert cli(["download", "cifar10", "--force", "--quiet", "--root", str(tmp_path)]) == 1
    assert contents(CIFAR10.folder(tmp_path)) == before
    assert (tmp_path / CIFAR10.filename).read_bytes() == archive


def test_cifar_force_with_a_good_mirror_keeps_identical_batches_and_their_caches(fake_cifar, loopback, tmp_path):
    CIFAR10(tmp_path, download=True)
    before = contents(CIFAR10.folder(tmp_path))
    assert cli(["download", "cifar10", "--force", "--quiet", "--root", str(tmp_path)]) == 0
    assert len(loopback.requests) == 2
    after = contents(CIFAR10.folder(tmp_path))
    assert after == before
