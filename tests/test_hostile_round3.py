"""A third hostile round (issue 16's new code): FIFOs, links and other users' files where the data layer keeps its
records and caches, folders that change while they are cached, files still being written, odd roots, interrupted
builds and the loader's odd samplers and states. Each case failed (or hung) before its fix; none may hang."""
import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinytorch.data import ImageFolder
from tinytorch.data.datasets.storage import cache
from tinytorch.data.errors import FolderChangedError
from test_hostile_folders import no_hang  # noqa: F401 - a fixture: fails a test that blocks (a FIFO) instead of hanging

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("isolated_cache")
OTHER_USER = 12345  # a uid that is not ours: the tests run as root, so os.chown can make another user's file


def pixels(seed):
    return np.random.default_rng(seed).integers(0, 256, (4, 5, 3), dtype=np.uint8)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    for seed, name in enumerate(["a/1.bmp", "a/2.bmp", "b/1.bmp"]):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels(seed)).save(root / name)
    return root


@pytest.fixture
def hashed(tmp_path):
    """A file whose md5 is remembered in its folder's record."""
    path = tmp_path / "data" / "f"
    path.parent.mkdir()
    path.write_bytes(b"the verified bytes")
    cache.md5(path)
    return path


DIGEST = hashlib.md5(b"the verified bytes").hexdigest()


# --- the md5 record: what vouches for a file without reading it --------------------------------------------------

def test_a_fifo_in_place_of_the_record_is_never_waited_on(hashed, no_hang):
    record = hashed.parent / cache.RECORD
    record.unlink()
    os.mkfifo(record)
    assert cache.known_md5(hashed) is None and cache.md5(hashed) == DIGEST
    assert record.is_file()  # replaced by a record of our own, the FIFO itself (not what it leads to) gone


def test_a_fifo_in_place_of_the_old_derived_record_is_never_waited_on(hashed, no_hang):
    os.mkfifo(hashed.parent / cache.OLD_DERIVED_RECORD)
    assert cache.written_digests(hashed.parent) == {} and cache.md5(hashed) == DIGEST


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"f": {"seen": "x", "written": 5}}',
                                  '{"f": {"seen": [1, 2, 3, 4, {"a": 1}]}}', "\xff\xfe not json", "1e999999"])
def test_a_corrupt_record_counts_as_empty(hashed, text):
    (hashed.parent / cache.RECORD).write_bytes(text.encode(errors="surrogateescape"))
    assert cache.known_md5(hashed) is None and cache.written_digests(hashed.parent) == {}
    assert cache.md5(hashed) == DIGEST and cache.known_md5(hashed) == DIGEST


def test_a_record_larger_than_any_of_ours_is_not_read_into_memory(hashed, monkeypatch):
    record = json.loads((hashed.parent / cache.RECORD).read_text())
    (hashed.parent / cache.RECORD).write_text(json.dumps(record) + " " * 200)
    monkeypatch.setattr(cache, "RECORD_LIMIT", 150)
    assert cache.known_md5(hashed) is None


def test_a_record_written_by_another_user_vouches_for_nothing(hashed):
    """In a shared folder anyone can write a record whose name and identities they can compute."""
    record_path = hashed.parent / cache.RECORD
    record = json.loads(record_path.read_text())
    record["f"]["seen"][4] = "0" * 32  # the digest the wrong bytes would need
    record_path.write_text(json.dumps(record))
    os.chown(record_path, OTHER_USER, OTHER_USER)
    assert cache.known_md5(hashed) is None and cache.md5(hashed) == DIGEST


def test_a_link_in_place_of_the_record_is_not_followed(hashed, tmp_path):
    elsewhere = tmp_path / "users-notes.json"
    elsewhere.write_text(json.dumps({"f": {"seen": cache.identity(hashed) + ["0" * 32]}}))
    (hashed.parent / cache.RECORD).unlink()
    (hashed.parent / cache.RECORD).symlink_to(elsewhere)
    assert cache.known_md5(hashed) is None and cache.md5(hashed) == DIGEST
    assert json.loads(elsewhere.read_text()) == {"f": {"seen": cache.identity(hashed) + ["0" * 32]}}  # untouched


def test_a_file_that_changes_while_it_is_hashed_is_not_remembered(tmp_path, monkeypatch):
    """`verify` on a file still being written: the digest of what was read must not vouch for what is there."""
    path = tmp_path / "growing"
    path.write_bytes(b"first half")
    real = cache.new_md5

    class WriterMeanwhile:
        def __init__(self):
            self.hasher, self.appended = real(), False

        def update(self, chunk):
            self.hasher.update(chunk)
            if not self.appended:  # the writer appends while the hash is computed, once
                self.appended = True
                with open(path, "ab") as handle:
                    handle.write(b", second half")

        def hexdigest(self):
            return self.hasher.hexdigest()

    monkeypatch.setattr(cache, "new_md5", WriterMeanwhile)
    assert cache.md5(path) in {hashlib.md5(b"first half").hexdigest(), hashlib.md5(path.read_bytes()).hexdigest()}
    monkeypatch.setattr(cache, "new_md5", real)
    assert cache.known_md5(path) is None
    assert cache.md5(path) == hashlib.md5(path.read_bytes()).hexdigest() == cache.known_md5(path)


# --- the ImageFolder cache ---------------------------------------------------------------------------------------

def test_a_fifo_in_place_of_the_cache_is_never_waited_on(tree, no_hang):
    path = ImageFolder(tree, cache=True).cache_path
    path.unlink()
    os.mkfifo(path)
    again = ImageFolder(tree, cache=True)
    assert again.cache_path == path and path.is_file() and np.array_equal(again[1][0], pixels(1))


def test_a_cache_written_by_another_user_is_never_served(tree):
    """Cache names are computable from the folder: in a shared cache root another user could plant pixels."""
    path = ImageFolder(tree, cache=True).cache_path
    planted = np.load(path)
    planted[:] = 255
    np.save(path.with_name("planted.npy"), planted)
    os.replace(path.with_name("planted.npy"), path)
    os.chown(path, OTHER_USER, OTHER_USER)
    again = ImageFolder(tree, cache=True)
    assert np.array_equal(again[1][0], pixels(1)) and path.stat().st_uid == os.geteuid()


def test_a_link_in_place_of_the_cache_is_not_followed(tree, tmp_path):
    path = ImageFolder(tree, cache=True).cache_path
    users = tmp_path / "users-array.npy"
    os.replace(path, users)
    path.symlink_to(users)
    again = ImageFolder(tree, cache=True)
    assert np.array_equal(again[0][0], pixels(0)) and path.is_file() and not path.is_symlink() and users.is_file()


def test_files_a_user_placed_in_the_cache_folder_are_never_removed(tree):
    folder = ImageFolder(tree, cache=True).cache_path.parent
    placed = [folder / "my-notes.npy", folder / "mine.part", folder / "export.npy.1.part", folder / "README"]
    for path in placed:
        path.write_bytes(b"the user's")
    Image.fromarray(pixels(9)).save(tree / "b" / "2.bmp")  # a new state: the old cache is replaced
    again = ImageFolder(tree, cache=True)
    assert len(again) == 4 and all(path.read_bytes() == b"the user's" for path in placed)
    assert sorted(path.name for path in folder.glob("*.npy")) == sorted(["my-notes.npy", again.cache_path.name])


EDITS = {}  # path -> the edit the loader below makes to another file while decoding it


def editing_loader(path):
    """A loader that, like a user working on the folder during a build, edits another file meanwhile."""
    if (edit := EDITS.pop(path, None)) is not None:
        edit()
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.mark.parametrize("change", ["edit", "replace", "remove"])
def test_a_file_changed_while_the_folder_is_cached_leaves_no_cache_promising_the_old_state(tree, change):
    decoded = tree / "a" / "1.bmp"  # changed once its old pixels are in the cache being written
    edits = {"edit": lambda: Image.fromarray(pixels(7)).save(decoded), "remove": decoded.unlink,
             "replace": lambda: (Image.fromarray(pixels(7)).save(tree / "new.bmp"), os.replace(tree / "new.bmp", decoded))}
    EDITS[str(tree / "b" / "1.bmp")] = edits[change]
    with pytest.raises(FolderChangedError, match=r"a/1\.bmp changed .* make the ImageFolder again"):
        ImageFolder(tree, loader=editing_loader, cache=True)
    folder = next((Path(os.environ["TINYTORCH_DATA"]) / "folders").iterdir())
    assert [path.name for path in folder.iterdir() if path.name != ".lock"] == []  # no cache, no working file
    if change != "remove":
        again = ImageFolder(tree, loader=editing_loader, cache=True)
        assert np.array_equal(again[0][0], pixels(7))


def can_mount_privately() -> bool:
    try:
        return subprocess.run(["unshare", "-m", "mount", "-t", "tmpfs", "none", "/mnt"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not can_mount_privately(), reason="needs `unshare -m` and mount (root in a private mount "
                                                      "namespace) to make the cache root read-only")
def test_a_stale_cache_under_a_read_only_root_is_refused_saying_what_to_do_and_never_served(tree):
    root = Path(os.environ["TINYTORCH_DATA"])
    stale = ImageFolder(tree, cache=True).cache_path
    Image.fromarray(pixels(8)).save(tree / "a" / "1.bmp")
    script = ("from tinytorch.data import ImageFolder\nimport sys\ntry:\n    print(ImageFolder(sys.argv[1], cache=True)"
              "[0][0].sum())\nexcept Exception as exc:\n    print(type(exc).__name__, exc)")
    shell = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1" && exec "$2" -c "$3" "$4"'
    done = subprocess.run(["unshare", "-m", "sh", "-c", shell, "sh", root, sys.executable, script, tree],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.stdout.startswith("UnusablePathError cannot write") and "Read-only" in done.stdout
    assert "choose a root you can write to" in done.stdout and "$TINYTORCH_DATA" in done.stdout
    assert stale.is_file() and [path.name for path in stale.parent.iterdir() if path.suffix == ".part"] == []


# --- two `download --force` at once ------------------------------------------------------------------------------

@pytest.mark.usefixtures("fast_retries")
def test_two_forced_downloads_at_once_both_end_with_the_verified_files_and_nothing_partial(fake_mnist, loopback,
                                                                                            tmp_path):
    """flock locks belong to an open file, so two threads each opening the lock contend as two processes do."""
    import threading
    from tinytorch.data import MNIST

    MNIST.download(tmp_path, quiet=True)
    for path in list(loopback.files):
        loopback.faults[path] = [("delay_body", 0.2)] * 2  # each forced fetch takes a while: the two overlap
    start, errors = threading.Barrier(2, timeout=30), []

    def force():
        try:
            start.wait()
            MNIST.download(tmp_path, force=True, quiet=True)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=force) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and not any(thread.is_alive() for thread in threads)
    folder = MNIST.folder(tmp_path)
    assert sorted(path.name for path in folder.iterdir() if path.name.endswith(".part")) == []
    dataset = MNIST(tmp_path, train=False)
    assert np.array_equal(dataset.data, fake_mnist["t10k-images-idx3-ubyte"])


# --- the loader: a state crosses processes as JSON -------------------------------------------------------------

def test_a_state_saved_as_json_resumes_in_a_new_process_with_other_workers_to_the_same_batches():
    from tinytorch.data import DataLoader, TensorDataset

    def loader(workers):
        return DataLoader(TensorDataset(np.arange(40).reshape(20, 2)), batch_size=3, shuffle=True,
                          generator=(1 << 62) + 11, num_workers=workers)

    whole = [batch.tolist() for (batch,) in loader(0)]
    first = loader(0)
    iterator = iter(first)
    head = [next(iterator)[0].tolist() for _ in range(2)]
    state = json.dumps(first.state_dict())
    script = ("import json, sys\nimport numpy as np\nfrom tinytorch.data import DataLoader, TensorDataset\n"
              "loader = DataLoader(TensorDataset(np.arange(40).reshape(20, 2)), batch_size=3, shuffle=True, "
              "generator=1, num_workers=2)\nloader.load_state_dict(json.loads(sys.argv[1]))\n"
              "print(json.dumps(loader.state_dict()))\nprint(json.dumps([b.tolist() for (b,) in loader]))")
    done = subprocess.run([sys.executable, "-c", script, state], capture_output=True, text=True, timeout=60,
                          cwd=REPO)
    assert done.returncode == 0, done.stderr
    reloaded, rest = (json.loads(line) for line in done.stdout.splitlines())
    assert reloaded == json.loads(state) and head + rest == whole


# --- $TINYTORCH_DATA where no folder can be ------------------------------------------------------------------------

@pytest.mark.parametrize("make, problem", [
    (lambda path: [(path.parent / "afile").write_text("x"), path.parent / "afile" / "data"][1],
     r"which cannot be a folder: .*afile is a file"),
    (lambda path: path.symlink_to(path.parent / "gone") or path, r"which is a link to .*gone, which does not exist"),
    (lambda path: os.mkfifo(path) or path, r"which is not a folder \(a FIFO, socket or device\)"),
])
def test_a_root_that_cannot_be_a_folder_is_refused_at_once_with_no_advice_that_cannot_work(tmp_path, monkeypatch,
                                                                                         make, problem, no_hang):
    from tinytorch.data import MNIST
    from tinytorch.data.errors import UnusablePathError

    root = make(tmp_path / "root")
    monkeypatch.setenv("TINYTORCH_DATA", str(root))
    with pytest.raises(UnusablePathError, match=r"\$TINYTORCH_DATA is .*" + problem + r": point it at a folder"):
        MNIST()
    done = subprocess.run([sys.executable, "-m", "tinytorch.data", "verify"], capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "point it at a folder" in done.stderr
    assert "download" not in done.stdout + done.stderr  # no printed command that would fail the same way


# --- Ctrl-C in the middle of an atomic replace -------------------------------------------------------------------

def test_ctrl_c_in_the_middle_of_an_atomic_replace_leaves_the_old_file_and_no_working_file(tmp_path):
    target = tmp_path / "record.json"
    target.write_text("the old, whole file")
    # The child raises KeyboardInterrupt on SIGINT even when started from a shell that ignores it (a background job)
    script = ("import signal, sys, time\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
              "from tinytorch.data.datasets.storage.atomic import replacing\n"
              "with replacing(sys.argv[1]) as handle:\n    handle.write(b'half of the new')\n    handle.flush()\n"
              "    print('writing', flush=True)\n    time.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", script, target], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=REPO)
    try:
        assert child.stdout.readline() == "writing\n"  # the working file is half written: interrupt now
        child.send_signal(signal.SIGINT)
        child.wait(timeout=30)
    finally:
        child.kill()
    assert "KeyboardInterrupt" in child.stderr.read()
    assert target.read_text() == "the old, whole file" and sorted(tmp_path.iterdir()) == [target]


def test_a_folder_in_place_of_the_lock_file_is_refused_rather_than_downloading_unlocked(tmp_path, monkeypatch):
    from tinytorch.data import MNIST
    from tinytorch.data.errors import UnusablePathError

    (MNIST.folder(tmp_path) / ".lock").mkdir(parents=True)
    monkeypatch.setenv("TINYTORCH_MNIST_MIRRORS", "http://127.0.0.1:9/")  # never reached
    with pytest.raises(UnusablePathError, match=r"\.lock is a folder, but the data layer needs it as a working file"):
        MNIST.download(tmp_path)
    assert (MNIST.folder(tmp_path) / ".lock").is_dir()


@pytest.mark.parametrize("copy", ["pickle", "deepcopy"])
def test_a_loader_with_persistent_workers_mid_epoch_copies_to_the_same_place(copy):
    import copy as copying
    import pickle

    from tinytorch.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(np.arange(24).reshape(12, 2)), batch_size=2, shuffle=True, generator=5,
                        num_workers=2, persistent_workers=True)
    iterator = iter(loader)
    head = [next(iterator)[0].tolist() for _ in range(2)]
    twin = pickle.loads(pickle.dumps(loader)) if copy == "pickle" else copying.deepcopy(loader)
    assert twin.state_dict() == loader.state_dict()  # where the original is: resuming from it gives the rest
    resumed = DataLoader(TensorDataset(np.arange(24).reshape(12, 2)), batch_size=2, shuffle=True, generator=5)
    resumed.load_state_dict(twin.state_dict())
    rest = [batch.tolist() for (batch,) in iterator]  # the original goes on with its own workers
    assert [batch.tolist() for (batch,) in resumed] == rest and len(head + rest) == 6
    assert [batch.tolist() for (batch,) in twin] == [batch.tolist() for (batch,) in loader]  # the next epoch alike


def test_a_link_planted_at_the_cache_builds_working_name_is_replaced_and_its_target_untouched(tree, tmp_path):
    path = ImageFolder(tree, cache=True).cache_path
    Image.fromarray(pixels(5)).save(tree / "b" / "2.bmp")  # the next build writes a new cache
    users = tmp_path / "users-file.txt"
    users.write_text("the user's")
    next_path, _ = ImageFolder(tree)._cache_path(None, None)  # where the next build will write, plus .<pid>.part
    working = next_path.with_name(f"{next_path.name}.{os.getpid()}.part")
    working.symlink_to(users)
    again = ImageFolder(tree, cache=True)
    assert again.cache_path == next_path != path and np.array_equal(again[3][0], pixels(5))
    assert users.read_text() == "the user's" and not working.exists() and not working.is_symlink()
