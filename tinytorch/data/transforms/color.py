"""ColorJitter, Grayscale, RandomGrayscale, GaussianBlur and RandomErasing, vectorised over the batch.

uint8 images follow torchvision's PIL path bit for bit: Pillow's 'L' weights in integers, Pillow's blend (float32,
truncated) for brightness, contrast and saturation, Pillow's own HSV conversion for hue; the blur is torchvision's
uint8 blur (float32 convolution, rounded), which its order of float32 sums can put 1 off on a rare rounding tie.
Float tensors (..., C, H, W) follow torchvision's tensor path (its 0.2989/0.587/0.114 grey, its clamped blends, its
HSV formulas). Each transform draws per sample from `rng.draws`, so a batch and its samples one by one get the same
results.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import rng
from .base import _ImageTransform, _pair, _spatial_axes, pad_images
from .geometry import _area_aspect_sides, _channels, _check_range, _first_try, _kind, _uniform


def _check_color_channels(batch: np.ndarray, kind: str, name: str) -> int:
    channels = _channels(batch, kind)
    if channels not in (1, 3):
        raise ValueError(f"{name} expects 1 (grey) or 3 (RGB) channels, got an image batch of shape {batch.shape}")
    return channels


# --------------------------------------------------------------------------------------------------------- grey

def _grey_uint8(images: np.ndarray) -> np.ndarray:
    """Pillow's RGB -> 'L' conversion of uint8 images (..., H, W, 3+): (R*19595 + G*38470 + B*7471 + 2**15) >> 16."""
    weighted = images[..., 0] * np.uint32(19595) + images[..., 1] * np.uint32(38470) + images[..., 2] * np.uint32(7471)
    return ((weighted + np.uint32(0x8000)) >> np.uint32(16)).astype(np.uint8)


def _grey_tensor(tensors: np.ndarray) -> np.ndarray:
    """torchvision's tensor grey of (..., 3, H, W): 0.2989 R + 0.587 G + 0.114 B, as (..., 1, H, W), same dtype."""
    red, green, blue = tensors[..., 0:1, :, :], tensors[..., 1:2, :, :], tensors[..., 2:3, :, :]
    return (0.2989 * red + 0.587 * green + 0.114 * blue).astype(tensors.dtype)


def _grey(batch: np.ndarray, kind: str, output_channels: int) -> np.ndarray:
    """Each image in grey with `output_channels` (1 or 3) equal channels, in the layout of its kind."""
    if kind == "tensor":  # (N, ..., C, H, W)
        grey = _grey_tensor(batch) if batch.shape[-3] == 3 else batch.copy()
        return np.repeat(grey, output_channels, axis=-3) if output_channels == 3 else grey
    grey = batch if batch.ndim == 3 else batch[..., 0] if batch.shape[3] == 1 else _grey_uint8(batch)
    return np.repeat(grey[..., None], 3, axis=3) if output_channels == 3 else grey.copy()


class Grayscale(_ImageTransform):
    """Images to grey with `num_output_channels` 1 or 3. uint8 RGB uses Pillow's 'L' weights (0.299, 0.587, 0.114
    in integer arithmetic), giving (H, W) or (H, W, 3); float tensors torchvision's (0.2989, 0.587, 0.114)."""

    def __init__(self, num_output_channels: int = 1):
        if num_output_channels not in (1, 3):
            raise ValueError(f"num_output_channels should be 1 or 3, got num_output_channels={num_output_channels!r}")
        self.num_output_channels = num_output_channels

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        kind = _kind(batch, "Grayscale")
        if kind == "tensor" and batch.ndim == 3:  # (H, W) tensors: one channel, kept as (H, W) when it stays one
            out = _grey(batch[:, None], kind, self.num_output_channels)
            return out[:, 0] if self.num_output_channels == 1 else out
        if kind == "tensor":
            _check_color_channels(batch, kind, "Grayscale")
        return _grey(batch, kind, self.num_output_channels)


class RandomGrayscale(_ImageTransform):
    """Each image to grey with probability p, keeping its number of channels (1 or 3)."""

    def __init__(self, p: float = 0.1):
        if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"p should be a probability in [0, 1], got p={p!r}")
        self.p = p

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        kind = _kind(batch, "RandomGrayscale")
        channels = _check_color_channels(batch, kind, "RandomGrayscale")
        chosen = np.flatnonzero(_uniform(rng.draws(len(batch)), len(batch)) < self.p)
        out = batch.copy()
        if channels == 3 and len(chosen):
            out[chosen] = _grey(batch[chosen], kind, 3)
        return out


# -------------------------------------------------------------------------------------------------- ColorJitter

def _factor_range(value, name: str, center: float = 1.0, bound=(0.0, math.inf), clip_first_on_zero: bool = True):
    """torchvision's ColorJitter._check_input: (min, max) of the factor, or None when it changes nothing."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{name} should be non-negative when it is a single number, got {name}={value!r}")
        low, high = center - float(value), center + float(value)
        if clip_first_on_zero:
            low = max(low, 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        low, high = float(value[0]), float(value[1])
    else:
        raise TypeError(f"{name} should be a single number or a (min, max) pair, got {name}={value!r}")
    if not bound[0] <= low <= high <= bound[1]:
        raise ValueError(f"{name} values should lie in {bound} with min <= max, got {name}={value!r}")
    return None if low == high == center else (low, high)


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
    return np.asarray(Image.frombytes("HSV", (width, m * height), hsv.tobytes()).convert("RGB")).reshape(images.shape)


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


def _adjust(images: np.ndarray, kind: str, operation: int, factors: np.ndarray) -> np.ndarray:
    """Brightness (0), contrast (1), saturation (2) or hue (3) of `images` adjusted by one factor per image."""
    rgb = _channels(images, kind) == 3
    if kind == "image":
        per_image = factors.reshape((-1,) + (1,) * (images.ndim - 1))
        if operation == 0:
            return _blend_uint8(0, images, per_image)
        if operation == 1:
            grey = _grey_uint8(images) if rgb else images.reshape(images.shape[:3])
            means = np.floor(grey.reshape(len(images), -1).mean(axis=1) + 0.5)  # Pillow: int(mean + 0.5)
            return _blend_uint8(means.reshape(per_image.shape), images, per_image)
        if not rgb:  # saturation and hue leave grey images as they are (Pillow and torchvision alike)
            return images
        if operation == 2:
            return _blend_uint8(_grey_uint8(images)[..., None], images, per_image)
        return _shift_hue_uint8(images, factors)
    per_image = factors.reshape((-1,) + (1,) * (images.ndim - 1))
    if operation == 0:
        return _blend_tensor(images, 0, per_image)
    if operation == 1:  # the mean of each (C, H, W) (of each (H, W) for 2-D tensors)
        grey = _grey_tensor(images) if rgb else images
        axes = tuple(range(max(1, images.ndim - 3), images.ndim))
        return _blend_tensor(images, grey.mean(axis=axes, keepdims=True), per_image)
    if not rgb:
        return images
    if operation == 2:
        return _blend_tensor(images, _grey_tensor(images), per_image)
    hsv = _rgb_to_hsv(images)
    hsv[..., 0, :, :] = np.mod(hsv[..., 0, :, :] + per_image[..., 0, :, :], 1.0)
    return _hsv_to_rgb(hsv)


class ColorJitter(_ImageTransform):
    """Random brightness, contrast, saturation and hue, applied in a random order per image (as torchvision).

    Each of brightness, contrast, saturation is a number j (factor drawn from [max(0, 1 - j), 1 + j]) or a (min, max)
    pair; hue is h in [0, 0.5] (factor from [-h, h]) or a pair within [-0.5, 0.5]. Images have 1 or 3 channels.
    A batch is adjusted with one vectorised call per (position in the order, adjustment).
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _factor_range(brightness, "brightness")
        self.contrast = _factor_range(contrast, "contrast")
        self.saturation = _factor_range(saturation, "saturation")
        self.hue = _factor_range(hue, "hue", center=0.0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    def parameters(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(order (n, 4) of the adjustments 0-3 per image, factors (n, 4)) from `rng.draws(n)`."""
        draws = _uniform(rng.draws(n), n, 8)
        order = np.argsort(draws[:, :4], axis=1)
        factors = np.ones((n, 4))
        factors[:, 3] = 0.0
        for operation, bounds in enumerate((self.brightness, self.contrast, self.saturation, self.hue)):
            if bounds is not None:
                factors[:, operation] = bounds[0] + draws[:, 4 + operation] * (bounds[1] - bounds[0])
        return order, factors

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        kind = _kind(batch, "ColorJitter")
        _check_color_channels(batch, kind, "ColorJitter")
        order, factors = self.parameters(len(batch))
        enabled = [bounds is not None for bounds in (self.brightness, self.contrast, self.saturation, self.hue)]
        out = batch.copy()
        for step in range(4):
            for operation in set(order[:, step].tolist()):  # the images that take this adjustment at this step
                if not enabled[operation]:
                    continue
                chosen = np.flatnonzero(order[:, step] == operation)
                if len(chosen) == len(out):
                    out = _adjust(out, kind, operation, factors[:, operation])
                else:
                    out[chosen] = _adjust(out[chosen], kind, operation, factors[chosen, operation])
        return out


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


class GaussianBlur(_ImageTransform):
    """A Gaussian blur with `kernel_size` (kx, ky) (odd, positive) and sigma drawn per image from `sigma`
    (min, max) or fixed, edges reflected. Separable: two 1-D convolutions, vectorised over the batch.

    uint8 images blur in float32 and are rounded back to uint8, as torchvision does for PIL images.
    """

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        if isinstance(kernel_size, (tuple, list)) and len(kernel_size) == 1:
            kernel_size = kernel_size[0]
        self.kernel_size = _pair(kernel_size, "kernel_size")
        if any(size % 2 == 0 for size in self.kernel_size):
            raise ValueError(f"kernel_size should be odd and positive, got kernel_size={kernel_size!r}")
        if isinstance(sigma, numbers.Real) and not isinstance(sigma, bool):
            if sigma <= 0:
                raise ValueError(f"sigma should be positive when it is a single number, got sigma={sigma!r}")
            sigma = (sigma, sigma)
        elif not (isinstance(sigma, (tuple, list)) and len(sigma) == 2 and 0.0 < sigma[0] <= sigma[1]):
            raise ValueError(f"sigma should be a positive number or a (min, max) pair with 0 < min <= max, got sigma={sigma!r}")
        self.sigma = sigma

    def sigmas(self, n: int) -> np.ndarray:
        """(n,) float64 standard deviations for n samples, from `rng.draws(n)`."""
        low, high = float(self.sigma[0]), float(self.sigma[1])
        return low + _uniform(rng.draws(n), n) * (high - low)

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        kind = _kind(batch, "GaussianBlur")
        sigmas = self.sigmas(len(batch))
        dtype = batch.dtype if kind == "tensor" else np.float32
        size_x, size_y = self.kernel_size
        h_axis, w_axis = _spatial_axes(batch)
        padded = pad_images(batch.astype(dtype, copy=False), (size_x // 2, size_y // 2, size_x // 2, size_y // 2),
                            padding_mode="reflect", axes=(h_axis, w_axis))
        blurred = _convolve(_convolve(padded, _gaussian_kernels(size_x, sigmas, dtype), w_axis),
                            _gaussian_kernels(size_y, sigmas, dtype), h_axis)
        if kind == "tensor":
            return blurred.astype(dtype, copy=False)
        return np.clip(np.rint(blurred), 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------------------ RandomErasing

class RandomErasing(_ImageTransform):
    """With probability p, a random rectangle of each float tensor (C, H, W) set to `value`: a number, one per
    channel, or 'random' (standard normal noise). Area fraction in `scale`, aspect ratio in `ratio`, torchvision's 10
    tries (no erasing when none fits). Tensors only, as in torchvision: apply it after ToTensor.
    """

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        if not isinstance(value, (numbers.Real, str, tuple, list)):
            raise TypeError(f"value should be a number, a sequence of them or 'random', got value={value!r}")
        if isinstance(value, str) and value != "random":
            raise ValueError(f"value should be 'random' when it is a string, got value={value!r}")
        _check_range(scale, "scale", low=0, high=1)
        _check_range(ratio, "ratio", low=0)
        if ratio[0] <= 0:
            raise ValueError(f"ratio should be positive, got ratio={ratio!r}")
        if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"p should be a probability in [0, 1], got p={p!r}")
        self.p, self.scale, self.ratio, self.value, self.inplace = p, scale, ratio, value, inplace

    def apply_batch(self, batch):
        return self._erase(batch, self.inplace)

    def apply_batch_in_place(self, batch):
        """`apply_batch` writing into `batch` itself (Compose uses it on intermediate arrays it owns)."""
        return self._erase(batch, True)

    def _erase(self, batch, inplace: bool):
        batch = np.asarray(batch)
        if _kind(batch, "RandomErasing") != "tensor":
            raise TypeError("RandomErasing works on float tensors (C, H, W), as torchvision's: put it after ToTensor "
                            f"(got a batch of dtype {batch.dtype} and shape {batch.shape})")
        n, channels, (height, width) = len(batch), _channels(batch, "tensor"), batch.shape[-2:]
        value = None if isinstance(self.value, str) else np.asarray(self.value, dtype=batch.dtype).reshape(-1, 1, 1)
        if value is not None and value.shape[0] not in (1, channels):
            raise ValueError(f"value should hold one number or one per channel ({channels}), got value={self.value!r}")
        stream = rng.draws(n)
        chosen = _uniform(stream, n) < self.p
        out = batch if inplace else batch.copy()
        if not chosen.any():  # the rectangles' numbers come from the next call, made only when needed
            return out
        tries = stream.uniform(10, 4)
        heights, widths = _area_aspect_sides(tries[..., :2], height * width, self.scale, self.ratio)
        valid = (heights < height) & (widths < width)
        erased = np.flatnonzero(chosen & valid.any(axis=1))
        first = _first_try(valid[erased])
        h, w = heights[erased][first], widths[erased][first]
        tops = np.floor(tries[erased][..., 2][first] * (height - h + 1)).astype(np.int64)
        lefts = np.floor(tries[erased][..., 3][first] * (width - w + 1)).astype(np.int64)
        if value is None:  # noise for each erased rectangle, from that sample's own stream
            for sample, top, left, rows, cols in zip(erased, tops, lefts, h, w):
                noise = rng.SampleDraws(stream.keys[sample:sample + 1])
                noise.calls = stream.calls
                u = noise.uniform(2, *batch.shape[1:-2][-1:], rows, cols)[0]  # (C, h, w), alike for leading axes
                normal = np.sqrt(-2 * np.log1p(-u[0])) * np.cos(2 * np.pi * u[1])
                out[sample, ..., top:top + rows, left:left + cols] = normal
            return out
        inside_rows = (np.arange(height) >= tops[:, None]) & (np.arange(height) < (tops + h)[:, None])
        inside_cols = (np.arange(width) >= lefts[:, None]) & (np.arange(width) < (lefts + w)[:, None])
        mask = (inside_rows[:, :, None] & inside_cols[:, None, :]).reshape((-1,) + (1,) * (batch.ndim - 3) + (height, width))
        out[erased] = np.where(mask, value, out[erased])
        return out
