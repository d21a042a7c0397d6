"""torchvision's test/test_functional_tensor.py for the functional names tinytorch.data.transforms.functional is to
have (hflip, vflip, crop, center_crop, resized_crop, resize, pad, rotate, rgb_to_grayscale, adjust_brightness /
contrast / saturation / hue), ported to NumPy; plus the paired-transform idiom of torchvision's documentation
(`get_params`, then the same functional call on an image and its mask).

The array path against the Pillow path, as upstream compares tensors with PIL images: `dt=None` is the uint8 image
(H, W, C) (upstream's uint8 tensor, README Differences: images), `dt=float32` the float tensor (C, H, W) holding
the same 0..255 values ("a trivial cast to float of uint8 data", as upstream says); batches are float (N, C, H, W).
Not ported: the torch.jit.script halves, float16 (upstream skips it on CPU), test_gaussian_blur (its expected
values are a torch-pickled OpenCV asset), affine / perspective / five_crop / ten_crop / invert / posterize /
solarize / sharpness / autocontrast / equalize / gamma (no such transforms here), and the `resample=` /
integer-interpolation deprecation warnings (pre-InterpolationMode arguments tinytorch never had).
"""
import numpy as np
import pytest
from PIL import Image

import tinytorch.data.transforms as T
from tinytorch.data.transforms import InterpolationMode
from .upstream_marks import F, assert_equal, needs_functional, needs_get_params

NEAREST, BILINEAR, BICUBIC = InterpolationMode.NEAREST, InterpolationMode.BILINEAR, InterpolationMode.BICUBIC
DTYPES = [None, np.float32]

pytestmark = needs_functional  # every test here calls tinytorch.data.transforms.functional


def _create_data(height=3, width=3, channels=3, seed=0):
    """common_utils._create_data: a random uint8 image (H, W[, C]) and the same pixels as a Pillow image."""
    tensor = np.random.RandomState(seed).randint(0, 256, (height, width, channels)).astype(np.uint8)
    if channels == 1:
        tensor = tensor[..., 0]
    return tensor, Image.fromarray(tensor, mode="L" if channels == 1 else "RGB")


def _create_data_batch(height=3, width=3, channels=3, num_samples=4, seed=1):
    """common_utils._create_data_batch, as a float batch (N, C, H, W) in [0, 1]."""
    batch = np.random.RandomState(seed).randint(0, 256, (num_samples, channels, height, width))
    return (batch / 255.0).astype(np.float32)


def as_dtype(image, dt):
    """upstream's `tensor.to(dt)` of a uint8 tensor: the same values, as a float tensor (C, H, W) here."""
    if dt is None:
        return image
    return (image.transpose(2, 0, 1) if image.ndim == 3 else image[None]).astype(dt)


def to_uint8_image(out, dt):
    """upstream's `out.to(torch.uint8)`, laid out as the image (H, W[, C]) the Pillow result is compared with."""
    if dt is None:
        return np.asarray(out)
    out = np.asarray(out).astype(np.uint8)
    return out[0] if out.shape[0] == 1 else out.transpose(1, 2, 0)


def convert_image_dtype_to_uint8(out):
    """F.convert_image_dtype(float tensor, torch.uint8): x * (255 + 1 - 1e-3), truncated."""
    return (np.asarray(out, np.float64) * (255 + 1.0 - 1e-3)).astype(np.uint8)


def _assert_equal_tensor_to_pil(tensor, pil_image):
    assert_equal(np.asarray(tensor), np.asarray(pil_image))


def _assert_approx_equal_tensor_to_pil(tensor, pil_image, tol=1e-5, agg_method="mean"):
    err = getattr(np, agg_method)(np.abs(np.asarray(tensor, np.float64) - np.asarray(pil_image, np.float64)))
    assert err < tol, f"{agg_method} error {err} >= {tol}"


def _test_fn_on_batch(batch_tensors, fn, **fn_kwargs):
    transformed_batch = fn(batch_tensors, **fn_kwargs)
    for i in range(len(batch_tensors)):
        assert_equal(fn(batch_tensors[i, ...], **fn_kwargs), transformed_batch[i, ...])


# ---------------------------------------------------------------------------------------------------------- geometry

@pytest.mark.parametrize("height, width", [(26, 26), (32, 26)])
@pytest.mark.parametrize("center", [None, (int(26 * 0.3), int(26 * 0.4)), [int(26 * 0.5), int(26 * 0.6)]],
                         ids=["none", "tuple", "list"])
@pytest.mark.parametrize("dt", DTYPES, ids=["uint8", "float32"])
@pytest.mark.parametrize("expand", [True, False])
def test_rotate(height, width, center, dt, expand):
    tensor, pil_img = _create_data(height, width)
    tensor = as_dtype(tensor, dt)
    for angle in range(-180, 180, 17):
        for fill in [None, [0, 0, 0], (1, 2, 3), [255, 255, 255], [1], (2.0,)]:
            f_pil = int(fill[0]) if fill is not None and len(fill) == 1 else fill
            out_pil_img = F.rotate(pil_img, angle=angle, interpolation=NEAREST, expand=expand, center=center,
                                   fill=f_pil)
            out_pil_tensor = np.array(out_pil_img)
            out_tensor = to_uint8_image(F.rotate(tensor, angle=angle, interpolation=NEAREST, expand=expand,
                                                 center=center, fill=fill), dt)
            assert out_tensor.shape == out_pil_tensor.shape, (height, width, dt, angle, expand, center)
            num_diff_pixels = (out_tensor != out_pil_tensor).sum() / 3.0
            ratio_diff_pixels = num_diff_pixels / out_tensor.shape[0] / out_tensor.shape[1]
            # Tolerance : less than 3% of different pixels
            assert ratio_diff_pixels < 0.03, (height, width, dt, angle, expand, center, fill)


def test_rotate_batch():
    batch_tensors = _create_data_batch(26, 36, num_samples=4)
    _test_fn_on_batch(batch_tensors, F.rotate, angle=32, interpolation=NEAREST, expand=True, center=(20, 22))


RESIZE_CASES = [(size, max_size) for size in (32, 26, [32], [32, 32], (32, 32), [26, 35])
                for max_size in (None, 34, 40, 1000)
                if max_size is None or not isinstance(size, (list, tuple)) or len(size) == 1]  # else unsupported


@pytest.mark.parametrize("dt", DTYPES, ids=["uint8", "float32"])
@pytest.mark.parametrize("size, max_size", RESIZE_CASES, ids=[f"{s}-{m}" for s, m in RESIZE_CASES])
@pytest.mark.parametrize("interpolation", [BILINEAR, BICUBIC, NEAREST])
def test_resize(dt, size, max_size, interpolation):
    tensor, pil_img = _create_data(26, 36)
    batch_tensors = _create_data_batch(16, 18, num_samples=4)
    tensor = as_dtype(tensor, dt)

    resized_tensor = F.resize(tensor, size=size, interpolation=interpolation, max_size=max_size)
    resized_pil_img = F.resize(pil_img, size=size, interpolation=interpolation, max_size=max_size)

    spatial = resized_tensor.shape[:2] if dt is None else resized_tensor.shape[1:]
    assert tuple(spatial) == resized_pil_img.size[::-1]

    if interpolation not in [NEAREST]:
        # values cannot be checked for NEAREST: tensor and PIL pick different neighbours
        resized = np.asarray(resized_tensor, np.float32)
        resized = resized if dt is None else resized.transpose(1, 2, 0)
        # Pay attention to high tolerance for MAE
        _assert_approx_equal_tensor_to_pil(resized, resized_pil_img, tol=8.0)

    script_size = [size] if isinstance(size, int) else size
    _test_fn_on_batch(batch_tensors, F.resize, size=script_size, interpolation=interpolation, max_size=max_size)


def test_resize_asserts():
    tensor, pil_img = _create_data(26, 36)
    for img in (tensor, as_dtype(tensor, np.float32), pil_img):
        exp_msg = "max_size should only be passed if size specifies the length of the smaller edge"
        with pytest.raises(ValueError, match=exp_msg):
            F.resize(img, size=(32, 34), max_size=35)
        with pytest.raises(ValueError, match="max_size = 32 must be strictly greater"):
            F.resize(img, size=32, max_size=32)


@pytest.mark.parametrize("dt", DTYPES, ids=["uint8", "float32"])
@pytest.mark.parametrize("size", [[96, 72], [96, 420], [420, 72]], ids=["down", "wide", "tall"])
@pytest.mark.parametrize("interpolation", [BILINEAR, BICUBIC])
def test_resize_antialias(dt, size, interpolation):
    tensor, pil_img = _create_data(320, 290)
    tensor = as_dtype(tensor, dt)
    resized_tensor = F.resize(tensor, size=size, interpolation=interpolation, antialias=True)
    resized_pil_img = F.resize(pil_img, size=size, interpolation=interpolation)

    resized = np.asarray(resized_tensor, np.float32)
    resized = resized if dt is None else resized.transpose(1, 2, 0)
    assert resized.shape[:2] == resized_pil_img.size[::-1]
    _assert_approx_equal_tensor_to_pil(resized, resized_pil_img, tol=0.5)
    # downsampling and upsampling with BICUBIC cannot match PIL exactly
    accepted_tol = 15.0 if interpolation == BICUBIC else 1.0 + 1e-5
    _assert_approx_equal_tensor_to_pil(resized, resized_pil_img, tol=accepted_tol, agg_method="max")


@pytest.mark.parametrize("dt", DTYPES, ids=["uint8", "float32"])
@pytest.mark.parametrize("pad", [2, [3], [0, 3], (3, 3), [4, 2, 4, 3]], ids=["int", "one", "two", "tuple", "four"])
@pytest.mark.parametrize("config", [
    {"padding_mode": "constant", "fill": 0}, {"padding_mode": "constant", "fill": 10},
    {"padding_mode": "constant", "fill": 20}, {"padding_mode": "edge"}, {"padding_mode": "reflect"},
    {"padding_mode": "symmetric"}], ids=["fill0", "fill10", "fill20", "edge", "reflect", "symmetric"])
def test_pad(dt, pad, config):
    tensor, pil_img = _create_data(7, 8)
    batch_tensors = _create_data_batch(16, 18, num_samples=4)
    pad_tensor = F.pad(as_dtype(tensor, dt), pad, **config)
    pad_pil_img = F.pad(pil_img, pad, **config)
    _assert_equal_tensor_to_pil(to_uint8_image(pad_tensor, dt), pad_pil_img)
    _test_fn_on_batch(batch_tensors, F.pad, padding=[pad] if isinstance(pad, int) else pad, **config)


@pytest.mark.parametrize("mode", [NEAREST, BILINEAR, BICUBIC])
def test_resized_crop(mode):
    # 1) resize to the same size, crop to the same size => should be identity
    tensor = as_dtype(_create_data(26, 36)[0], np.float32)
    out_tensor = F.resized_crop(tensor, top=0, left=0, height=26, width=36, size=[26, 36], interpolation=mode)
    assert_equal(tensor, out_tensor)

    # 2) resize by half and crop a TL corner
    out_tensor = F.resized_crop(tensor, top=0, left=0, height=20, width=30, size=[10, 15], interpolation=NEAREST)
    expected_out_tensor = tensor[:, :20:2, :30:2]
    assert_equal(expected_out_tensor, out_tensor)

    batch_tensors = _create_data_batch(26, 36, num_samples=4)
    _test_fn_on_batch(batch_tensors, F.resized_crop, top=1, left=2, height=20, width=30, size=[10, 15],
                      interpolation=NEAREST)


@pytest.mark.parametrize("func, args", [
    ("vflip", ()), ("hflip", ()), ("crop", (1, 2, 4, 5)), ("adjust_brightness", (0.,)), ("adjust_contrast", (1.,)),
    ("adjust_hue", (-0.5,)), ("adjust_saturation", (2.,)), ("pad", ([2], 2, "constant")), ("resize", ([10, 11],)),
    ("gaussian_blur", ((3, 3), (0.7, 0.5)))], ids=lambda value: value if isinstance(value, str) else "")
def test_assert_image_tensor(func, args):
    tensor = np.random.RandomState(6).rand(100).astype(np.float32)
    fn = getattr(F, func)
    with pytest.raises(Exception, match=r"Tensor is not a torch image."):
        fn(tensor, *args)


@pytest.mark.parametrize("fn", ["vflip", "hflip"])
def test_flips(fn):
    img_tensor, pil_img = _create_data(16, 18)
    _assert_equal_tensor_to_pil(getattr(F, fn)(img_tensor), getattr(F, fn)(pil_img))
    _test_fn_on_batch(_create_data_batch(16, 18, num_samples=4), getattr(F, fn))


@pytest.mark.parametrize("top, left, height, width", [
    (1, 2, 4, 5),  # crop inside top-left corner
    (2, 12, 3, 4),  # crop inside top-right corner
    (8, 3, 5, 6),  # crop inside bottom-left corner
    (8, 11, 4, 3),  # crop inside bottom-right corner
], ids=["tl", "tr", "bl", "br"])
def test_crop(top, left, height, width):
    img_tensor, pil_img = _create_data(16, 18)
    pil_img_cropped = F.crop(pil_img, top, left, height, width)
    img_tensor_cropped = F.crop(img_tensor, top, left, height, width)
    _assert_equal_tensor_to_pil(img_tensor_cropped, pil_img_cropped)
    batch_tensors = _create_data_batch(16, 18, num_samples=4)
    _test_fn_on_batch(batch_tensors, F.crop, top=top, left=left, height=height, width=width)


def test_center_crop():
    img_tensor, pil_img = _create_data(32, 34)
    cropped_pil_image = F.center_crop(pil_img, [10, 11])
    cropped_tensor = F.center_crop(img_tensor, [10, 11])
    _assert_equal_tensor_to_pil(cropped_tensor, cropped_pil_image)
    batch_tensors = _create_data_batch(16, 18, num_samples=4)
    _test_fn_on_batch(batch_tensors, F.center_crop, output_size=[10, 11])


@pytest.mark.parametrize("num_output_channels", (3, 1))
def test_rgb_to_grayscale(num_output_channels):
    img_tensor, pil_img = _create_data(32, 34)
    gray_pil_image = F.rgb_to_grayscale(pil_img, num_output_channels=num_output_channels)
    gray_tensor = F.rgb_to_grayscale(img_tensor, num_output_channels=num_output_channels)
    _assert_approx_equal_tensor_to_pil(np.asarray(gray_tensor, np.float32), gray_pil_image, tol=1.0 + 1e-10,
                                       agg_method="max")
    batch_tensors = _create_data_batch(16, 18, num_samples=4)
    _test_fn_on_batch(batch_tensors, F.rgb_to_grayscale, num_output_channels=num_output_channels)


# ------------------------------------------------------------------------------------------------------------ colour

def check_functional_vs_PIL(fn, config, dtype, channels=3, tol=2.0 + 1e-10, agg_method="max"):
    tensor, pil_img = _create_data(26, 34, channels=channels)
    batch_tensors = _create_data_batch(16, 18, num_samples=4, channels=channels)
    if dtype is not None:  # F.convert_image_dtype(uint8 tensor, float): / 255
        tensor = (tensor.transpose(2, 0, 1) if channels == 3 else tensor[None]).astype(dtype) / 255

    out_fn_t = fn(tensor, **config)
    out_pil = fn(pil_img, **config)
    spatial = out_fn_t.shape[:2] if dtype is None else out_fn_t.shape[1:]
    assert tuple(spatial) == out_pil.size[::-1]

    rbg_tensor = out_fn_t if dtype is None else to_uint8_image(convert_image_dtype_to_uint8(out_fn_t), None)
    if dtype is not None:
        rbg_tensor = rbg_tensor[0] if rbg_tensor.shape[0] == 1 else rbg_tensor.transpose(1, 2, 0)
    # Check that max difference does not exceed 2 in [0, 255] range
    _assert_approx_equal_tensor_to_pil(np.asarray(rbg_tensor, np.float32), out_pil, tol=tol, agg_method=agg_method)
    _test_fn_on_batch(batch_tensors, fn, **config)


@pytest.mark.parametrize("dtype", DTYPES, ids=["uint8", "float32"])
@pytest.mark.parametrize("config", [{"brightness_factor": f} for f in (0.1, 0.5, 1.0, 1.34, 2.5)],
                         ids=lambda c: str(c["brightness_factor"]))
def test_adjust_brightness(dtype, config):
    check_functional_vs_PIL(F.adjust_brightness, config, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["uint8", "float32"])
@pytest.mark.parametrize("config", [{"contrast_factor": f} for f in [0.2, 0.5, 1.0, 1.5, 2.0]],
                         ids=lambda c: str(c["contrast_factor"]))
@pytest.mark.parametrize("channels", [1, 3])
def test_adjust_contrast(dtype, config, channels):
    check_functional_vs_PIL(F.adjust_contrast, config, dtype, channels=channels)


@pytest.mark.parametrize("dtype", DTYPES, ids=["uint8", "float32"])
@pytest.mark.parametrize("config", [{"saturation_factor": f} for f in [0.5, 0.75, 1.0, 1.5, 2.0]],
                         ids=lambda c: str(c["saturation_factor"]))
def test_adjust_saturation(dtype, config):
    check_functional_vs_PIL(F.adjust_saturation, config, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["uint8", "float32"])
@pytest.mark.parametrize("config", [{"hue_factor": f} for f in [-0.45, -0.25, 0.0, 0.25, 0.45]],
                         ids=lambda c: str(c["hue_factor"]))
def test_adjust_hue(dtype, config):
    check_functional_vs_PIL(F.adjust_hue, config, dtype, tol=16.1, agg_method="max")


# ----------------------------------------------------------------------- get_params: torchvision's documented idiom

@pytest.fixture
def image_and_mask():
    image = np.random.RandomState(7).randint(0, 256, (40, 50, 3)).astype(np.uint8)
    mask = (np.arange(40 * 50).reshape(40, 50) % 7).astype(np.uint8)
    return image, mask


@needs_get_params
def test_paired_random_crop(image_and_mask):
    """The same crop of an image and its segmentation mask (torchvision's transforms docs)."""
    image, mask = image_and_mask
    np.random.seed(0)
    i, j, h, w = T.RandomCrop.get_params(image, (24, 32))
    assert (h, w) == (24, 32) and 0 <= i <= 40 - 24 and 0 <= j <= 50 - 32
    assert all(isinstance(v, int) for v in (i, j, h, w))
    assert_equal(F.crop(image, i, j, h, w), image[i:i + h, j:j + w])
    assert_equal(F.crop(mask, i, j, h, w), mask[i:i + h, j:j + w])
    pil = F.crop(Image.fromarray(image), i, j, h, w)
    assert_equal(np.asarray(pil), image[i:i + h, j:j + w])


@needs_get_params
def test_paired_random_resized_crop(image_and_mask):
    image, mask = image_and_mask
    np.random.seed(1)
    i, j, h, w = T.RandomResizedCrop.get_params(image, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3))
    assert 0 <= i and i + h <= 40 and 0 <= j and j + w <= 50
    out_image = F.resized_crop(image, i, j, h, w, [16, 16])
    out_mask = F.resized_crop(mask, i, j, h, w, [16, 16], interpolation=NEAREST)
    assert out_image.shape == (16, 16, 3) and out_mask.shape == (16, 16)
    assert set(np.unique(out_mask)) <= set(np.unique(mask))  # NEAREST keeps the mask's labels


@needs_get_params
def test_random_rotation_get_params_then_rotate(image_and_mask):
    image, mask = image_and_mask
    np.random.seed(2)
    angle = T.RandomRotation.get_params([-30.0, 30.0])
    assert isinstance(angle, float) and -30 <= angle <= 30
    assert F.rotate(image, angle).shape == image.shape
    assert F.rotate(mask, angle, interpolation=NEAREST).shape == mask.shape


@needs_get_params
def test_color_jitter_get_params():
    np.random.seed(3)
    fn_idx, b, c, s, h = T.ColorJitter.get_params([0.6, 1.4], [0.6, 1.4], [0.6, 1.4], [-0.1, 0.1])
    assert sorted(int(i) for i in fn_idx) == [0, 1, 2, 3]
    assert 0.6 <= b <= 1.4 and 0.6 <= c <= 1.4 and 0.6 <= s <= 1.4 and -0.1 <= h <= 0.1
    assert T.ColorJitter.get_params(None, None, None, None)[1:] == (None, None, None, None)


@needs_get_params
def test_random_erasing_get_params_then_erase():
    img = np.random.RandomState(4).rand(3, 32, 32).astype(np.float32)
    np.random.seed(5)
    i, j, h, w, v = T.RandomErasing.get_params(img, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=[0.0])
    erased = F.erase(img, i, j, h, w, v)
    assert_equal(erased[:, i:i + h, j:j + w], np.zeros((3, h, w), np.float32))
    outside = np.ones((32, 32), bool)
    outside[i:i + h, j:j + w] = False
    assert_equal(erased[:, outside], img[:, outside])


def test_to_tensor_and_to_pil_image_round_trip():
    image = np.random.RandomState(8).randint(0, 256, (5, 6, 3)).astype(np.uint8)
    tensor = F.to_tensor(image)
    assert tensor.shape == (3, 5, 6) and tensor.dtype == np.float32
    assert_equal(np.asarray(F.to_pil_image(tensor)), image)
    assert_equal(F.normalize(tensor, [0.5] * 3, [0.5] * 3), (tensor - 0.5) / 0.5, atol=1e-6)
