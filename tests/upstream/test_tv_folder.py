"""torchvision's test/test_datasets.py for ImageFolder and DatasetFolder (DatasetFolderTestCase, ImageFolderTestCase,
the older test_imagefolder / test_imagefolder_empty, and the generic checks of datasets_utils.DatasetTestCase they
run: not found, number of examples, feature types, transforms, repr), ported to NumPy.

torch.randint(1, 3) -> a seeded NumPy generator; datasets_utils.create_image_folder writes random 10x10 RGB images.
Not ported: test_tv_decode_image_support (torchvision.io), test_transforms_v2_wrapper_spawn (transforms v2), and
the VisionDataset isinstance check of test_smoke (tinytorch has no VisionDataset).
"""
import os
import pathlib
import string

import numpy as np
import pytest
from PIL import Image

from tinytorch.data import DatasetFolder, ImageFolder
from tinytorch.data.datasets import folder
from .upstream_marks import differs

EXTENSIONS = ("jpg", "png")
ARRAY_OUTPUT = differs("`ImageFolder` / `pil_loader` / `default_loader` output")


def create_image_folder(root, name, file_name_fn, num_examples, rng):
    """datasets_utils.create_image_folder: `num_examples` random images in root/name."""
    folder_path = pathlib.Path(root) / name
    os.makedirs(folder_path, exist_ok=True)
    files = []
    for idx in range(num_examples):
        path = folder_path / file_name_fn(idx)
        Image.fromarray(rng.integers(0, 256, (10, 10, 3), dtype=np.uint8)).save(path)
        files.append(path)
    return files


def inject_dataset_folder(tmpdir, extensions, make_empty_class=False, seed=0):
    """DatasetFolderTestCase.inject_fake_data: class 'a' holds the jpgs, class 'b' the pngs, 1 or 2 of each."""
    rng = np.random.default_rng(seed)
    num_examples_total = 0
    classes = []
    for ext, cls in zip(EXTENSIONS, string.ascii_letters):
        if ext not in extensions:
            continue
        num_examples = int(rng.integers(1, 3))
        create_image_folder(tmpdir, cls, lambda idx: f"{cls}_{idx}.{ext}", num_examples, rng)
        num_examples_total += num_examples
        classes.append(cls)
    if make_empty_class:
        os.makedirs(pathlib.Path(tmpdir) / "empty_class")
        classes.append("empty_class")
    return dict(num_examples=num_examples_total, classes=classes)


def inject_image_folder(tmpdir, seed=0):
    """ImageFolderTestCase.inject_fake_data: classes 'a' and 'b', 1 or 2 pngs each."""
    rng = np.random.default_rng(seed)
    num_examples_total = 0
    classes = ("a", "b")
    for cls in classes:
        num_examples = int(rng.integers(1, 3))
        num_examples_total += num_examples
        create_image_folder(tmpdir, cls, lambda idx: f"{cls}_{idx}.png", num_examples, rng)
    return dict(num_examples=num_examples_total, classes=classes)


CONFIGS = [EXTENSIONS, ("jpg",), ("png",)]  # DEFAULT_CONFIG, then ADDITIONAL_CONFIGS


# ------------------------------------------------------------------------------------------------ DatasetFolderTestCase

@pytest.mark.parametrize("extensions", CONFIGS, ids="-".join)
def test_dataset_folder_num_examples(tmp_path, extensions):
    info = inject_dataset_folder(tmp_path, extensions)
    dataset = DatasetFolder(tmp_path, folder.pil_loader, extensions=extensions)
    assert len(dataset) == info["num_examples"]


@pytest.mark.parametrize("extensions", CONFIGS, ids="-".join)
def test_dataset_folder_is_valid_file(tmp_path, extensions):
    info = inject_dataset_folder(tmp_path, extensions)
    dataset = DatasetFolder(tmp_path, folder.pil_loader, extensions=None,
                            is_valid_file=lambda file: pathlib.Path(file).suffix[1:] in extensions)
    assert len(dataset) == info["num_examples"]


@pytest.mark.parametrize("extensions", CONFIGS, ids="-".join)
def test_dataset_folder_classes(tmp_path, extensions):
    info = inject_dataset_folder(tmp_path, extensions)
    dataset = DatasetFolder(tmp_path, folder.pil_loader, extensions=extensions)
    assert len(dataset.classes) == len(info["classes"])
    assert all([a == b for a, b in zip(dataset.classes, info["classes"])])


def test_dataset_folder_allow_empty(tmp_path):
    info = inject_dataset_folder(tmp_path, EXTENSIONS, make_empty_class=True)
    dataset = DatasetFolder(tmp_path, folder.pil_loader, extensions=EXTENSIONS, allow_empty=True)
    assert "empty_class" in dataset.classes
    assert len(dataset.classes) == len(info["classes"])
    assert all([a == b for a, b in zip(dataset.classes, info["classes"])])

    with pytest.raises(FileNotFoundError, match="Found no valid file"):
        DatasetFolder(tmp_path, folder.pil_loader, extensions=EXTENSIONS, allow_empty=False)


@ARRAY_OUTPUT
def test_dataset_folder_feature_types(tmp_path):
    inject_dataset_folder(tmp_path, EXTENSIONS)
    image, target = DatasetFolder(tmp_path, folder.pil_loader, extensions=EXTENSIONS)[0]
    assert isinstance(image, Image.Image)
    assert isinstance(target, int)


# ------------------------------------------------------------------------------------------------- ImageFolderTestCase

def test_image_folder_classes(tmp_path):
    info = inject_image_folder(tmp_path)
    dataset = ImageFolder(tmp_path)
    assert len(dataset.classes) == len(info["classes"])
    assert all([a == b for a, b in zip(dataset.classes, info["classes"])])


def test_image_folder_num_examples(tmp_path):
    info = inject_image_folder(tmp_path)
    assert len(ImageFolder(tmp_path)) == info["num_examples"]


@ARRAY_OUTPUT
def test_image_folder_feature_types(tmp_path):
    inject_image_folder(tmp_path)
    image, target = ImageFolder(tmp_path)[0]
    assert isinstance(image, Image.Image)
    assert isinstance(target, int)


def test_image_folder_target_type(tmp_path):
    # the half of test_feature_types that holds here: the target is a Python int
    inject_image_folder(tmp_path)
    _, target = ImageFolder(tmp_path)[0]
    assert type(target) is int


@pytest.mark.parametrize("make", [
    lambda root: ImageFolder(root),
    lambda root: DatasetFolder(root, folder.pil_loader, extensions=EXTENSIONS),
], ids=["ImageFolder", "DatasetFolder"])
def test_not_found_or_corrupted(tmp_path, make):
    with pytest.raises((FileNotFoundError, RuntimeError)):
        make(tmp_path)


@pytest.mark.parametrize("make", [
    lambda root, **kwargs: ImageFolder(root, **kwargs),
    lambda root, **kwargs: DatasetFolder(root, folder.pil_loader, extensions=EXTENSIONS, **kwargs),
], ids=["ImageFolder", "DatasetFolder"])
def test_transforms(tmp_path, make):
    """datasets_utils' test_transforms: `transform` receives the image, `target_transform` the target, and their
    results are the sample."""
    inject_dataset_folder(tmp_path, EXTENSIONS)
    seen = {}

    def transform(image):
        seen["image"] = image
        return "image"

    def target_transform(target):
        seen["target"] = target
        return "target"

    dataset = make(tmp_path, transform=transform, target_transform=target_transform)
    assert dataset[0] == ("image", "target")
    assert seen["target"] == dataset.targets[0]
    assert np.array_equal(np.asarray(seen["image"]), np.asarray(Image.open(dataset.samples[0][0]).convert("RGB")))


def test_repr_smoke(tmp_path):
    inject_image_folder(tmp_path)
    assert isinstance(repr(ImageFolder(tmp_path)), str)


# ------------------------------------------------------------------------------------ test_imagefolder (older suite)

@pytest.fixture
def imagefolder_assets(tmp_path):
    """test/assets/fakedata/imagefolder: a/a1..a3.png, b/b1..b4.png."""
    rng = np.random.default_rng(1)
    create_image_folder(tmp_path, "a", lambda idx: f"a{idx + 1}.png", 3, rng)
    create_image_folder(tmp_path, "b", lambda idx: f"b{idx + 1}.png", 4, rng)
    return str(tmp_path)


def test_imagefolder(imagefolder_assets):
    root = imagefolder_assets
    classes = sorted(['a', 'b'])
    class_a_image_files = [os.path.join(root, 'a', file) for file in ('a1.png', 'a2.png', 'a3.png')]
    class_b_image_files = [os.path.join(root, 'b', file) for file in ('b1.png', 'b2.png', 'b3.png', 'b4.png')]
    dataset = ImageFolder(root, loader=lambda x: x)

    # test if all classes are present
    assert classes == sorted(dataset.classes)

    # test if combination of classes and class_to_index functions correctly
    for cls in classes:
        assert cls == dataset.classes[dataset.class_to_idx[cls]]

    # test if all images were detected correctly
    class_a_idx = dataset.class_to_idx['a']
    class_b_idx = dataset.class_to_idx['b']
    imgs_a = [(img_file, class_a_idx) for img_file in class_a_image_files]
    imgs_b = [(img_file, class_b_idx) for img_file in class_b_image_files]
    imgs = sorted(imgs_a + imgs_b)
    assert imgs == dataset.imgs

    # test if the datasets outputs all images correctly
    outputs = sorted([dataset[i] for i in range(len(dataset))])
    assert imgs == outputs

    # redo all tests with specified valid image files
    dataset = ImageFolder(root, loader=lambda x: x, is_valid_file=lambda x: '3' in x)
    assert classes == sorted(dataset.classes)

    class_a_idx = dataset.class_to_idx['a']
    class_b_idx = dataset.class_to_idx['b']
    imgs_a = [(img_file, class_a_idx) for img_file in class_a_image_files if '3' in img_file]
    imgs_b = [(img_file, class_b_idx) for img_file in class_b_image_files if '3' in img_file]
    imgs = sorted(imgs_a + imgs_b)
    assert imgs == dataset.imgs

    outputs = sorted([dataset[i] for i in range(len(dataset))])
    assert imgs == outputs


def test_imagefolder_empty(tmp_path):
    # torchvision raised RuntimeError then, FileNotFoundError (a subclass of OSError) now
    with pytest.raises((FileNotFoundError, RuntimeError)):
        ImageFolder(tmp_path, loader=lambda x: x)
    with pytest.raises((FileNotFoundError, RuntimeError)):
        ImageFolder(tmp_path, loader=lambda x: x, is_valid_file=lambda x: False)


def test_imagefolder_no_valid_file(imagefolder_assets):
    # torchvision's current message for class folders with nothing valid in them
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes a, b"):
        ImageFolder(imagefolder_assets, loader=lambda x: x, is_valid_file=lambda x: False)
