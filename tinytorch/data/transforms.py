"""Transforms with torchvision's names, each working on one sample or, with no Python loop, on a whole batch.

Layout follows torchvision's PIL-versus-tensor split: a uint8 (or other integer) array is an image, (H, W) or
(H, W, C), as `ToTensor` takes it; a floating array is a tensor, (C, H, W), as `ToTensor` returns it. A batch has
one more leading axis. `transform(x)` takes one sample; `transform.apply_batch(batch)` takes a batch, and the loader
uses it. Random transforms draw from `rng.draws`, so a batch and its samples one by one get the same decisions.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import rng
from .collate import default_collate


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


class ToTensor(Transform):
    """uint8 image (H, W) or (H, W, C), or a Pillow image -> float32 tensor (C, H, W) in [0, 1].

    Arrays of other dtypes keep their values (cast to float32), as torchvision does for non-byte input.
    """

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        if batch.ndim == 3:
            batch = batch[:, None]
        elif batch.ndim == 4:
            batch = np.ascontiguousarray(batch.transpose(0, 3, 1, 2))  # bytes are cheap to move; floats later are not
        else:
            raise ValueError(f"ToTensor expects images (H, W) or (H, W, C), got a batch of shape {batch.shape}")
        tensor = batch.astype(np.float32)  # then scaling in place: faster than one mixed-type multiply
        if batch.dtype == np.uint8:
            tensor *= np.float32(1 / 255)
        return tensor


class Normalize(Transform):
    """(tensor - mean) / std per channel, on float tensors (C, H, W); mean and std have one value or one per channel."""

    def __init__(self, mean, std, inplace: bool = False):
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1)
        self.std = np.asarray(std, dtype=np.float32).reshape(-1)
        if not self.mean.size or not self.std.size:
            raise ValueError(f"mean and std should hold one value or one per channel, got mean={mean!r}, std={std!r}")
        if np.any(self.std == 0):
            raise ValueError(f"std evaluated to zero after conversion to float32, leading to division by zero: std={std!r}")
        self.inplace = inplace
        # One value: a scalar, which NumPy applies faster than a broadcast array.
        self._scale = (1 / self.std)[:, None, None] if self.std.size > 1 else np.float32(1 / self.std[0])
        self._shift = self.mean[:, None, None] if self.mean.size > 1 else self.mean[0]

    def apply_batch(self, batch):
        return self._normalize(batch, inplace=self.inplace)

    def apply_batch_in_place(self, batch):
        """`apply_batch` writing into `batch` itself (Compose uses it on intermediate arrays it owns)."""
        return self._normalize(batch, inplace=True)

    def _normalize(self, batch, inplace: bool):
        if not isinstance(batch, np.ndarray) or batch.dtype.kind != "f" or batch.ndim != 4:
            raise TypeError(f"Normalize expects float tensors (C, H, W); apply ToTensor first (got {_describe(batch)})")
        channels = batch.shape[1]
        if self.mean.size not in (1, channels) or self.std.size not in (1, channels):
            raise ValueError(f"Normalize has {max(self.mean.size, self.std.size)} channel values, the tensor {channels} channels")
        out = batch if inplace else np.empty_like(batch)
        np.subtract(batch, self._shift, out=out)
        out *= self._scale
        return out


class RandomCrop(Transform):
    """A random `size` (h, w) window of each image, after padding its borders with `fill` by `padding`.

    `padding` is an int (all sides), (left/right, top/bottom) or (left, top, right, bottom), as in torchvision.
    """

    def __init__(self, size, padding=0, fill=0):
        self.size = _pair(size, "size")
        self.padding = _padding(padding)
        self.fill = fill

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        h_axis, w_axis = _spatial_axes(batch)
        left, top, right, bottom = self.padding
        if any(self.padding):
            shape = list(batch.shape)
            shape[h_axis] += top + bottom
            shape[w_axis] += left + right
            padded = np.full(shape, self.fill, dtype=batch.dtype)
            inside = [slice(None)] * batch.ndim
            inside[h_axis] = slice(top, top + batch.shape[h_axis])
            inside[w_axis] = slice(left, left + batch.shape[w_axis])
            padded[tuple(inside)] = batch
            batch = padded
        height, width = batch.shape[h_axis], batch.shape[w_axis]
        crop_h, crop_w = self.size
        if crop_h > height or crop_w > width:
            raise ValueError(f"RandomCrop size {self.size} is larger than the padded image ({height}, {width})")
        corners = np.floor(rng.draws(len(batch)).uniform(2) * [height - crop_h + 1, width - crop_w + 1]).astype(np.intp)
        tops, lefts = corners[:, 0], corners[:, 1]
        if len(batch) == 1:  # one sample: a plain slice
            window = [slice(None)] * batch.ndim
            window[h_axis] = slice(tops[0], tops[0] + crop_h)
            window[w_axis] = slice(lefts[0], lefts[0] + crop_w)
            return batch[tuple(window)].copy()
        windows = np.lib.stride_tricks.sliding_window_view(batch, (crop_h, crop_w), axis=(h_axis, w_axis))
        samples = np.arange(len(batch))
        if h_axis == 2:  # tensors (N, C, H, W): windows are (N, C, H', W', h, w)
            return windows[samples, :, tops, lefts]
        # Images (N, H, W[, C]): the crops come out as (N[, C], h, w); they are returned as an (N, h, w[, C]) view of
        # that memory, which ToTensor turns back into a contiguous (N, C, h, w) without copying.
        return np.moveaxis(windows[samples, tops, lefts], (-2, -1), (1, 2))


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability p."""

    def __init__(self, p: float = 0.5):
        if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"p should be a probability in [0, 1], got p={p!r}")
        self.p = p

    def apply_batch(self, batch):
        return self.apply_batch_in_place(np.copy(batch, order="K"))

    def apply_batch_in_place(self, batch):
        """`apply_batch` flipping the chosen samples of `batch` itself (Compose uses it on arrays it owns)."""
        _, w_axis = _spatial_axes(batch)
        chosen = np.flatnonzero(rng.draws(len(batch)).uniform() < self.p)
        rows = np.moveaxis(batch, w_axis, -1)  # width last, so NumPy copies whole reversed rows
        rows[chosen] = rows[chosen, ..., ::-1]
        return batch


class Flatten(Transform):
    """Each sample to one dimension: (C, H, W) -> (C*H*W,); a batch (N, ...) -> (N, features)."""

    def __call__(self, sample):
        return np.asarray(sample).reshape(-1)

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        return batch.reshape(len(batch), -1)


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


class ToPILImage(Transform):
    """A tensor (C, H, W) float in [0, 1] or an image array (H, W[, C]) uint8 -> a Pillow image (one sample only)."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, picture):
        from PIL import Image

        array = np.asarray(picture)
        if np.issubdtype(array.dtype, np.floating):
            if array.ndim == 3:
                array = array.transpose(1, 2, 0)
            array = np.clip(np.rint(array * 255), 0, 255).astype(np.uint8)
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        if array.ndim not in (2, 3):
            raise ValueError(f"ToPILImage expects (C, H, W), (H, W) or (H, W, C), got shape {array.shape}")
        return Image.fromarray(array, mode=self.mode) if self.mode else Image.fromarray(array)

    @property
    def batched(self):
        return False


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
