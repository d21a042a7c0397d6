"""torchvision.transforms.functional for what tinytorch has: the operations with their parameters given, one input
at a time. The random transforms draw parameters (their `get_params`) and call these same operations.

Inputs are what the transforms take: a uint8 array (H, W) or (H, W, C) is an image (torchvision's PIL path, computed
as Pillow computes it), a float array (..., C, H, W) or (H, W) a tensor (its tensor path); a Pillow image (mode L,
RGB or RGBA) gives a Pillow image back; anything else (a list, a number) is refused with torchvision's
TypeError for that function. A paired transform, the same random crop and flip of an image and its mask:

    i, j, h, w = RandomCrop.get_params(image, (24, 24))
    image, mask = F.crop(image, i, j, h, w), F.crop(mask, i, j, h, w)
    if RandomHorizontalFlip.get_params(0.5):
        image, mask = F.hflip(image), F.hflip(mask)

The operations themselves live beside their transforms (`flip_crop`, `geometry`, `color`, `tensor`), written once
for an ImageBatch with one parameter per sample: these functions call them for one input, the transforms for a
sample or a batch with the parameters they draw.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import color, flip_crop, geometry
from .base import ImageBatch, fill_values, is_pillow, padding_sides, pair
from .geometry import NOT_PIL_OR_TENSOR, UNEXPECTED, InterpolationMode
from .tensor import normalize, to_pil_image, to_tensor

__all__ = ["InterpolationMode", "adjust_brightness", "adjust_contrast", "adjust_hue", "adjust_saturation",
           "center_crop", "crop", "erase", "gaussian_blur", "get_dimensions", "get_image_num_channels",
           "get_image_size", "hflip", "normalize", "pad", "resize", "resized_crop", "rgb_to_grayscale", "rotate",
           "to_grayscale", "to_pil_image", "to_tensor", "vflip"]




# ------------------------------------------------------------------------------------------------------ sizes

def get_dimensions(img) -> list[int]:
    """[channels, height, width] of an image, tensor or Pillow image."""
    images = ImageBatch.of(img, "get_dimensions", UNEXPECTED)
    return [images.channels, images.height, images.width]


def get_image_size(img) -> list[int]:
    """[width, height], as torchvision (and Pillow's `size`) order them."""
    images = ImageBatch.of(img, "get_image_size", UNEXPECTED)
    return [images.width, images.height]


def get_image_num_channels(img) -> int:
    return ImageBatch.of(img, "get_image_num_channels", UNEXPECTED).channels


# --------------------------------------------------------------------------------------------------- geometry

def hflip(img):
    """`img` mirrored left-right."""
    images = ImageBatch.of(img, "hflip")
    return images.give(flip_crop.hflip(images.view).copy())


def vflip(img):
    """`img` mirrored top-bottom."""
    images = ImageBatch.of(img, "vflip")
    return images.give(flip_crop.vflip(images.view).copy())


def crop(img, top: int, left: int, height: int, width: int):
    """The (height, width) window at (top, left) of `img`; the part outside the image is 0, as in torchvision."""
    for name, value in (("top", top), ("left", left), ("height", height), ("width", width)):
        if not isinstance(value, numbers.Real):
            raise TypeError(f"crop's {name} should be an int, got {name}={value!r}")
    images = ImageBatch.of(img, "crop")
    return images.give(flip_crop.crop(images.view, int(top), int(left), int(height), int(width)))


def center_crop(img, output_size):
    """The central `output_size` (an int, (s,) or (h, w)) window of `img`; a smaller image is padded with zeros."""
    images = ImageBatch.of(img, "center_crop", UNEXPECTED)
    size = pair(output_size, "output_size")
    top, left = geometry.center_corner(images.height, images.width, *size)
    return images.give(flip_crop.crop(images.view, top, left, *size))


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """`img` padded by `padding` (an int, (left/right, top/bottom) or (left, top, right, bottom)) in `padding_mode`
    'constant' (with `fill`: a number, or one per channel), 'edge', 'reflect' or 'symmetric'."""
    sides, fill = padding_sides(padding), geometry.check_pad_fill(fill)
    padding_mode = flip_crop.check_padding_mode(padding_mode)
    images = ImageBatch.of(img, "pad")
    values = fill_values(fill, images.channels, images.view.dtype) if padding_mode == "constant" else None
    return images.give(flip_crop.pad(images.view, sides, values, padding_mode))


def _check_size(size):
    if not isinstance(size, (numbers.Integral, tuple, list)) or isinstance(size, bool):
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    if isinstance(size, (tuple, list)) and len(size) not in (1, 2):
        raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element tuple/list")
    return size


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """`img` resized to `size`: (h, w), or an int (or (s,)) for the smaller edge, the longer one at most `max_size`.
    Images resample with Pillow (always antialiased), tensors as torch's interpolate. Of that size already, the
    input itself comes back."""
    size = _check_size(size)
    if max_size is not None and isinstance(size, (tuple, list)) and len(size) != 1:
        raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, "
                         "i.e. size should be an int or a sequence of length 1 in torchscript mode.")
    requested = size if isinstance(size, numbers.Integral) else size[0]
    if max_size is not None and max_size <= requested:
        raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the smaller "
                         f"edge size = {list(size) if isinstance(size, (tuple, list)) else [size]}")
    images = ImageBatch.of(img, "resize", UNEXPECTED)
    return geometry.resize_images(images, size, geometry.interpolation_mode(interpolation), max_size, antialias,
                                  "resize")


def resized_crop(img, top: int, left: int, height: int, width: int, size,
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
    """The (height, width) box at (top, left) of `img`, resized to `size` ((h, w), or an int for the smaller edge, as
    `resize` reads it)."""
    images = ImageBatch.of(img, "resized_crop")
    out_h, out_w = geometry.output_size(int(height), int(width), _check_size(size))
    box = np.array([[int(top), int(left), int(height), int(width)]])
    return images.give(geometry.resized_crop(images, box, out_h, out_w, geometry.interpolation_mode(interpolation),
                                             antialias, "resized_crop"))


def rotate(img, angle: float, interpolation=InterpolationMode.NEAREST, expand: bool = False, center=None, fill=None):
    """`img` rotated by `angle` degrees counter-clockwise about `center` (x, y) (default its centre), `fill` (a
    number or one per channel) outside; `expand` makes the output hold the whole rotated image."""
    if not isinstance(angle, numbers.Real) or isinstance(angle, bool):
        raise TypeError(f"Argument angle should be int or float, got angle={angle!r}")
    if center is not None and not isinstance(center, (tuple, list)):
        raise TypeError(f"Argument center should be a sequence, got center={center!r}")
    images = ImageBatch.of(img, "rotate")
    return images.give(geometry.rotate(images, [float(angle)], geometry.interpolation_mode(interpolation), expand,
                                       center, fill, "rotate"))


# ----------------------------------------------------------------------------------------------------- tensors

def erase(img, i: int, j: int, h: int, w: int, v, inplace: bool = False):
    """The float tensor `img` (..., C, H, W) with its (h, w) rectangle at (i, j) set to `v` (a number or an array
    broadcasting to (..., C, h, w)); written into `img` itself when `inplace`."""
    if not (isinstance(img, np.ndarray) and img.dtype.kind == "f"):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}" +
                        (f" of dtype {img.dtype}" if isinstance(img, np.ndarray) else ""))
    images = ImageBatch.of(img, "erase")
    out = images.view if inplace else images.view.copy()
    color.erase(out, [0], [int(i)], [int(j)], [int(h)], [int(w)], [np.asarray(v, dtype=img.dtype)])
    return img if inplace else images.give(out)


# ------------------------------------------------------------------------------------------------------- colour

def _factor(value, name: str) -> float:
    if value < 0:
        raise ValueError(f"{name} ({value}) is not non-negative.")
    return float(value)


def _adjust(img, operation: int, factor: float, name: str):
    images = ImageBatch.of(img, name).check_pillow_path(name)
    return images.give(color.adjust(images, operation, factor))


def adjust_brightness(img, brightness_factor: float):
    """`img` blended with black: 0 gives black, 1 the image, 2 twice as bright."""
    return _adjust(img, color.BRIGHTNESS, _factor(brightness_factor, "brightness_factor"), "adjust_brightness")


def adjust_contrast(img, contrast_factor: float):
    """`img` blended with the mean of its grey: 0 gives that grey, 1 the image."""
    return _adjust(img, color.CONTRAST, _factor(contrast_factor, "contrast_factor"), "adjust_contrast")


def adjust_saturation(img, saturation_factor: float):
    """`img` blended with its grey: 0 gives the grey image, 1 the image."""
    return _adjust(img, color.SATURATION, _factor(saturation_factor, "saturation_factor"), "adjust_saturation")


def adjust_hue(img, hue_factor: float):
    """`img` with its hue shifted by `hue_factor` turns, in [-0.5, 0.5]."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    return _adjust(img, color.HUE, float(hue_factor), "adjust_hue")


def rgb_to_grayscale(img, num_output_channels: int = 1):
    """`img` in grey with 1 or 3 equal channels (Pillow's 'L' for images, torchvision's weights for tensors)."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    images = ImageBatch.of(img, "rgb_to_grayscale")
    return images.give(color.grey(images, num_output_channels))


def to_grayscale(img, num_output_channels: int = 1):
    """`rgb_to_grayscale` of an image (a Pillow image or a uint8 array), as torchvision's takes PIL images only."""
    if not (isinstance(img, np.ndarray) and img.dtype == np.uint8 or is_pillow(img)):
        raise TypeError(f"Input should be PIL Image (or a uint8 image array), got {type(img)}")
    return rgb_to_grayscale(img, num_output_channels)


def gaussian_blur(img, kernel_size, sigma=None):
    """`img` blurred by a Gaussian of `kernel_size` (odd ints (kx, ky), or one for both) and standard deviation
    `sigma` ((sx, sy) or one for both; default 0.3 * ((k - 1) * 0.5 - 1) + 0.8 per axis), edges reflected."""
    if not isinstance(kernel_size, (numbers.Integral, list, tuple)) or isinstance(kernel_size, bool):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got {type(kernel_size)}")
    sizes = [kernel_size, kernel_size] if isinstance(kernel_size, numbers.Integral) else kernel_size
    if len(sizes) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(sizes)}")
    if any(not isinstance(size, numbers.Integral) or size % 2 == 0 or size < 0 for size in sizes):
        raise ValueError(f"kernel_size should have odd and positive integers. Got {sizes}")
    if sigma is None:
        sigma = [size * 0.15 + 0.35 for size in sizes]
    if not isinstance(sigma, (numbers.Real, list, tuple)) or isinstance(sigma, bool):
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    sigmas = [float(sigma)] * 2 if isinstance(sigma, numbers.Real) else [sigma[0]] * 2 if len(sigma) == 1 else sigma
    if len(sigmas) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigmas)}")
    if any(s <= 0.0 for s in sigmas):
        raise ValueError(f"sigma should have positive values. Got {sigmas}")
    images = ImageBatch.of(img, "gaussian_blur", NOT_PIL_OR_TENSOR)
    images.check_pillow_path("gaussian_blur")
    return images.give(color.gaussian_blur(images, (int(sizes[0]), int(sizes[1])), sigmas[0], sigmas[1]))
