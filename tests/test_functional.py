"""transforms.functional and get_params: a paired transform (image and mask alike) in a loader, the random
transforms equal to the functions at their own get_params, the functions equal to torchvision's on its PIL path (bit
for bit) and its tensor path, torchvision's ToTensor/ToPILImage/Normalize/Resize rules, and the refusals of inputs
with no pixels or outputs that cannot fit."""
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

from tinytorch.data import DataLoader, Dataset, rng
from tinytorch.data import transforms as T
from tinytorch.data.transforms import functional as F
from torch_reference import torch_or_none, torchvision_or_none

tv = torchvision_or_none()
needs_torchvision = pytest.mark.skipif(tv is None, reason="torchvision is not installed")


def paired(image, mask):
    """The paired transform of README's example: one random crop and one flip for an image and its mask."""
    i, j, h, w = T.RandomCrop.get_params(image, (6, 5))
    image, mask = F.crop(image, i, j, h, w), F.crop(mask, i, j, h, w)
    if T.RandomHorizontalFlip.get_params(0.5):
        image, mask = F.hflip(image), F.hflip(mask)
    return image, mask


class Segmentation(Dataset):
    """Images (10, 9, 3) and masks whose pixel values say where each pixel came from, so alignment can be checked."""

    def __init__(self, n=24):
        self.images = np.random.default_rng(0).integers(0, 256, (n, 10, 9, 3), dtype=np.uint8)
        self.masks = np.broadcast_to(np.arange(90, dtype=np.uint8).reshape(10, 9), (n, 10, 9))

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return paired(self.images[index], self.masks[index])


def test_a_paired_transform_crops_and_flips_image_and_mask_alike_and_reproducibly():
    dataset = Segmentation()
    epochs = []
    for _ in range(2):
        loader = DataLoader(dataset, batch_size=8, shuffle=True, generator=3)
        epochs.append([(images.copy(), masks.copy()) for images, masks in loader])
    again = [(images, masks) for images, masks in DataLoader(dataset, batch_size=8, shuffle=True, generator=3)]
    flips = 0
    for (images, masks), (images2, masks2) in zip(epochs[0], again):
        np.testing.assert_array_equal(images, images2)  # one seed, one stream of batches
        np.testing.assert_array_equal(masks, masks2)
        assert images.shape == (8, 6, 5, 3) and masks.shape == (8, 6, 5)
        for image, mask in zip(images, masks):
            rows, cols = mask // 9, mask % 9  # where each pixel of the mask came from
            source = np.flatnonzero([np.array_equal(image, dataset.images[k][rows, cols]) for k in range(len(dataset))])
            assert len(source) == 1  # the image pixels came from the very same places
            flips += cols[0, 0] > cols[0, -1]
    assert 0 < flips < len(dataset)  # both decisions occur
    crops = {(tuple(m[0, :2]),) for _, masks in epochs[0] for m in masks}
    assert len(crops) > 3  # the crops vary


@given(seed=st.integers(0, 2**40), position=st.integers(0, 10**6), layout=st.sampled_from(["gray", "rgb", "tensor"]))
@settings(max_examples=40, deadline=None)
def test_each_random_transform_is_the_function_at_its_get_params(seed, position, layout):
    """Inside a loader's block, `transform(x)` equals `F.op(x, *get_params(...))`: one implementation, one draw."""
    image = np.random.default_rng(seed).integers(0, 256, (11, 9, 3), dtype=np.uint8)
    sample = {"gray": image[..., 0], "rgb": image, "tensor": F.to_tensor(image)}[layout]

    def under(function):
        with rng.sample_randomness(seed, 1, position, 1):
            return function()

    crop = T.RandomCrop((7, 4))
    np.testing.assert_array_equal(under(lambda: crop(sample)),
                                  under(lambda: F.crop(sample, *T.RandomCrop.get_params(sample, (7, 4)))))
    resized = T.RandomResizedCrop((5, 6), scale=(0.3, 1.0))
    np.testing.assert_array_equal(under(lambda: resized(sample)), under(lambda: F.resized_crop(
        sample, *T.RandomResizedCrop.get_params(sample, (0.3, 1.0), (3 / 4, 4 / 3)), (5, 6))))
    rotation = T.RandomRotation(30, fill=7)
    np.testing.assert_array_equal(under(lambda: rotation(sample)),
                                  under(lambda: F.rotate(sample, T.RandomRotation.get_params([-30, 30]), fill=7)))
    blur = T.GaussianBlur(5, (0.2, 2.0))

    def blurred():
        sigma = T.GaussianBlur.get_params(0.2, 2.0)
        return F.gaussian_blur(sample, [5, 5], [sigma, sigma])

    np.testing.assert_array_equal(under(lambda: blur(sample)), under(blurred))
    flip = T.RandomHorizontalFlip(0.5)
    np.testing.assert_array_equal(under(lambda: flip(sample)),
                                  under(lambda: F.hflip(sample) if T.RandomHorizontalFlip.get_params(0.5) else sample))
    if layout == "gray":
        return  # ColorJitter's hue and saturation leave grey alike; the rest is as for RGB
    jitter = T.ColorJitter(0.5, 0.5, 0.5, 0.2)
    adjust = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)

    def jittered():
        order, *factors = T.ColorJitter.get_params(jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue)
        out = sample
        for operation in order:
            out = adjust[operation](out, factors[operation])
        return out

    np.testing.assert_allclose(under(lambda: jitter(sample)), under(jittered), atol=1e-6)


def test_get_params_follow_torchvision_rules():
    image = np.zeros((10, 12, 3), np.uint8)
    with pytest.raises(ValueError, match=r"Required crop size \(11, 4\) is larger than input image size \(10, 12\)"):
        T.RandomCrop.get_params(image, (11, 4))
    assert T.RandomCrop.get_params(image, (10, 12)) == (0, 0, 10, 12)
    tops = {T.RandomCrop.get_params(image, (3, 12))[0] for _ in range(200)}  # outside a loader: np.random
    assert tops == set(range(8))
    for _ in range(50):
        i, j, h, w = T.RandomResizedCrop.get_params(image, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= i and i + h <= 10 and 0 <= j and j + w <= 12 and h * w >= 1
        assert -10 <= T.RandomRotation.get_params([-10, 10]) <= 10
        assert 0.5 <= T.GaussianBlur.get_params(0.5, 0.6) <= 0.6
    order, b, c, s, h = T.ColorJitter.get_params((0.5, 1.5), None, None, (-0.1, 0.1))
    assert sorted(order) == [0, 1, 2, 3] and 0.5 <= b <= 1.5 and c is None and s is None and -0.1 <= h <= 0.1
    tensor = np.ones((3, 10, 12), np.float32)
    with rng.sample_randomness(0, 0, 0, 1):
        i, j, h, w, v = T.RandomErasing.get_params(tensor, (0.1, 0.3), (0.5, 2.0), value=[0.0])
    assert v.shape == (1, 1, 1) and 0.1 * 120 - 12 <= h * w <= 0.3 * 120 + 12
    erased = F.erase(tensor, i, j, h, w, v)
    assert erased[:, i:i + h, j:j + w].sum() == 0 and erased.sum() == tensor.sum() - 3 * h * w
    with rng.sample_randomness(0, 0, 0, 1):
        assert T.RandomErasing.get_params(tensor, (0.99, 1.0), (1.0, 1.0))[4] is tensor  # nothing fits: the input


# ------------------------------------------------------------------------------------- parity with torchvision

def random_images(seed, count=4):
    generator = np.random.default_rng(seed)
    for _ in range(count):
        height, width = generator.integers(6, 30, 2)
        yield generator.integers(0, 256, (height, width, 3), dtype=np.uint8)


FUNCTIONS = {  # name: (ours, torchvision's name, arguments)
    "hflip": ((), {}), "vflip": ((), {}), "crop": ((2, 1, 5, 4), {}), "crop outside": ((-3, 4, 9, 30), {}),
    "center_crop": (([5, 7],), {}), "center_crop larger": (([33, 9],), {}), "pad": (([1, 2, 3, 4], 9), {}),
    "pad reflect": ((2,), {"padding_mode": "reflect"}), "resize": (([7, 11],), {}), "resize short": ((9,), {}),
    "resized_crop": ((1, 2, 5, 6, [8, 7]), {}), "resized_crop short": ((-1, 2, 9, 6, 8), {}), "rotate": ((33.0,), {}),
    "rotate expand": ((-71.0,), {"expand": True, "fill": [10, 20, 30]}),
    "rotate bilinear": ((33.0, 2), {}), "rotate bilinear fill": ((-20.0, 2), {"fill": [10, 20, 30]}),  # 2: Pillow's
    "adjust_brightness": ((1.4,), {}), "adjust_contrast": ((0.6,), {}), "adjust_saturation": ((1.7,), {}),
    "adjust_hue": ((0.21,), {}), "rgb_to_grayscale": ((), {}), "rgb_to_grayscale 3": ((3,), {}),
    "gaussian_blur": (([5, 3], [1.1, 0.7]), {}),
}


@needs_torchvision
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_functions_equal_torchvisions(name):
    """Pillow images in, Pillow images out, bit for bit as torchvision's; uint8 arrays the same pixels; tensors
    within float32 rounding of torchvision's tensor path."""
    function = name.split()[0]
    arguments, keywords = FUNCTIONS[name]
    ours, theirs = getattr(F, function), getattr(tv.transforms.functional, function)
    tensor_keywords = {k: [v / 255 for v in value] if k == "fill" else value for k, value in keywords.items()}
    for image in random_images(1):
        picture = Image.fromarray(image)
        expected = np.asarray(theirs(picture, *arguments, **keywords))
        out = ours(picture, *arguments, **keywords)
        assert isinstance(out, Image.Image) and out.mode == ("L" if expected.ndim == 2 else "RGB")
        for result in (np.asarray(out), ours(image, *arguments, **keywords)):
            if function == "gaussian_blur":  # float32 sums in another order: a rounding tie may land 1 off (README)
                assert np.abs(result.astype(int) - expected).max() <= 1
                assert np.mean(result != expected) < 0.01
            else:
                np.testing.assert_array_equal(result, expected)
        tensor = tv.transforms.functional.to_tensor(image)
        np.testing.assert_allclose(ours(tensor.numpy(), *arguments, **tensor_keywords),
                                   theirs(tensor, *arguments, **tensor_keywords).numpy(), atol=2e-5)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_outputs_are_new_writable_arrays(name):
    """A result may be written into (ColorJitter writes its next adjustment into the last one's result) and never
    shares memory with the input."""
    function = getattr(F, name.split()[0])
    arguments, keywords = FUNCTIONS[name]
    image = next(random_images(3))
    for sample in (image, image[..., 0], F.to_tensor(image)):
        if sample.ndim == 2 and "fill" in keywords:
            continue  # a fill of three values is for three channels
        out = function(sample, *arguments, **keywords)
        assert out.flags.writeable and not np.shares_memory(out, sample), name


def test_color_jitter_writes_into_its_own_arrays_only():
    """Regression: hue through Pillow gave a read-only array, and ColorJitter's next adjustment of part of the batch
    then failed to write into it."""
    batch = np.random.default_rng(4).integers(0, 256, (64, 6, 5, 3), dtype=np.uint8)
    before = batch.copy()
    for seed in range(20):
        with rng.sample_randomness(seed, 0, 0, 64):
            out = T.ColorJitter(0.4, 0.4, 0.4, 0.1).apply_batch(batch)
        assert out.shape == batch.shape and np.array_equal(batch, before)


@needs_torchvision
def test_tensor_functions_equal_torchvisions():
    torch, G = torch_or_none(), tv.transforms.functional
    image = next(random_images(2))
    tensor = G.to_tensor(image)
    np.testing.assert_array_equal(F.to_tensor(image), tensor.numpy())
    np.testing.assert_array_equal(F.to_tensor(Image.fromarray(image)), tensor.numpy())
    np.testing.assert_array_equal(np.asarray(F.to_pil_image(tensor.numpy())), np.asarray(G.to_pil_image(tensor)))
    mean, std = [0.4, 0.5, 0.6], [0.2, 0.3, 0.25]
    np.testing.assert_allclose(F.normalize(tensor.numpy(), mean, std), G.normalize(tensor, mean, std).numpy(),
                               atol=1e-6)
    per_pixel = np.random.default_rng(0).random(tensor.shape).astype(np.float32) + 0.5  # mean/std of shape (C, H, W)
    np.testing.assert_allclose(T.Normalize(per_pixel, per_pixel)(tensor.numpy()),
                               G.normalize(tensor, torch.from_numpy(per_pixel), torch.from_numpy(per_pixel)).numpy(),
                               atol=1e-6)
    value = torch.full((3, 1, 1), 0.25)
    np.testing.assert_array_equal(F.erase(tensor.numpy(), 2, 3, 4, 5, value.numpy()),
                                  G.erase(tensor, 2, 3, 4, 5, value).numpy())
    assert repr(T.Normalize((0.1307,), (0.3081,))) == repr(tv.transforms.Normalize((0.1307,), (0.3081,)))
    assert F.get_dimensions(image) == G.get_dimensions(Image.fromarray(image))
    assert F.get_image_size(image) == G.get_image_size(Image.fromarray(image))


# ------------------------------------------------------------------------------- torchvision's rules, hand-checked

def test_to_tensor_keeps_other_dtypes_and_exact_values():
    big = np.array([[16777217, -5]], np.int32)
    out = T.ToTensor()(big)
    assert out.dtype == np.int32 and out.tolist() == [[[16777217, -5]]]
    assert T.ToTensor().apply_batch(big[None]).tolist() == [[[[16777217, -5]]]]
    assert T.ToTensor()(np.ones((2, 2), np.float64)).dtype == np.float64
    assert T.ToTensor()(Image.fromarray(big, "I")).dtype == np.int32
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()([[1, 2]])


def test_to_pil_image_modes_and_errors_follow_torchvision():
    assert T.ToPILImage()(np.array([[1, 300]], np.int16)).mode == "I;16"
    assert np.asarray(T.ToPILImage(mode="I;16")(np.array([[1, 300]], np.int16))).tolist() == [[1, 300]]
    for dtype in (np.uint16, np.uint32, np.int64):
        with pytest.raises(TypeError, match=f"Input type {np.dtype(dtype)} is not supported"):
            T.ToPILImage()(np.zeros((2, 2), dtype))
    with pytest.raises(ValueError, match="pic should not have > 4 channels. Got 6 channels."):
        T.ToPILImage()(np.zeros((6, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"Only modes \['RGB', 'YCbCr', 'HSV'\] are supported for 3D inputs"):
        T.ToPILImage(mode="RGBA")(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match=r"Incorrect mode \(RGB\) supplied for input type uint8. Should be L"):
        T.ToPILImage(mode="RGB")(np.zeros((4, 4), np.uint8))
    with pytest.raises(TypeError, match="pic should be Tensor or ndarray"):
        T.ToPILImage()([[1]])


def test_resize_of_the_same_size_is_the_input_and_antialias_false_warns_on_images():
    image = np.zeros((6, 8, 3), np.uint8)
    picture, tensor = Image.fromarray(image), np.zeros((3, 6, 8), np.float32)
    for sample in (image, picture, tensor):
        assert T.Resize((6, 8))(sample) is sample and F.resize(sample, 6) is sample
    for transform in (T.Resize(3, antialias=False), T.RandomResizedCrop(3, antialias=False)):
        with pytest.warns(UserWarning, match="Anti-alias option is always applied for PIL Image input"):
            transform(picture)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        T.Resize(3, antialias=False)(tensor)  # tensors honour it: no warning


def test_a_bad_p_is_the_same_error_everywhere():
    for make in (T.RandomHorizontalFlip, T.RandomGrayscale, T.RandomErasing):
        with pytest.raises(TypeError, match="p=.0.5."):
            make(p="0.5")
        with pytest.raises(ValueError, match="p=1.5"):
            make(p=1.5)


# ---------------------------------------------------------------------------------- inputs that cannot work

EVERY_TRANSFORM = {
    "Resize": lambda: T.Resize(4), "RandomResizedCrop": lambda: T.RandomResizedCrop(4),
    "GaussianBlur": lambda: T.GaussianBlur(3), "RandomRotation": lambda: T.RandomRotation(10),
    "RandomErasing": lambda: T.RandomErasing(1.0),
    "CenterCrop": lambda: T.CenterCrop(2), "Pad": lambda: T.Pad(1), "RandomCrop": lambda: T.RandomCrop(2, padding=2),
    "RandomHorizontalFlip": lambda: T.RandomHorizontalFlip(1.0),  # p=0: the input untouched, see below
    "ColorJitter": lambda: T.ColorJitter(0.5),
    "Grayscale": lambda: T.Grayscale(), "RandomGrayscale": lambda: T.RandomGrayscale(),
}


@pytest.mark.parametrize("name", sorted(EVERY_TRANSFORM))
@pytest.mark.parametrize("height, width", [(0, 5), (5, 0), (0, 0)])
def test_images_with_no_pixels_are_refused_naming_the_transform_and_the_shape(name, height, width):
    samples = [np.zeros((3, height, width), np.float32)]  # a tensor, and for all but RandomErasing images
    if name != "RandomErasing":
        samples += [np.zeros((height, width, 3), np.uint8), np.zeros((height, width), np.uint8)]
    for sample in samples:
        message = f"{name} got an image with no pixels: height {height}, width {width} (input shape {sample.shape})"
        with pytest.raises(ValueError, match=re.escape(message)):
            EVERY_TRANSFORM[name]()(sample)
        with pytest.raises(ValueError, match=rf"{name} got an image with no pixels: height {height}, width {width}"):
            EVERY_TRANSFORM[name]().apply_batch(sample[None])


def test_a_sample_not_flipped_is_the_input_itself_untouched_as_in_torchvision():
    for sample in (np.zeros((0, 5, 3), np.uint8), np.zeros((3, 4), np.float32), Image.new("RGB", (4, 3)), [[1]]):
        assert T.RandomHorizontalFlip(0.0)(sample) is sample


def test_an_output_too_large_for_memory_is_refused_naming_the_transform():
    """Resize(100000) of a uint8 image is 28 GiB: a MemoryError naming the transform and the output, before any
    allocation (run in a child with its address space capped at 2 GiB, so a wrong answer cannot take the machine)."""
    code = """
import resource, numpy as np
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from tinytorch.data.transforms import Resize, RandomResizedCrop
for transform, sample in ((Resize(100000), np.zeros((32, 32, 3), np.uint8)),
                          (Resize((10**6, 10**6)), np.zeros((3, 8, 8), np.float32)),
                          (RandomResizedCrop(10**6), np.zeros((8, 8), np.uint8))):
    try:
        transform(sample)
    except MemoryError as error:
        print(error)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    lines = out.stdout.splitlines()
    assert len(lines) == 3, out.stderr
    assert lines[0].startswith("Resize: the output, 100000 x 100000 pixels") and "27.9 GiB" in lines[0]
    assert lines[1].startswith("Resize: the output, 1000000 x 1000000 pixels")
    assert lines[2].startswith("RandomResizedCrop: the output, 1000000 x 1000000 pixels")


# ------------------------------------------------------------------------------------ the one crop, two routes

@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 5), height=st.integers(1, 7), width=st.integers(1, 7),
       crop_h=st.integers(1, 9), crop_w=st.integers(1, 9), fill=st.sampled_from([None, (3, 4, 5)]),
       layout=st.sampled_from(["rgb", "gray", "tensor"]))
@settings(max_examples=150, deadline=None)
def test_the_crops_two_routes_equal_padding_then_slicing(seed, n, height, width, crop_h, crop_w, fill, layout):
    """`flip_crop.crop` with one window (ints) or a window per sample (arrays), windows anywhere, even wholly outside:
    the image padded far enough with `fill` (zeros for None), then sliced."""
    from tinytorch.data.transforms.base import ImageBatch, fill_values
    from tinytorch.data.transforms.flip_crop import crop, pad

    generator = np.random.default_rng(seed)
    batch = generator.integers(0, 256, (n, height, width, 3), dtype=np.uint8)
    batch = {"rgb": batch, "gray": batch[..., 0], "tensor": batch.transpose(0, 3, 1, 2) / np.float32(255)}[layout]
    images = ImageBatch.of_batch(batch, "test")
    values = None if fill is None or images.channels != 3 else fill_values(fill, 3, images.view.dtype)
    margin = 2 * max(crop_h, crop_w, height, width)
    padded = pad(images.view, (margin,) * 4, values)
    tops = generator.integers(-margin, height + margin - crop_h + 1, n)
    lefts = generator.integers(-margin, width + margin - crop_w + 1, n)
    expected = np.stack([padded[i, ..., margin + t:margin + t + crop_h, margin + l:margin + l + crop_w]
                         for i, (t, l) in enumerate(zip(tops, lefts))])
    np.testing.assert_array_equal(crop(images.view, tops, lefts, crop_h, crop_w, values), expected)
    for i in range(n):
        np.testing.assert_array_equal(
            crop(images.view[i:i + 1], int(tops[i]), int(lefts[i]), crop_h, crop_w, values), expected[i:i + 1])


@pytest.mark.parametrize("shape, dtype", [((5, 4), np.uint8), ((5, 4, 3), np.uint8), ((5, 4, 1), np.uint8),
                                          ((3, 5, 4), np.float32), ((5, 4), np.float64), ((2, 3, 5, 4), np.float32)])
def test_an_image_batch_describes_an_input_and_gives_it_back_as_it_came(shape, dtype):
    from tinytorch.data.transforms.base import ImageBatch

    sample = np.arange(np.prod(shape)).reshape(shape).astype(dtype)
    one = ImageBatch.of(sample, "test")
    assert one.view.shape[0] == 1 and (one.height, one.width) == ((5, 4))
    assert one.kind == ("tensor" if dtype != np.uint8 else "image") and np.shares_memory(one.view, sample)
    np.testing.assert_array_equal(one.give(one.view.copy()), sample)
    batch = ImageBatch.of_batch(np.stack([sample, sample + 1]), "test")
    assert batch.view.shape[0] == 2 and batch.give(batch.view.copy()).shape == (2,) + shape
    if dtype == np.uint8 and len(shape) == 3 and shape[2] == 3:
        picture = Image.fromarray(sample)
        back = ImageBatch.of(picture, "test").give(ImageBatch.of(picture, "test").view.copy())
        assert isinstance(back, Image.Image) and back.mode == "RGB" and np.array_equal(np.asarray(back), sample)
