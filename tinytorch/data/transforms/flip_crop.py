"""RandomCrop and RandomHorizontalFlip: the random augmentations of the classic CIFAR pipeline."""
from __future__ import annotations

import numbers

import numpy as np

from .. import rng
from .base import Transform, _padding, _pair, _spatial_axes


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
