"""Resize, CenterCrop, Pad, RandomResizedCrop and RandomRotation: bringing images of any size to one size.

Two paths, as in torchvision. uint8 images (H, W[, C]) are torchvision's PIL path: each image goes through the same
Pillow call torchvision makes (Image.resize, Image.rotate, ...), so results equal torchvision's on the same PIL
image. Float tensors (..., C, H, W) are torchvision's tensor path, rewritten in NumPy: resampling with torch's
interpolation weights as matrices (one matrix product for a whole batch), rotation as torch's grid_sample.
Crops and padding are plain indexing on both paths. These transforms also take a Pillow image (mode L, RGB or RGBA)
and then return one, as torchvision does.
"""
from __future__ import annotations

import functools
import math
import numbers
import warnings
from enum import Enum

import numpy as np

from .. import rng
from .base import PADDING_MODES, _ImageTransform, _describe, _padding, _pair, _spatial_axes, pad_images


class InterpolationMode(Enum):
    """torchvision's interpolation names (torchvision's own InterpolationMode and Pillow's filter ints work too)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PILLOW_FILTERS = {"nearest": 0, "nearest-exact": 0, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5, "lanczos": 1}
_FROM_PILLOW = {0: "nearest", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming", 1: "lanczos"}
_TENSOR_RESIZE_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic")


def _interpolation(value) -> InterpolationMode:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) in _FROM_PILLOW:
        return InterpolationMode(_FROM_PILLOW[int(value)])
    try:
        return InterpolationMode(getattr(value, "value", value))
    except ValueError:
        raise ValueError(
            f"interpolation should be an InterpolationMode (or a Pillow filter int 0-5), got interpolation={value!r}"
        ) from None


# ----------------------------------------------------------------------------------------------- inputs and Pillow

def _kind(batch: np.ndarray, name: str) -> str:
    """'image' for a uint8 batch (N, H, W[, C]) with C in 1, 3, 4; 'tensor' for a float batch (N, ..., C, H, W) or
    (N, H, W) (a tensor's leading axes share its sample's random decisions)."""
    if batch.dtype == np.uint8 and (batch.ndim == 3 or (batch.ndim == 4 and batch.shape[3] in (1, 3, 4))):
        return "image"
    if batch.dtype.kind == "f" and batch.ndim >= 3:
        return "tensor"
    raise TypeError(
        f"{name} expects uint8 images (H, W) or (H, W, C) with C = 1, 3 or 4, or float tensors (..., C, H, W) or "
        f"(H, W), one more leading axis for a batch; got a batch that is an {_describe(batch)}"
    )


def _size_of(batch: np.ndarray) -> tuple[int, int]:
    h_axis, w_axis = _spatial_axes(batch)
    return batch.shape[h_axis], batch.shape[w_axis]


def _as_planes(tensors: np.ndarray) -> np.ndarray:
    """A float batch (N, ..., H, W) as (N, planes, H, W), for work that treats every (H, W) plane alike."""
    return tensors.reshape((len(tensors), -1) + tensors.shape[-2:])


def _uniform(draws: rng.SampleDraws, n: int, *shape: int) -> np.ndarray:
    """`draws.uniform(*shape)`, float64 (n, *shape); for one sample and a few numbers through `uniform_list`, the same
    numbers without NumPy's fixed cost per call (the per-sample path)."""
    count = math.prod(shape)
    if n == 1 and count <= 8:
        return np.array(draws.uniform_list(count)).reshape((1,) + shape)
    return draws.uniform(*shape)


def _pillow_each(batch: np.ndarray, operation) -> np.ndarray:
    """`operation(i, pil_image)` on each uint8 image of `batch` (N, H, W[, C]), results stacked as arrays."""
    from PIL import Image

    single_channel = batch.ndim == 4 and batch.shape[3] == 1
    images = batch[..., 0] if single_channel else batch
    out = np.stack([np.asarray(operation(i, Image.fromarray(image))) for i, image in enumerate(images)])
    return out[..., None] if single_channel else out


def _pillow_fill(fill, channels: int):
    """torchvision's `_parse_fill`: a number or one value per channel, as ints for uint8 images."""
    values = list(fill) if isinstance(fill, (tuple, list)) else [fill]
    if len(values) == 1:
        values = values * channels
    if len(values) != channels:
        raise ValueError(f"fill should hold one value or one per channel ({channels}), got fill={fill!r}")
    values = [int(value) for value in values]
    return values[0] if channels == 1 else tuple(values)


def _channels(batch: np.ndarray, kind: str) -> int:
    if kind == "tensor":
        return batch.shape[-3] if batch.ndim >= 4 else 1
    return 1 if batch.ndim == 3 else batch.shape[3]


# -------------------------------------------------------------------------------------- tensor resampling (NumPy)

def _triangle(x):
    return np.maximum(1.0 - np.abs(x), 0.0)


def _cubic(x, a: float):
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


@functools.lru_cache(maxsize=1024)
def _axis_weights(in_size: int, out_size: int, mode: str, antialias: bool) -> np.ndarray:
    """(out_size, in_size) float64 matrix: row i holds the weights torch's interpolate gives input pixels for output i.

    Cached (crops of a few sizes recur all epoch long), so read-only.
    """
    weights = _weights(in_size, out_size, mode, antialias)
    weights.flags.writeable = False
    return weights


def _weights(in_size: int, out_size: int, mode: str, antialias: bool) -> np.ndarray:
    weights = np.zeros((out_size, in_size))
    rows = np.arange(out_size)
    if mode in ("nearest", "nearest-exact"):  # torch computes these source indices in float32
        scale = np.float32(in_size) / np.float32(out_size)
        position = rows.astype(np.float32) + np.float32(0.5 if mode == "nearest-exact" else 0)
        weights[rows, np.minimum(np.floor(position * scale).astype(np.int64), in_size - 1)] = 1
        return weights
    scale = in_size / out_size
    if antialias:  # torch's antialiased kernels, which are Pillow's: the filter stretched by the downscale factor
        stretch = max(scale, 1.0)
        support = (1.0 if mode == "bilinear" else 2.0) * stretch
        centers = scale * (rows + 0.5)
        lows = np.maximum((centers - support + 0.5).astype(np.int64), 0)
        highs = np.minimum((centers + support + 0.5).astype(np.int64), in_size)
        columns = np.arange(in_size)
        distance = (columns[None, :] - centers[:, None] + 0.5) / stretch
        weights = _triangle(distance) if mode == "bilinear" else _cubic(distance, -0.5)
        weights *= (columns >= lows[:, None]) & (columns < highs[:, None])
        return weights / weights.sum(axis=1, keepdims=True)
    sources = scale * (rows + 0.5) - 0.5
    if mode == "bilinear":
        sources = np.maximum(sources, 0)
        low = sources.astype(np.int64)
        high = np.minimum(low + 1, in_size - 1)
        np.add.at(weights, (rows, low), 1 - (sources - low))
        np.add.at(weights, (rows, high), sources - low)
        return weights
    low = np.floor(sources).astype(np.int64)  # bicubic without antialias: a = -0.75, edge pixels repeated
    for offset in (-1, 0, 1, 2):
        np.add.at(weights, (rows, np.clip(low + offset, 0, in_size - 1)), _cubic(sources - low - offset, -0.75))
    return weights


def _resample(batch: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Tensors (N, C, H, W) resampled by weight matrices rows (out_h, H) and columns (out_w, W), or one per sample."""
    rows, columns = rows.astype(batch.dtype), columns.astype(batch.dtype)
    if rows.ndim == 3:
        rows, columns = rows[:, None], columns[:, None]
    return np.matmul(np.matmul(rows, batch), np.swapaxes(columns, -1, -2))


def _check_tensor_mode(mode: InterpolationMode, allowed, name: str):
    if mode.value not in allowed:
        raise ValueError(f"{name} on float tensors supports interpolation {', '.join(allowed)}, got {mode.value!r}")


# ------------------------------------------------------------------------------------------------------- Resize

class Resize(_ImageTransform):
    """Each image resized to `size`: (h, w), or an int for the smaller edge (aspect ratio kept, longer edge at most
    `max_size`). uint8 images resample with Pillow as torchvision does (always antialiased); float tensors as
    torch's interpolate, antialiased for bilinear and bicubic when `antialias` is True.

    A batch is resized in one call (its images share one size); images of different sizes go one at a time.
    """

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        sizes = [size] if isinstance(size, numbers.Integral) else list(size) if isinstance(size, (tuple, list)) else []
        if len(sizes) not in (1, 2) or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
                                               for s in sizes):
            raise ValueError(f"size should be a positive int or a sequence of 1 or 2 of them, got size={size!r}")
        if max_size is not None:
            if len(sizes) != 1:
                raise ValueError(f"max_size is only allowed when size is an int (the smaller edge), got size={size!r}")
            if not isinstance(max_size, numbers.Integral) or max_size <= sizes[0]:
                raise ValueError(f"max_size should be an int greater than size={size!r}, got max_size={max_size!r}")
        self.size = size
        self.interpolation = _interpolation(interpolation)
        self.max_size = max_size
        self.antialias = antialias

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """The (height, width) an image of this size is resized to (torchvision's rule)."""
        if not isinstance(self.size, numbers.Integral) and len(self.size) == 2:
            return int(self.size[0]), int(self.size[1])
        requested = int(self.size if isinstance(self.size, numbers.Integral) else self.size[0])
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = requested, int(requested * long / short)
        if self.max_size is not None and new_long > self.max_size:
            new_short, new_long = int(self.max_size * new_short / new_long), self.max_size
        return (new_long, new_short) if width <= height else (new_short, new_long)

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        kind = _kind(batch, "Resize")
        height, width = _size_of(batch)
        out_h, out_w = self.output_size(height, width)
        if (out_h, out_w) == (height, width):
            return batch
        if kind == "image":
            resample = _PILLOW_FILTERS[self.interpolation.value]
            return _pillow_each(batch, lambda i, image: image.resize((out_w, out_h), resample))
        _check_tensor_mode(self.interpolation, _TENSOR_RESIZE_MODES, "Resize")
        mode, antialias = self.interpolation.value, bool(self.antialias)
        out = _resample(_as_planes(batch), _axis_weights(height, out_h, mode, antialias),
                        _axis_weights(width, out_w, mode, antialias))
        return out.reshape(batch.shape[:-2] + (out_h, out_w))


# --------------------------------------------------------------------------------------------- CenterCrop, Pad

def _window(batch: np.ndarray, top: int, left: int, height: int, width: int) -> np.ndarray:
    index = [slice(None)] * batch.ndim
    h_axis, w_axis = _spatial_axes(batch)
    index[h_axis], index[w_axis] = slice(top, top + height), slice(left, left + width)
    return batch[tuple(index)]


class CenterCrop(_ImageTransform):
    """The central `size` (h, w) window of each image; an image smaller than that is first padded with zeros."""

    def __init__(self, size):
        if isinstance(size, (tuple, list)) and len(size) == 1:
            size = size[0]
        self.size = _pair(size, "size")

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        _kind(batch, "CenterCrop")  # checks the input
        height, width = _size_of(batch)
        crop_h, crop_w = self.size
        if crop_h > height or crop_w > width:
            pad_w, pad_h = max(crop_w - width, 0), max(crop_h - height, 0)
            batch = pad_images(batch, (pad_w // 2, pad_h // 2, (pad_w + 1) // 2, (pad_h + 1) // 2))
            height, width = _size_of(batch)
        top, left = int(round((height - crop_h) / 2.0)), int(round((width - crop_w) / 2.0))
        return _window(batch, top, left, crop_h, crop_w).copy()


class Pad(_ImageTransform):
    """Each image padded by `padding` (int, (left/right, top/bottom) or (left, top, right, bottom)) in
    `padding_mode` 'constant' (with `fill`: a number, or one per channel), 'edge', 'reflect' or 'symmetric'."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        if isinstance(padding, (tuple, list)) and len(padding) == 1:
            padding = padding[0]
        self._sides = _padding(padding)
        if not isinstance(fill, (numbers.Real, tuple, list)):
            raise TypeError(f"fill should be a number or a sequence of them, got fill={fill!r}")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"padding_mode should be 'constant', 'edge', 'reflect' or 'symmetric', got {padding_mode!r}")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        kind = _kind(batch, "Pad")
        axes = _spatial_axes(batch)
        if self.padding_mode != "constant" or not isinstance(self.fill, (tuple, list)):
            fill = int(self.fill) if kind == "image" and self.padding_mode == "constant" else self.fill
            return pad_images(batch, self._sides, fill, self.padding_mode, axes=axes)
        channels = _channels(batch, kind)  # one fill value per channel
        fill = np.asarray(_pillow_fill(self.fill, channels) if kind == "image" else self.fill, dtype=batch.dtype)
        if fill.size not in (1, channels):
            raise ValueError(f"fill should hold one value or one per channel ({channels}), got fill={self.fill!r}")
        left, top, right, bottom = self._sides
        shape = list(batch.shape)
        shape[axes[0]] += top + bottom
        shape[axes[1]] += left + right
        padded = np.empty(shape, batch.dtype)
        padded[...] = fill.reshape(-1, 1, 1) if kind == "tensor" else fill
        _window(padded, top, left, batch.shape[axes[0]], batch.shape[axes[1]])[...] = batch
        return padded


# ---------------------------------------------------------------------------------------------- RandomResizedCrop

def _area_aspect_sides(draws: np.ndarray, area: int, scale, ratio) -> tuple[np.ndarray, np.ndarray]:
    """torchvision's rectangle proposals: for uniform draws (..., 2), a random area fraction in `scale` and a
    log-uniform aspect ratio in `ratio`; returns round(sqrt(area * aspect)) and round(sqrt(area / aspect))."""
    target = area * (scale[0] + draws[..., 0] * (scale[1] - scale[0]))
    log_low, log_high = math.log(ratio[0]), math.log(ratio[1])
    aspect = np.exp(log_low + draws[..., 1] * (log_high - log_low))
    return np.rint(np.sqrt(target * aspect)).astype(np.int64), np.rint(np.sqrt(target / aspect)).astype(np.int64)


def _first_try(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index (rows, tries) of each row's first True in `valid` (n, tries); the first try for rows without one."""
    return np.arange(len(valid)), valid.argmax(axis=1)


def _check_range(values, argument: str, low=-math.inf, high=math.inf):
    if not isinstance(values, (tuple, list)) or len(values) != 2 or not all(isinstance(v, numbers.Real) for v in values):
        raise TypeError(f"{argument} should be a sequence (min, max) of numbers, got {argument}={values!r}")
    if not (low <= values[0] and values[1] <= high):
        raise ValueError(f"{argument} should lie in [{low}, {high}], got {argument}={values!r}")
    if values[0] > values[1]:
        warnings.warn(f"{argument} should be of kind (min, max), got {argument}={values!r}")


class RandomResizedCrop(_ImageTransform):
    """A random crop (area fraction in `scale`, aspect ratio in `ratio`, torchvision's 10 tries then a central crop),
    resized to `size` (h, w). uint8 images crop and resize with Pillow; float tensors resample as torch does.

    The crops of a batch are resized in one matrix product (tensors) or one Pillow call per image (uint8).
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        if isinstance(size, (tuple, list)) and len(size) == 1:
            size = size[0]
        self.size = _pair(size, "size")
        _check_range(scale, "scale", low=0)
        _check_range(ratio, "ratio", low=0)
        if ratio[0] <= 0:
            raise ValueError(f"ratio should be positive, got ratio={ratio!r}")
        self.scale, self.ratio = scale, ratio
        self.interpolation = _interpolation(interpolation)
        self.antialias = antialias

    def boxes(self, n: int, height: int, width: int) -> np.ndarray:
        """(n, 4) int64 crop boxes (top, left, height, width) for n images of this size, from `rng.draws(n)`."""
        draws = rng.draws(n).uniform(10, 4)
        widths, heights = _area_aspect_sides(draws[..., :2], height * width, self.scale, self.ratio)
        valid = (widths > 0) & (widths <= width) & (heights > 0) & (heights <= height)
        first = _first_try(valid)
        h, w = heights[first], widths[first]
        tops = np.floor(draws[..., 2][first] * (height - h + 1)).astype(np.int64)
        lefts = np.floor(draws[..., 3][first] * (width - w + 1)).astype(np.int64)
        found = valid.any(axis=1)
        if not found.all():  # torchvision's fallback: the central crop with the aspect ratio clamped into `ratio`
            in_ratio = width / height
            fall_h, fall_w = height, width
            if in_ratio < min(self.ratio):
                fall_h = int(round(width / min(self.ratio)))
            elif in_ratio > max(self.ratio):
                fall_w = int(round(height * max(self.ratio)))
            h[~found], w[~found] = fall_h, fall_w
            tops[~found], lefts[~found] = (height - fall_h) // 2, (width - fall_w) // 2
        return np.stack([tops, lefts, h, w], axis=1)

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        kind = _kind(batch, "RandomResizedCrop")
        height, width = _size_of(batch)
        boxes = self.boxes(len(batch), height, width)
        out_h, out_w = self.size
        if kind == "image":
            resample = _PILLOW_FILTERS[self.interpolation.value]

            def crop_and_resize(i, image):
                top, left, h, w = (int(v) for v in boxes[i])
                return image.crop((left, top, left + w, top + h)).resize((out_w, out_h), resample)

            return _pillow_each(batch, crop_and_resize)
        _check_tensor_mode(self.interpolation, _TENSOR_RESIZE_MODES, "RandomResizedCrop")
        mode, antialias = self.interpolation.value, bool(self.antialias)
        rows, columns = np.zeros((len(batch), out_h, height)), np.zeros((len(batch), out_w, width))
        for i, (top, left, h, w) in enumerate(boxes):  # each crop as weights on the full image: one product for all
            rows[i, :, top:top + h] = _axis_weights(h, out_h, mode, antialias)
            columns[i, :, left:left + w] = _axis_weights(w, out_w, mode, antialias)
        return _resample(_as_planes(batch), rows, columns).reshape(batch.shape[:-2] + (out_h, out_w))


# ------------------------------------------------------------------------------------------------ RandomRotation

def _rotation_matrix(angle: float, center: tuple[float, float]) -> list[float]:
    """torchvision's inverse affine matrix for a rotation by `angle` degrees about `center` (no scale or shear)."""
    radians = math.radians(angle)
    cx, cy = center
    matrix = [math.cos(radians), math.sin(radians), 0.0, -math.sin(radians), math.cos(radians), 0.0]
    matrix[2] += matrix[0] * -cx + matrix[1] * -cy + cx
    matrix[5] += matrix[3] * -cx + matrix[4] * -cy + cy
    return matrix


def _expanded_size(matrix: list[float], width: int, height: int) -> tuple[int, int]:
    """(width, height) holding the whole rotated image (torchvision's `_compute_affine_output_size`)."""
    corners = np.array([[-0.5 * width, -0.5 * height, 1.0], [-0.5 * width, 0.5 * height, 1.0],
                        [0.5 * width, 0.5 * height, 1.0], [0.5 * width, -0.5 * height, 1.0]], dtype=np.float32)
    moved = corners @ np.asarray(matrix, dtype=np.float32).reshape(2, 3).T
    low, high = moved.min(axis=0) + [width * 0.5, height * 0.5], moved.max(axis=0) + [width * 0.5, height * 0.5]
    tolerance = 1e-4  # as torchvision: drop float noise before ceil/floor
    size = np.ceil(np.trunc(high / tolerance) * tolerance) - np.floor(np.trunc(low / tolerance) * tolerance)
    return int(size[0]), int(size[1])


def _rotate_tensors(batch: np.ndarray, matrices: np.ndarray, out_h: int, out_w: int, mode: str, fill) -> np.ndarray:
    """torchvision's tensor rotate: grid_sample (zeros outside, align_corners=False) of each tensor (N, C, H, W) at
    the points its inverse matrix (N, 2, 3) maps the output pixels to, then `fill` blended in by a sampled mask."""
    n, channels, height, width = batch.shape
    dtype = batch.dtype
    theta = matrices.astype(dtype) / np.array([0.5 * width, 0.5 * height], dtype=dtype)[:, None]
    xs = (np.arange(out_w) - out_w * 0.5 + 0.5).astype(dtype)
    ys = (np.arange(out_h) - out_h * 0.5 + 0.5).astype(dtype)[:, None]
    grid_x = xs * theta[:, 0, 0, None, None] + ys * theta[:, 0, 1, None, None] + theta[:, 0, 2, None, None]
    grid_y = xs * theta[:, 1, 0, None, None] + ys * theta[:, 1, 1, None, None] + theta[:, 1, 2, None, None]
    x = (grid_x + dtype.type(1)) * dtype.type(width / 2) - dtype.type(0.5)  # pixel coordinates, (N, out_h, out_w)
    y = (grid_y + dtype.type(1)) * dtype.type(height / 2) - dtype.type(0.5)
    samples = np.arange(n)[:, None, None]

    def gather(rows, cols):
        inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        values = batch[samples, :, np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)]  # (N, oh, ow, C)
        return np.moveaxis(values, -1, 1) * inside[:, None], inside[:, None]

    fill = np.asarray(fill, dtype=dtype).reshape(1, -1, 1, 1)
    if mode == "nearest":
        values, inside = gather(np.rint(y).astype(np.int64), np.rint(x).astype(np.int64))
        return np.where(inside, values, fill).astype(dtype)
    x0, y0 = np.floor(x), np.floor(y)
    out, mask = np.zeros((n, channels, out_h, out_w), dtype), np.zeros((n, 1, out_h, out_w), dtype)
    for dy, dx, weight in ((0, 0, (x0 + 1 - x) * (y0 + 1 - y)), (0, 1, (x - x0) * (y0 + 1 - y)),
                           (1, 0, (x0 + 1 - x) * (y - y0)), (1, 1, (x - x0) * (y - y0))):
        values, inside = gather(y0.astype(np.int64) + dy, x0.astype(np.int64) + dx)
        out += values * weight[:, None]
        mask += inside * weight[:, None]
    return (out * mask + (1 - mask) * fill).astype(dtype)


class RandomRotation(_ImageTransform):
    """Each image rotated by an angle drawn uniformly from `degrees` (a number d means (-d, d)), counter-clockwise,
    about `center` (x, y) (default the image centre), with `fill` outside; `expand` grows the output to hold the
    whole rotated image. uint8 images rotate with Pillow; float tensors as torchvision's tensor path (grid_sample).

    With `expand=True` each sample has its own output size, so the transform goes one sample at a time.
    """

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        if isinstance(degrees, numbers.Real):
            if degrees < 0:
                raise ValueError(f"degrees should be non-negative when it is a single number, got degrees={degrees!r}")
            degrees = (-degrees, degrees)
        _check_range(degrees, "degrees")
        self.degrees = [float(degrees[0]), float(degrees[1])]
        self.interpolation = _interpolation(interpolation)
        if self.interpolation.value not in ("nearest", "bilinear", "bicubic"):
            raise ValueError(f"RandomRotation supports interpolation nearest, bilinear and bicubic (uint8 images), "
                             f"got interpolation={interpolation!r}")
        if center is not None and (not isinstance(center, (tuple, list)) or len(center) != 2):
            raise ValueError(f"center should be a sequence (x, y), got center={center!r}")
        if fill is None:
            fill = 0
        if not isinstance(fill, (numbers.Real, tuple, list)):
            raise TypeError(f"fill should be a number or a sequence of them, got fill={fill!r}")
        self.expand, self.center, self.fill = expand, center, fill

    @property
    def batched(self):
        return not self.expand

    def angles(self, n: int) -> np.ndarray:
        """(n,) float64 angles in degrees for n samples, from `rng.draws(n)`."""
        low, high = self.degrees
        return low + _uniform(rng.draws(n), n) * (high - low)

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        kind = _kind(batch, "RandomRotation")
        angles = self.angles(len(batch))
        if self.expand and len(batch) > 1:
            raise ValueError("RandomRotation(expand=True) gives each sample its own size: apply it one sample at a time")
        if kind == "image":
            resample = _PILLOW_FILTERS[self.interpolation.value]
            fill = _pillow_fill(self.fill, _channels(batch, kind))
            return _pillow_each(batch, lambda i, image: image.rotate(float(angles[i]), resample, self.expand,
                                                                    self.center, fillcolor=fill))
        _check_tensor_mode(self.interpolation, ("nearest", "bilinear"), "RandomRotation")
        height, width = _size_of(batch)
        center = (0.0, 0.0) if self.center is None else (self.center[0] - width * 0.5, self.center[1] - height * 0.5)
        matrices = np.array([_rotation_matrix(-angle, center) for angle in angles]).reshape(-1, 2, 3)
        out_w, out_h = _expanded_size(matrices[0].ravel(), width, height) if self.expand else (width, height)
        channels, planes = _channels(batch, kind), _as_planes(batch)
        fill = [float(v) for v in self.fill] if isinstance(self.fill, (tuple, list)) else [float(self.fill)]
        if len(fill) not in (1, channels):
            raise ValueError(f"fill should hold one value or one per channel ({channels}), got fill={self.fill!r}")
        fill = np.resize(fill, planes.shape[1])  # one value per plane: the channel values again for each leading index
        out = _rotate_tensors(planes, matrices, out_h, out_w, self.interpolation.value, fill)
        return out.reshape(batch.shape[:-2] + (out_h, out_w))
