"""Resize, CenterCrop, Pad, RandomResizedCrop and RandomRotation: bringing images of any size to one size.

Two paths, as in torchvision. uint8 images (H, W[, C]) are torchvision's PIL path: each image goes through the same
Pillow call torchvision makes (Image.resize, Image.rotate, ...), so results equal torchvision's on the same PIL
image. Float tensors (..., C, H, W) are torchvision's tensor path, rewritten in NumPy: resampling with torch's
interpolation weights as matrices (one matrix product for a whole batch), rotation as torch's grid_sample.
Crops and padding are plain indexing on both paths (`flip_crop`). These transforms also take a Pillow image (mode
L, RGB or RGBA) and then return one, as torchvision does. The operations (`resize`, `resized_crop`, `rotate`) take an
ImageBatch with one parameter per sample; `functional` and the transforms call them.
"""
from __future__ import annotations

import functools
import math
import numbers
import os
import warnings
from collections.abc import Sequence
from enum import Enum

import numpy as np

from .base import (ImageBatch, ImageTransform, check_fill, check_range, fill_values, padding_sides, pair, uniform)
from .flip_crop import check_padding_mode, crop, pad


class InterpolationMode(Enum):
    """torchvision's interpolation names (torchvision's own InterpolationMode and Pillow's filter ints work too)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# torchvision's TypeError words for an input that is no image (`ImageTransform.refusal`, `ImageBatch.of`) where its
# code asks for the image's size first, or blurs
UNEXPECTED, NOT_PIL_OR_TENSOR = "Unexpected type {}", "img should be PIL Image or Tensor. Got {}"

_PILLOW_FILTERS = {"nearest": 0, "nearest-exact": 0, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5, "lanczos": 1}
_FROM_PILLOW = {0: "nearest", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming", 1: "lanczos"}
_TENSOR_RESIZE_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic")


def interpolation_mode(value) -> InterpolationMode:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) in _FROM_PILLOW:
        return InterpolationMode(_FROM_PILLOW[int(value)])
    try:
        return InterpolationMode(getattr(value, "value", value))
    except ValueError:
        raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                        f"constant, got interpolation={value!r}") from None


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
        raise ValueError(f"Interpolation mode '{mode.value}' is unsupported with Tensor input ({name} on float "
                         f"tensors supports {', '.join(allowed)})")


def _as_planes(view: np.ndarray) -> np.ndarray:
    """A view (N, ..., H, W) as (N, planes, H, W), for work that treats every (H, W) plane alike."""
    return view.reshape((len(view), -1) + view.shape[-2:])


def _check_resample(name: str, images: ImageBatch, out_h: int, out_w: int, antialias):
    """What resize and resized_crop check first: the PIL path's input, torchvision's warning that Pillow ignores
    `antialias=False`, and a MemoryError naming the transform and the output when the output would not fit in
    this machine's memory (before Pillow or NumPy start on it)."""
    images.check_pillow_path(name)
    if images.kind == "image" and antialias is False:
        warnings.warn("Anti-alias option is always applied for PIL Image input. Argument antialias is ignored.")
    shape = images.view.shape[:-2] + (out_h, out_w)
    size = math.prod(shape) * images.view.dtype.itemsize
    if size > os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"):
        raise MemoryError(f"{name}: the output, {out_h} x {out_w} pixels (N, ..., C, H, W = {shape}, "
                          f"{size / 2**30:.1f} GiB), does not fit in memory")


# ------------------------------------------------------------------------------------------------ the operations

def resize(images: ImageBatch, out_h: int, out_w: int, interpolation, antialias=True,
           name: str = "resize") -> np.ndarray:
    """Every image of `images` resized to (out_h, out_w): uint8 images with Pillow (always antialiased, so
    `antialias=False` warns, as torchvision's does for PIL images), tensors as torch's interpolate (antialiased for
    bilinear and bicubic when `antialias`). A view (N, ..., C, out_h, out_w)."""
    _check_resample(name, images, out_h, out_w, antialias)
    try:
        if images.kind == "image":
            resample = _PILLOW_FILTERS[interpolation.value]
            return images.pillow_each(lambda i, image: image.resize((out_w, out_h), resample))
        _check_tensor_mode(interpolation, _TENSOR_RESIZE_MODES, name)
        mode, antialias = interpolation.value, bool(antialias)
        view = images.view
        out = _resample(_as_planes(view), _axis_weights(view.shape[-2], out_h, mode, antialias),
                        _axis_weights(view.shape[-1], out_w, mode, antialias))
        return out.reshape(view.shape[:-2] + (out_h, out_w))
    except MemoryError:  # it fits the machine, but not the memory free now
        raise MemoryError(f"{name}: the output, {out_h} x {out_w} pixels of {images.channels} channels for "
                          f"{images.n} images, does not fit in the memory free now") from None


def resized_crop(images: ImageBatch, boxes: np.ndarray, out_h: int, out_w: int, interpolation, antialias=True,
                 name: str = "resized_crop") -> np.ndarray:
    """Each image's box (top, left, height, width) (`boxes` (N, 4)) resized to (out_h, out_w), as torchvision's
    resized_crop: Pillow's crop and resize for uint8 images (`antialias=False` warns, as in `resize`); for tensors
    the crop as weights on the whole image, one matrix product for the batch."""
    _check_resample(name, images, out_h, out_w, antialias)
    try:
        if images.kind == "image":
            resample = _PILLOW_FILTERS[interpolation.value]

            def crop_and_resize(i, image):
                top, left, h, w = (int(v) for v in boxes[i])
                return image.crop((left, top, left + w, top + h)).resize((out_w, out_h), resample)

            return images.pillow_each(crop_and_resize)
        _check_tensor_mode(interpolation, _TENSOR_RESIZE_MODES, name)
        mode, antialias, view = interpolation.value, bool(antialias), images.view
        height, width = view.shape[-2:]
        boxes = np.asarray(boxes, dtype=np.int64)
        tops, lefts, heights, widths = boxes.T
        sides = (max(-int(lefts.min()), 0), max(-int(tops.min()), 0), max(int((lefts + widths).max()) - width, 0),
                 max(int((tops + heights).max()) - height, 0))
        if any(sides):  # a box reaching outside the image: zeros there, as torchvision's crop pads
            view, boxes = pad(view, sides), boxes + [sides[1], sides[0], 0, 0]
            height, width = view.shape[-2:]
        rows, columns = np.zeros((len(view), out_h, height)), np.zeros((len(view), out_w, width))
        for i, (top, left, h, w) in enumerate(boxes):  # each crop as weights on the full image: one product for all
            rows[i, :, top:top + h] = _axis_weights(int(h), out_h, mode, antialias)
            columns[i, :, left:left + w] = _axis_weights(int(w), out_w, mode, antialias)
        return _resample(_as_planes(view), rows, columns).reshape(view.shape[:-2] + (out_h, out_w))
    except MemoryError:  # it fits the machine, but not the memory free now
        raise MemoryError(f"{name}: the output, {out_h} x {out_w} pixels of {images.channels} channels for "
                          f"{images.n} images, does not fit in the memory free now") from None


def center_corner(height: int, width: int, crop_h: int, crop_w: int) -> tuple[int, int]:
    """(top, left) of torchvision's center_crop window: an image smaller than the crop is first padded with zeros,
    (missing // 2) before it, so the window starts that far above or left of the image."""
    top = -((crop_h - height) // 2) if crop_h > height else int(round((height - crop_h) / 2.0))
    left = -((crop_w - width) // 2) if crop_w > width else int(round((width - crop_w) / 2.0))
    return top, left


def rotate(images: ImageBatch, angles, interpolation, expand: bool = False, center=None, fill=0,
           name: str = "rotate") -> np.ndarray:
    """Each image rotated by its angle (degrees, counter-clockwise; `angles` (N,)) about `center` (x, y) (default
    the image centre), `fill` (a number or one per channel; None: zeros, never blended on tensors) outside, as
    torchvision's rotate: Pillow's rotate for uint8 images, grid_sample for tensors. With `expand` every output is
    the size that holds the first rotated image (call it one sample at a time then)."""
    images.check_pillow_path(name)
    values = fill_values(check_fill(fill), images.channels, images.view.dtype)  # None: 0
    if images.kind == "image":
        resample = _PILLOW_FILTERS[interpolation.value]
        colour = int(values[0, 0, 0]) if images.channels == 1 else tuple(int(v) for v in values.ravel())
        return images.pillow_each(lambda i, image: image.rotate(float(angles[i]), resample, expand, center,
                                                                fillcolor=colour))
    _check_tensor_mode(interpolation, ("nearest", "bilinear"), name)
    view = images.view
    height, width = view.shape[-2:]
    center = (0.0, 0.0) if center is None else (center[0] - width * 0.5, center[1] - height * 0.5)
    matrices = np.array([_rotation_matrix(-float(angle), center) for angle in angles]).reshape(-1, 2, 3)
    out_w, out_h = _expanded_size(matrices[0].ravel(), width, height) if expand else (width, height)
    planes = _as_planes(view)
    given = None if fill is None else np.resize(values.ravel(), planes.shape[1])  # one per plane: C per leading index
    out = _rotate_tensors(planes, matrices, out_h, out_w, interpolation.value, given)
    return out.reshape(view.shape[:-2] + (out_h, out_w))


# ------------------------------------------------------------------------------------------- Resize, CenterCrop, Pad

class Resize(ImageTransform):
    """Each image resized to `size`: (h, w), or an int for the smaller edge (aspect ratio kept, longer edge at most
    `max_size`). uint8 images resample with Pillow as torchvision does (always antialiased, so `antialias=False`
    warns, as torchvision warns for PIL images); float tensors as torch's interpolate, antialiased for bilinear and
    bicubic when `antialias` is True. An image already of the output size comes back as the input itself.

    A batch is resized in one call (its images share one size); images of different sizes go one at a time.
    """

    refusal = UNEXPECTED

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        if not isinstance(size, (numbers.Integral, tuple, list)) or isinstance(size, bool):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        sizes = [size] if isinstance(size, numbers.Integral) else list(size)
        if len(sizes) not in (1, 2):
            raise ValueError(f"If size is a sequence, it should have 1 or 2 values, got size={size!r}")
        if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise ValueError(f"size should hold positive ints, got size={size!r}")
        if max_size is not None:
            if len(sizes) != 1:
                raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, "
                                 f"i.e. size should be an int or a sequence of length 1, got size={size!r}")
            if not isinstance(max_size, numbers.Integral) or max_size <= sizes[0]:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the "
                                 f"smaller edge size = {sizes}")
        self.size = size
        self.interpolation = interpolation_mode(interpolation)
        self.max_size = max_size
        self.antialias = antialias

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """The (height, width) an image of this size is resized to (torchvision's rule)."""
        return output_size(height, width, self.size, self.max_size)

    def apply(self, images: ImageBatch):
        return resize_images(images, self.size, self.interpolation, self.max_size, self.antialias, "Resize")

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation.value}, "
                f"max_size={self.max_size}, antialias={self.antialias})")


def resize_images(images: ImageBatch, size, interpolation, max_size=None, antialias=True, name: str = "resize"):
    """torchvision's resize of `images` to `size` (see Resize), in the input's form: the input itself when it
    already has the output size. `antialias=False` warns on images, which Pillow always antialiases."""
    out_h, out_w = output_size(images.height, images.width, size, max_size)
    if (out_h, out_w) == (images.height, images.width):
        return images.unchanged()
    return images.give(resize(images, out_h, out_w, interpolation, antialias, name))


def output_size(height: int, width: int, size, max_size=None) -> tuple[int, int]:
    """The (height, width) torchvision's resize gives an image of this size: `size` (h, w), or an int (or (s,)) for
    the smaller edge, the longer edge then at most `max_size`."""
    if not isinstance(size, numbers.Integral) and len(size) == 2:
        return int(size[0]), int(size[1])
    requested = int(size if isinstance(size, numbers.Integral) else size[0])
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = requested, int(requested * long / short)
    if max_size is not None and new_long > max_size:
        new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if width <= height else (new_short, new_long)


class CenterCrop(ImageTransform):
    """The central `size` (h, w) window of each image; an image smaller than that is first padded with zeros."""

    refusal = UNEXPECTED

    new_array = True

    def __init__(self, size):
        self.size = pair(size, "size")

    def apply(self, images: ImageBatch):
        top, left = center_corner(images.height, images.width, *self.size)
        return images.give(crop(images.view, top, left, *self.size))


def check_pad_fill(fill):
    """torchvision's check of Pad's `fill`: a number or a tuple/list (not None), then the shared parser's."""
    if not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError(f"Got inappropriate fill arg. Got fill={fill!r}")
    return check_fill(fill)


class Pad(ImageTransform):
    """Each image padded by `padding` (int, (left/right, top/bottom) or (left, top, right, bottom)) in
    `padding_mode` 'constant' (with `fill`: a number, or one per channel), 'edge', 'reflect' or 'symmetric'."""

    new_array = True

    def __init__(self, padding, fill=0, padding_mode="constant"):
        padding_sides(padding), check_pad_fill(fill)
        self.padding, self.fill, self.padding_mode = padding, fill, check_padding_mode(padding_mode)

    def apply(self, images: ImageBatch):  # reads its attributes at each call: a schedule may change them
        fill = fill_values(check_pad_fill(self.fill), images.channels, images.view.dtype) \
            if self.padding_mode == "constant" else None
        return images.give(pad(images.view, padding_sides(self.padding), fill, self.padding_mode))

    def __repr__(self):
        return f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


# ---------------------------------------------------------------------------------------------- RandomResizedCrop

def area_aspect_sides(draws: np.ndarray, area: int, scale, ratio) -> tuple[np.ndarray, np.ndarray]:
    """torchvision's rectangle proposals: for uniform draws (..., 2), a random area fraction in `scale` and a
    log-uniform aspect ratio in `ratio`; returns round(sqrt(area * aspect)) and round(sqrt(area / aspect))."""
    target = area * (scale[0] + draws[..., 0] * (scale[1] - scale[0]))
    log_low, log_high = math.log(ratio[0]), math.log(ratio[1])
    aspect = np.exp(log_low + draws[..., 1] * (log_high - log_low))
    return np.rint(np.sqrt(target * aspect)).astype(np.int64), np.rint(np.sqrt(target / aspect)).astype(np.int64)


def first_try(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index (rows, tries) of each row's first True in `valid` (n, tries); the first try for rows without one."""
    return np.arange(len(valid)), valid.argmax(axis=1)


def resized_crop_boxes(source, n: int, height: int, width: int, scale, ratio, randomness=None) -> np.ndarray:
    """(n, 4) int64 boxes (top, left, height, width), torchvision's RandomResizedCrop rule (10 tries, then a central
    crop with the aspect ratio clamped into `ratio`), from the samples' draws."""
    draws = uniform(source, n, 10, 4, randomness=randomness)
    widths, heights = area_aspect_sides(draws[..., :2], height * width, scale, ratio)
    valid = (widths > 0) & (widths <= width) & (heights > 0) & (heights <= height)
    first = first_try(valid)
    h, w = heights[first], widths[first]
    tops = np.floor(draws[..., 2][first] * (height - h + 1)).astype(np.int64)
    lefts = np.floor(draws[..., 3][first] * (width - w + 1)).astype(np.int64)
    found = valid.any(axis=1)
    if not found.all():
        in_ratio = width / height
        fall_h, fall_w = height, width
        if in_ratio < min(ratio):
            fall_h = int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            fall_w = int(round(height * max(ratio)))
        h[~found], w[~found] = fall_h, fall_w
        tops[~found], lefts[~found] = (height - fall_h) // 2, (width - fall_w) // 2
    return np.stack([tops, lefts, h, w], axis=1)


class RandomResizedCrop(ImageTransform):
    """A random crop (area fraction in `scale`, aspect ratio in `ratio`, torchvision's 10 tries then a central crop),
    resized to `size` (h, w). uint8 images crop and resize with Pillow; float tensors resample as torch does.

    The crops of a batch are resized in one matrix product (tensors) or one Pillow call per image (uint8).
    """

    refusal = UNEXPECTED

    new_array = True

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        self.size = pair(size, "size")
        check_range(scale, "scale", low=0)
        check_range(ratio, "ratio", low=0)
        if ratio[0] <= 0:
            raise ValueError(f"Ratio should be positive, got ratio={ratio!r}")
        self.scale, self.ratio = scale, ratio
        self.interpolation = interpolation_mode(interpolation)
        self.antialias = antialias

    @staticmethod
    def get_params(img, scale, ratio) -> tuple[int, int, int, int]:
        """torchvision's (top, left, height, width) of a random crop of `img` for `scale` and `ratio`, drawn as
        RandomResizedCrop draws: `functional.resized_crop(img, *params, size)` then equals the transform."""
        images = ImageBatch.of(img, "RandomResizedCrop.get_params")
        box = resized_crop_boxes(RandomResizedCrop, 1, images.height, images.width, scale, ratio)[0]
        return tuple(int(v) for v in box)

    def boxes(self, n: int, height: int, width: int, randomness=None) -> np.ndarray:
        """(n, 4) int64 crop boxes (top, left, height, width) for n images of this size, from the samples' draws."""
        return resized_crop_boxes(self, n, height, width, self.scale, self.ratio, randomness)

    def apply(self, images: ImageBatch):
        boxes = self.boxes(images.n, images.height, images.width, images.randomness)
        return images.give(resized_crop(images, boxes, *self.size, self.interpolation, self.antialias,
                                        "RandomResizedCrop"))

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, scale={tuple(round(s, 4) for s in self.scale)}, "
                f"ratio={tuple(round(r, 4) for r in self.ratio)}, interpolation={self.interpolation.value}, "
                f"antialias={self.antialias})")


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
    the points its inverse matrix (N, 2, 3) maps the output pixels to, then `fill` (one per plane, or None for
    none) blended in by a sampled mask."""
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

    if mode == "nearest":
        values, inside = gather(np.rint(y).astype(np.int64), np.rint(x).astype(np.int64))
        return values if fill is None else np.where(inside, values, fill.reshape(1, -1, 1, 1)).astype(dtype)
    x0, y0 = np.floor(x), np.floor(y)
    out, mask = np.zeros((n, channels, out_h, out_w), dtype), np.zeros((n, 1, out_h, out_w), dtype)
    for dy, dx, weight in ((0, 0, (x0 + 1 - x) * (y0 + 1 - y)), (0, 1, (x - x0) * (y0 + 1 - y)),
                           (1, 0, (x0 + 1 - x) * (y - y0)), (1, 1, (x - x0) * (y - y0))):
        values, inside = gather(y0.astype(np.int64) + dy, x0.astype(np.int64) + dx)
        out += values * weight[:, None]
        mask += inside * weight[:, None]
    if fill is None:  # torchvision blends only a fill it was given: its zeros outside are grid_sample's own
        return out
    return (out * mask + (1 - mask) * fill.astype(dtype).reshape(1, -1, 1, 1)).astype(dtype)


class RandomRotation(ImageTransform):
    """Each image rotated by an angle drawn uniformly from `degrees` (a number d means (-d, d)), counter-clockwise,
    about `center` (x, y) (default the image centre), with `fill` outside; `expand` grows the output to hold the
    whole rotated image. uint8 images rotate with Pillow; float tensors as torchvision's tensor path (grid_sample).

    With `expand=True` each sample has its own output size, so the transform goes one sample at a time.
    """

    refusal = UNEXPECTED

    new_array = True

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        if isinstance(degrees, numbers.Real) and not isinstance(degrees, bool):
            if degrees < 0:
                raise ValueError(f"If degrees is a single number, it must be positive. Got degrees={degrees!r}")
            degrees = (-degrees, degrees)
        elif not isinstance(degrees, (tuple, list)):
            raise TypeError(f"degrees should be a sequence of length 2. Got degrees={degrees!r}")
        elif len(degrees) != 2:
            raise ValueError(f"degrees should be a sequence of length 2. Got degrees={degrees!r}")
        self.degrees = [float(degrees[0]), float(degrees[1])]
        self.interpolation = interpolation_mode(interpolation)
        if self.interpolation.value not in ("nearest", "bilinear", "bicubic"):
            raise ValueError(f"RandomRotation supports interpolation nearest, bilinear and bicubic (uint8 images), "
                             f"got interpolation={interpolation!r}")
        if center is not None and not isinstance(center, (tuple, list)):
            raise TypeError(f"center should be a sequence of length 2. Got center={center!r}")
        if center is not None and len(center) != 2:
            raise ValueError(f"center should be a sequence of length 2. Got center={center!r}")
        if fill is not None and not isinstance(fill, (Sequence, numbers.Number)):
            raise TypeError(f"Fill should be either a sequence or a number. Got fill={fill!r}")
        check_fill(fill)
        self.expand, self.center, self.fill = expand, center, 0 if fill is None else fill

    @property
    def batched(self):
        return not self.expand

    @staticmethod
    def get_params(degrees) -> float:
        """torchvision's random angle in [degrees[0], degrees[1]], drawn as RandomRotation draws."""
        return float(rotation_angles(RandomRotation, 1, degrees)[0])

    def angles(self, n: int, randomness=None) -> np.ndarray:
        """(n,) float64 angles in degrees for n samples, from the samples' draws."""
        return rotation_angles(self, n, self.degrees, randomness)

    def apply(self, images: ImageBatch):
        angles = self.angles(images.n, images.randomness)
        if self.expand and images.n > 1:
            raise ValueError("RandomRotation(expand=True) gives each sample its own size: apply it one sample at a "
                             "time")
        return images.give(rotate(images, angles, self.interpolation, self.expand, self.center, self.fill,
                                  "RandomRotation"))

    def __repr__(self):
        center = "" if self.center is None else f", center={self.center}"
        return (f"{type(self).__name__}(degrees={self.degrees}, interpolation={self.interpolation.value}, "
                f"expand={self.expand}{center}, fill={self.fill})")


def rotation_angles(source, n: int, degrees, randomness=None) -> np.ndarray:
    """(n,) angles drawn uniformly from [degrees[0], degrees[1]], one per sample."""
    low, high = float(degrees[0]), float(degrees[1])
    return low + uniform(source, n, randomness=randomness) * (high - low)
