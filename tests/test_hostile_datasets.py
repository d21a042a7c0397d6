"""Dataset-level hostile and awkward input (issue: offline, classroom and hostile input): a teacher's mirror, files
placed by hand, one split at a time, a read-only classroom copy, damaged caches, archives with the wrong members,
a user's symlinked folder, malformed pickles, and the students' command lines. Every failure is a clear DataError
naming what and where; nothing corrupt is used. The low-level cases (archives, gzip, servers, locks) are in
test_hostile.py."""
import builtins
import errno
import gzip
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from conftest import N_TRAIN, SIZES
from formats import cifar_archive, gzip_bytes, idx_bytes, md5, tar_gz
from tinytorch.data import CIFAR10, MNIST, TinyDigits
from tinytorch.data.datasets.storage import cache
from tinytorch.data.cli import main as cli
from tinytorch.data.datasets import tinydigits
from tinytorch.data.errors import ChecksumError, CorruptFileError, DataError, DatasetNotFoundError

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "milestones"))
import data_manager  # noqa: E402

pytestmark = pytest.mark.usefixtures("fast_retries", "isolated_cache")


def snapshot(folder: Path) -> dict:
    """{path: (size, mtime)} of everything under `folder`, to show that nothing was written."""
    return {path: (path.lstat().st_size, path.lstat().st_mtime_ns) for path in folder.rglob("*")}


@pytest.fixture
def read_only(monkeypatch):
    """make(folder): from now on `folder` behaves as on a read-only mount (EROFS for any write), even for root."""
    def make(folder):
        folder = str(folder)
        inside = lambda path: os.fspath(path).startswith(folder)  # noqa: E731
        refuse = lambda path: OSError(errno.EROFS, "Read-only file system", os.fspath(path))  # noqa: E731
        real_open, real_os_open, real_access = builtins.open, os.open, os.access

        def guarded_open(file, mode="r", *args, **kwargs):
            if isinstance(file, (str, os.PathLike)) and inside(file) and set(mode) & set("wax+"):
                raise refuse(file)
            return real_open(file, mode, *args, **kwargs)

        def guarded_os_open(path, flags, *args, **kwargs):
            if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                raise refuse(path)
            return real_os_open(path, flags, *args, **kwargs)

        def guarded(real):
            def call(path, *args, **kwargs):
                if inside(path):
                    raise refuse(path)
                return real(path, *args, **kwargs)
            return call

        monkeypatch.setattr(builtins, "open", guarded_open)
        monkeypatch.setattr(io, "open", guarded_open)
        monkeypatch.setattr(os, "open", guarded_os_open)
        for name in ("replace", "rename", "unlink", "mkdir", "remove"):
            monkeypatch.setattr(os, name, guarded(getattr(os, name)))
        monkeypatch.setattr(os, "access", lambda path, mode, **kw: not (mode & os.W_OK and inside(path))
                            and real_access(path, mode, **kw))
    return make


# --- a mirror of your own, and files placed by hand ---------------------------------------------------------------

def test_a_teachers_mirror_of_gzipped_raw_files_is_accepted(fake_mnist, loopback, tmp_path, monkeypatch):
    """gzip output holds a name and a time, so the teacher's .gz are not the official bytes; what they extract to is."""
    for name, array in fake_mnist.items():
        loopback.files[f"/teacher/{name}.gz"] = gzip.compress(idx_bytes(array), mtime=1234567)
        assert md5(loopback.files[f"/teacher/{name}.gz"]) != dict(MNIST.resources)[f"{name}.gz"]
    monkeypatch.setenv("TINYTORCH_MNIST_MIRRORS", f"{loopback.url}/teacher/")
    train = MNIST(tmp_path, download=True)
    assert np.array_equal(train.data, fake_mnist["train-images-idx3-ubyte"]) and len(loopback.requests) == 2
    assert not list(MNIST.folder(tmp_path).glob("*.part"))
    assert len(MNIST(tmp_path, download=True)) == SIZES["train"] and len(loopback.requests) == 2


def test_a_mirror_whose_files_extract_to_other_bytes_keeps_nothing(fake_mnist, loopback, tmp_path, monkeypatch):
    wrong = {name: array.copy() for name, array in fake_mnist.items()}
    wrong["train-labels-idx1-ubyte"][0] ^= 1
    for name, array in wrong.items():
        loopback.files[f"/bad/{name}.gz"] = gzip.compress(idx_bytes(array), mtime=5)
    monkeypatch.setenv("TINYTORCH_MNIST_MIRRORS", f"{loopback.url}/bad/")
    with pytest.raises(ChecksumError, match="train-labels-idx1-ubyte.gz: every source delivered wrong bytes"):
        MNIST(tmp_path, download=True)
    folder = MNIST.folder(tmp_path)
    assert not (folder / "train-labels-idx1-ubyte").exists() and not (folder / "train-labels-idx1-ubyte.gz").exists()
    assert not list(folder.glob("*.part"))


def test_gz_placed_by_hand_is_used_with_download_true_and_no_network(fake_mnist, loopback, tmp_path):
    folder = MNIST.folder(tmp_path)
    folder.mkdir(parents=True)
    for name, array in fake_mnist.items():  # gzipped by hand: not the official archive bytes
        (folder / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(array), mtime=99))
    assert np.array_equal(MNIST(tmp_path, download=True).targets, fake_mnist["train-labels-idx1-ubyte"])
    assert np.array_equal(MNIST(tmp_path, train=False).targets, fake_mnist["t10k-labels-idx1-ubyte"])
    assert loopback.requests == []


def test_a_hand_placed_gz_that_extracts_to_wrong_bytes_is_not_used(fake_mnist, loopback, tmp_path):
    folder = MNIST.folder(tmp_path)
    folder.mkdir(parents=True)
    for name, array in fake_mnist.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(array[::-1].copy()), mtime=1))
    with pytest.raises(DatasetNotFoundError, match="is missing train-images-idx3-ubyte"):
        MNIST(tmp_path)
    assert not (folder / "train-images-idx3-ubyte").exists()
    assert np.array_equal(MNIST(tmp_path, download=True).data, fake_mnist["train-images-idx3-ubyte"])  # replaced
    assert len(loopback.requests) == 2


def test_each_split_needs_only_its_own_files(fake_mnist, loopback, tmp_path):
    MNIST(tmp_path, train=True, download=True)
    assert sorted(r.path for r in loopback.requests) == ["/m1/train-images-idx3-ubyte.gz",
                                                         "/m1/train-labels-idx1-ubyte.gz"]
    MNIST(tmp_path, train=False, download=True)
    assert len(loopback.requests) == 4


def test_cifar_opens_one_split_when_the_other_is_missing(fake_cifar, loopback, tmp_path):
    CIFAR10.download(tmp_path, quiet=True)
    (tmp_path / "cifar-10-batches-py" / "test_batch").unlink()
    assert len(CIFAR10(tmp_path, train=True, download=True)) == N_TRAIN and len(loopback.requests) == 1


# --- a read-only classroom copy ------------------------------------------------------------------------------------

def test_a_read_only_classroom_copy_opens_writes_nothing_and_verifies(fake_mnist, fake_cifar, tmp_path, read_only,
                                                                      capsys):
    teacher = tmp_path / "teacher"
    MNIST.download(teacher, quiet=True)
    CIFAR10.download(teacher, quiet=True)
    CIFAR10(teacher), CIFAR10(teacher, train=False)  # the teacher builds the caches
    tmp_path = tmp_path / "copy"
    shutil.copytree(teacher, tmp_path)  # new inodes: the remembered hashes do not apply, every file is hashed again
    before = snapshot(tmp_path)
    read_only(tmp_path)
    assert np.array_equal(MNIST(tmp_path, download=True).targets, fake_mnist["train-labels-idx1-ubyte"])
    assert np.array_equal(CIFAR10(tmp_path, download=True).targets, fake_cifar["train"][1])
    assert isinstance(CIFAR10(tmp_path, train=False).data.base, np.memmap)
    assert cli(["verify", "mnist", "cifar10", "--root", str(tmp_path)]) == 0
    assert snapshot(tmp_path) == before


def test_a_read_only_copy_without_caches_converts_in_memory(fake_cifar, tmp_path, read_only):
    CIFAR10.download(tmp_path, quiet=True)
    before = snapshot(tmp_path)
    read_only(tmp_path)
    assert np.array_equal(CIFAR10(tmp_path).data, fake_cifar["train"][0].transpose(0, 2, 3, 1))
    assert snapshot(tmp_path) == before


def test_a_read_only_folder_of_gz_files_says_so_rather_than_corrupt(fake_mnist, tmp_path, read_only):
    folder = MNIST.folder(tmp_path)
    folder.mkdir(parents=True)
    for name, array in fake_mnist.items():
        (folder / f"{name}.gz").write_bytes(gzip_bytes(idx_bytes(array)))
    before = snapshot(tmp_path)
    read_only(tmp_path)
    for download in (False, True):
        with pytest.raises(DataError, match="read-only") as raised:
            MNIST(tmp_path, download=download)
        assert not isinstance(raised.value, CorruptFileError) and "gunzip -k" in str(raised.value)
    assert snapshot(tmp_path) == before


# --- CIFAR's NumPy cache -------------------------------------------------------------------------------------------

def cache_file(root):
    return root / "cifar-10-batches-py" / "tinytorch_train_data.npy"


def test_an_empty_cache_is_rebuilt(fake_cifar, tmp_path):
    CIFAR10(tmp_path, download=True)
    cache_file(tmp_path).write_bytes(b"")
    assert np.array_equal(CIFAR10(tmp_path).data, fake_cifar["train"][0].transpose(0, 2, 3, 1))
    assert cache_file(tmp_path).stat().st_size > 0


def test_a_deleted_cache_is_rebuilt_and_not_reported(fake_cifar, tmp_path):
    CIFAR10(tmp_path, download=True)
    cache_file(tmp_path).unlink()
    assert cli(["verify", "cifar10", "--root", str(tmp_path)]) == 0
    assert np.array_equal(CIFAR10(tmp_path).data, fake_cifar["train"][0].transpose(0, 2, 3, 1))


def test_a_cache_deleted_by_hand_is_rebuilt_on_the_next_open(fake_cifar, tmp_path):
    CIFAR10(tmp_path, download=True)
    cache_file(tmp_path).unlink()  # "delete the cache to rebuild it", with its digest still on record
    record = cache_file(tmp_path).parent / cache.RECORD
    entries = json.loads(record.read_text())
    assert entries[cache_file(tmp_path).name].pop("seen")  # and what was remembered of the old file is forgotten
    record.write_text(json.dumps(entries))
    assert cache.written_digests(record.parent)[cache_file(tmp_path).name]
    assert np.array_equal(CIFAR10(tmp_path).data, fake_cifar["train"][0].transpose(0, 2, 3, 1))
    assert cache_file(tmp_path).is_file()


def test_a_cache_of_the_right_size_with_wrong_bytes_is_never_used(fake_cifar, tmp_path, capsys):
    CIFAR10(tmp_path, download=True)
    data = bytearray(cache_file(tmp_path).read_bytes())
    data[-1] ^= 0xFF
    cache_file(tmp_path).write_bytes(bytes(data))
    assert cli(["verify", "cifar10", "--root", str(tmp_path)]) == 1
    assert "tinytorch_train_data.npy: md5" in capsys.readouterr().out
    assert np.array_equal(CIFAR10(tmp_path).data, fake_cifar["train"][0].transpose(0, 2, 3, 1))  # rebuilt
    assert cli(["verify", "cifar10", "--root", str(tmp_path)]) == 0


def test_download_repairs_a_damaged_cache(fake_cifar, loopback, tmp_path, capsys):
    CIFAR10(tmp_path, download=True)
    data = bytearray(cache_file(tmp_path).read_bytes())
    data[200] ^= 1
    cache_file(tmp_path).write_bytes(bytes(data))
    assert cli(["download", "cifar10", "--root", str(tmp_path), "--quiet"]) == 0
    assert cli(["verify", "cifar10", "--root", str(tmp_path)]) == 0 and len(loopback.requests) == 1
    assert np.array_equal(CIFAR10(tmp_path).data, fake_cifar["train"][0].transpose(0, 2, 3, 1))


# --- archives with the wrong members, a user's own symlinked folder ----------------------------------------------

def test_a_valid_archive_with_the_wrong_members_says_what_was_missing(fake_cifar, loopback, tmp_path, monkeypatch):
    archive, _ = cifar_archive(*fake_cifar["train"], *fake_cifar["test"], CIFAR10.classes)
    with tarfile.open(fileobj=io.BytesIO(archive)) as source:
        without_test = tar_gz({m.name: source.extractfile(m).read() for m in source.getmembers()
                               if "test_batch" not in m.name})
    loopback.files["/cifar-10-python.tar.gz"] = without_test
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5(without_test))
    with pytest.raises(DatasetNotFoundError) as raised:
        CIFAR10(tmp_path, train=False, download=True)
    message = str(raised.value)
    assert "did not provide test_batch" in message and str(tmp_path / "cifar-10-python.tar.gz") in message
    assert "pass download=True" not in message


def test_a_users_own_symlinked_batches_folder_is_theirs(fake_cifar, loopback, tmp_path):
    elsewhere = tmp_path / "my-disk"
    CIFAR10.download(elsewhere, quiet=True)
    root = tmp_path / "root"
    root.mkdir()
    (root / "cifar-10-batches-py").symlink_to(elsewhere / "cifar-10-batches-py", target_is_directory=True)
    assert np.array_equal(CIFAR10(root, download=True).targets, fake_cifar["train"][1])
    (elsewhere / "cifar-10-batches-py" / "test_batch").unlink()  # a repair extracts through the user's link
    assert np.array_equal(CIFAR10(root, train=False, download=True).targets, fake_cifar["test"][1])
    assert (root / "cifar-10-batches-py").is_symlink()


# --- malformed pickles ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("label", [99, -5])
def test_cifar_labels_out_of_range_are_corrupt_file_errors_naming_the_file(fake_cifar, loopback, tmp_path,
                                                                            monkeypatch, label):
    labels = fake_cifar["train"][1].copy()
    labels[-1] = label
    archive, digests = cifar_archive(fake_cifar["train"][0], labels, *fake_cifar["test"], CIFAR10.classes)
    loopback.files["/cifar-10-python.tar.gz"] = archive
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5(archive))
    monkeypatch.setattr(CIFAR10, "train_list", [[f"data_batch_{i}", digests[f"data_batch_{i}"]] for i in range(1, 6)])
    with pytest.raises(CorruptFileError, match=rf"data_batch_5 is not a CIFAR10 batch .*labels range from .*{label}"):
        CIFAR10(tmp_path, download=True)
    assert not list((tmp_path / "cifar-10-batches-py").glob("tinytorch_*"))  # no cache of bad labels


@pytest.mark.parametrize("content, problem", [({"pixels": np.zeros((2, 8, 8), np.float32), "labels": [1, 2]},
                                               "KeyError: 'images'"),
                                              ({"images": np.zeros((2, 8, 8), np.float32), "labels": [1, 12]},
                                               "labels must be integers 0-9"),
                                              ([1, 2], "TypeError")])
def test_a_tinydigits_pickle_of_the_wrong_shape_is_a_corrupt_file_error(tmp_path, monkeypatch, content, problem):
    (tmp_path / "train.pkl").write_bytes(pickle.dumps(content, protocol=4))
    monkeypatch.setattr(tinydigits, "shipped_dir", lambda name: tmp_path)
    with pytest.raises(CorruptFileError, match=problem) as raised:
        TinyDigits()
    assert str(tmp_path / "train.pkl") in str(raised.value)


# --- students: data_manager, list, preview, a script without NumPy -------------------------------------------------

def test_data_manager_without_arguments_shows_the_status_of_all(isolated_cache, capsys):
    assert data_manager.main([]) == 0
    out = capsys.readouterr().out
    assert all(f"{name}: " in out for name in data_manager.FOLDERS) and "0 of 4 present" in out


def test_status_suggests_verify_when_files_are_present_but_not_verified(fake_mnist, isolated_cache, capsys):
    data_manager.main(["download", "mnist"])
    for memo in data_manager.data_root("mnist").rglob(cache.RECORD):
        memo.unlink()  # e.g. files copied in by hand
    capsys.readouterr()
    data_manager.main(["status", "mnist"])
    out = capsys.readouterr().out
    assert "4 of 4 present, 0 verified (run `python -m tinytorch.data verify mnist" in out
    data_manager.main(["verify", "mnist"])
    data_manager.main(["status", "mnist"])
    assert "4 of 4 present, 4 verified\n" in capsys.readouterr().out


def test_list_shows_presence_and_verification_of_every_dataset(fake_mnist, tmp_path, capsys):
    MNIST(tmp_path, download=True)
    assert cli(["list", "--root", str(tmp_path)]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "shipped" in rows["tinydigits"] and "shipped" in rows["tinytalks"]
    assert "2 of 4 files, 2 verified" in rows["mnist"] and "not downloaded" in rows["cifar10"]
    MNIST(tmp_path, train=False, download=True)
    cli(["list", "--root", str(tmp_path)])
    assert "here, verified" in capsys.readouterr().out.splitlines()[2]


def test_preview_works_for_tinydigits(tmp_path, capsys):
    from PIL import Image

    out = tmp_path / "digits.png"
    assert cli(["preview", "tinydigits", "--out", str(out), "--count", "8", "--test"]) == 0
    grid = np.asarray(Image.open(out))
    assert grid.shape == (8 * 3 + 14, 8 * 8 * 3, 3) and grid[:24].std() > 10  # eight 24x24 tiles with digits


@pytest.mark.parametrize("script", ["03_1986_mlp/01_rumelhart_tinydigits.py", "03_1986_mlp/03_rumelhart_fashion_mnist.py",
                                    "data_manager.py"])
def test_a_milestone_run_without_numpy_prints_one_line_saying_how_to_set_up(tmp_path, script):
    result = subprocess.run([sys.executable, "-S", str(REPO / "milestones" / script)],  # -S: no site-packages
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "source .venv/bin/activate" in result.stderr
    assert "numpy is not installed" in result.stderr
