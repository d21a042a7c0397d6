"""The Transform protocol (one sample or a whole batch), Compose, Lambda, and helpers shared by the transforms."""
from __future__ import annotations

import numbers
import sys

import numpy as np

from .. import rng
from ..collate import default_collate


class Transform:
    """A transform called as torchvision's are, `transform(sample)`, that also runs on a whole batch at once.

    The contract for a subclass (the loader and Compose rely on it):
    - `apply_batch(batch)` (required): the transform on every sample of `batch` (axis 0 = samples), with no Python
      loop over the samples. A random transform takes its numbers from `rng.draws(len(batch))`, row i deciding for
      sample i, so the batch gets exactly what its samples get one by one.
    - `__call__(sample)`: one sample, laid out as in torchvision: an image is an integer array (H, W) or (H, W, C), a
      tensor a floating array (..., C, H, W) whose leading axes share one random decision (`layout` tells them
      apart). The default is `apply_batch(sample[None])[0]`. Users call transforms in their own `__getitem__`, so a
      transform may override `__call__` with a faster one-sample path; it must return bit for bit what the default
      returns, drawing from `rng.draws(1)` (`uniform_list` gives row 0 as Python floats).
    - `apply_batch_in_place(batch)` (optional): `apply_batch` allowed to overwrite `batch`, which Compose uses on
      intermediate arrays it made.
    - `batched` is False for a transform that can only go one sample at a time.
    """

    def __call__(self, sample):
        return self.apply_batch(np.asarray(sample)[None])[0]

    def apply_batch(self, batch):
        raise NotImplementedError(f"{type(self).__name__} must define apply_batch")

    @property
    def batched(self) -> bool:
        """Whether `apply_batch` is available (False for transforms that can only go one sample at a time)."""
        return True

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in vars(self).items() if not key.startswith("_"))
        return f"{type(self).__name__}({arguments})"


def _is_pillow(sample) -> bool:
    """Whether `sample` is a Pillow image (if Pillow was never imported, it cannot be one)."""
    return "PIL.Image" in sys.modules and isinstance(sample, sys.modules["PIL.Image"].Image)


class _ImageTransform(Transform):
    """A Transform that also takes a Pillow image of mode L, RGB or RGBA and, as torchvision, returns one."""

    def __call__(self, sample):
        if not _is_pillow(sample):
            return super().__call__(sample)
        if sample.mode not in ("L", "RGB", "RGBA"):
            raise TypeError(
                f"{type(self).__name__} takes Pillow images of mode 'L', 'RGB' or 'RGBA', got mode {sample.mode!r}: "
                "convert it first, e.g. image.convert('RGB')"
            )
        return sys.modules["PIL.Image"].fromarray(super().__call__(np.asarray(sample)))


def apply_to_batch(transform, batch):
    """`transform` applied to every sample of `batch`: in one call when it is batched, else one sample at a time.

    One at a time, each sample gets the random draws it would get on its own, and the results are collated.
    """
    if transform is None:
        return batch
    if isinstance(transform, Transform) and transform.batched:
        return transform.apply_batch(batch)
    unwrap = lambda sample: sample.item() if isinstance(sample, np.generic) else sample  # noqa: E731
    return default_collate(rng.each_sample(lambda sample: transform(unwrap(sample)), batch))


class Compose(Transform):
    """Transforms applied in order. Batched when every part is a batched Transform."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for position, transform in enumerate(self.transforms):
            if not callable(transform):
                raise TypeError(f"transforms[{position}] should be callable, got {type(transform).__name__}: {transform!r}")

    def __call__(self, sample):
        for transform in self.transforms:
            sample = transform(sample)
        return sample

    def apply_batch(self, batch):
        given, owned = _memory_owner(batch), False
        for transform in self.transforms:
            # An intermediate array that one of our transforms made is ours to overwrite: no second buffer.
            if owned and hasattr(transform, "apply_batch_in_place"):
                batch = transform.apply_batch_in_place(batch)
            else:
                batch = transform.apply_batch(batch)
                owned = not isinstance(transform, Lambda) and _memory_owner(batch) is not given
        return batch

    @property
    def batched(self):
        for transform in self.transforms:
            if not (isinstance(transform, Transform) and transform.batched):
                return False
        return True

    def __repr__(self):
        return "Compose(" + "".join(f"\n    {transform!r}," for transform in self.transforms) + "\n)"


def _memory_owner(array):
    """The object whose memory `array` uses: itself, or the base that NumPy keeps for every view of it."""
    return array if getattr(array, "base", None) is None else array.base


def layout(sample: np.ndarray) -> str:
    """'tensor' for a floating array (..., C, H, W) or (H, W); else 'image' (H, W) or 'image_hwc' (H, W, C)."""
    if sample.dtype.kind == "f":
        if sample.ndim < 2:
            raise ValueError(f"expected a tensor (..., C, H, W) or (H, W), got shape {sample.shape}")
        return "tensor"
    if sample.ndim not in (2, 3):
        raise ValueError(f"expected an image (H, W) or (H, W, C) or a float tensor (..., C, H, W), got "
                         f"{sample.dtype} array of shape {sample.shape}")
    return "image" if sample.ndim == 2 else "image_hwc"


def _spatial_axes(batch: np.ndarray) -> tuple[int, int]:
    """(height axis, width axis) of a batch: floating ones are (N, ..., C, H, W) tensors, others (N, H, W[, C]) images."""
    if batch.dtype.kind == "f" and batch.ndim >= 3:
        return batch.ndim - 2, batch.ndim - 1
    if batch.ndim not in (3, 4):
        raise ValueError(
            f"expected a batch of images (N, H, W) or (N, H, W, C) or of tensors (N, ..., C, H, W), got {batch.dtype} "
            f"array of shape {batch.shape}"
        )
    return 1, 2


def height_width_last(sample: np.ndarray) -> tuple[np.ndarray, bool]:
    """A view of one sample with height and width as its last two axes, and whether it is an (H, W, C) image.

    An image (H, W, C) is viewed as (C, H, W); a transform computes on that view and returns `result.transpose(1, 2,
    0)` for such an image: an (h, w, C) view of channel-first memory, which ToTensor then reads without a copy.
    """
    if sample.ndim == 3 and sample.dtype.kind != "f":
        return sample.transpose(2, 0, 1), True
    layout(sample)  # checks the shape
    return sample, False


class Lambda(Transform):
    """A user function as a transform. With `batched=True` it receives whole batches (and must treat samples alike)."""

    def __init__(self, function, batched: bool = False):
        if not callable(function):
            raise TypeError(f"Lambda needs a callable, got {type(function).__name__}: {function!r}")
        self.function = function
        self._batched = bool(batched)

    def __call__(self, sample):
        return self.function(sample) if not self._batched else self.function(np.asarray(sample)[None])[0]

    def apply_batch(self, batch):
        if not self._batched:
            raise TypeError("this Lambda was made with batched=False; it takes one sample at a time")
        return self.function(batch)

    @property
    def batched(self):
        return self._batched


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return type(value).__name__


def _ints(value, argument: str) -> tuple:
    """An int or a tuple/list of ints as a tuple; a TypeError naming the argument for anything else."""
    values = (value,) if isinstance(value, numbers.Integral) else tuple(value) if isinstance(value, (tuple, list)) else None
    if values is None or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{argument} should be an int or a tuple of ints, got {argument}={value!r}")
    return tuple(int(v) for v in values)


def _pair(size, argument: str) -> tuple[int, int]:
    """An int, a pair (h, w) or a one-element sequence (s,) -> (h, w), as torchvision reads `size`."""
    values = _ints(size, argument)
    values = values * 2 if len(values) == 1 else values
    if len(values) != 2 or min(values) <= 0:
        raise ValueError(f"{argument} should be a positive int, a pair (h, w) of them or a one-element sequence, "
                         f"got {argument}={size!r}")
    return values


def _padding(padding) -> tuple[int, int, int, int]:
    """An int (all sides), (left/right, top/bottom), (left, top, right, bottom) or (p,) -> (left, top, right, bottom)."""
    values = _ints(padding, "padding")
    if len(values) not in (1, 2, 4) or min(values) < 0:
        raise ValueError(f"padding should be a non-negative int or a tuple of 1, 2 or 4 of them, got padding={padding!r}")
    if len(values) == 1:
        return values * 4
    if len(values) == 2:
        return values * 2
    return values


PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def pad_images(batch: np.ndarray, padding: tuple[int, int, int, int], fill=0, padding_mode: str = "constant",
               axes: tuple[int, int] | None = None) -> np.ndarray:
    """`batch` with its (height, width) axes padded by (left, top, right, bottom), as torchvision's `pad`.

    `padding_mode` is 'constant' (with `fill`), 'edge', 'reflect' or 'symmetric', which are NumPy's np.pad modes of
    the same names. `axes` defaults to `_spatial_axes(batch)`.
    """
    left, top, right, bottom = padding
    h_axis, w_axis = _spatial_axes(batch) if axes is None else axes
    widths = [(0, 0)] * batch.ndim
    widths[h_axis], widths[w_axis] = (top, bottom), (left, right)
    if padding_mode == "constant":
        return np.pad(batch, widths, mode="constant", constant_values=fill)
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode should be 'constant', 'edge', 'reflect' or 'symmetric', got {padding_mode!r}")
    return np.pad(batch, widths, mode=padding_mode)
