"""ImageFolder and its decoded cache under hostile conditions (issue 16): edits that keep the size and the mtime,
a disk that fills during a build, two selections of one tree, loaders the key cannot identify, FIFOs named like
images, decompression bombs. Each case failed before its fix; none may hang or kill the interpreter."""
import functools
import importlib
import os
import pickle
import shutil
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinytorch.data import ImageFolder
from tinytorch.data.datasets.folder import make_dataset, pil_loader
from tinytorch.data.datasets.storage.idx import read_idx
from tinytorch.data.errors import CorruptFileError, CorruptImageError, DatasetNotFoundError

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("isolated_cache")


def pixels(seed, size=(8, 6)):
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


@pytest.fixture
def tree(tmp_path):
    """root/{a,b}/*.bmp: BMPs are uncompressed, so another picture of the same size has the same byte size."""
    root = tmp_path / "tree"
    for seed, name in enumerate(["a/1.bmp", "a/2.bmp", "a/x.bmp", "b/1.bmp", "b/y.bmp"]):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels(seed)).save(root / name)
    return root


class Hung(BaseException):
    """Raised by the alarm: not an OSError, so no `except OSError` in the code under test can swallow it."""


@pytest.fixture
def no_hang():
    """Fail (rather than hang the suite) if the test blocks for 60 s, e.g. opening a FIFO."""
    def interrupt(*_):
        raise Hung("blocked for 60 s")
    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


# --- bug 2: the cache key is what a user cannot keep by accident -------------------------------------------------

def rewrite_in_place(path, source):  # cp -p: the same inode, the contents then the old mtime
    mtime = path.stat().st_mtime_ns
    shutil.copyfile(source, path)
    os.utime(path, ns=(mtime, mtime))


def replace_by_rename(path, source):  # tar x, rsync -t: a new file renamed over the old one, the old mtime
    mtime = path.stat().st_mtime_ns
    temporary = path.with_name(".incoming")
    shutil.copyfile(source, temporary)
    os.utime(temporary, ns=(mtime, mtime))
    os.replace(temporary, path)


@pytest.mark.parametrize("edit", [rewrite_in_place, replace_by_rename])
def test_an_edit_that_keeps_the_size_and_the_mtime_is_decoded_again(tree, tmp_path, edit):
    first = ImageFolder(tree, cache=True)
    target, new = tree / "a" / "2.bmp", pixels(99)
    Image.fromarray(new).save(tmp_path / "new.bmp")
    size = target.stat().st_size
    edit(target, tmp_path / "new.bmp")
    assert target.stat().st_size == size
    again = ImageFolder(tree, cache=True)
    assert again.cache_path != first.cache_path and np.array_equal(again[1][0], new)


# --- bug 3: a disk that fills during a build is a DiskSpaceError, never SIGBUS ----------------------------------

def test_a_disk_that_fills_during_a_build_is_a_disk_space_error_with_nothing_left(tmp_path):
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs unshare and root for a private mount namespace with a tiny tmpfs")
    root = tmp_path / "big"
    for i in range(30):  # 30 x 64 x 64 x 3 = 368,640 decoded bytes, for a 256 kB disk
        (root / "c").mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels(i, (64, 64))).save(root / "c" / f"{i:02}.png")
    small = tmp_path / "small"
    small.mkdir()
    script = ("import os, sys; from tinytorch.data import ImageFolder; from tinytorch.data.datasets import folder;"
              "from tinytorch.data.errors import DiskSpaceError;"
              "folder.check_space = lambda *args: None  # a quota, which statvfs does not show\n"
              "def build():\n    try:\n        ImageFolder(sys.argv[1], cache=True)\n"
              "    except DiskSpaceError as error:\n        print('DiskSpaceError:', error)\n"
              "build()  # the disk fills during the build\n"
              "with open(os.path.join(os.environ['TINYTORCH_DATA'], 'filler'), 'wb', buffering=0) as filler:\n"
              "    try:\n        while True: filler.write(bytes(4096))\n    except OSError: pass\n"
              "build()  # the disk is full from the start, even for the lock's note of who holds it\n"
              "print(sorted(name for _, _, names in os.walk(os.environ['TINYTORCH_DATA']) for name in names))")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here: {probe.stderr.decode().strip()}")
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", 'mount -t tmpfs -o size=256k tmpfs "$0" && exec "$@"', str(small),
         sys.executable, "-c", script, str(root)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "TINYTORCH_DATA": str(small), "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr  # -7 would be SIGBUS
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and all(line.startswith("DiskSpaceError: the disk holding") for line in lines[:2])
    assert not any(name.endswith(".part") or name.endswith(".npy") for name in eval(lines[2]))


# --- bug 4: two selections of one tree keep their own caches -----------------------------------------------------

def is_train(path):
    return not path.endswith("y.bmp") and not path.endswith("x.bmp")


def is_val(path):
    return path.endswith(("x.bmp", "y.bmp"))


def test_train_and_val_selections_of_one_tree_never_delete_each_others_caches(tree):
    train = ImageFolder(tree, is_valid_file=is_train, cache=True)
    val = ImageFolder(tree, is_valid_file=is_val, cache=True)
    assert (len(train), len(val)) == (3, 2) and train.cache_path.exists() and val.cache_path.exists()
    again = ImageFolder(tree, is_valid_file=is_train, cache=True)
    assert again.cache_path == train.cache_path and val.cache_path.exists()
    copy = pickle.loads(pickle.dumps(train))  # what a spawned worker does: the cache must still be there
    assert np.array_equal(copy.data, train.data)


def test_a_stale_cache_of_the_same_selection_is_still_replaced(tree):
    old = ImageFolder(tree, is_valid_file=is_train, cache=True).cache_path
    other = ImageFolder(tree, is_valid_file=is_val, cache=True).cache_path
    Image.fromarray(pixels(50)).save(tree / "b" / "2.bmp")
    new = ImageFolder(tree, is_valid_file=is_train, cache=True).cache_path
    assert new != old and not old.exists() and other.exists()


def test_a_new_class_folder_replaces_the_cache_of_the_same_selection(tree):
    old = ImageFolder(tree, cache=True).cache_path
    Image.fromarray(pixels(60)).save((tree / "c").mkdir() or tree / "c" / "1.bmp")
    new = ImageFolder(tree, cache=True)
    assert new.classes == ["a", "b", "c"] and new.cache_path != old and not old.exists()


def test_a_cache_of_the_first_layout_is_removed_when_the_folder_is_cached_again(tree):
    path = ImageFolder(tree, cache=True).cache_path
    old = path.with_name("0123abcd-" + "0" * 32 + ".npy")  # version 1: <settings>-<state>.npy
    old.write_bytes(b"an old cache")
    Image.fromarray(pixels(70)).save(tree / "b" / "3.bmp")
    assert ImageFolder(tree, cache=True).cache_path.exists() and not old.exists()


# --- bug 5: the key identifies the loader, or the cache is refused -----------------------------------------------

class Decoder:
    def __init__(self, mode):
        self.mode = mode

    def load(self, path):
        with Image.open(path) as image:
            return np.asarray(image.convert(self.mode))


@pytest.mark.parametrize("loader", [Decoder("L").load, lambda path: pil_loader(path), functools.partial(pil_loader),
                                    Decoder("L")], ids=["bound method", "lambda", "partial", "callable object"])
def test_a_loader_the_key_cannot_identify_is_refused_saying_what_to_do(tree, loader):
    with pytest.raises(ValueError, match="cache_key=") as raised:
        ImageFolder(tree, loader=loader, cache=True)
    assert "loader=" in str(raised.value) and "cache=False" in str(raised.value)


def test_an_explicit_cache_key_keeps_loaders_apart(tree):
    grey = ImageFolder(tree, loader=Decoder("L").load, cache=True, cache_key="grey")
    rgb = ImageFolder(tree, loader=Decoder("RGB").load, cache=True, cache_key="rgb")
    assert grey.cache_path != rgb.cache_path and grey[0][0].shape == (8, 6) and rgb[0][0].shape == (8, 6, 3)
    assert ImageFolder(tree, loader=Decoder("L").load, cache=True, cache_key="grey").cache_path == grey.cache_path
    with pytest.raises(TypeError, match="cache_key must be a non-empty str"):
        ImageFolder(tree, cache=True, cache_key=5)


def test_a_loader_edited_between_runs_gets_its_own_cache(tree, tmp_path, monkeypatch):
    module = tmp_path / "my_loaders.py"
    source = ("import numpy as np\nfrom PIL import Image\n\ndef load(path):\n"
              "    with Image.open(path) as image:\n        return np.asarray(image.convert({mode!r}))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module.write_text(source.format(mode="L"))
    loaders = importlib.import_module("my_loaders")
    grey = ImageFolder(tree, loader=loaders.load, cache=True)
    module.write_text(source.format(mode="RGB"))
    importlib.reload(loaders)
    rgb = ImageFolder(tree, loader=loaders.load, cache=True)
    assert rgb.cache_path != grey.cache_path and rgb[0][0].shape == (8, 6, 3)


# --- bug 6: only regular files are samples ------------------------------------------------------------------------

def test_a_fifo_named_like_an_image_is_skipped_and_never_opened(tree, no_hang):
    os.mkfifo(tree / "a" / "pipe.png")
    os.symlink(tree / "nowhere.png", tree / "b" / "dangling.png")
    dataset = ImageFolder(tree, cache=True)
    names = [Path(path).name for path, _ in dataset.samples]
    assert names == ["1.bmp", "2.bmp", "x.bmp", "1.bmp", "y.bmp"]
    assert [Path(p).name for p, _ in make_dataset(str(tree), {"a": 0}, extensions=(".png",), allow_empty=True)] == []


# --- weak spots: decompression bombs, and a pixel limit ----------------------------------------------------------

def png_declaring(width, height) -> bytes:
    """A PNG of a few dozen bytes whose header declares width x height grey pixels (its data is one empty block)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height", [(200000, 200000), (10000, 10000)])
def test_an_image_declaring_too_many_pixels_is_a_corrupt_image_error_naming_it(tree, width, height):
    bomb = tree / "a" / "bomb.png"
    bomb.write_bytes(png_declaring(width, height))
    with pytest.raises(CorruptImageError, match="MAX_IMAGE_PIXELS") as raised:
        ImageFolder(tree)[2]  # a/1.bmp, a/2.bmp, a/bomb.png
    assert str(bomb) in str(raised.value)


def test_the_pixel_limit_is_pillows_and_can_be_lowered(tree, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 8 * 6 - 1)
    with pytest.raises(CorruptImageError, match=r"declares 6x8 = 48 pixels, more than PIL.Image.MAX_IMAGE_PIXELS"):
        ImageFolder(tree)[0]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 8 * 6)
    assert ImageFolder(tree)[0][0].shape == (8, 6, 3)


# --- issue 17: get_batch is a property, not attached at run time ------------------------------------------------

def test_get_batch_is_there_exactly_when_cached_and_survives_pickling_without_a_special_case(tree):
    plain, cached = ImageFolder(tree), ImageFolder(tree, cache=True)
    assert not hasattr(plain, "get_batch") and "get_batch" not in vars(cached)
    images, labels = pickle.loads(pickle.dumps(cached)).get_batch([4, 0])
    assert np.array_equal(images, cached.data[[4, 0]]) and labels.tolist() == [1, 0]
    os.remove(cached.cache_path)
    with pytest.raises(DatasetNotFoundError, match="make the ImageFolder again"):
        pickle.loads(pickle.dumps(cached))


# --- issue 17: one rule for CorruptFileError and OSError ---------------------------------------------------------

def test_a_corrupt_image_is_an_os_error_and_a_corrupt_file_error_while_other_corrupt_files_are_not_os_errors(tree):
    (tree / "a" / "1.bmp").write_bytes(b"BM not really")
    with pytest.raises(OSError) as raised:  # torchvision code's `except OSError` still catches it
        ImageFolder(tree)[0]
    assert isinstance(raised.value, CorruptFileError) and str(tree / "a" / "1.bmp") in str(raised.value)
    (tree / "images-idx3-ubyte").write_bytes(b"\0\0\x08\x01\0\0\0\x09")
    with pytest.raises(CorruptFileError) as raised:
        read_idx(tree / "images-idx3-ubyte")
    assert not isinstance(raised.value, OSError)
