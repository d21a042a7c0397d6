"""Colour and blur: the operations (grey, brightness/contrast/saturation/hue, Gaussian blur, erasing) and ColorJitter,
Grayscale, RandomGrayscale, GaussianBlur and RandomErasing, vectorised over the batch.

uint8 images follow torchvision's PIL path bit for bit: Pillow's 'L' weights in integers, Pillow's blend (float32,
truncated) for brightness, contrast and saturation, Pillow's own HSV conversion for hue; the blur is torchvision's
uint8 blur (float32 convolution, rounded), which its order of float32 sums can put 1 off on a rare rounding tie.
Float tensors (..., C, H, W) follow torchvision's tensor path (its 0.2989/0.587/0.114 grey, its clamped blends, its
HSV formulas). The operations take an ImageBatch (or its view, channels on axis -3) with one parameter per sample;
each transform draws per sample from the samples' streams, so a batch and its samples one by one get the same results.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import rng
from .base import ImageBatch, ImageTransform, check_probability, check_range, pair, uniform
from .flip_crop import pad
from .geometry import NOT_PIL_OR_TENSOR, UNEXPECTED, area_aspect_sides, first_try

BRIGHTNESS, CONTRAST, SATURATION, HUE = range(4)


def check_colour_channels(images: ImageBatch, name: str, permitted: str = "[1, 3]") -> ImageBatch:
    """`images` if they have 1 or 3 channels, else torchvision's TypeError (whose `permitted` list reads [3, 1] for
    contrast)."""
    if images.channels not in (1, 3):
        raise TypeError(f"Input image tensor permitted channel values are {permitted}, but found {images.channels} "
                        f"({name}, input shape {images.input_shape})")
    return images


# --------------------------------------------------------------------------------------------------------- grey

def _grey_uint8(view: np.ndarray) -> np.ndarray:
    """Pillow's RGB -> 'L' conversion of uint8 images (..., 3+, H, W): (R*19595 + G*38470 + B*7471 + 2**15) >> 16,
    as (..., 1, H, W)."""
    weighted = view[..., 0:1, :, :] * np.uint32(19595) + view[..., 1:2, :, :] * np.uint32(38470) + \
        view[..., 2:3, :, :] * np.uint32(7471)
    return ((weighted + np.uint32(0x8000)) >> np.uint32(16)).astype(np.uint8)


def _grey_tensor(view: np.ndarray) -> np.ndarray:
    """torchvision's tensor grey of (..., 3, H, W): 0.2989 R + 0.587 G + 0.114 B, as (..., 1, H, W), same dtype."""
    red, green, blue = view[..., 0:1, :, :], view[..., 1:2, :, :], view[..., 2:3, :, :]
    return (0.2989 * red + 0.587 * green + 0.114 * blue).astype(view.dtype)


def grey(images: ImageBatch, output_channels: int) -> np.ndarray:
    """Each image in grey with `output_channels` (1 or 3) equal channels: Pillow's 'L' for uint8 images (of 3 or 4
    channels), torchvision's weights for tensors (of 3). A new array (N, ..., C', H, W)."""
    view = images.view
    if images.channels == 1:
        out = view.copy()
    elif images.kind == "image":
        out = _grey_uint8(view)
    else:
        out = _grey_tensor(check_colour_channels(images, "rgb_to_grayscale").view)
    return np.repeat(out, 3, axis=-3) if output_channels == 3 else out


# ----------------------------------------------------------------------------------------------- adjustments

def _blend_uint8(degenerate, images: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Pillow's Image.blend(degenerate, images, factor) of uint8 images: float32 arithmetic, clipped, truncated."""
    degenerate = np.asarray(degenerate, dtype=np.float32)
    blended = degenerate + factors.astype(np.float32) * (images.astype(np.float32) - degenerate)
    return np.clip(blended, 0, 255, out=blended).astype(np.uint8)


def _blend_tensor(tensors: np.ndarray, other, factors: np.ndarray) -> np.ndarray:
    """torchvision's _blend for float tensors: factor * tensor + (1 - factor) * other, clamped to [0, 1]."""
    factors = factors.astype(tensors.dtype)
    return np.clip(factors * tensors + (1 - factors) * other, 0, 1).astype(tensors.dtype)


def _shift_hue_uint8(images: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """torchvision's PIL adjust_hue on uint8 RGB images (M, H, W, 3): Pillow's HSV, hue byte shifted modulo 256.

    The images go through Pillow as one tall image (the conversion is per pixel), so there is one call per batch.
    """
    from PIL import Image

    m, height, width, _ = images.shape
    hsv = np.array(Image.fromarray(images.reshape(m * height, width, 3)).convert("HSV")).reshape(images.shape)
    hsv[..., 0] += (factors * 255).astype(np.int32).astype(np.uint8)[:, None, None]  # wraps, as torchvision's
    rgb = Image.frombytes("HSV", (width, m * height), hsv.tobytes()).convert("RGB")
    return np.array(rgb).reshape(images.shape)  # a writable copy: ColorJitter writes later adjustments into it


def _rgb_to_hsv(tensors: np.ndarray) -> np.ndarray:
    """torchvision's _rgb2hsv of float tensors (..., 3, H, W) in [0, 1]."""
    r, g, b = tensors[..., 0, :, :], tensors[..., 1, :, :], tensors[..., 2, :, :]
    maxc, minc = tensors.max(axis=-3), tensors.min(axis=-3)
    equal = maxc == minc
    chroma = maxc - minc
    saturation = chroma / np.where(equal, 1, maxc)
    divisor = np.where(equal, 1, chroma)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    hue = (maxc == r) * (bc - gc) + ((maxc == g) & (maxc != r)) * (2.0 + rc - bc) + \
        ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    return np.stack([np.fmod(hue / 6.0 + 1.0, 1.0), saturation, maxc], axis=-3).astype(tensors.dtype)


def _hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """torchvision's _hsv2rgb of float tensors (..., 3, H, W)."""
    h, s, v = hsv[..., 0, :, :], hsv[..., 1, :, :], hsv[..., 2, :, :]
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    sector = sector.astype(np.int32) % 6
    p, q, t = (np.clip(v * (1.0 - s), 0, 1), np.clip(v * (1.0 - s * f), 0, 1), np.clip(v * (1.0 - s * (1.0 - f)), 0, 1))
    return np.stack([np.choose(sector, [v, q, p, p, t, v]), np.choose(sector, [t, v, v, q, p, p]),
                     np.choose(sector, [p, p, t, v, v, q])], axis=-3).astype(hsv.dtype)




def adjust(images: ImageBatch, operation: int, factors) -> np.ndarray:
    """Brightness, contrast, saturation or hue (`operation`, 0-3) of every image adjusted by its factor (`factors` a
    number or one per sample), as torchvision's adjust_*. A new array."""
    view = images.view
    rgb = check_colour_channels(images, "ColorJitter", "[3, 1]" if operation == CONTRAST else "[1, 3]").channels == 3
    factors = np.broadcast_to(np.asarray(factors, dtype=np.float64), (len(view),))
    per_image = factors.reshape((-1,) + (1,) * (view.ndim - 1))
    if operation in (SATURATION, HUE) and not rgb:  # grey images stay as they are (Pillow and torchvision alike)
        return view.copy()
    if images.kind == "image":
        if operation == BRIGHTNESS:
            return _blend_uint8(0, view, per_image)
        if operation == CONTRAST:
            grey_view = _grey_uint8(view) if rgb else view
            means = np.floor(grey_view.reshape(len(view), -1).mean(axis=1) + 0.5)  # Pillow: int(mean + 0.5)
            return _blend_uint8(means.reshape(per_image.shape), view, per_image)
        if operation == SATURATION:
            return _blend_uint8(_grey_uint8(view), view, per_image)
        channels_last = np.ascontiguousarray(view.transpose(0, 2, 3, 1))
        return _shift_hue_uint8(channels_last, factors).transpose(0, 3, 1, 2)
    if operation == BRIGHTNESS:
        return _blend_tensor(view, 0, per_image)
    if operation == CONTRAST:  # the mean of each tensor's grey (C, H, W)
        grey_view = _grey_tensor(view) if rgb else view
        return _blend_tensor(view, grey_view.mean(axis=(-3, -2, -1), keepdims=True), per_image)
    if operation == SATURATION:
        return _blend_tensor(view, _grey_tensor(view), per_image)
    hsv = _rgb_to_hsv(view)
    hsv[..., 0, :, :] = np.mod(hsv[..., 0, :, :] + per_image[..., 0, :, :], 1.0)
    return _hsv_to_rgb(hsv)


# --------------------------------------------------------------------------------------- Grayscale, RandomGrayscale

class Grayscale(ImageTransform):
    """Images to grey with `num_output_channels` 1 or 3. uint8 RGB uses Pillow's 'L' weights (0.299, 0.587, 0.114
    in integer arithmetic), giving (H, W) or (H, W, 3); float tensors torchvision's (0.2989, 0.587, 0.114)."""

    new_array = True

    def __init__(self, num_output_channels: int = 1):
        if num_output_channels not in (1, 3):
            raise ValueError(f"num_output_channels should be either 1 or 3, got "
                             f"num_output_channels={num_output_channels!r}")
        self.num_output_channels = num_output_channels

    def apply(self, images: ImageBatch):
        return images.give(grey(images, self.num_output_channels))


class RandomGrayscale(ImageTransform):
    """Each image to grey with probability p, keeping its number of channels (1 or 3)."""

    refusal = UNEXPECTED

    def __init__(self, p: float = 0.1):
        self.p = check_probability(p)

    def apply(self, images: ImageBatch):
        check_colour_channels(images, "RandomGrayscale")
        chosen = uniform(self, images.n, randomness=images.randomness) < self.p
        return images.where(chosen, lambda view: grey(ImageBatch(view, images.kind, "batch", True), images.channels))


# -------------------------------------------------------------------------------------------------- ColorJitter

def _factor_range(value, name: str, center: float = 1.0, bound=(0, math.inf), clip_first_on_zero: bool = True):
    """torchvision's ColorJitter._check_input: (min, max) of the factor, or None when it changes nothing."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative. Got {name}={value!r}")
        low, high = center - float(value), center + float(value)
        if clip_first_on_zero:
            low = max(low, 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        low, high = float(value[0]), float(value[1])
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2. Got {name}={value!r}")
    if not bound[0] <= low <= high <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {[low, high]}.")
    return None if low == high == center else (low, high)


def jitter_parameters(source, n: int, ranges, randomness=None) -> tuple[np.ndarray, np.ndarray]:
    """(order (n, 4): a random order of the adjustments 0-3 per image, factors (n, 4): each drawn from its range in
    `ranges` (brightness, contrast, saturation, hue), or NaN where the range is None)."""
    draws = uniform(source, n, 8, randomness=randomness)
    order = np.argsort(draws[:, :4], axis=1)
    factors = np.full((n, 4), np.nan)
    for operation, bounds in enumerate(ranges):
        if bounds is not None:
            factors[:, operation] = bounds[0] + draws[:, 4 + operation] * (bounds[1] - bounds[0])
    return order, factors


class ColorJitter(ImageTransform):
    """Random brightness, contrast, saturation and hue, applied in a random order per image (as torchvision).

    Each of brightness, contrast, saturation is a number j (factor drawn from [max(0, 1 - j), 1 + j]) or a (min, max)
    pair; hue is h in [0, 0.5] (factor from [-h, h]) or a pair within [-0.5, 0.5]. Images have 1 or 3 channels.
    A batch is adjusted with one vectorised call per (position in the order, adjustment).
    """

    new_array = True

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _factor_range(brightness, "brightness")
        self.contrast = _factor_range(contrast, "contrast")
        self.saturation = _factor_range(saturation, "saturation")
        self.hue = _factor_range(hue, "hue", center=0.0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """torchvision's (order, brightness_factor, contrast_factor, saturation_factor, hue_factor) for ranges
        (min, max) or None, drawn as ColorJitter draws: `order` is an int array of the adjustments 0-3."""
        order, factors = jitter_parameters(ColorJitter, 1, (brightness, contrast, saturation, hue))
        return (order[0],) + tuple(None if np.isnan(f) else float(f) for f in factors[0])

    def parameters(self, n: int, randomness=None) -> tuple[np.ndarray, np.ndarray]:
        """(order (n, 4) of the adjustments 0-3 per image, factors (n, 4)) from the samples' draws; a factor is NaN
        where its adjustment is off."""
        return jitter_parameters(self, n, (self.brightness, self.contrast, self.saturation, self.hue), randomness)

    def apply(self, images: ImageBatch):
        order, factors = self.parameters(images.n, images.randomness)
        out = images.view.copy()
        for step in range(4):
            for operation in set(order[:, step].tolist()):  # the images that take this adjustment at this step
                if np.isnan(factors[0, operation]):
                    continue
                chosen = np.flatnonzero(order[:, step] == operation)
                if len(chosen) == len(out):
                    out = adjust(ImageBatch(out, images.kind, "batch", True), operation, factors[:, operation])
                else:
                    part = ImageBatch(out[chosen], images.kind, "batch", True)
                    out[chosen] = adjust(part, operation, factors[chosen, operation])
        return images.give(out)


# ------------------------------------------------------------------------------------------------- GaussianBlur

def _gaussian_kernels(size: int, sigmas: np.ndarray, dtype) -> np.ndarray:
    """(N, size) normalised 1-D Gaussian kernels, one per sigma, as torchvision builds them (in `dtype`)."""
    half = (size - 1) * 0.5
    x = np.linspace(-half, half, size).astype(dtype)
    pdf = np.exp(-0.5 * (x / sigmas.astype(dtype)[:, None]) ** 2)
    return (pdf / pdf.sum(axis=1, keepdims=True)).astype(dtype)


def _convolve(batch: np.ndarray, kernels: np.ndarray, axis: int) -> np.ndarray:
    """Each sample of an already padded `batch` convolved along `axis` with its own kernel (N, k): 'valid' output.

    One multiply-add over the whole batch per kernel tap.
    """
    taps = kernels.shape[1]
    length = batch.shape[axis] - taps + 1
    per_sample = kernels.reshape(kernels.shape + (1,) * (batch.ndim - 1))
    window = [slice(None)] * batch.ndim
    out, term = None, None
    for tap in range(taps):
        window[axis] = slice(tap, tap + length)
        if out is None:
            out = batch[tuple(window)] * per_sample[:, tap]
            term = np.empty_like(out)
        else:
            out += np.multiply(batch[tuple(window)], per_sample[:, tap], out=term)
    return out




def gaussian_blur(images: ImageBatch, kernel_size: tuple[int, int], sigma_x, sigma_y) -> np.ndarray:
    """Each image blurred with a Gaussian of `kernel_size` (kx, ky) and standard deviations `sigma_x`, `sigma_y`
    (numbers or one per sample), edges reflected, as torchvision's gaussian_blur: two 1-D convolutions over the
    batch; uint8 images in float32, rounded back. A new array (N, ..., C, H, W)."""
    view = images.view
    dtype = view.dtype if images.kind == "tensor" else np.dtype(np.float32)
    size_x, size_y = kernel_size
    sigma_x = np.broadcast_to(np.asarray(sigma_x, dtype=np.float64), (len(view),))
    sigma_y = np.broadcast_to(np.asarray(sigma_y, dtype=np.float64), (len(view),))
    half_x, half_y = min(size_x // 2, images.width - 1), min(size_y // 2, images.height - 1)
    if (half_x, half_y) != (size_x // 2, size_y // 2):
        raise ValueError(f"gaussian_blur: kernel_size {tuple(kernel_size)} reflects half the kernel at the edges, "
                         f"which needs an image larger than that; got an image of shape {images.input_shape}")
    padded = pad(view.astype(dtype, copy=False), (half_x, half_y, half_x, half_y), padding_mode="reflect")
    blurred = _convolve(_convolve(padded, _gaussian_kernels(size_x, sigma_x, dtype), -1),
                        _gaussian_kernels(size_y, sigma_y, dtype), -2)
    if images.kind == "tensor":
        return blurred.astype(dtype, copy=False)
    return np.clip(np.rint(blurred), 0, 255).astype(np.uint8)


def kernel_pair(kernel_size) -> tuple[int, int]:
    """torchvision's GaussianBlur reading of `kernel_size`: an odd positive int, or two of them (kx, ky)."""
    if isinstance(kernel_size, numbers.Real) and not isinstance(kernel_size, bool):
        sizes = (int(kernel_size), int(kernel_size))
    elif hasattr(kernel_size, "__len__") and len(kernel_size) in (1, 2) and not isinstance(kernel_size, str):
        sizes = tuple(kernel_size) * (3 - len(kernel_size))
    else:
        raise ValueError(f"Kernel size should be a tuple/list of two integers. Got kernel_size={kernel_size!r}")
    if any(not isinstance(size, numbers.Integral) or size <= 0 or size % 2 == 0 for size in sizes):
        raise ValueError(f"Kernel size value should be an odd and positive number. Got kernel_size={kernel_size!r}")
    return int(sizes[0]), int(sizes[1])


class GaussianBlur(ImageTransform):
    """A Gaussian blur with `kernel_size` (kx, ky) (odd, positive) and sigma drawn per image from `sigma`
    (min, max) or fixed, edges reflected. Separable: two 1-D convolutions, vectorised over the batch.

    uint8 images blur in float32 and are rounded back to uint8, as torchvision does for PIL images.
    """

    refusal = NOT_PIL_OR_TENSOR

    new_array = True

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        self.kernel_size = kernel_pair(kernel_size)
        if isinstance(sigma, numbers.Real) and not isinstance(sigma, bool):
            if sigma <= 0:
                raise ValueError(f"If sigma is a single number, it must be positive. Got sigma={sigma!r}")
            sigma = (sigma, sigma)
        elif isinstance(sigma, (tuple, list)) and len(sigma) == 2:
            if not all(isinstance(s, numbers.Real) for s in sigma) or not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError(f"sigma values should be positive and of the form (min, max). Got sigma={sigma!r}")
        else:
            raise ValueError(f"sigma should be a single number or a list/tuple with length 2. Got sigma={sigma!r}")
        self.sigma = sigma

    @staticmethod
    def get_params(sigma_min: float, sigma_max: float) -> float:
        """torchvision's random sigma in [sigma_min, sigma_max], drawn as GaussianBlur draws."""
        return float(blur_sigmas(GaussianBlur, 1, sigma_min, sigma_max)[0])

    def sigmas(self, n: int, randomness=None) -> np.ndarray:
        """(n,) float64 standard deviations for n samples, from the samples' draws."""
        return blur_sigmas(self, n, self.sigma[0], self.sigma[1], randomness)

    def apply(self, images: ImageBatch):
        images.check_pillow_path("GaussianBlur")
        sigmas = self.sigmas(images.n, images.randomness)
        return images.give(gaussian_blur(images, self.kernel_size, sigmas, sigmas))


def blur_sigmas(source, n: int, low: float, high: float, randomness=None) -> np.ndarray:
    """(n,) standard deviations drawn uniformly from [low, high], one per sample."""
    return float(low) + uniform(source, n, randomness=randomness) * (float(high) - float(low))


# ------------------------------------------------------------------------------------------------ RandomErasing

def erase(view: np.ndarray, samples, tops, lefts, heights, widths, values) -> np.ndarray:
    """`view` (N, ..., C, H, W) with the rectangle (tops[k], lefts[k], heights[k], widths[k]) of sample samples[k]
    set to values[k] (broadcasting to (..., C, h, w)), written in place, as torchvision's erase; returns `view`."""
    for sample, top, left, height, width, value in zip(samples, tops, lefts, heights, widths, values):
        view[sample, ..., top:top + height, left:left + width] = value
    return view


def erasing_rectangles(draws: rng.SampleDraws, height: int, width: int, scale, ratio):
    """torchvision's RandomErasing rule (10 tries of an area fraction in `scale` and an aspect ratio in `ratio`) from
    the next numbers of `draws`: (found (n,) bool, tops, lefts, heights, widths (n,) int64)."""
    tries = draws.uniform(10, 4)
    heights, widths = area_aspect_sides(tries[..., :2], height * width, scale, ratio)
    valid = (heights < height) & (widths < width)
    first = first_try(valid)
    h, w = heights[first], widths[first]
    tops = np.floor(tries[..., 2][first] * (height - h + 1)).astype(np.int64)
    lefts = np.floor(tries[..., 3][first] * (width - w + 1)).astype(np.int64)
    return valid.any(axis=1), tops, lefts, h, w


def erasing_noise(draws: rng.SampleDraws, sample: int, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal noise of `shape` (C, h, w) for the `sample`-th sample of `draws`, from that sample's own
    stream (Box-Muller on its uniform numbers), so a batch and its samples one by one agree."""
    noise = rng.SampleDraws(draws.keys[sample:sample + 1])
    noise.calls = draws.calls
    u = noise.uniform(2, *shape)[0]
    return np.sqrt(-2 * np.log1p(-u[0])) * np.cos(2 * np.pi * u[1])


class RandomErasing(ImageTransform):
    """With probability p, a random rectangle of each float tensor (C, H, W) set to `value`: a number, one per
    channel, or 'random' (standard normal noise). Area fraction in `scale`, aspect ratio in `ratio`, torchvision's 10
    tries (no erasing when none fits). Tensors only, as in torchvision: apply it after ToTensor.
    """

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        if not isinstance(value, (numbers.Real, str, tuple, list)):
            raise TypeError(f"Argument value should be either a number or str or a sequence, got value={value!r}")
        if isinstance(value, str) and value != "random":
            raise ValueError(f"If value is str, it should be 'random', got value={value!r}")
        check_range(scale, "scale", low=0, high=1)
        check_range(ratio, "ratio", low=0)
        if ratio[0] <= 0:
            raise ValueError(f"Ratio should be positive, got ratio={ratio!r}")
        check_probability(p, outside="Random erasing probability should be between 0 and 1")
        self.p, self.scale, self.ratio, self.value, self.inplace = p, scale, ratio, value, inplace

    @property
    def new_array(self):
        return not self.inplace

    @staticmethod
    def get_params(img, scale, ratio, value=None):
        """torchvision's (top, left, height, width, v) of a random rectangle of the tensor `img` (..., C, H, W), or
        (0, 0, H, W, img) when none of the 10 tries fits; `v` is `value` as (C, 1, 1), or normal noise (C, h, w)
        when `value` is None. Drawn from the sample's streams: `functional.erase(img, *params)` erases it."""
        images = ImageBatch.of(img, "RandomErasing.get_params")
        draws = rng.draws(1, RandomErasing)
        found, tops, lefts, heights, widths = erasing_rectangles(draws, images.height, images.width, scale, ratio)
        if not found[0]:
            return 0, 0, images.height, images.width, img
        top, left, height, width = int(tops[0]), int(lefts[0]), int(heights[0]), int(widths[0])
        if value is None:
            v = erasing_noise(draws, 0, (images.channels, height, width)).astype(np.float32)
        else:
            v = np.asarray(value, dtype=np.float32).reshape(-1, 1, 1)
        return top, left, height, width, v

    def apply(self, images: ImageBatch):
        return self._erase(images, self.inplace)

    def __repr__(self):
        return (f"{type(self).__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, value={self.value}, "
                f"inplace={self.inplace})")

    def apply_batch_in_place(self, batch, randomness=None):
        """`apply_batch` writing into `batch` itself (Compose uses it on arrays it made)."""
        return self._erase(ImageBatch.of_batch(batch, "RandomErasing", randomness), True)

    def _erase(self, images: ImageBatch, inplace: bool):
        if images.kind != "tensor":
            raise TypeError(f"RandomErasing works on float tensors (C, H, W), as torchvision's: put it after ToTensor "
                            f"(got {images.view.dtype} input of shape {images.input_shape})")
        view, channels = images.view, images.channels
        value = None if isinstance(self.value, str) else np.asarray(self.value, dtype=view.dtype).reshape(-1, 1, 1)
        if value is not None and value.shape[0] not in (1, channels):
            raise ValueError("If value is a sequence, it should have either a single value or "
                             f"{channels} (number of input channels), got value={self.value!r}")
        draws = rng.draws(images.n, self, images.randomness)
        chosen = draws.uniform() < self.p
        if not chosen.any():  # the rectangles' numbers come from the next call, made only when needed
            return images.unchanged() if inplace or images.form != "batch" else images.given.copy()
        found, tops, lefts, heights, widths = erasing_rectangles(draws, images.height, images.width, self.scale,
                                                                 self.ratio)
        erased = np.flatnonzero(chosen & found)
        if value is None:  # noise for each erased rectangle, from that sample's own stream
            values = [erasing_noise(draws, i, (channels, int(heights[i]), int(widths[i]))) for i in erased]
        else:
            values = [value] * len(erased)
        out = view if inplace else view.copy()
        return images.give(erase(out, erased, tops[erased], lefts[erased], heights[erased], widths[erased], values))
