"""torchvision's test/test_transforms.py (v1 transforms on Pillow images and tensors), ported to NumPy.

A float tensor (C, H, W) is a float32 array of that shape; a uint8 tensor (C, H, W) becomes the uint8 image
(H, W, C) it stands for, since an integer array is an image here (README, Differences: images); PILToTensor is
`pil_to_tensor` (np.asarray, moved to (C, H, W)); torch.testing.assert_close -> upstream_marks.assert_equal.
Not ported, for the transforms tinytorch does not have: ConvertImageDtype, PILToTensor, FiveCrop, TenCrop,
RandomPerspective, RandomAffine, ElasticTransform, LinearTransformation, RandomApply/Choice/Order, AutoAugment,
RandAugment, TrivialAugmentWide, AugMix, invert/posterize/solarize/sharpness/autocontrast/equalize/gamma.
"""
import math
import random
import re
import sys

import numpy as np
import pytest
from PIL import Image

import tinytorch.data.transforms as transforms
from .upstream_marks import F, assert_equal, bug, differs, needs_functional, needs_get_params, pil_to_tensor



class stats:
    """The two scipy.stats tests upstream uses, in plain Python (scipy is not a test dependency here)."""

    class Result:
        def __init__(self, pvalue):
            self.pvalue = pvalue

    @staticmethod
    def binomtest(k, n, p=0.5):
        """Exact two-sided binomial test: the probability of outcomes no more likely than k successes in n."""
        probabilities = [math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(n + 1)]
        return stats.Result(min(1.0, sum(q for q in probabilities if q <= probabilities[k] * (1 + 1e-7))))

    @staticmethod
    def kstest(values, cdf="norm", args=(0, 1)):
        """One-sample Kolmogorov-Smirnov test against a normal distribution, with the asymptotic p-value."""
        assert cdf == "norm"
        mean, std = args
        x = np.sort(np.asarray(values, dtype=np.float64))
        n = len(x)
        expected = np.array([0.5 * (1 + math.erf((v - mean) / (std * math.sqrt(2)))) for v in x])
        d = max(np.max(np.arange(1, n + 1) / n - expected), np.max(expected - np.arange(n) / n))
        t = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
        return stats.Result(min(1.0, max(0.0, 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * t * t)
                                                      for k in range(1, 101)))))

np_rng = np.random.RandomState(0)


@pytest.fixture(autouse=True)
def seeded():
    """Upstream draws sizes from an unseeded `random`; a seed per test keeps each run the same."""
    random.seed(0)
    np.random.seed(0)


def float_tensor(*shape):
    """torch.Tensor(*shape).uniform_() / torch.rand(*shape)."""
    return np_rng.rand(*shape).astype(np.float32)


def byte_image(*chw):
    """torch.ByteTensor(C, H, W).random_(0, 255) as the uint8 image (H, W, C) it stands for."""
    c, h, w = chw
    return np_rng.randint(0, 255, (h, w, c)).astype(np.uint8)


# ------------------------------------------------------------------------------------------------------- TestToTensor

@pytest.mark.parametrize("channels", [1, 3, 4])
def test_to_tensor(channels):
    height, width = 4, 4
    trans = transforms.ToTensor()

    input_data = np_rng.randint(0, 255, (channels, height, width)).astype(np.float32) / 255
    img = transforms.ToPILImage()(input_data)
    output = trans(img)
    assert_equal(output, input_data)

    ndarray = np_rng.randint(low=0, high=255, size=(height, width, channels)).astype(np.uint8)
    output = trans(ndarray)
    expected_output = ndarray.transpose((2, 0, 1)) / 255.0
    assert_equal(output, expected_output.astype(np.float32))


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_to_tensor_float_ndarray(channels):
    ndarray = np_rng.rand(4, 4, channels).astype(np.float32)
    output = transforms.ToTensor()(ndarray)
    assert_equal(output, ndarray.transpose((2, 0, 1)))


def test_to_tensor_mode_1():
    # separate test for mode '1' PIL images
    input_data = np_rng.randint(0, 2, (4, 4)).astype(np.uint8)
    img = transforms.ToPILImage()(input_data * 255).convert("1")
    output = transforms.ToTensor()(img)
    assert_equal(output, input_data[None].astype(np.float32))


def test_to_tensor_errors_list():
    with pytest.raises(TypeError):
        transforms.ToTensor()(np_rng.rand(1, 4, 4).tolist())


def test_to_tensor_errors():
    trans = transforms.ToTensor()
    with pytest.raises(ValueError):
        trans(np_rng.rand(4))
    with pytest.raises(ValueError):
        trans(np_rng.rand(1, 1, 4, 4))


@pytest.mark.skip(reason="uses torch internals: torch.set_default_dtype")
def test_to_tensor_with_other_default_dtypes():
    pass


@needs_get_params
def test_randomresized_params():
    height = random.randint(24, 32) * 2
    width = random.randint(24, 32) * 2
    img = transforms.ToPILImage()(np.ones((3, height, width), np.float32))
    size = 100
    epsilon = 0.05
    min_scale = 0.25
    for _ in range(10):
        scale_min = max(round(random.random(), 2), min_scale)
        scale_range = (scale_min, scale_min + round(random.random(), 2))
        aspect_min = max(round(random.random(), 2), epsilon)
        aspect_ratio_range = (aspect_min, aspect_min + round(random.random(), 2))
        randresizecrop = transforms.RandomResizedCrop(size, scale_range, aspect_ratio_range, antialias=True)
        i, j, h, w = randresizecrop.get_params(img, scale_range, aspect_ratio_range)
        aspect_ratio_obtained = w / h
        assert (min(aspect_ratio_range) - epsilon <= aspect_ratio_obtained
                and aspect_ratio_obtained <= max(aspect_ratio_range) + epsilon) or aspect_ratio_obtained == 1.0
        assert isinstance(i, int)
        assert isinstance(j, int)
        assert isinstance(h, int)
        assert isinstance(w, int)


# -------------------------------------------------------------------------------------------------------------- Resize

SIZES = [(28, 28), (27, 27), (28, 34), (29, 35), (34, 28), (35, 29)]


@pytest.mark.parametrize("height, width", SIZES)
@pytest.mark.parametrize("osize", [22, 27, 28, 36, [22], (27,)])
@pytest.mark.parametrize("max_size", (None, 37, 1000))
def test_resize(height, width, osize, max_size):
    img = Image.new("RGB", size=(width, height), color=127)
    t = transforms.Resize(osize, max_size=max_size, antialias=True)
    result = t(img)

    msg = f"{height}, {width} - {osize} - {max_size}"
    osize = osize[0] if isinstance(osize, (list, tuple)) else osize
    # If size is an int, smaller edge of the image will be matched to this number.
    if height < width:
        exp_w, exp_h = (int(osize * width / height), osize)  # (w, h)
        if max_size is not None and max_size < exp_w:
            exp_w, exp_h = max_size, int(max_size * exp_h / exp_w)
        assert result.size == (exp_w, exp_h), msg
    elif width < height:
        exp_w, exp_h = (osize, int(osize * height / width))  # (w, h)
        if max_size is not None and max_size < exp_h:
            exp_w, exp_h = int(max_size * exp_w / exp_h), max_size
        assert result.size == (exp_w, exp_h), msg
    else:
        exp_w, exp_h = (osize, osize)  # (w, h)
        if max_size is not None and max_size < osize:
            exp_w, exp_h = max_size, max_size
        assert result.size == (exp_w, exp_h), msg


@pytest.mark.parametrize("height, width", SIZES)
@pytest.mark.parametrize("osize", [[22, 22], [22, 28], [22, 36], [27, 22], [36, 22], [28, 28], [28, 37], [37, 27],
                                   [37, 37]])
def test_resize_sequence_output(height, width, osize):
    img = Image.new("RGB", size=(width, height), color=127)
    oheight, owidth = osize
    result = transforms.Resize(osize, antialias=True)(img)
    assert (owidth, oheight) == result.size


def test_resize_antialias_error():
    img = Image.new("RGB", size=(35, 29), color=127)
    with pytest.warns(UserWarning, match=r"Anti-alias option is always applied for PIL Image input"):
        transforms.Resize([37, 37], antialias=False)(img)


@pytest.mark.parametrize("height, width", ((32, 64), (64, 32)))
def test_resize_size_equals_small_edge_size(height, width):
    # max_size used to be ignored if size == small_edge_size
    max_size = 40
    img = Image.new("RGB", size=(width, height), color=127)
    small_edge = min(height, width)
    result = transforms.Resize(small_edge, max_size=max_size, antialias=True)(img)
    assert max(result.size) == max_size


def test_resize_equal_input_output_sizes():
    height, width = 28, 27
    img = Image.new("RGB", size=(width, height))
    result = transforms.Resize((height, width), antialias=True)(img)
    assert result is img


# ------------------------------------------------------------------------------------------------------------- TestPad

@pytest.mark.parametrize("fill", [85, 85.0])
def test_pad(fill):
    height = random.randint(10, 32) * 2
    width = random.randint(10, 32) * 2
    img = np.ones((height, width, 3), dtype=np.uint8)
    padding = random.randint(1, 20)
    result = pil_to_tensor(transforms.Compose([transforms.ToPILImage(), transforms.Pad(padding, fill=fill)])(img))
    assert result.shape[1] == height + 2 * padding
    assert result.shape[2] == width + 2 * padding
    # all elements in the padded region are the pad value
    h_padded = result[:, :padding, :]
    w_padded = result[:, :, :padding]
    assert_equal(h_padded, np.full_like(h_padded, fill_value=fill))
    assert_equal(w_padded, np.full_like(w_padded, fill_value=fill))
    pytest.raises(ValueError, transforms.Pad(padding, fill=(1, 2)), transforms.ToPILImage()(img))


def test_pad_with_tuple_of_pad_values():
    height = random.randint(10, 32) * 2
    width = random.randint(10, 32) * 2
    img = transforms.ToPILImage()(np.ones((3, height, width), np.float32))

    padding = tuple(random.randint(1, 20) for _ in range(2))
    output = transforms.Pad(padding)(img)
    assert output.size == (width + padding[0] * 2, height + padding[1] * 2)

    padding = [random.randint(1, 20) for _ in range(4)]
    output = transforms.Pad(padding)(img)
    assert output.size[0] == width + padding[0] + padding[2]
    assert output.size[1] == height + padding[1] + padding[3]

    # Checking if Padding can be printed as string
    transforms.Pad(padding).__repr__()


def _pad_test_image():
    img = np.zeros((27, 27, 3), np.uint8)
    img[:, 0, :] = 1  # Constant value added to leftmost edge
    return F.pad(transforms.ToPILImage()(img), 1, (200, 200, 200))


@needs_functional
def test_pad_with_non_constant_padding_modes():
    """Unit tests for edge, reflect, symmetric padding"""
    img = _pad_test_image()

    # pad 3 to all sides
    edge_padded_img = F.pad(img, 3, padding_mode="edge")
    # edge_pad, edge_pad, edge_pad, constant_pad, constant value added to leftmost edge, 0
    edge_middle_slice = np.asarray(edge_padded_img).transpose(2, 0, 1)[0][17][:6]
    assert_equal(edge_middle_slice, np.asarray([200, 200, 200, 200, 1, 0], dtype=np.uint8))
    assert pil_to_tensor(edge_padded_img).shape == (3, 35, 35)

    # Pad 3 to left/right, 2 to top/bottom
    reflect_padded_img = F.pad(img, (3, 2), padding_mode="reflect")
    reflect_middle_slice = np.asarray(reflect_padded_img).transpose(2, 0, 1)[0][17][:6]
    assert_equal(reflect_middle_slice, np.asarray([0, 0, 1, 200, 1, 0], dtype=np.uint8))
    assert pil_to_tensor(reflect_padded_img).shape == (3, 33, 35)

    # Pad 3 to left, 2 to top, 2 to right, 1 to bottom
    symmetric_padded_img = F.pad(img, (3, 2, 2, 1), padding_mode="symmetric")
    symmetric_middle_slice = np.asarray(symmetric_padded_img).transpose(2, 0, 1)[0][17][:6]
    assert_equal(symmetric_middle_slice, np.asarray([0, 1, 200, 200, 1, 0], dtype=np.uint8))
    assert pil_to_tensor(symmetric_padded_img).shape == (3, 32, 34)


@differs("`Pad` with negative padding")
def test_pad_symmetric_negative():
    img = _pad_test_image()
    # Crop 1 to left, pad 2 to top, pad 3 to right, crop 3 to bottom
    symmetric_padded_img_neg = F.pad(img, (-1, 2, 3, -3), padding_mode="symmetric")
    symmetric_neg_middle_left = np.asarray(symmetric_padded_img_neg).transpose(2, 0, 1)[0][17][:3]
    symmetric_neg_middle_right = np.asarray(symmetric_padded_img_neg).transpose(2, 0, 1)[0][17][-4:]
    assert_equal(symmetric_neg_middle_left, np.asarray([1, 0, 0], dtype=np.uint8))
    assert_equal(symmetric_neg_middle_right, np.asarray([200, 200, 0, 0], dtype=np.uint8))
    assert pil_to_tensor(symmetric_padded_img_neg).shape == (3, 28, 31)


def test_pad_raises_with_invalid_pad_sequence_len():
    with pytest.raises(ValueError):
        transforms.Pad(())
    with pytest.raises(ValueError):
        transforms.Pad((1, 2, 3))
    with pytest.raises(ValueError):
        transforms.Pad((1, 2, 3, 4, 5))


@differs("the transforms for images of any size on integer arrays other than uint8, or Pillow images of modes P, I, F")
def test_pad_with_mode_F_images():
    pad = 2
    img = Image.new("F", (10, 10))
    padded_img = transforms.Pad(pad)(img)
    assert_equal(padded_img.size, [edge_size + 2 * pad for edge_size in img.size])


# ----------------------------------------------------------------------------------------------------- test_randomness

@needs_functional
@pytest.mark.parametrize("fn, trans, kwargs", [
    ("hflip", transforms.RandomHorizontalFlip, {}),
    ("to_grayscale", transforms.RandomGrayscale, {}),
], ids=["hflip", "grayscale"])
@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("p", (0, 1))
def test_randomness(fn, trans, kwargs, seed, p):
    np.random.seed(seed)
    img = transforms.ToPILImage()(np.random.rand(3, 16, 18).astype(np.float32))
    fn = getattr(F, fn)
    expected_transformed_img = fn(img, num_output_channels=3) if trans is transforms.RandomGrayscale else fn(img)
    randomly_transformed_img = trans(p=p, **kwargs)(img)
    if p == 0:
        assert randomly_transformed_img == img
    elif p == 1:
        assert randomly_transformed_img == expected_transformed_img
    trans(**kwargs).__repr__()


# ---------------------------------------------------------------------------------------------------------- TestToPil

MODE_16 = "I;16" if sys.byteorder == "little" else "I;16B"


def test_1_channel_float_tensor_to_pil_image_L():
    img_data = float_tensor(1, 4, 4)
    expected_output = (img_data * 255).astype(np.int32).astype(np.float32) / 255
    for transform in (transforms.ToPILImage(mode="L"), transforms.ToPILImage()):
        img = transform(img_data)
        assert img.mode == "L"
        assert_equal(expected_output, transforms.ToTensor()(img), atol=1e-6)


@pytest.mark.skip(reason="tensor-only: integer tensors (C, H, W); an integer NumPy array is an image (H, W, C) here, "
                         "and test_1_channel_ndarray_to_pil_image covers those dtypes")
def test_1_channel_tensor_to_pil_image_integer_types():
    pass


def test_1_channel_float_tensor_to_pil_image():
    img_data = float_tensor(1, 4, 4)
    # 'F' mode for torch.FloatTensor
    img_F_mode = transforms.ToPILImage(mode="F")(img_data)
    assert img_F_mode.mode == "F"
    assert_equal(np.array(Image.fromarray(img_data.squeeze(0), mode="F")), np.array(img_F_mode))


ONE_CHANNEL_NDARRAYS = [
    pytest.param(np_rng.rand(4, 4, 1).astype(np.float32), "L", id="float32",
                 marks=differs("`ToPILImage` on a float NumPy array")),
    pytest.param(np_rng.randint(0, 255, (4, 4, 1)).astype(np.uint8), "L", id="uint8"),
    pytest.param(np_rng.randint(0, 2**15, (4, 4, 1)).astype(np.int16), MODE_16, id="int16"),
    pytest.param(np_rng.randint(0, 2**31, (4, 4, 1)).astype(np.int32), "I", id="int32"),
]


@pytest.mark.parametrize("with_mode", [False, True])
@pytest.mark.parametrize("img_data, expected_mode", ONE_CHANNEL_NDARRAYS)
def test_1_channel_ndarray_to_pil_image(with_mode, img_data, expected_mode):
    transform = transforms.ToPILImage(mode=expected_mode) if with_mode else transforms.ToPILImage()
    img = transform(img_data)
    assert img.mode == expected_mode
    if np.issubdtype(img_data.dtype, np.floating):
        img_data = (img_data * 255).astype(np.uint8)
    assert_equal(img_data[:, :, 0], np.asarray(img).astype(img_data.dtype))


# upstream's test_{2,3,4}_channel_{tensor,ndarray}_to_pil_image and their _error twins, one table: for each number
# of channels, the default mode, the modes to try, and the message for a mode of another number of channels
CHANNELS = {
    2: ("LA", [None, "LA"], r"Only modes \['LA'\] are supported for 2D inputs", ("RGBA", "P", "RGB")),
    3: ("RGB", [None, "RGB", "HSV", "YCbCr"], r"Only modes \['RGB', 'YCbCr', 'HSV'\] are supported for 3D inputs",
        ("RGBA", "P", "LA")),
    4: ("RGBA", [None, "RGBA", "CMYK", "RGBX"], r"Only modes \['RGBA', 'CMYK', 'RGBX'\] are supported for 4D inputs",
        ("RGB", "P", "LA")),
}
CHANNEL_MODES = [(channels, mode) for channels, (_, modes, _, _) in CHANNELS.items() for mode in modes]


def to_pil_image_as(img_data, channels, expected_mode):
    default_mode = CHANNELS[channels][0]
    if expected_mode is None:
        img = transforms.ToPILImage()(img_data)
        assert img.mode == default_mode  # default should assume LA, RGB, RGBA
    else:
        img = transforms.ToPILImage(mode=expected_mode)(img_data)
        assert img.mode == expected_mode
    return img


@pytest.mark.parametrize("channels, expected_mode", CHANNEL_MODES)
def test_n_channel_tensor_to_pil_image(channels, expected_mode):
    img_data = float_tensor(channels, 4, 4)
    expected_output = (img_data * 255).astype(np.int32).astype(np.float32) / 255
    split = to_pil_image_as(img_data, channels, expected_mode).split()
    for i in range(channels):
        assert_equal(expected_output[i], transforms.ToTensor()(split[i]).squeeze(0), atol=1e-6)


@pytest.mark.parametrize("channels, expected_mode", CHANNEL_MODES)
def test_n_channel_ndarray_to_pil_image(channels, expected_mode):
    img_data = byte_image(channels, 4, 4)
    split = to_pil_image_as(img_data, channels, expected_mode).split()
    for i in range(channels):
        assert_equal(img_data[:, :, i], np.asarray(split[i]))


@pytest.mark.parametrize("channels", CHANNELS)
@pytest.mark.parametrize("data", ["ndarray", "tensor"])
def test_n_channel_to_pil_image_error(channels, data):
    img_data = byte_image(channels, 4, 4) if data == "ndarray" else float_tensor(channels, 4, 4)
    transforms.ToPILImage().__repr__()
    _, _, message, other_modes = CHANNELS[channels]
    # should raise if we try a mode for images of another number of channels
    for mode in other_modes:
        with pytest.raises(ValueError, match=message):
            transforms.ToPILImage(mode=mode)(img_data)


def test_3_channel_tensor_to_pil_image_error_dimensions():
    with pytest.raises(ValueError, match=r"pic should be 2/3 dimensional. Got \d+ dimensions."):
        transforms.ToPILImage()(float_tensor(1, 3, 4, 4))


TWO_D = [
    pytest.param("float32", "L", id="float32"),
    pytest.param("uint8", "L", id="uint8"),
    pytest.param("int16", MODE_16, id="int16"),
    pytest.param("int32", "I", id="int32"),
]


def two_d(dtype):
    if dtype == "float32":
        return np_rng.rand(4, 4).astype(np.float32)
    if dtype == "uint8":
        return np_rng.randint(0, 255, (4, 4)).astype(np.uint8)
    return np_rng.randint(0, np.iinfo(dtype).max, (4, 4)).astype(dtype)  # torch's random_(): 0 .. max


@pytest.mark.parametrize("with_mode", [False, True])
@pytest.mark.parametrize("dtype, expected_mode", TWO_D[:3] + [pytest.param("int32", "I", id="int32")])
def test_2d_tensor_to_pil_image(with_mode, dtype, expected_mode):
    img_data = two_d(dtype)
    if dtype == "float32":
        expected_output = (img_data * 255).astype(np.int32).astype(np.float32) / 255
    elif dtype == "uint8":
        expected_output = img_data.astype(np.float32) / 255.0
    else:
        expected_output = img_data
    transform = transforms.ToPILImage(mode=expected_mode) if with_mode else transforms.ToPILImage()
    img = transform(img_data)
    assert img.mode == expected_mode
    assert_equal(expected_output, transforms.ToTensor()(img)[0], atol=1e-6)


@pytest.mark.parametrize("with_mode", [False, True])
@pytest.mark.parametrize("dtype, expected_mode", TWO_D)
def test_2d_ndarray_to_pil_image(with_mode, dtype, expected_mode):
    img_data = two_d(dtype)
    transform = transforms.ToPILImage(mode=expected_mode) if with_mode else transforms.ToPILImage()
    img = transform(img_data)
    assert img.mode == expected_mode
    if np.issubdtype(img_data.dtype, np.floating):
        img_data = (img_data * 255).astype(np.uint8)
    np.testing.assert_allclose(img_data, img)


@pytest.mark.parametrize("dtype", [
    np.int64,
    np.uint16,
    np.uint32,
])
def test_ndarray_bad_types_to_pil_image(dtype):
    with pytest.raises(TypeError, match=r"Input type \w+ is not supported"):
        transforms.ToPILImage()(np.ones([4, 4, 1], dtype))


def test_ndarray_bad_dimensions_to_pil_image():
    with pytest.raises(ValueError, match=r"pic should be 2/3 dimensional. Got \d+ dimensions."):
        transforms.ToPILImage()(np.ones([1, 4, 4, 3]))


@differs("`ToPILImage` on a float NumPy array")
def test_ndarray_bad_channels_to_pil_image():
    with pytest.raises(ValueError, match=r"pic should not have > 4 channels. Got \d+ channels."):
        transforms.ToPILImage()(np.ones([4, 4, 6]))


def test_tensor_bad_types_to_pil_image_dimensions():
    with pytest.raises(ValueError, match=r"pic should be 2/3 dimensional. Got \d+ dimensions."):
        transforms.ToPILImage()(np.ones((1, 3, 4, 4), np.float32))


def test_tensor_bad_types_to_pil_image_channels():
    with pytest.raises(ValueError, match=r"pic should not have > 4 channels. Got \d+ channels."):
        transforms.ToPILImage()(np.ones((6, 4, 4), np.float32))


# ----------------------------------------------------------------------------------------------- functional adjust_*

X_SHAPE = [2, 2, 3]
X_DATA = [0, 5, 13, 54, 135, 226, 37, 8, 234, 90, 255, 1]


def x_pil():
    return Image.fromarray(np.array(X_DATA, dtype=np.uint8).reshape(X_SHAPE), mode="RGB")


def answer(values):
    return np.array(values, dtype=np.uint8).reshape(X_SHAPE)


@needs_functional
@pytest.mark.parametrize("factor, expected", [
    (1, X_DATA), (0.5, [0, 2, 6, 27, 67, 113, 18, 4, 117, 45, 127, 0]),
    (2, [0, 10, 26, 108, 255, 255, 74, 16, 255, 180, 255, 2])])
def test_adjust_brightness(factor, expected):
    assert_equal(np.array(F.adjust_brightness(x_pil(), factor)), answer(expected))


@needs_functional
@pytest.mark.parametrize("factor, expected", [
    (1, X_DATA), (0.5, [43, 45, 49, 70, 110, 156, 61, 47, 160, 88, 170, 43]),
    (2, [0, 0, 0, 22, 184, 255, 0, 0, 255, 94, 255, 0])])
def test_adjust_contrast(factor, expected):
    assert_equal(np.array(F.adjust_contrast(x_pil(), factor)), answer(expected))


@needs_functional
@pytest.mark.parametrize("factor, expected", [
    # test 0: almost same as x_data but not exact, probably because of hsv <-> rgb floating point ops
    (0, [0, 5, 13, 54, 139, 226, 35, 8, 234, 91, 255, 1]),
    (0.25, [13, 0, 12, 224, 54, 226, 234, 8, 99, 1, 222, 255]),
    (-0.25, [0, 13, 2, 54, 226, 58, 8, 234, 152, 255, 43, 1])])
def test_adjust_hue(factor, expected):
    with pytest.raises(ValueError):
        F.adjust_hue(x_pil(), -0.7)
        F.adjust_hue(x_pil(), 1)
    assert_equal(np.array(F.adjust_hue(x_pil(), factor)), answer(expected))


@needs_functional
def test_adjusts_L_mode():
    x_l = x_pil().convert("L")
    assert F.adjust_brightness(x_l, 2).mode == "L"
    assert F.adjust_saturation(x_l, 2).mode == "L"
    assert F.adjust_contrast(x_l, 2).mode == "L"
    assert F.adjust_hue(x_l, 0.4).mode == "L"


@needs_functional
def test_rotate():
    x = np.zeros((100, 100, 3), dtype=np.uint8)
    x[40, 40] = [255, 255, 255]
    img = F.to_pil_image(x)

    result = F.rotate(img, 45)
    assert result.size == (100, 100)
    r, c, ch = np.where(result)
    assert all(x in r for x in [49, 50])
    assert all(x in c for x in [36])
    assert all(x in ch for x in [0, 1, 2])

    result = F.rotate(img, 45, expand=True)
    assert result.size == (142, 142)
    r, c, ch = np.where(result)
    assert all(x in r for x in [70, 71])
    assert all(x in c for x in [57])
    assert all(x in ch for x in [0, 1, 2])

    result = F.rotate(img, 45, center=(40, 40))
    assert result.size == (100, 100)
    r, c, ch = np.where(result)
    assert all(x in r for x in [40])
    assert all(x in c for x in [40])
    assert all(x in ch for x in [0, 1, 2])

    result_a = F.rotate(img, 90)
    result_b = F.rotate(img, -270)
    assert_equal(np.array(result_a), np.array(result_b))


@needs_functional
@differs("images")  # a uint8 array is an image here, which F.rotate takes
def test_rotate_refuses_ndarray():
    x = np.zeros((100, 100, 3), dtype=np.uint8)
    with pytest.raises(TypeError, match=r"img should be PIL Image"):
        F.rotate(x, 10)


@needs_functional
@pytest.mark.parametrize("mode", ["L", "RGB", pytest.param("F", marks=differs(
    "the transforms for images of any size on integer arrays other than uint8, or Pillow images of modes P, I, F"))])
def test_rotate_fill(mode):
    img = F.to_pil_image(np.ones((100, 100, 3), dtype=np.uint8) * 255, "RGB")
    num_bands = len(mode)
    wrong_num_bands = num_bands + 1
    fill = 127

    img_conv = img.convert(mode)
    img_rot = F.rotate(img_conv, 45.0, fill=fill)
    pixel = img_rot.getpixel((0, 0))
    if not isinstance(pixel, tuple):
        pixel = (pixel,)
    assert pixel == tuple([fill] * num_bands)

    with pytest.raises(ValueError):
        F.rotate(img_conv, 45.0, fill=tuple([fill] * wrong_num_bands))


@needs_functional
def test_gaussian_blur_asserts_functional():
    img = F.to_pil_image(np.ones((100, 100, 3), dtype=np.uint8) * 255, "RGB")
    with pytest.raises(ValueError, match=r"If kernel_size is a sequence its length should be 2"):
        F.gaussian_blur(img, [3])
    with pytest.raises(ValueError, match=r"If kernel_size is a sequence its length should be 2"):
        F.gaussian_blur(img, [3, 3, 3])
    with pytest.raises(ValueError, match=r"kernel_size should have odd and positive integers"):
        F.gaussian_blur(img, [4, 4])
    with pytest.raises(ValueError, match=r"kernel_size should have odd and positive integers"):
        F.gaussian_blur(img, [-3, -3])
    with pytest.raises(ValueError, match=r"If sigma is a sequence, its length should be 2"):
        F.gaussian_blur(img, 3, [1, 1, 1])
    with pytest.raises(ValueError, match=r"sigma should have positive values"):
        F.gaussian_blur(img, 3, -1.0)
    with pytest.raises(TypeError, match=r"kernel_size should be int or a sequence of integers"):
        F.gaussian_blur(img, "kernel_size_string")
    with pytest.raises(TypeError, match=r"sigma should be either float or sequence of floats"):
        F.gaussian_blur(img, 3, "sigma_string")


GAUSSIAN_BLUR_ASSERTS = [
    ([3, 3, 3], None, r"Kernel size should be a tuple/list of two integers"),
    ([4, 4], None, r"Kernel size value should be an odd and positive number"),
    ([-3, -3], None, r"Kernel size value should be an odd and positive number"),
    (3, [1, 1, 1], r"sigma should be a single number or a list/tuple with length 2"),
    (3, -1.0, r"If sigma is a single number, it must be positive"),
    ("kernel_size_string", None, r"Kernel size should be a tuple/list of two integers"),
    (3, "sigma_string", r"sigma should be a single number or a list/tuple with length 2"),
]


@pytest.mark.parametrize("kernel_size, sigma, message", GAUSSIAN_BLUR_ASSERTS, ids=[
    "kernel3values", "kernel_even", "kernel_negative", "sigma3values", "sigma_negative", "kernel_string",
    "sigma_string"])
def test_gaussian_blur_asserts(kernel_size, sigma, message):
    with pytest.raises(ValueError, match=message):
        transforms.GaussianBlur(kernel_size) if sigma is None else transforms.GaussianBlur(kernel_size, sigma)


def test_lambda():
    trans = transforms.Lambda(lambda x: np.add(x, 10))
    x = np_rng.randn(10)
    y = trans(x)
    assert_equal(y, np.add(x, 10))

    trans = transforms.Lambda(lambda x: np.add(x, 10, out=x))
    x = np_rng.randn(10)
    y = trans(x)
    assert_equal(y, x)

    # Checking if Lambda can be printed as string
    trans.__repr__()


def test_to_grayscale():
    """Unit tests for grayscale transform"""
    x_pil_ = x_pil()
    x_pil_2 = x_pil_.convert("L")
    gray_np = np.array(x_pil_2)

    # Case 1: RGB -> 1 channel grayscale
    gray_pil_1 = transforms.Grayscale(num_output_channels=1)(x_pil_)
    gray_np_1 = np.array(gray_pil_1)
    assert gray_pil_1.mode == "L", "mode should be L"
    assert gray_np_1.shape == tuple(X_SHAPE[0:2]), "should be 1 channel"
    assert_equal(gray_np, gray_np_1)

    # Case 2: RGB -> 3 channel grayscale
    gray_pil_2 = transforms.Grayscale(num_output_channels=3)(x_pil_)
    gray_np_2 = np.array(gray_pil_2)
    assert gray_pil_2.mode == "RGB", "mode should be RGB"
    assert gray_np_2.shape == tuple(X_SHAPE), "should be 3 channel"
    assert_equal(gray_np_2[:, :, 0], gray_np_2[:, :, 1])
    assert_equal(gray_np_2[:, :, 1], gray_np_2[:, :, 2])
    assert_equal(gray_np, gray_np_2[:, :, 0])

    # Case 3: 1 channel grayscale -> 1 channel grayscale
    gray_pil_3 = transforms.Grayscale(num_output_channels=1)(x_pil_2)
    gray_np_3 = np.array(gray_pil_3)
    assert gray_pil_3.mode == "L", "mode should be L"
    assert gray_np_3.shape == tuple(X_SHAPE[0:2]), "should be 1 channel"
    assert_equal(gray_np, gray_np_3)

    # Case 4: 1 channel grayscale -> 3 channel grayscale
    trans4 = transforms.Grayscale(num_output_channels=3)
    gray_pil_4 = trans4(x_pil_2)
    gray_np_4 = np.array(gray_pil_4)
    assert gray_pil_4.mode == "RGB", "mode should be RGB"
    assert gray_np_4.shape == tuple(X_SHAPE), "should be 3 channel"
    assert_equal(gray_np_4[:, :, 0], gray_np_4[:, :, 1])
    assert_equal(gray_np_4[:, :, 1], gray_np_4[:, :, 2])
    assert_equal(gray_np, gray_np_4[:, :, 0])

    # Checking if Grayscale can be printed as string
    trans4.__repr__()


# -------------------------------------------------------------------------------------------------- crops and colour

def test_random_crop():
    height = random.randint(10, 32) * 2
    width = random.randint(10, 32) * 2
    oheight = random.randint(5, (height - 2) // 2) * 2
    owidth = random.randint(5, (width - 2) // 2) * 2
    img = np.ones((height, width, 3), dtype=np.uint8)
    result = pil_to_tensor(transforms.Compose([transforms.ToPILImage(), transforms.RandomCrop((oheight, owidth))])(img))
    assert result.shape[1] == oheight
    assert result.shape[2] == owidth

    padding = random.randint(1, 20)
    result = pil_to_tensor(transforms.Compose([
        transforms.ToPILImage(), transforms.RandomCrop((oheight, owidth), padding=padding)])(img))
    assert result.shape[1] == oheight
    assert result.shape[2] == owidth

    result = pil_to_tensor(transforms.Compose([transforms.ToPILImage(), transforms.RandomCrop((height, width))])(img))
    assert result.shape[1] == height
    assert result.shape[2] == width
    assert_equal(result, img.transpose(2, 0, 1))

    result = pil_to_tensor(transforms.Compose([
        transforms.ToPILImage(), transforms.RandomCrop((height + 1, width + 1), pad_if_needed=True)])(img))
    assert result.shape[1] == height + 1
    assert result.shape[2] == width + 1


def test_random_crop_too_large():
    t = transforms.RandomCrop(33)
    img = np.ones((3, 32, 32), np.float32)
    with pytest.raises(ValueError, match=r"Required crop size .+ is larger than input image size .+"):
        t(img)


def test_center_crop():
    height = random.randint(10, 32) * 2
    width = random.randint(10, 32) * 2
    oheight = random.randint(5, (height - 2) // 2) * 2
    owidth = random.randint(5, (width - 2) // 2) * 2

    img = np.ones((height, width, 3), dtype=np.uint8)
    oh1 = (height - oheight) // 2
    ow1 = (width - owidth) // 2
    img[oh1:oh1 + oheight, ow1:ow1 + owidth] = 0

    def center_crop(size):
        return pil_to_tensor(transforms.Compose([transforms.ToPILImage(), transforms.CenterCrop(size)])(img))

    result = center_crop((oheight, owidth))
    assert result.sum() == 0
    oheight += 1
    owidth += 1
    sum1 = center_crop((oheight, owidth)).sum()
    assert sum1 > 1
    oheight += 1
    owidth += 1
    sum2 = center_crop((oheight, owidth)).sum()
    assert sum2 > 0
    assert sum2 > sum1


@pytest.mark.parametrize("odd_image_size", (True, False))
@pytest.mark.parametrize("delta", (1, 3, 5))
@pytest.mark.parametrize("delta_width", (-2, -1, 0, 1, 2))
@pytest.mark.parametrize("delta_height", (-2, -1, 0, 1, 2))
def test_center_crop_2(odd_image_size, delta, delta_width, delta_height):
    """Tests when center crop size is larger than image size, along any dimension"""
    input_image_size = (random.randint(10, 32) * 2, random.randint(10, 32) * 2)
    if odd_image_size:
        input_image_size = (input_image_size[0] + 1, input_image_size[1] + 1)
    delta_height *= delta
    delta_width *= delta

    img = np.ones((*input_image_size, 3), dtype=np.uint8)  # the uint8 tensor (3, H, W), as an image here
    crop_size = (input_image_size[0] + delta_height, input_image_size[1] + delta_width)

    # Test both transforms, one with PIL input and one with the array
    output_pil = pil_to_tensor(transforms.Compose([transforms.ToPILImage(), transforms.CenterCrop(crop_size)])(img))
    assert output_pil.shape[1:3] == crop_size

    output_tensor = transforms.CenterCrop(crop_size)(img).transpose(2, 0, 1)
    assert output_tensor.shape[1:3] == crop_size

    # Ensure output for PIL and Tensor are equal
    assert_equal(output_tensor, output_pil)

    # Check if content in center of both image and cropped output is same.
    center_size = (min(crop_size[0], input_image_size[0]), min(crop_size[1], input_image_size[1]))
    crop_center_tl, input_center_tl = [0, 0], [0, 0]
    for index in range(2):
        if crop_size[index] > input_image_size[index]:
            crop_center_tl[index] = (crop_size[index] - input_image_size[index]) // 2
        else:
            input_center_tl[index] = (input_image_size[index] - crop_size[index]) // 2

    output_center = output_pil[:, crop_center_tl[0]:crop_center_tl[0] + center_size[0],
                               crop_center_tl[1]:crop_center_tl[1] + center_size[1]]
    img_center = img.transpose(2, 0, 1)[:, input_center_tl[0]:input_center_tl[0] + center_size[0],
                                        input_center_tl[1]:input_center_tl[1] + center_size[1]]
    assert_equal(output_center, img_center)


def test_color_jitter():
    color_jitter = transforms.ColorJitter(2, 2, 2, 0.1)
    x_pil_ = x_pil()
    x_pil_2 = x_pil_.convert("L")
    for _ in range(10):
        y_pil = color_jitter(x_pil_)
        assert y_pil.mode == x_pil_.mode
        y_pil_2 = color_jitter(x_pil_2)
        assert y_pil_2.mode == x_pil_2.mode
    # Checking if ColorJitter can be printed as string
    color_jitter.__repr__()


@pytest.mark.parametrize("hue", [1, (-1, 1)])
def test_color_jitter_hue_out_of_bounds(hue):
    with pytest.raises(ValueError, match=re.escape("hue values should be between (-0.5, 0.5)")):
        transforms.ColorJitter(hue=hue)


@needs_get_params
@pytest.mark.parametrize("seed", range(10))
def test_random_erasing(seed):
    np.random.seed(seed)
    img = np.ones((3, 128, 128), np.float32)
    t = transforms.RandomErasing(scale=(0.1, 0.1), ratio=(1 / 3, 3.0))
    y, x, h, w, v = t.get_params(img, t.scale, t.ratio, [t.value])
    aspect_ratio = h / w
    tol = 0.05  # rounding and int conversion in the transform
    assert 1 / 3 - tol <= aspect_ratio <= 3 + tol

    # h > w and h < w are equally likely (log-scale sampling)
    aspect_ratios = []
    random.seed(42)
    trial = 1000
    for _ in range(trial):
        y, x, h, w, v = t.get_params(img, t.scale, t.ratio, [t.value])
        aspect_ratios.append(h / w)
    count_bigger_then_ones = len([1 for aspect_ratio in aspect_ratios if aspect_ratio > 1])
    p_value = stats.binomtest(count_bigger_then_ones, trial, p=0.5).pvalue
    assert p_value > 0.0001
    t.__repr__()


def test_random_rotation():
    with pytest.raises(ValueError):
        transforms.RandomRotation(-0.7)

    t = transforms.RandomRotation(0, fill=None)
    assert t.fill == 0

    t = transforms.RandomRotation((-10, 10))
    # Checking if RandomRotation can be printed as string
    t.__repr__()

    t = transforms.RandomRotation((-10, 10), interpolation=Image.BILINEAR)
    assert t.interpolation == transforms.InterpolationMode.BILINEAR


def test_random_rotation_bad_sequences():
    with pytest.raises(ValueError):
        transforms.RandomRotation([-0.7])
    with pytest.raises(ValueError):
        transforms.RandomRotation([-0.7, 0, 0.7])


@needs_get_params
def test_random_rotation_get_params():
    t = transforms.RandomRotation(10)
    angle = t.get_params(t.degrees)
    assert angle > -10 and angle < 10

    t = transforms.RandomRotation((-10, 10))
    angle = t.get_params(t.degrees)
    assert -10 < angle < 10


def test_random_rotation_error():
    # assert fill being either a Sequence or a Number
    with pytest.raises(TypeError):
        transforms.RandomRotation(0, fill={})


def test_normalize():
    def samples_from_standard_normal(tensor):
        p_value = stats.kstest(list(tensor.reshape(-1)), "norm", args=(0, 1)).pvalue
        return p_value > 0.0001

    for channels in [1, 3]:
        img = float_tensor(channels, 10, 10)
        mean = [img[c].mean() for c in range(channels)]
        std = [img[c].std(ddof=1) for c in range(channels)]
        normalized = transforms.Normalize(mean, std)(img)
        assert samples_from_standard_normal(normalized)


def test_normalize_inplace():
    # Checking if Normalize can be printed as string
    transforms.Normalize([0.5], [0.5]).__repr__()
    # Checking the optional in-place behaviour
    tensor = float_tensor(1, 16, 16)
    tensor_inplace = transforms.Normalize((0.5,), (0.5,), inplace=True)(tensor)
    assert_equal(tensor, tensor_inplace)


@needs_functional
@pytest.mark.parametrize("dtype1", [np.float32, np.float64])
@pytest.mark.parametrize("dtype2", [np.int64, np.float32, np.float64])
def test_normalize_different_dtype(dtype1, dtype2):
    img = np_rng.rand(3, 10, 10).astype(dtype1)
    mean = np.array([1, 2, 3], dtype=dtype2)
    std = np.array([1, 2, 1], dtype=dtype2)
    # checks that it doesn't crash
    F.normalize(img, mean, std)


@needs_functional
def test_normalize_3d_tensor():
    n_channels = 3
    img_size = 10
    mean = float_tensor(n_channels)
    std = float_tensor(n_channels)
    img = float_tensor(n_channels, img_size, img_size)
    target = F.normalize(img, mean, std)

    mean_unsqueezed = mean.reshape(-1, 1, 1)
    std_unsqueezed = std.reshape(-1, 1, 1)
    result1 = F.normalize(img, mean_unsqueezed, std_unsqueezed)
    result2 = F.normalize(img, np.tile(mean_unsqueezed, (1, img_size, img_size)),
                          np.tile(std_unsqueezed, (1, img_size, img_size)))
    assert_equal(target, result1, atol=1e-6, rtol=1e-6)
    assert_equal(target, result2, atol=1e-6, rtol=1e-6)


@needs_functional
def test_random_grayscale_with_grayscale_input():
    transform = transforms.RandomGrayscale(p=1.0)
    image_tensor = np_rng.randint(0, 256, (16, 16, 1)).astype(np.uint8)  # the uint8 tensor (1, 16, 16) as an image
    output_tensor = transform(image_tensor)
    assert_equal(output_tensor, image_tensor)

    image_pil = F.to_pil_image(image_tensor)
    output_pil = transform(image_pil)
    assert_equal(pil_to_tensor(output_pil), image_tensor.transpose(2, 0, 1))
