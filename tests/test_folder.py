"""DatasetFolder and ImageFolder on PNG folders made by each test: torchvision's layout, errors and pixels, the
decoded-image cache (keyed by the folder's listing, rebuilt when damaged), and the loader over it."""
import errno
import functools
import os
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

from torch_reference import torchvision_or_none
from tinytorch.data import DataLoader, DatasetFolder, ImageFolder, Subset, default_collate
from tinytorch.data.datasets import folder as folder_module
from tinytorch.data.datasets.folder import (IMG_EXTENSIONS, default_loader, find_classes, has_file_allowed_extension,
                                            is_image_file, make_dataset, pil_loader)
from tinytorch.data.errors import CorruptFileError, DatasetNotFoundError, UnusablePathError
from tinytorch.data.transforms import (CenterCrop, ColorJitter, Compose, GaussianBlur, Pad, RandomCrop, RandomErasing,
                                       RandomGrayscale, RandomHorizontalFlip, RandomResizedCrop, RandomRotation, ToTensor)

pytestmark = pytest.mark.usefixtures("isolated_cache")

HEIGHT, WIDTH = 6, 5
# The folder the `photos` fixture writes, as (path relative to the root, class index), in torchvision's order:
# classes sorted, then a sorted walk of each class folder (sub-folders too), files sorted; other files left out.
EXPECTED = [("bird/y.bmp", 0), ("bird/z.png", 0), ("cat/.hidden.png", 1), ("cat/1.png", 1), ("cat/2.PNG", 1),
            ("dog/a.png", 2), ("dog/gray.png", 2), ("dog/palette.png", 2), ("dog/rgba.png", 2),
            ("dog/puppies/b.png", 2)]
tv = torchvision_or_none()
needs_torchvision = pytest.mark.skipif(tv is None, reason="torchvision is not installed")
as_root = pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")


def write_image(path: Path, array: np.ndarray, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(path)


def random_image(seed, height=HEIGHT, width=WIDTH, channels=3):
    return np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)


@pytest.fixture
def photos(tmp_path):
    """root/<class>/... with RGB, grayscale, palette and RGBA images, a BMP, an upper-case suffix, a hidden file,
    a nested folder, and files that are not samples (a text file, an image beside the class folders)."""
    root = tmp_path / "photos"
    for seed, (name, _) in enumerate(EXPECTED):
        mode = {"dog/gray.png": "L", "dog/palette.png": "P"}.get(name)
        write_image(root / name, random_image(seed, channels=4 if name == "dog/rgba.png" else 3), mode)
    (root / "dog" / "readme.txt").write_text("not an image")
    write_image(root / "stray.png", random_image(99))
    return root


def decoded(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def loaded_batches(dataset, epochs=2, **options):
    loader = DataLoader(dataset, batch_size=3, shuffle=True, generator=7, **options)
    return [batch for _ in range(epochs) for batch in loader]


def error_of(call):
    """(type, message) of the exception `call()` raises."""
    try:
        call()
    except Exception as error:  # noqa: BLE001  (any type: the test compares it)
        return type(error), str(error)
    raise AssertionError("no exception was raised")


# ------------------------------------------------------------------------------------------------ layout, pixels

def test_classes_samples_and_targets_follow_the_sorted_walk(photos):
    dataset = ImageFolder(photos)
    assert dataset.classes == ["bird", "cat", "dog"] and dataset.class_to_idx == {"bird": 0, "cat": 1, "dog": 2}
    assert dataset.samples == [(os.path.join(str(photos), name), target) for name, target in EXPECTED]
    assert dataset.targets == [target for _, target in EXPECTED] and dataset.imgs is dataset.samples
    assert len(dataset) == len(EXPECTED) and dataset.extensions == IMG_EXTENSIONS
    assert not hasattr(dataset, "get_batch")  # no cache: the loader decodes sample by sample


def test_images_decode_to_rgb_uint8_arrays(photos):
    dataset = ImageFolder(photos)
    for i, (name, target) in enumerate(EXPECTED):
        image, label = dataset[i]
        assert image.dtype == np.uint8 and image.shape == (HEIGHT, WIDTH, 3) and label == target
        assert np.array_equal(image, decoded(photos / name))
    gray = dataset[EXPECTED.index(("dog/gray.png", 2))][0]
    assert np.array_equal(gray[..., 0], gray[..., 2])
    assert np.array_equal(dataset[0][0], dataset[-len(dataset)][0])
    with pytest.raises(IndexError):
        dataset[len(dataset)]


def test_transforms_get_the_array(photos):
    dataset = ImageFolder(photos, transform=ToTensor(), target_transform=lambda t: t * 10)
    image, label = dataset[3]
    assert image.dtype == np.float32 and image.shape == (3, HEIGHT, WIDTH) and label == 10
    assert np.allclose(image, decoded(photos / EXPECTED[3][0]).transpose(2, 0, 1) / 255)


@needs_torchvision
@pytest.mark.parametrize("as_path", [False, True])
def test_same_classes_samples_and_pixels_as_torchvision(photos, as_path):
    root = photos if as_path else str(photos)
    ours, theirs = ImageFolder(root), tv.datasets.ImageFolder(root)
    assert ours.classes == theirs.classes and ours.class_to_idx == theirs.class_to_idx
    assert ours.samples == theirs.samples and ours.targets == theirs.targets and ours.imgs == theirs.imgs
    for i in range(len(theirs)):
        image, label = theirs[i]
        assert np.array_equal(ours[i][0], np.asarray(image)) and ours[i][1] == label


def test_module_functions(photos):
    assert IMG_EXTENSIONS == (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
    assert has_file_allowed_extension("A/B.PNG", (".png",)) and has_file_allowed_extension("x.npy", ".npy")
    assert has_file_allowed_extension("x.npy", [".txt", ".npy"]) and not has_file_allowed_extension("x.png", ".jpg")
    assert is_image_file("photo.JPEG") and not is_image_file("notes.txt")
    assert find_classes(photos) == (["bird", "cat", "dog"], {"bird": 0, "cat": 1, "dog": 2})
    texts = make_dataset(str(photos), is_valid_file=lambda path: path.endswith(".txt"), allow_empty=True)
    assert texts == [(os.path.join(str(photos), "dog", "readme.txt"), 2)]
    assert make_dataset(photos, {"cat": 5}, extensions=(".png",)) == \
        [(os.path.join(str(photos), "cat", name), 5) for name in (".hidden.png", "1.png", "2.PNG")]
    assert default_loader is pil_loader


@needs_torchvision
def test_module_functions_match_torchvision(photos):
    theirs = tv.datasets.folder
    assert IMG_EXTENSIONS == theirs.IMG_EXTENSIONS
    for name in ["a.PNG", "b.jpeg", "c.txt", "d.png.txt", ".webp"]:
        assert is_image_file(name) == theirs.is_image_file(name)
        assert has_file_allowed_extension(name, ".txt") == theirs.has_file_allowed_extension(name, ".txt")
    assert find_classes(photos) == theirs.find_classes(photos)
    for arguments in [dict(extensions=(".png", ".bmp")), dict(is_valid_file=lambda p: "a" in p, allow_empty=True),
                      dict(class_to_idx={"dog": 0, "missing": 1}, extensions=".png", allow_empty=True)]:
        assert make_dataset(str(photos), **arguments) == theirs.make_dataset(str(photos), **arguments)


def test_dataset_folder_with_its_own_loader_and_extensions(photos):
    dataset = DatasetFolder(photos, loader=lambda path: Path(path).stat().st_size, extensions=(".txt",),
                            allow_empty=True)
    assert dataset.samples == [(os.path.join(str(photos), "dog", "readme.txt"), 2)]
    assert dataset[0] == (len("not an image"), 2) and dataset.classes == ["bird", "cat", "dog"]
    assert repr(dataset).splitlines()[:3] == ["Dataset DatasetFolder", "    Number of datapoints: 1",
                                              f"    Root location: {photos}"]


def test_repr_is_torchvisions(photos):
    for transform, their_transform in [(None, None), (ToTensor(), tv and tv.transforms.ToTensor())]:
        ours = repr(ImageFolder(photos, transform=transform))
        assert ours.splitlines()[:3] == ["Dataset ImageFolder", f"    Number of datapoints: {len(EXPECTED)}",
                                         f"    Root location: {photos}"]
        if tv is not None:
            assert ours == repr(tv.datasets.ImageFolder(photos, transform=their_transform))


def test_find_classes_and_make_dataset_can_be_overridden(photos):
    class OnlyDogs(ImageFolder):
        def find_classes(self, directory):
            return ["dog"], {"dog": 0}

    dataset = OnlyDogs(photos)
    assert dataset.classes == ["dog"] and set(dataset.targets) == {0} and len(dataset) == 5


# ------------------------------------------------------------------------------------------------ errors

def error_cases(root, empty):
    """name -> (call, expected exception type, expected message): torchvision's errors, word for word."""
    return {
        "empty class folder": (lambda m: m.ImageFolder(root), FileNotFoundError,
                               "Found no valid file for the classes empty. Supported extensions are: "
                               + ", ".join(IMG_EXTENSIONS)),
        "no class folder": (lambda m: m.ImageFolder(empty), FileNotFoundError,
                            f"Couldn't find any class folder in {empty}."),
        "both extensions and is_valid_file": (
            lambda m: m.DatasetFolder(root, m.folder.pil_loader, (".png",), is_valid_file=bool), ValueError,
            "Both extensions and is_valid_file cannot be None or not None at the same time"),
        "neither": (lambda m: m.folder.make_dataset(root, {"cat": 0}), ValueError,
                    "Both extensions and is_valid_file cannot be None or not None at the same time"),
        "empty class_to_idx": (lambda m: m.folder.make_dataset(root, {}, extensions=".png"), ValueError,
                               "'class_to_index' must have at least one entry to collect any samples."),
        "class_to_idx None": (lambda m: m.DatasetFolder.make_dataset(root, None, extensions=".png"), ValueError,
                              "The class_to_idx parameter cannot be None."),
        "txt only": (lambda m: m.DatasetFolder(root, m.folder.pil_loader, ".txt"), FileNotFoundError,
                     "Found no valid file for the classes bird, cat, empty. Supported extensions are: .txt"),
    }


class Ours:
    """tinytorch's folder names under torchvision.datasets' spelling, for the error cases."""
    ImageFolder, DatasetFolder, folder = ImageFolder, DatasetFolder, folder_module


@pytest.fixture
def broken_layouts(photos, tmp_path):
    (photos / "empty").mkdir()
    (tmp_path / "no-classes").mkdir()
    (tmp_path / "no-classes" / "loose.png").write_bytes(b"")
    return error_cases(str(photos), str(tmp_path / "no-classes"))


@pytest.mark.parametrize("case", list(error_cases("", "")))
def test_errors_for_bad_layouts(broken_layouts, case):
    call, kind, message = broken_layouts[case]
    assert error_of(lambda: call(Ours)) == (kind, message)


@needs_torchvision
@pytest.mark.parametrize("case", list(error_cases("", "")))
def test_errors_for_bad_layouts_match_torchvision(broken_layouts, case):
    call = broken_layouts[case][0]
    assert error_of(lambda: call(Ours)) == error_of(lambda: call(tv.datasets))


def test_allow_empty_keeps_empty_class_folders_as_classes(photos):
    (photos / "empty").mkdir()
    dataset = ImageFolder(photos, allow_empty=True)
    assert dataset.classes == ["bird", "cat", "dog", "empty"] and len(dataset) == len(EXPECTED)
    if tv is not None:
        assert dataset.samples == tv.datasets.ImageFolder(photos, allow_empty=True).samples


@pytest.mark.parametrize("content", [b"", b"this is a text file, named like an image", "truncated"])
def test_undecodable_files_raise_corrupt_file_error_naming_the_file(photos, content):
    path = photos / "cat" / "1.png"
    if content == "truncated":
        content = path.read_bytes()[:len(path.read_bytes()) // 2]
    path.write_bytes(content)
    dataset = ImageFolder(photos)
    with pytest.raises(CorruptFileError, match=re.escape(str(path))) as caught:
        dataset[EXPECTED.index(("cat/1.png", 1))]
    assert isinstance(caught.value, OSError)  # what torchvision's Pillow errors are, so `except OSError` still works
    assert dataset[0][0].shape == (HEIGHT, WIDTH, 3)  # the other files still load


def test_a_corrupt_file_stops_the_cache_build_and_leaves_nothing(photos, tmp_path):
    path = photos / "dog" / "a.png"
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(CorruptFileError, match=re.escape(str(path))):
        ImageFolder(photos, cache=True)
    assert not [p for p in (tmp_path / "default-root").rglob("*") if p.is_file() and p.name != ".lock"]


@as_root
def test_an_unreadable_file_raises_permission_error_naming_it(photos):
    path = photos / "cat" / "1.png"
    path.chmod(0)
    with pytest.raises(PermissionError) as caught:
        ImageFolder(photos)[EXPECTED.index(("cat/1.png", 1))]
    assert caught.value.filename == str(path)


def test_symbolic_links_are_followed_as_torchvision_does(photos, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    write_image(elsewhere / "fish" / "f.png", random_image(20))
    write_image(elsewhere / "more" / "m.png", random_image(21))
    (photos / "fish").symlink_to(elsewhere / "fish", target_is_directory=True)  # a linked class folder
    (photos / "cat" / "more").symlink_to(elsewhere / "more", target_is_directory=True)  # a linked sub-folder
    (photos / "cat" / "0.png").symlink_to(elsewhere / "more" / "m.png")  # a linked file
    dataset = ImageFolder(photos)
    names = [os.path.relpath(path, photos) for path, _ in dataset.samples]
    assert dataset.classes == ["bird", "cat", "dog", "fish"]
    assert names[2:7] == ["cat/.hidden.png", "cat/0.png", "cat/1.png", "cat/2.PNG", "cat/more/m.png"]
    assert names[-1] == "fish/f.png" and np.array_equal(dataset[3][0], dataset[6][0])
    if tv is not None:
        assert dataset.samples == tv.datasets.ImageFolder(photos).samples


def test_the_walk_is_sorted_by_folder_path_as_torchvision_sorts_it(tmp_path):
    """torchvision sorts os.walk's (folder, sub-folders, files) triples: "a-b" comes between "a" and "a/deeper"."""
    root = tmp_path / "photos"
    for seed, name in enumerate(["cat/a/deeper/x.png", "cat/a-b/y.png", "cat/a/z.png", "cat/B/w.png", "cat/v.png"]):
        write_image(root / name, random_image(seed))
    samples = [os.path.relpath(path, root) for path, _ in ImageFolder(root).samples]
    assert samples == ["cat/v.png", "cat/B/w.png", "cat/a/z.png", "cat/a-b/y.png", "cat/a/deeper/x.png"]
    if tv is not None:
        assert ImageFolder(root).samples == tv.datasets.ImageFolder(root).samples


name_parts = st.text(alphabet="aAb-_. 0Z", min_size=1, max_size=4).filter(lambda name: name not in (".", ".."))
relative_paths = st.lists(st.lists(name_parts, min_size=1, max_size=3).map(tuple), min_size=1, max_size=12)


@needs_torchvision
@settings(max_examples=40, deadline=None)
@given(classes=st.lists(name_parts, min_size=1, max_size=3, unique=True), paths=relative_paths,
       suffixes=st.lists(st.sampled_from([".png", ".PNG", ".jpg", ".txt", ""]), min_size=12, max_size=12))
def test_any_tree_lists_as_torchvision_lists_it(tmp_path_factory, classes, paths, suffixes):
    """Random trees of class folders, nested folders and files (names with '-', '.', ' ', upper case): the same
    classes and samples as torchvision's ImageFolder, or the same error."""
    root = tmp_path_factory.mktemp("tree")
    for i, parts in enumerate(paths):
        path = root.joinpath(classes[i % len(classes)], *parts[:-1], parts[-1] + suffixes[i])
        if not path.exists() and not any(parent.is_file() for parent in path.parents):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")
    for allow_empty in (False, True):
        assert listing_or_error(lambda: ImageFolder(root, allow_empty=allow_empty)) == \
            listing_or_error(lambda: tv.datasets.ImageFolder(root, allow_empty=allow_empty))


def listing_or_error(make):
    """(classes, class_to_idx, samples) of the dataset `make()` returns, or (type, message) of what it raises."""
    try:
        dataset = make()
    except Exception as error:  # noqa: BLE001  (any type: the test compares it)
        return type(error), str(error)
    return dataset.classes, dataset.class_to_idx, dataset.samples


def test_a_symbolic_link_loop_is_an_error_naming_the_link(photos):
    (photos / "dog" / "puppies" / "again").symlink_to(photos / "dog", target_is_directory=True)
    with pytest.raises(OSError, match="Symbolic link loop") as caught:
        ImageFolder(photos)
    assert caught.value.errno == errno.ELOOP and caught.value.filename == str(photos / "dog" / "puppies" / "again")
    if tv is not None:  # torchvision follows the loop until the path is too long: the same files ~40 times over
        samples = [path for path, _ in tv.datasets.ImageFolder(photos).samples]
        assert samples.count(str(photos / "dog" / "puppies" / "again" / "a.png")) == 1 and len(samples) > 100


# ------------------------------------------------------------------------------------------------ size=

@pytest.mark.parametrize("size, tall, wide", [((3, 4), (3, 4, 3), (3, 4, 3)), (4, (4, 4, 3), (4, 8, 3)),
                                              ([3], (3, 3, 3), (3, 6, 3)), (10, (12, 10, 3), (10, 20, 3))])
def test_size_resizes_as_it_decodes(photos, size, tall, wide):
    """(h, w) is exact; an int becomes the shorter side, the longer one keeps the aspect ratio (rounded down)."""
    write_image(photos / "cat" / "wide.png", random_image(30, 8, 16))
    dataset = ImageFolder(photos, size=size)
    for i, (path, _) in enumerate(dataset.samples):
        assert dataset[i][0].shape == (wide if path.endswith("wide.png") else tall)  # 8x16, else 6x5


@needs_torchvision
@pytest.mark.parametrize("size", [(3, 4), 4, 12, (HEIGHT, WIDTH)])
def test_size_matches_torchvision_resize_on_pil_images(photos, size):
    write_image(photos / "cat" / "wide.png", random_image(30, 8, 16))
    ours = ImageFolder(photos, size=size)
    theirs = tv.datasets.ImageFolder(photos, transform=tv.transforms.Resize(size))
    for i in range(len(theirs)):
        assert np.array_equal(ours[i][0], np.asarray(theirs[i][0]))


@pytest.mark.parametrize("size, error", [(0, ValueError), (-3, ValueError), ((3,) * 3, ValueError),
                                         ((3.0, 4), ValueError), ("32", TypeError), (True, TypeError),
                                         (object(), TypeError)])
def test_bad_size_names_the_argument(photos, size, error):
    """Resize's errors, as torchvision's: TypeError for a size of the wrong type, ValueError for wrong values."""
    with pytest.raises(error, match="(?i)size"):
        ImageFolder(photos, size=size)


# ------------------------------------------------------------------------------------------------ the cache

CALLS = []


def counting_loader(path):
    """pil_loader that records its calls (module level, so its name can key the cache)."""
    CALLS.append(path)
    return pil_loader(path)


def test_the_cache_holds_the_decoded_images_outside_the_folder(photos, tmp_path):
    before = sorted(photos.rglob("*"))
    plain, cached = ImageFolder(photos), ImageFolder(photos, cache=True)
    assert isinstance(cached.data, np.memmap) and cached.data.shape == (len(EXPECTED), HEIGHT, WIDTH, 3)
    assert cached.data.dtype == np.uint8 and not cached.data.flags.writeable
    assert cached.cache_path.is_file() and cached.cache_path.is_relative_to(tmp_path / "default-root" / "folders")
    assert cached.cache_path.parent.name.startswith("photos-") and sorted(photos.rglob("*")) == before
    for i in range(len(plain)):
        assert np.array_equal(cached[i][0], plain[i][0]) and cached[i][1] == plain[i][1]
    images, labels = cached.get_batch([4, 0, -1])
    assert np.array_equal(images, np.stack([plain[i][0] for i in (4, 0, -1)]))
    assert labels.dtype == np.int64 and labels.tolist() == [1, 0, 2]
    assert cached.samples == plain.samples and cached.classes == plain.classes and cached.targets == plain.targets


def test_a_read_only_folder_is_cached(photos):
    for path in [photos, *photos.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        dataset = ImageFolder(photos, cache=True)
        assert len(dataset.data) == len(EXPECTED) and not dataset.cache_path.is_relative_to(photos)
    finally:
        for path in [photos, *photos.rglob("*")]:
            path.chmod(0o755)


def test_reopening_reads_the_cache_without_decoding(photos):
    CALLS.clear()
    first = ImageFolder(photos, loader=counting_loader, cache=True)
    assert len(CALLS) == len(EXPECTED)
    CALLS.clear()
    again = ImageFolder(photos, loader=counting_loader, cache=True)
    assert CALLS == [] and again.cache_path == first.cache_path and np.array_equal(again.data, first.data)
    again[0], again.get_batch([1, 2])
    assert CALLS == []


def change_content(root):
    path = root / "cat" / "1.png"
    write_image(path, random_image(50))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # a new time, even on coarse clocks


def add_file(root):
    write_image(root / "bird" / "new.png", random_image(51))


def rename_file(root):
    (root / "dog" / "a.png").rename(root / "dog" / "c.png")


def move_to_another_class(root):
    (root / "dog" / "a.png").rename(root / "cat" / "a.png")


def remove_file(root):
    (root / "bird" / "z.png").unlink()


@pytest.mark.parametrize("change", [change_content, add_file, rename_file, move_to_another_class, remove_file])
def test_a_changed_folder_is_decoded_again(photos, change):
    old = ImageFolder(photos, cache=True)
    old_path = old.cache_path
    del old
    change(photos)
    new, plain = ImageFolder(photos, cache=True), ImageFolder(photos)
    assert new.cache_path != old_path and not old_path.exists()
    assert new.samples == plain.samples and len(new.data) == len(plain)
    for i in range(len(plain)):
        assert np.array_equal(new[i][0], plain[i][0]) and new[i][1] == plain[i][1]


def test_a_killed_build_leaves_nothing_behind_the_next_one(photos):
    first = ImageFolder(photos, cache=True)
    leftover = first.cache_path.with_name(first.cache_path.name + ".999999.part")
    leftover.write_bytes(b"half an array")
    add_file(photos)
    rebuilt = ImageFolder(photos, cache=True)
    assert not leftover.exists() and sorted(p.name for p in rebuilt.cache_path.parent.iterdir()) == \
        sorted([".lock", rebuilt.cache_path.name])


def test_caches_with_other_settings_are_kept(photos):
    full, small = ImageFolder(photos, cache=True), ImageFolder(photos, cache=True, size=(3, 3))
    assert full.cache_path != small.cache_path and full.cache_path.exists() and small.cache_path.exists()
    assert small.data.shape == (len(EXPECTED), 3, 3, 3)
    assert np.array_equal(small.data, np.stack([ImageFolder(photos, size=3)[i][0] for i in range(len(EXPECTED))]))


def save_other_array(path):
    np.save(path, np.zeros((len(EXPECTED), HEIGHT, WIDTH, 3), np.float32))


def save_wrong_length(path):
    np.save(path, np.zeros((2, HEIGHT, WIDTH, 3), np.uint8))


@pytest.mark.parametrize("damage", [
    lambda path: path.write_bytes(path.read_bytes()[:-7]),  # truncated
    lambda path: path.write_bytes(path.read_bytes() + b"\0" * 10),  # grown
    lambda path: path.write_bytes(b"garbage"),
    lambda path: path.write_bytes(b""),
    save_other_array,
    save_wrong_length,
], ids=["truncated", "grown", "garbage", "empty", "float32", "wrong-length"])
def test_a_damaged_cache_is_rebuilt_never_used(photos, damage):
    first = ImageFolder(photos, cache=True, loader=counting_loader)
    path, expected = first.cache_path, np.array(first.data)
    del first
    damage(path)
    CALLS.clear()
    rebuilt = ImageFolder(photos, cache=True, loader=counting_loader)
    assert rebuilt.cache_path == path and len(CALLS) == len(EXPECTED)
    assert isinstance(rebuilt.data, np.memmap) and np.array_equal(rebuilt.data, expected)


def test_mixed_sizes_name_two_files_and_their_sizes(photos, tmp_path):
    write_image(photos / "cat" / "big.png", random_image(60, 9, 7))
    with pytest.raises(ValueError) as caught:
        ImageFolder(photos, cache=True)
    message = str(caught.value)
    assert str(photos / "bird" / "y.bmp") in message and f"({HEIGHT}, {WIDTH}, 3)" in message
    assert str(photos / "cat" / "big.png") in message and "(9, 7, 3)" in message and "size=" in message
    assert not [p for p in (tmp_path / "default-root").rglob("*") if p.is_file() and p.name != ".lock"]
    resized = ImageFolder(photos, cache=True, size=(4, 4))
    assert resized.data.shape == (len(EXPECTED) + 1, 4, 4, 3)
    assert np.array_equal(resized.data[3], ImageFolder(photos, size=(4, 4))[3][0])


def test_cache_arguments_are_checked(photos):
    with pytest.raises(TypeError, match="cache must be True or False"):
        ImageFolder(photos, cache="yes")
    with pytest.raises(ValueError, match="cannot be identified from one run to the next.*pass cache_key="):
        ImageFolder(photos, loader=lambda path: pil_loader(path), cache=True)
    with pytest.raises(TypeError, match="uint8"):
        ImageFolder(photos, loader=float_loader, cache=True)


def test_a_cache_root_that_cannot_be_made_is_a_clear_error(photos, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path / "a-file" / "cache"))
    with pytest.raises(UnusablePathError, match=r"\$TINYTORCH_DATA is .*a-file/cache, which cannot be a folder: "
                                                r".*a-file is a file"):
        ImageFolder(photos, cache=True)
    assert len(ImageFolder(photos)) == len(EXPECTED)  # without the cache nothing is written


def float_loader(path):
    return pil_loader(path).astype(np.float32)


def test_an_empty_folder_with_allow_empty_caches_nothing(tmp_path):
    (tmp_path / "photos" / "cat").mkdir(parents=True)
    dataset = ImageFolder(tmp_path / "photos", allow_empty=True, cache=True)
    assert len(dataset) == 0 and len(dataset.data) == 0


# ------------------------------------------------------------------------------------------------ with the loader

def augmenting():
    return Compose([RandomCrop(4, padding=1), RandomHorizontalFlip(), ToTensor()])


def test_the_loader_gives_the_same_batches_with_and_without_the_cache(photos):
    plain = ImageFolder(photos, transform=augmenting())
    cached = ImageFolder(photos, transform=augmenting(), cache=True)
    expected, got = loaded_batches(plain), loaded_batches(cached)
    assert len(expected) == len(got) == 2 * 4
    for (x0, y0), (x1, y1) in zip(expected, got):
        assert x1.dtype == np.float32 and x1.shape[1:] == (3, 4, 4) and y1.dtype == np.int64
        assert np.array_equal(x0, x1) and np.array_equal(y0, y1)
    assert not all(np.array_equal(a[0], b[0]) for a, b in zip(expected[:4], expected[4:]))  # epochs differ


@pytest.mark.parametrize("pipeline", [
    lambda: Compose([RandomResizedCrop(4), ColorJitter(0.4, 0.4, 0.4, 0.1), ToTensor()]),
    lambda: Compose([RandomRotation(20), RandomGrayscale(0.5), ToTensor(), RandomErasing(p=0.7)]),
    lambda: Compose([CenterCrop(4), Pad(2, padding_mode="reflect"), GaussianBlur(3), ToTensor()]),
], ids=["crop-jitter", "rotate-grey-erase", "center-pad-blur"])
def test_the_transforms_for_images_of_any_size_give_the_same_batches_from_the_cache(photos, pipeline):
    expected = loaded_batches(ImageFolder(photos, transform=pipeline()))
    for (x0, y0), (x1, y1) in zip(expected, loaded_batches(ImageFolder(photos, transform=pipeline(), cache=True))):
        assert np.array_equal(x0, x1) and np.array_equal(y0, y1)


def test_workers_decoding_give_the_same_batches_as_the_cache(photos):
    plain = ImageFolder(photos, transform=augmenting())
    cached = ImageFolder(photos, transform=augmenting(), cache=True)
    for (x0, y0), (x1, y1) in zip(loaded_batches(plain, num_workers=2), loaded_batches(cached)):
        assert np.array_equal(x0, x1) and np.array_equal(y0, y1)


def test_a_pickled_cached_folder_maps_the_cache_again(photos):
    cached = ImageFolder(photos, transform=ToTensor(), cache=True)
    copy = pickle.loads(pickle.dumps(cached))
    assert cached.data[4:6].tobytes() not in pickle.dumps(cached) and isinstance(copy.data, np.memmap)
    assert np.array_equal(copy.get_batch([3, 1])[0], cached.get_batch([3, 1])[0]) and copy.samples == cached.samples
    plain = pickle.loads(pickle.dumps(ImageFolder(photos)))
    assert plain.data is None and not hasattr(plain, "get_batch") and np.array_equal(plain[2][0], cached.data[2])
    state = pickle.dumps(cached)
    cached.cache_path.unlink()  # say, the folder changed and was cached again
    with pytest.raises(DatasetNotFoundError, match="make the ImageFolder again"):
        pickle.loads(state)


def test_spawned_workers_with_a_custom_collate_read_the_cache(photos):
    cached = ImageFolder(photos, transform=augmenting(), cache=True)
    expected = loaded_batches(cached, epochs=1)
    # A collate_fn that is not default_collate itself, so the loader asks each sample in turn; from the library, so
    # the spawned workers need not import this test module (and torch with it): seconds less per worker.
    by_sample = functools.partial(default_collate)
    got = loaded_batches(cached, epochs=1, num_workers=2, multiprocessing_context="spawn", collate_fn=by_sample)
    for (x0, y0), (x1, y1) in zip(expected, got):
        assert np.array_equal(x0, x1) and np.array_equal(y0, y1)


class WithPaths(ImageFolder):
    """The common torchvision idiom: a subclass whose samples also carry their file's path."""

    def __getitem__(self, index):
        image, target = super().__getitem__(index)
        return image, target, self.samples[index][0]


def test_a_subclass_with_its_own_getitem_is_asked_sample_by_sample(photos):
    cached = WithPaths(photos, transform=augmenting(), cache=True)
    assert not hasattr(cached, "get_batch") and not hasattr(pickle.loads(pickle.dumps(cached)), "get_batch")
    expected = loaded_batches(ImageFolder(photos, transform=augmenting(), cache=True))
    class_of = dict(cached.samples)
    for (x0, y0), (x1, y1, paths) in zip(expected, loaded_batches(cached)):
        assert np.array_equal(x0, x1) and np.array_equal(y0, y1) and [class_of[path] for path in paths] == y1.tolist()


def test_subsets_of_a_cached_folder_take_the_batched_path(photos):
    cached = ImageFolder(photos, cache=True)
    subset = Subset(cached, [5, 1, 8])
    images, labels = subset.get_batch([2, 0])
    assert np.array_equal(images, cached.data[[8, 5]]) and labels.tolist() == [2, 2]


def test_the_cache_works_with_a_relative_and_a_home_relative_root(photos, monkeypatch):
    monkeypatch.chdir(photos.parent)
    relative = ImageFolder("photos", cache=True)
    monkeypatch.setenv("HOME", str(photos.parent))
    home = ImageFolder("~/photos", cache=True)
    assert relative.cache_path == home.cache_path and home.root == str(photos)
    assert home.samples[0][0] == str(photos / "bird" / "y.bmp")


def test_copied_folder_gets_its_own_cache(photos, tmp_path):
    shutil.copytree(photos, tmp_path / "copy")
    assert ImageFolder(photos, cache=True).cache_path.parent != ImageFolder(tmp_path / "copy", cache=True).cache_path.parent


def test_every_dataset_class_is_where_torchvision_users_look():
    """`from torchvision import datasets` then `datasets.MNIST(...)` ports as `from tinytorch.data import datasets`."""
    import tinytorch.data
    from tinytorch.data import datasets

    names = ["MNIST", "FashionMNIST", "KMNIST", "CIFAR10", "CIFAR100", "ImageFolder", "DatasetFolder"]
    assert all(getattr(datasets, name) is getattr(tinytorch.data, name) for name in names)
    assert datasets.folder.default_loader is default_loader and datasets.folder.IMG_EXTENSIONS == IMG_EXTENSIONS
    if tv is not None:
        assert all(hasattr(tv.datasets, name) for name in names)
        assert datasets.folder.IMG_EXTENSIONS == tv.datasets.folder.IMG_EXTENSIONS


def test_the_loader_fetches_a_cached_folder_a_batch_at_a_time_unless_a_subclass_overrides_getitem(photos):
    """The shared rule (`has_batches`): ImageFolder's own `__getitem__` has `get_batch` beside it; a subclass's
    override is called sample by sample unless it names `get_batch` too."""
    class Vouching(ImageFolder):
        def __getitem__(self, index):  # logs, say: its samples are ImageFolder's
            return super().__getitem__(index)

        get_batch = ImageFolder.get_batch

    cached = ImageFolder(photos, transform=augmenting(), cache=True)
    assert DataLoader(cached, batch_size=3, num_workers=2).in_process
    assert not DataLoader(WithPaths(photos, cache=True), batch_size=3, num_workers=2).in_process
    vouching = Vouching(photos, transform=augmenting(), cache=True)
    assert DataLoader(vouching, batch_size=3, num_workers=2).in_process
    for (x0, y0), (x1, y1) in zip(loaded_batches(cached), loaded_batches(vouching)):
        assert np.array_equal(x0, x1) and np.array_equal(y0, y1)
