"""The Transform protocol (one sample or a whole batch), Compose, Lambda, and helpers shared by the transforms."""
from __future__ import annotations

import numbers

import numpy as np

from .. import rng
from ..collate import default_collate


class Transform:
    """A transform that also runs on batches: subclasses define `apply_batch(batch)` (leading axis = samples)."""

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


def apply_to_batch(transform, batch):
    """`transform` applied to every sample of `batch`: in one call when it is batched, else one sample at a time.

    One at a time, each sample gets the random draws it would get on its own, and the results are collated.
    """
    if transform is None:
        return batch
    if isinstance(transform, Transform) and transform.batched:
        return transform.apply_batch(batch)
    samples = []
    for i, sample in enumerate(batch):
        with rng.one_sample_randomness(i):
            samples.append(transform(sample if not isinstance(sample, np.generic) else sample.item()))
    return default_collate(samples)


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
            in_place = getattr(transform, "apply_batch_in_place", None)
            # An intermediate array that one of our transforms made is ours to overwrite: no second buffer.
            batch = in_place(batch) if owned and in_place is not None else transform.apply_batch(batch)
            owned = not isinstance(transform, Lambda) and _memory_owner(batch) is not given
        return batch

    @property
    def batched(self):
        return all(isinstance(transform, Transform) and transform.batched for transform in self.transforms)

    def __repr__(self):
        return "Compose(" + "".join(f"\n    {transform!r}," for transform in self.transforms) + "\n)"


def _memory_owner(array):
    """The object whose memory `array` uses: itself, or the base that NumPy keeps for every view of it."""
    return array if getattr(array, "base", None) is None else array.base


def _spatial_axes(batch: np.ndarray) -> tuple[int, int]:
    """(height axis, width axis) of a batch: floating batches are (N, C, H, W) tensors, integer ones (N, H, W[, C]) images."""
    if batch.ndim not in (3, 4):
        raise ValueError(
            f"expected a batch of images (N, H, W) or (N, H, W, C) or of tensors (N, C, H, W), got shape {batch.shape}"
        )
    if batch.dtype.kind == "f" and batch.ndim == 4:
        return 2, 3
    return 1, 2


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


def _pair(size, argument: str) -> tuple[int, int]:
    values = (size, size) if isinstance(size, numbers.Integral) else tuple(size) if isinstance(size, (tuple, list)) else ()
    if len(values) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0 for v in values):
        raise ValueError(f"{argument} should be a positive int or a pair (h, w) of them, got {argument}={size!r}")
    return int(values[0]), int(values[1])


def _padding(padding) -> tuple[int, int, int, int]:
    values = (padding,) if isinstance(padding, numbers.Integral) else tuple(padding) if isinstance(padding, (tuple, list)) else ()
    if len(values) not in (1, 2, 4) or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0 for v in values):
        raise ValueError(f"padding should be a non-negative int or a tuple of 2 or 4 of them, got padding={padding!r}")
    if len(values) == 1:
        return (int(values[0]),) * 4
    if len(values) == 2:
        return int(values[0]), int(values[1]), int(values[0]), int(values[1])
    return tuple(int(v) for v in values)


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
    if padding_mode not in ("edge", "reflect", "symmetric"):
        raise ValueError(f"padding_mode should be 'constant', 'edge', 'reflect' or 'symmetric', got {padding_mode!r}")
    return np.pad(batch, widths, mode=padding_mode)
