"""Resize, CenterCrop, Pad, RandomResizedCrop, RandomRotation, ColorJitter, Grayscale, RandomGrayscale, GaussianBlur
and RandomErasing: known values (hand-computed or from Pillow), invariants, batched == per-sample, argument errors,
and, when torchvision is installed, equality with torchvision's PIL path and closeness to its tensor path."""
import numpy as np
import pytest
from hypothesis import assume, example, given, settings, strategies as st
from PIL import Image, ImageEnhance

from tinytorch.data import rng
from tinytorch.data.transforms import (CenterCrop, ColorJitter, Compose, GaussianBlur, Grayscale, InterpolationMode,
                                       Normalize, Pad, RandomErasing, RandomGrayscale, RandomHorizontalFlip,
                                       RandomResizedCrop, RandomRotation, Resize, ToTensor, apply_to_batch)
from test_transforms import one_by_one
from torch_reference import torchvision_or_none

RANDOM_TRANSFORMS = {
    "RandomResizedCrop": lambda: RandomResizedCrop((7, 5), scale=(0.2, 1.0)),
    "RandomResizedCrop nearest": lambda: RandomResizedCrop(6, interpolation=InterpolationMode.NEAREST),
    "RandomRotation": lambda: RandomRotation(40, fill=3),
    "RandomRotation bilinear": lambda: RandomRotation((-90, 90), InterpolationMode.BILINEAR, center=(2, 3)),
    "ColorJitter": lambda: ColorJitter(0.5, 0.5, 0.5, 0.2),
    "RandomGrayscale": lambda: RandomGrayscale(0.5),
    "GaussianBlur": lambda: GaussianBlur((3, 5), (0.1, 2.0)),
}
TENSOR_ONLY = {
    "RandomErasing": lambda: RandomErasing(0.7, value=(0.1, 0.2, 0.3)),
    "RandomErasing random": lambda: RandomErasing(0.7, value="random"),
}


PILLOW_FILTERS = {"nearest": Image.Resampling.NEAREST, "nearest-exact": Image.Resampling.NEAREST,
                  "bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC,
                  "box": Image.Resampling.BOX, "hamming": Image.Resampling.HAMMING, "lanczos": Image.Resampling.LANCZOS}


def images(seed, n, layout, height=12, width=10):
    batch = np.random.default_rng(seed).integers(0, 256, size=(n, height, width, 3), dtype=np.uint8)
    if layout == "frames":  # tensors (2, C, H, W): two frames sharing each sample's random decisions
        return np.stack([ToTensor().apply_batch(batch), ToTensor().apply_batch(batch[:, ::-1])], axis=1)
    return {"gray": batch[..., 0], "rgb": batch, "tensor": ToTensor().apply_batch(batch),
            "plane": ToTensor().apply_batch(batch[..., 0])[:, 0]}[layout]


@given(seed=st.integers(0, 2**40), epoch=st.integers(0, 50), start=st.integers(0, 10**6), n=st.integers(1, 9),
       layout=st.sampled_from(["gray", "rgb", "tensor", "plane", "frames"]),
       name=st.sampled_from(sorted(RANDOM_TRANSFORMS) + sorted(TENSOR_ONLY)))
@settings(max_examples=150, deadline=None)
@example(seed=0, epoch=0, start=0, n=5, layout="tensor", name="RandomErasing random")
def test_batched_application_equals_per_sample(seed, epoch, start, n, layout, name):
    # RandomErasing: tensors only; this one has a value per channel of three
    assume(not (name in TENSOR_ONLY and layout in ("gray", "rgb") or name == "RandomErasing" and layout == "plane"))
    transform = {**RANDOM_TRANSFORMS, **TENSOR_ONLY}[name]()
    batch = images(seed, n, layout)
    with rng.sample_randomness(seed, epoch, start, n):
        batched = transform.apply_batch(batch)
    np.testing.assert_array_equal(batched, one_by_one(transform, batch, seed, epoch, start))


@given(seed=st.integers(0, 2**40), n=st.integers(1, 6), layout=st.sampled_from(["gray", "rgb"]))
@settings(max_examples=30, deadline=None)
def test_a_pipeline_of_them_is_the_same_batched_and_per_sample(seed, n, layout):
    transform = Compose([RandomResizedCrop(8), RandomRotation(20), RandomHorizontalFlip(), ColorJitter(0.4, 0.4),
                         ToTensor(), Normalize(0.5, 0.25), RandomErasing(0.5)])
    batch = images(seed, n, layout, height=15, width=11)
    with rng.sample_randomness(seed, 3, 7, n):
        batched = transform.apply_batch(batch)
    np.testing.assert_array_equal(batched, one_by_one(transform, batch, seed, 3, 7))


ALL_TRANSFORMS = {**RANDOM_TRANSFORMS, **TENSOR_ONLY, "Resize": lambda: Resize((5, 7)), "CenterCrop": lambda: CenterCrop(6),
                  "Pad": lambda: Pad((1, 2), fill=(0.5,), padding_mode="constant"), "Grayscale": lambda: Grayscale(),
                  "Pad reflect": lambda: Pad(2, padding_mode="reflect")}


@pytest.mark.parametrize("name", sorted(ALL_TRANSFORMS))
def test_tensor_layouts_leading_axes_share_one_decision(name):
    """A tensor (T, C, H, W) is T tensors (C, H, W) with one random decision; an (H, W) tensor is a (1, H, W) one."""
    frames = images(3, 1, "frames")[0]  # (2, 3, 12, 10)
    with rng.sample_randomness(9, 0, 4, 1):
        together = ALL_TRANSFORMS[name]()(frames)
    for k in range(2):
        with rng.sample_randomness(9, 0, 4, 1):
            np.testing.assert_array_equal(together[k], ALL_TRANSFORMS[name]()(frames[k]))
    if name == "RandomErasing":
        return  # a value per channel of three
    plane = frames[0, 0]
    with rng.sample_randomness(9, 0, 4, 1):
        alone = ALL_TRANSFORMS[name]()(plane)
    with rng.sample_randomness(9, 0, 4, 1):
        np.testing.assert_array_equal(alone, ALL_TRANSFORMS[name]()(plane[None])[0])


def test_random_transforms_decide_differently_per_sample_and_per_seed():
    batch = images(0, 8, "rgb")
    for name, make in RANDOM_TRANSFORMS.items():
        with rng.sample_randomness(1, 0, 0, 8):
            first = make().apply_batch(np.repeat(batch[:1], 8, axis=0))
        with rng.sample_randomness(2, 0, 0, 8):
            second = make().apply_batch(np.repeat(batch[:1], 8, axis=0))
        assert len({sample.tobytes() for sample in first}) > 1, name
        assert not np.array_equal(first, second), name


# ------------------------------------------------------------------------------------------------------- Resize

def test_resize_output_size_follows_torchvision():
    image = np.zeros((37, 53, 3), np.uint8)
    assert Resize(20)(image).shape == (20, 28, 3)  # smaller edge 20, longer int(20 * 53 / 37)
    assert Resize([20])(image).shape == (20, 28, 3)
    assert Resize((13, 70))(image).shape == (13, 70, 3)
    assert Resize(20, max_size=25)(image).shape == (17, 25, 3)  # longer edge capped: int(25 * 20 / 28) = 17
    assert Resize(20)(np.zeros((53, 37), np.uint8)).shape == (28, 20)
    tensor = np.zeros((2, 37, 53), np.float32)
    assert Resize(20)(tensor).shape == (2, 20, 28)
    same = np.ones((20, 28), np.uint8)
    batch = same[None]
    assert Resize(20).apply_batch(batch) is batch  # nothing to do: the input itself, as torchvision


@pytest.mark.parametrize("mode", list(InterpolationMode))
@pytest.mark.parametrize("shape", [(9, 14, 3), (9, 14), (9, 14, 1), (30, 7, 4)])
def test_resize_of_uint8_images_is_pillows(mode, shape):
    image = np.random.default_rng(2).integers(0, 256, shape, dtype=np.uint8)
    out = Resize((12, 5), interpolation=mode)(image)
    picture = Image.fromarray(image[..., 0] if shape[-1] == 1 and len(shape) == 3 else image)
    expected = np.asarray(picture.resize((5, 12), PILLOW_FILTERS[mode.value]))
    np.testing.assert_array_equal(out, expected.reshape(out.shape))


@given(height=st.integers(1, 70), width=st.integers(1, 70), out_h=st.integers(1, 80), out_w=st.integers(1, 80),
       mode=st.sampled_from(["bilinear", "bicubic", "box"]), layout=st.sampled_from(["gray", "rgb"]))
@settings(max_examples=200, deadline=None)
@example(height=50, width=24, out_h=5, out_w=55, mode="bilinear", layout="rgb")  # Pillow 13 goes vertical first
def test_resize_of_uint8_images_computes_pillows_arithmetic(height, width, out_h, out_w, mode, layout):
    """uint8 Resize in NumPy (fixed-point taps, Pillow's pass order) gives Pillow's resize bit for bit."""
    image = images(height * 71 + width, 1, layout, height, width)[0]
    expected = np.asarray(Image.fromarray(image).resize((out_w, out_h), PILLOW_FILTERS[mode]))
    np.testing.assert_array_equal(Resize((out_h, out_w), InterpolationMode(mode))(image), expected)


@pytest.mark.parametrize("mode", list(InterpolationMode))
def test_random_resized_crop_of_uint8_images_is_pillows_crop_and_resize(mode):
    batch = images(5, 40, "rgb", 37, 29)
    transform = RandomResizedCrop((13, 21), scale=(0.05, 1.0), ratio=(0.2, 5.0), interpolation=mode)
    with rng.sample_randomness(5, 0, 0, 40):
        boxes = transform.boxes(40, 37, 29)
    with rng.sample_randomness(5, 0, 0, 40):
        out = transform.apply_batch(batch)
    for image, crop, (top, left, height, width) in zip(batch, out, boxes.tolist()):
        expected = Image.fromarray(image).crop((left, top, left + width, top + height)).resize((21, 13),
                                                                                              PILLOW_FILTERS[mode.value])
        np.testing.assert_array_equal(crop, np.asarray(expected))


def test_resize_of_tensors_hand_computed():
    row = np.array([[[0.0, 1.0]]], np.float32)  # (1, 1, 2)
    # Bilinear x2 with half-pixel centres: sources -0.25, 0.25, 0.75, 1.25, clamped to the edges.
    np.testing.assert_allclose(Resize((1, 4))(row)[0, 0], [0, 0.25, 0.75, 1], atol=1e-7)
    ramp = np.arange(8, dtype=np.float32).reshape(1, 1, 8)
    assert Resize((1, 4), InterpolationMode.NEAREST)(ramp)[0, 0].tolist() == [0, 2, 4, 6]  # floor(i * 2)
    assert Resize((1, 4), InterpolationMode.NEAREST_EXACT)(ramp)[0, 0].tolist() == [1, 3, 5, 7]  # floor((i + .5) * 2)
    # Antialiased bilinear /2 is Pillow's triangle stretched by 2: weights (1, 3, 3, 1) / 8, renormalised at edges.
    expected = [(0 * 3 + 1 * 3 + 2) / 7, (1 + 2 * 3 + 3 * 3 + 4) / 8, (3 + 4 * 3 + 5 * 3 + 6) / 8, (5 + 6 * 3 + 7 * 3) / 7]
    np.testing.assert_allclose(Resize((1, 4))(ramp)[0, 0], expected, rtol=1e-6)
    # Without antialias, /2 samples between pixel pairs.
    np.testing.assert_allclose(Resize((1, 4), antialias=False)(ramp)[0, 0], [0.5, 2.5, 4.5, 6.5], rtol=1e-6)
    constant = np.full((3, 9, 13), 0.25, np.float32)
    for mode in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        np.testing.assert_allclose(Resize((5, 21), InterpolationMode(mode))(constant), 0.25, rtol=1e-6)
    with pytest.raises(ValueError, match="lanczos"):
        Resize(3, InterpolationMode.LANCZOS)(constant)


def test_resize_arguments():
    with pytest.raises(ValueError, match=r"size=0"):
        Resize(0)
    with pytest.raises(ValueError, match=r"size=\(1, 2, 3\)"):
        Resize((1, 2, 3))
    with pytest.raises(ValueError, match="max_size = 10 must be strictly greater than the requested size"):
        Resize(10, max_size=10)
    with pytest.raises(ValueError, match="max_size"):
        Resize((10, 12), max_size=20)
    with pytest.raises(TypeError, match="interpolation='cubic'"):
        Resize(3, interpolation="cubic")
    assert Resize(3, interpolation=3).interpolation is InterpolationMode.BICUBIC  # Pillow's constants, as torchvision
    with pytest.raises(TypeError, match="uint8 images"):
        Resize(3)(np.zeros((4, 4), np.int64))


# --------------------------------------------------------------------------------------------- CenterCrop, Pad

def test_center_crop_rounds_half_to_even_as_torchvision():
    image = np.arange(25, dtype=np.uint8).reshape(5, 5)
    np.testing.assert_array_equal(CenterCrop(2)(image), image[2:4, 2:4])  # round(1.5) = 2
    image7 = np.arange(49, dtype=np.uint8).reshape(7, 7)
    np.testing.assert_array_equal(CenterCrop((2, 3))(image7), image7[2:4, 2:5])  # round(2.5) = 2, round(2.0) = 2
    tensor = np.arange(2 * 25, dtype=np.float32).reshape(2, 5, 5)
    np.testing.assert_array_equal(CenterCrop([2])(tensor), tensor[:, 2:4, 2:4])


def test_center_crop_pads_small_images_with_zeros():
    image = np.full((2, 3, 3), 7, np.uint8)
    out = CenterCrop((4, 6))(image)
    assert out.shape == (4, 6, 3)
    expected = np.zeros((4, 6, 3), np.uint8)
    expected[1:3, 1:4] = 7  # padding (left, top, right, bottom) = (1, 1, 2, 1)
    np.testing.assert_array_equal(out, expected)


@given(height=st.integers(1, 12), width=st.integers(1, 12), pad_x=st.integers(0, 5), pad_y=st.integers(0, 5),
       mode=st.sampled_from(["constant", "edge", "reflect", "symmetric"]), layout=st.sampled_from(["gray", "rgb", "tensor"]))
@settings(max_examples=80, deadline=None)
def test_pad_then_center_crop_gives_back_the_input(height, width, pad_x, pad_y, mode, layout):
    image = images(height * 13 + width, 1, layout, height, width)[0]
    padded = Pad((pad_x, pad_y), fill=5, padding_mode=mode)(image)
    np.testing.assert_array_equal(CenterCrop((height, width))(padded), image)


def test_pad_modes_on_known_values():
    row = np.array([[1, 2, 3, 4]], np.uint8)
    # torchvision's documented examples for 2 on each side.
    assert Pad((2, 0), padding_mode="reflect")(row)[0].tolist() == [3, 2, 1, 2, 3, 4, 3, 2]
    assert Pad((2, 0), padding_mode="symmetric")(row)[0].tolist() == [2, 1, 1, 2, 3, 4, 4, 3]
    assert Pad((2, 0), padding_mode="edge")(row)[0].tolist() == [1, 1, 1, 2, 3, 4, 4, 4]
    assert Pad((2, 0), fill=9)(row)[0].tolist() == [9, 9, 1, 2, 3, 4, 9, 9]
    out = Pad((1, 2, 3, 4), fill=9)(row)  # left, top, right, bottom
    assert out.shape == (1 + 2 + 4, 4 + 1 + 3) and out[2, 1:5].tolist() == [1, 2, 3, 4] and (out == 9).sum() == 52
    rgb = np.zeros((1, 1, 3), np.uint8)
    assert Pad(1, fill=(1, 2, 3))(rgb)[0, 0].tolist() == [1, 2, 3]
    tensor = np.zeros((2, 1, 1), np.float32)
    assert Pad(1, fill=(0.5, 0.25))(tensor)[:, 0, 0].tolist() == [0.5, 0.25]
    assert Pad(1, fill=2.7)(row)[0, 0] == 2  # int(fill) on uint8 images, as torchvision's PIL path
    with pytest.raises(ValueError, match="padding_mode"):
        Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError, match="padding=-1"):
        Pad(-1)
    with pytest.raises(ValueError, match="fill"):
        Pad(1, fill=(1, 2))(rgb)


# ---------------------------------------------------------------------------------------------- RandomResizedCrop

def test_random_resized_crop_boxes_follow_scale_and_ratio():
    transform = RandomResizedCrop(10, scale=(0.2, 0.5), ratio=(0.5, 2.0))
    with rng.sample_randomness(0, 0, 0, 5000):
        boxes = transform.boxes(5000, 60, 80)
    tops, lefts, heights, widths = boxes.T
    assert np.all(tops >= 0) and np.all(lefts >= 0) and np.all(tops + heights <= 60) and np.all(lefts + widths <= 80)
    area = heights * widths / (60 * 80)
    assert 0.19 < area.min() and area.max() < 0.51 and 0.32 < area.mean() < 0.38
    aspect = widths / heights
    assert 0.45 < aspect.min() and aspect.max() < 2.2 and abs(np.log(aspect).mean()) < 0.05
    assert len(set(tops.tolist())) > 20 and len(set(lefts.tolist())) > 20


def test_random_resized_crop_whole_image_and_fallback():
    image = np.random.default_rng(0).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    np.testing.assert_array_equal(RandomResizedCrop(8, scale=(1, 1), ratio=(1, 1))(image), Resize(8)(image))
    # No proposal can have aspect 10 inside a square: torchvision's fallback, the central crop with aspect clamped.
    transform = RandomResizedCrop(8, scale=(0.9, 1.0), ratio=(10.0, 12.0))
    assert transform.boxes(3, 20, 20).tolist() == [[9, 0, 2, 20]] * 3  # h = round(20 / 10), centred
    with pytest.raises(TypeError, match="scale"):
        RandomResizedCrop(8, scale=0.5)
    with pytest.raises(ValueError, match="ratio"):
        RandomResizedCrop(8, ratio=(0, 1))
    with pytest.warns(UserWarning, match="min, max"):
        RandomResizedCrop(8, scale=(0.9, 0.1))


# ------------------------------------------------------------------------------------------------ RandomRotation

def test_rotation_by_fixed_angles():
    image = np.random.default_rng(0).integers(1, 256, (6, 6, 3), dtype=np.uint8)
    np.testing.assert_array_equal(RandomRotation((0, 0))(image), image)
    np.testing.assert_array_equal(RandomRotation((90, 90))(image), np.rot90(image))  # counter-clockwise
    tensor = ToTensor()(image)
    np.testing.assert_array_equal(RandomRotation((90, 90))(tensor), np.rot90(tensor, axes=(1, 2)))
    np.testing.assert_array_equal(RandomRotation((180, 180))(tensor), tensor[:, ::-1, ::-1])
    corners = RandomRotation((45, 45), fill=(9, 8, 7))(image)
    assert corners[0, 0].tolist() == [9, 8, 7]  # outside the rotated image: fill
    tall = np.zeros((4, 10), np.uint8)
    assert RandomRotation((90, 90), expand=True)(tall).shape == (10, 4)
    assert RandomRotation((90, 90), expand=True)(np.zeros((1, 4, 10), np.float32)).shape == (1, 10, 4)


def test_rotation_with_expand_goes_one_sample_at_a_time():
    transform = RandomRotation(30, expand=True)
    assert not transform.batched
    batch = np.zeros((3, 8, 8), np.uint8)
    with rng.sample_randomness(0, 0, 0, 3):
        out = apply_to_batch(RandomRotation((90, 90), expand=True), np.zeros((3, 4, 6), np.uint8))
    assert out.shape == (3, 6, 4)
    with pytest.raises(ValueError, match="one sample at a time"):
        transform.apply_batch(batch)
    with pytest.raises(ValueError, match="degrees=-1"):
        RandomRotation(-1)
    with pytest.raises(TypeError, match="center should be a sequence of length 2"):
        RandomRotation(10, center=3)
    with pytest.raises(ValueError, match="center should be a sequence of length 2"):
        RandomRotation(10, center=(1, 2, 3))
    with pytest.raises(ValueError, match="bicubic"):
        RandomRotation(10, InterpolationMode.BICUBIC)(np.zeros((1, 4, 4), np.float32))


# ------------------------------------------------------------------------------------------ Grayscale and colour

def test_grayscale_is_pillows_l_conversion():
    pure = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]], np.uint8)
    assert Grayscale()(pure)[0].tolist() == [76, 150, 29, 255]  # 0.299, 0.587, 0.114 of 255, rounded by Pillow
    image = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    expected = np.asarray(Image.fromarray(image).convert("L"))
    np.testing.assert_array_equal(Grayscale()(image), expected)
    np.testing.assert_array_equal(Grayscale(3)(image), np.repeat(expected[..., None], 3, axis=2))
    tensor = ToTensor()(image)
    np.testing.assert_allclose(Grayscale()(tensor)[0], 0.2989 * tensor[0] + 0.587 * tensor[1] + 0.114 * tensor[2],
                               rtol=1e-6)
    assert Grayscale(3)(tensor).shape == (3, 40, 50)
    np.testing.assert_array_equal(Grayscale()(image[..., 0]), image[..., 0])
    with pytest.raises(ValueError, match="num_output_channels=2"):
        Grayscale(2)


def test_random_grayscale_probability():
    image = np.random.default_rng(0).integers(0, 256, (2, 2, 3), dtype=np.uint8)
    np.testing.assert_array_equal(RandomGrayscale(1.0)(image), Grayscale(3)(image))
    np.testing.assert_array_equal(RandomGrayscale(0.0)(image), image)
    with rng.sample_randomness(0, 0, 0, 10000):
        out = RandomGrayscale(0.3).apply_batch(np.repeat(image[None], 10000, axis=0))
    assert abs(np.mean(np.all(out == Grayscale(3)(image), axis=(1, 2, 3))) - 0.3) < 0.02
    with pytest.raises(ValueError, match="p=1.5"):
        RandomGrayscale(1.5)


def jitter_reference(image, order, factors):
    """Pillow's enhancers (what torchvision's PIL path calls) in the drawn order; hue as torchvision's adjust_hue."""
    picture = Image.fromarray(image)
    for operation in order:
        factor = float(factors[operation])
        if operation == 3 and picture.mode == "RGB":
            h, s, v = picture.convert("HSV").split()
            shifted = (np.asarray(h) + np.uint8(np.int32(factor * 255).astype(np.uint8))).astype(np.uint8)
            picture = Image.merge("HSV", (Image.fromarray(shifted), s, v)).convert("RGB")
        elif operation < 3:
            enhancer = (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color)[operation]
            picture = enhancer(picture).enhance(factor)
    return np.asarray(picture)


@pytest.mark.parametrize("layout", ["rgb", "gray"])
def test_color_jitter_on_uint8_is_pillows_enhancers(layout):
    transform = ColorJitter(0.8, 0.8, 0.8, 0.5)
    batch = images(4, 16, layout, 9, 11)
    with rng.sample_randomness(4, 0, 0, 16):
        order, factors = transform.parameters(16)
    with rng.sample_randomness(4, 0, 0, 16):
        out = transform.apply_batch(batch)
    assert len({tuple(row) for row in order}) > 4  # the order is random per image
    for i in range(16):
        np.testing.assert_array_equal(out[i], jitter_reference(batch[i], order[i], factors[i]))


def test_color_jitter_ranges_and_arguments():
    transform = ColorJitter(brightness=0.5, contrast=(0.2, 0.3), saturation=2, hue=0.1)
    assert transform.brightness == (0.5, 1.5) and transform.contrast == (0.2, 0.3)
    assert transform.saturation == (0.0, 3.0) and transform.hue == (-0.1, 0.1)
    with rng.sample_randomness(0, 0, 0, 4000):
        _, factors = transform.parameters(4000)
    assert 0.5 <= factors[:, 0].min() and factors[:, 0].max() < 1.5 and 0.2 <= factors[:, 1].min()
    assert -0.1 <= factors[:, 3].min() < -0.09 and 0.09 < factors[:, 3].max() < 0.1
    identity = ColorJitter()
    assert identity.brightness is None and identity.hue is None
    image = images(0, 1, "rgb")[0]
    np.testing.assert_array_equal(identity(image), image)
    with pytest.raises(ValueError, match="brightness=-1"):
        ColorJitter(brightness=-1)
    with pytest.raises(ValueError, match=r"hue values should be between \(-0\.5, 0\.5\), but got \[-0\.6, 0\.6\]"):
        ColorJitter(hue=0.6)
    with pytest.raises(TypeError, match="contrast"):
        ColorJitter(contrast=(1, 2, 3))
    with pytest.raises(TypeError, match=r"permitted channel values are \[1, 3\], but found 4"):
        ColorJitter(0.5)(np.zeros((2, 2, 4), np.uint8))


def test_color_jitter_on_tensors_known_values():
    tensor = np.random.default_rng(0).random((3, 4, 5)).astype(np.float32)
    brighter = ColorJitter(brightness=(1.5, 1.5))(tensor)
    np.testing.assert_allclose(brighter, np.clip(tensor * 1.5, 0, 1), rtol=1e-6)
    flat = ColorJitter(contrast=(0, 0))(tensor)  # factor 0: the mean grey everywhere
    np.testing.assert_allclose(flat, (0.2989 * tensor[0] + 0.587 * tensor[1] + 0.114 * tensor[2]).mean(), rtol=1e-5)
    red = np.zeros((3, 1, 1), np.float32)
    red[0] = 1
    assert np.allclose(ColorJitter(hue=(0.5, 0.5))(red)[:, 0, 0], [0, 1, 1])  # half a turn: cyan
    assert np.allclose(ColorJitter(hue=(1 / 3, 1 / 3))(red)[:, 0, 0], [0, 1, 0], atol=1e-6)  # a third: green


def test_gaussian_blur_known_values():
    impulse = np.zeros((1, 7, 9), np.float32)
    impulse[0, 3, 4] = 1
    sigma = 1.2
    out = GaussianBlur((5, 3), sigma=sigma)(impulse)  # kernel_size is (x, y), as in torchvision
    kx = np.exp(-0.5 * (np.arange(-2, 3) / sigma) ** 2)
    ky = np.exp(-0.5 * (np.arange(-1, 2) / sigma) ** 2)
    expected = np.zeros((7, 9))
    expected[2:5, 2:7] = np.outer(ky / ky.sum(), kx / kx.sum())
    np.testing.assert_allclose(out[0], expected, atol=1e-7)
    constant = np.full((6, 7, 3), 200, np.uint8)
    np.testing.assert_array_equal(GaussianBlur(5)(constant), constant)
    edge = np.zeros((1, 1, 4), np.float32)
    edge[..., 0] = 1  # reflect padding: the pixel beside the edge is mirrored, not repeated
    kernel = np.exp(-0.5 * (np.arange(-1, 2) / 1.0) ** 2)
    kernel /= kernel.sum()
    np.testing.assert_allclose(GaussianBlur((3, 1), 1.0)(edge)[0, 0, :2], [kernel[1], kernel[0]], rtol=1e-6)
    with rng.sample_randomness(0, 0, 0, 1000):
        sigmas = GaussianBlur(3, (0.5, 1.5)).sigmas(1000)
    assert 0.5 <= sigmas.min() < 0.52 and 1.48 < sigmas.max() < 1.5
    with pytest.raises(ValueError, match=r"kernel_size=4"):
        GaussianBlur(4)
    with pytest.raises(ValueError, match=r"sigma=\(2, 1\)"):
        GaussianBlur(3, (2, 1))
    with pytest.raises(ValueError, match="sigma=0"):
        GaussianBlur(3, 0)


# ------------------------------------------------------------------------------------------------- RandomErasing

def erased_mask(before, after):
    return np.any(before != after, axis=1)


def test_random_erasing_value_scale_and_ratio():
    n, height, width = 3000, 40, 50
    batch = np.full((n, 3, height, width), 0.5, np.float32)
    transform = RandomErasing(p=1.0, scale=(0.05, 0.2), ratio=(0.5, 2.0), value=(0.1, 0.2, 0.3))
    with rng.sample_randomness(0, 0, 0, n):
        out = transform.apply_batch(batch)
    masks = erased_mask(batch, out)
    rows, cols = masks.any(axis=2).sum(axis=1), masks.any(axis=1).sum(axis=1)
    assert np.all(masks.sum(axis=(1, 2)) == rows * cols)  # a rectangle
    area = rows * cols / (height * width)
    assert 0.04 < area.min() and area.max() < 0.21 and 0.11 < area.mean() < 0.14
    aspect = rows / cols  # torchvision: h = sqrt(area * ratio), w = sqrt(area / ratio)
    assert 0.4 < aspect.min() and aspect.max() < 2.4 and abs(np.log(aspect).mean()) < 0.05
    sample = out[0][:, masks[0]]
    np.testing.assert_allclose(sample, np.array([[0.1], [0.2], [0.3]]) * np.ones_like(sample))
    assert np.all(out[:, :, ~masks[0]][0] == 0.5)
    with rng.sample_randomness(1, 0, 0, n):
        sometimes = RandomErasing(p=0.25).apply_batch(batch)
    assert abs(erased_mask(batch, sometimes).any(axis=(1, 2)).mean() - 0.25) < 0.03


def test_random_erasing_random_values_and_inplace():
    batch = np.zeros((200, 2, 30, 30), np.float32)
    with rng.sample_randomness(0, 0, 0, 200):
        noisy = RandomErasing(p=1.0, value="random", scale=(0.3, 0.33)).apply_batch(batch)
    values = noisy[noisy != 0]
    assert values.size > 50000 and abs(values.mean()) < 0.02 and abs(values.std() - 1) < 0.02
    assert np.all(batch == 0)  # not in place by default
    tensor = np.zeros((1, 8, 8), np.float32)
    out = RandomErasing(p=1.0, value=1, inplace=True)(tensor)
    assert out.sum() > 0
    big = np.zeros((4, 3, 3), np.float32)
    np.testing.assert_array_equal(RandomErasing(p=1.0, scale=(0.99, 1.0), ratio=(1, 1))(big), big)  # never fits
    with pytest.raises(TypeError, match="ToTensor"):
        RandomErasing()(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="value='noise'"):
        RandomErasing(value="noise")
    with pytest.raises(ValueError, match="p=2"):
        RandomErasing(p=2)
    with pytest.raises(ValueError, match="scale"):
        RandomErasing(scale=(0.1, 1.5))
    with pytest.raises(ValueError, match="value"):
        RandomErasing(p=1, value=(1, 2))(np.zeros((3, 8, 8), np.float32))


# ----------------------------------------------------------------------------------------------- Pillow images in

def test_pillow_images_in_pillow_images_out():
    array = images(0, 1, "rgb", 20, 30)[0]
    picture = Image.fromarray(array)
    out = Resize(10)(picture)
    assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == (15, 10)
    np.testing.assert_array_equal(np.asarray(out), Resize(10)(array))
    grey = Grayscale()(picture)
    assert grey.mode == "L" and np.array_equal(np.asarray(grey), np.asarray(picture.convert("L")))
    assert Pad(2)(picture.convert("L")).mode == "L"
    rgba = picture.convert("RGBA")
    rgba.putalpha(Image.fromarray(array[..., 0]))
    resized = Resize((7, 9))(rgba)  # Pillow premultiplies alpha for RGBA: the same call, the same pixels
    assert resized.mode == "RGBA" and np.array_equal(np.asarray(resized), np.asarray(rgba.resize((9, 7), 2)))
    np.testing.assert_array_equal(np.asarray(RandomRotation((30, 30))(rgba)), np.asarray(rgba.rotate(30)))
    with pytest.raises(TypeError, match="mode 'P'"):
        CenterCrop(4)(picture.convert("P"))
    with pytest.raises(TypeError, match="ToTensor"):
        RandomErasing()(picture)


# ------------------------------------------------------------------------------------- parity with torchvision

tv = torchvision_or_none()
needs_torchvision = pytest.mark.skipif(tv is None, reason="torchvision is not installed")


def random_images(seed, count=6):
    """`count` random uint8 RGB images of random sizes between 5 and 47."""
    generator = np.random.default_rng(seed)
    for _ in range(count):
        height, width = generator.integers(5, 48, 2)
        yield generator.integers(0, 256, (height, width, 3), dtype=np.uint8)


def draw_one(transform, seed, parameters):
    """`parameters(transform)` under the draws that `run_one(transform, sample, seed)` gets: its box, angle, ..."""
    with rng.sample_randomness(seed, 0, 0, 1):
        chosen = parameters(transform)
    return chosen


def run_one(transform, sample, seed):
    with rng.sample_randomness(seed, 0, 0, 1):
        return transform(sample)


def torch_tensor(image):
    return tv.transforms.functional.to_tensor(image)


@needs_torchvision
@pytest.mark.parametrize("interpolation", list(InterpolationMode))
def test_resize_equals_torchvision(interpolation):
    T = tv.transforms
    for image in random_images(1):
        for size in (11, (13, 40), [7]):
            ours = Resize(size, interpolation)(image)
            np.testing.assert_array_equal(ours, np.asarray(T.Resize(size, T.InterpolationMode(interpolation.value))(
                Image.fromarray(image))))
            if interpolation.value in ("nearest", "nearest-exact", "bilinear", "bicubic"):
                for antialias in (True, False):
                    tensor = torch_tensor(image)
                    reference = T.Resize(size, T.InterpolationMode(interpolation.value), antialias=antialias)(tensor)
                    np.testing.assert_allclose(Resize(size, interpolation, antialias=antialias)(tensor.numpy()),
                                               reference.numpy(), atol=1e-5)


@needs_torchvision
def test_center_crop_pad_and_grayscale_equal_torchvision():
    T = tv.transforms
    for image in random_images(2):
        picture, tensor = Image.fromarray(image), torch_tensor(image)
        for size in (4, (30, 9), (50, 51)):
            np.testing.assert_array_equal(CenterCrop(size)(image), np.asarray(T.CenterCrop(size)(picture)))
            np.testing.assert_array_equal(CenterCrop(size)(tensor.numpy()), T.CenterCrop(size)(tensor).numpy())
        for padding in (3, (1, 2), (1, 2, 3, 4)):
            for mode in ("constant", "edge", "reflect", "symmetric"):
                np.testing.assert_array_equal(Pad(padding, 7, mode)(image), np.asarray(T.Pad(padding, 7, mode)(picture)))
                np.testing.assert_array_equal(Pad(padding, 0.5, mode)(tensor.numpy()),
                                              T.Pad(padding, 0.5, mode)(tensor).numpy())
            np.testing.assert_array_equal(Pad(padding, (1, 2, 3))(image), np.asarray(T.Pad(padding, (1, 2, 3))(picture)))
        for channels in (1, 3):
            np.testing.assert_array_equal(Grayscale(channels)(image), np.asarray(T.Grayscale(channels)(picture)))
            np.testing.assert_allclose(Grayscale(channels)(tensor.numpy()), T.Grayscale(channels)(tensor).numpy(),
                                       atol=1e-6)


@needs_torchvision
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic"])
def test_random_resized_crop_equals_torchvision_at_the_same_box(interpolation):
    F, mode = tv.transforms.functional, tv.transforms.InterpolationMode(interpolation)
    for seed, image in enumerate(random_images(3)):
        transform = RandomResizedCrop((17, 23), interpolation=InterpolationMode(interpolation))
        top, left, height, width = (int(v) for v in draw_one(transform, seed, lambda t: t.boxes(1, *image.shape[:2])[0]))
        np.testing.assert_array_equal(run_one(transform, image, seed), np.asarray(
            F.resized_crop(Image.fromarray(image), top, left, height, width, [17, 23], mode)))
        tensor = torch_tensor(image)
        np.testing.assert_allclose(run_one(transform, tensor.numpy(), seed), F.resized_crop(
            tensor, top, left, height, width, [17, 23], mode).numpy(), atol=1e-5)


@needs_torchvision
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("expand", [False, True])
@pytest.mark.parametrize("center, fill", [(None, 0), ((3, 4), (10, 50, 200))])
def test_random_rotation_equals_torchvision_at_the_same_angle(interpolation, expand, center, fill):
    F, mode = tv.transforms.functional, tv.transforms.InterpolationMode(interpolation)
    tensor_fill = [v / 255 for v in fill] if isinstance(fill, tuple) else [float(fill)] * 3
    for seed, image in enumerate(random_images(4)):
        transform = RandomRotation(180, InterpolationMode(interpolation), expand, center, fill)
        angle = float(draw_one(transform, seed, lambda t: t.angles(1)[0]))
        np.testing.assert_array_equal(run_one(transform, image, seed), np.asarray(
            F.rotate(Image.fromarray(image), angle, mode, expand, center, fill)))
        tensor = torch_tensor(image)
        transform = RandomRotation(180, InterpolationMode(interpolation), expand, center, tensor_fill)
        np.testing.assert_allclose(run_one(transform, tensor.numpy(), seed), F.rotate(
            tensor, angle, mode, expand, center, tensor_fill).numpy(), atol=1e-5)


@needs_torchvision
def test_color_jitter_equals_torchvision_at_the_same_order_and_factors():
    F = tv.transforms.functional
    adjust = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)
    for seed, image in enumerate(random_images(5, count=20)):
        transform = ColorJitter(0.6, 0.6, 0.6, 0.4)
        order, factors = draw_one(transform, seed, lambda t: t.parameters(1))
        for sample in (image, image[..., 1]):
            picture, tensor = Image.fromarray(sample), torch_tensor(sample)
            for operation in order[0]:
                picture = adjust[operation](picture, float(factors[0, operation]))
                tensor = adjust[operation](tensor, float(factors[0, operation]))
            np.testing.assert_array_equal(run_one(transform, sample, seed), np.asarray(picture))
            np.testing.assert_allclose(run_one(transform, torch_tensor(sample).numpy(), seed), tensor.numpy(), atol=1e-5)


@needs_torchvision
def test_gaussian_blur_matches_torchvision_at_the_same_sigma():
    F = tv.transforms.functional
    off_by_one = pixels = 0
    for seed, image in enumerate(random_images(6, count=30)):
        for kernel_size in (3, (5, 9)):
            transform = GaussianBlur(kernel_size, (0.1, 3.0))
            sigma = float(draw_one(transform, seed, lambda t: t.sigmas(1)[0]))
            sizes = [kernel_size] * 2 if isinstance(kernel_size, int) else list(kernel_size)
            reference = np.asarray(F.gaussian_blur(Image.fromarray(image), sizes, [sigma, sigma])).astype(int)
            difference = np.abs(run_one(transform, image, seed).astype(int) - reference)
            assert difference.max() <= 1
            off_by_one, pixels = off_by_one + difference.sum(), pixels + difference.size
            tensor = torch_tensor(image)
            np.testing.assert_allclose(run_one(transform, tensor.numpy(), seed),
                                       F.gaussian_blur(tensor, sizes, [sigma, sigma]).numpy(), atol=1e-5)
    # float32 sums in another order than torch's convolution: a rounding tie lands the other way on rare pixels.
    assert off_by_one / pixels < 1e-4


@needs_torchvision
def test_random_erasing_equals_torchvision_erase_at_the_same_rectangle():
    F = tv.transforms.functional
    erased = 0
    for seed, image in enumerate(random_images(7)):
        tensor = torch_tensor(image)
        out = run_one(RandomErasing(p=1.0, value=(0.1, 0.2, 0.3)), tensor.numpy(), seed)
        mask = erased_mask(tensor.numpy()[None], out[None])[0]
        if not mask.any():  # none of the 10 tries fitted: the tensor comes back unchanged
            np.testing.assert_array_equal(out, tensor.numpy())
            continue
        erased += 1
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        reference = F.erase(tensor, rows[0], cols[0], len(rows), len(cols), tv.transforms.functional.to_tensor(
            np.array([[[0.1, 0.2, 0.3]]], np.float32)))
        np.testing.assert_allclose(out, reference.numpy(), atol=1e-7)
    assert erased >= 4  # p=1 and images of 5 to 47 pixels: nearly every try fits
