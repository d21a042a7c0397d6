"""RandomCrop and RandomHorizontalFlip: the random augmentations of the classic CIFAR pipeline."""
from __future__ import annotations

import numbers

import numpy as np

from .. import rng
from .base import (PADDING_MODES, _ImageTransform, _is_pillow, _padding, _pair, _spatial_axes, height_width_last,
                   pad_images)


class RandomCrop(_ImageTransform):
    """A random `size` (h, w) window of each image, after padding its borders, with torchvision's arguments.

    `padding` (default None: no padding) is an int (all sides), (left/right, top/bottom) or (left, top, right,
    bottom); `pad_if_needed` pads an image smaller than `size` (by the missing amount on each side, as torchvision);
    `padding_mode` is 'constant' (with `fill`: a number, or one per channel), 'edge', 'reflect' or 'symmetric'.
    A tensor (..., C, H, W) called as one sample gets one window for all of it; a Pillow image gives a Pillow image.
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0, padding_mode: str = "constant"):
        self.size = _pair(size, "size")
        self.padding = padding
        self._sides = (0, 0, 0, 0) if padding is None else _padding(padding)
        self.pad_if_needed = bool(pad_if_needed)
        if not isinstance(fill, numbers.Real) and not (
                isinstance(fill, (tuple, list)) and fill and all(isinstance(v, numbers.Real) for v in fill)):
            raise TypeError(f"fill should be a number or a tuple of one per channel, got fill={fill!r}")
        self.fill = fill
        self._fills_nonzero = bool(np.any(np.asarray(fill) != 0))
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"padding_mode should be one of {PADDING_MODES}, got padding_mode={padding_mode!r}")
        self.padding_mode = padding_mode
        self._steps = {}  # (height, width) of an input -> its _padding_steps

    def _padding_steps(self, height: int, width: int) -> tuple[list[tuple[int, int, int, int]], int, int]:
        """The paddings (left, top, right, bottom) torchvision applies in turn, and the padded height and width."""
        known = self._steps.get((height, width))
        if known is None:
            known = self._steps[height, width] = self._compute_padding_steps(height, width)
        return known

    def _compute_padding_steps(self, height: int, width: int) -> tuple[list[tuple[int, int, int, int]], int, int]:
        steps = []
        if any(self._sides):
            left, top, right, bottom = self._sides
            steps.append(self._sides)
            height, width = height + top + bottom, width + left + right
        crop_h, crop_w = self.size
        if self.pad_if_needed and width < crop_w:
            steps.append((crop_w - width, 0, crop_w - width, 0))
            width = 2 * crop_w - width
        if self.pad_if_needed and height < crop_h:
            steps.append((0, crop_h - height, 0, crop_h - height))
            height = 2 * crop_h - height
        if crop_h > height or crop_w > width:
            raise ValueError(f"RandomCrop size {self.size} is larger than the padded image ({height}, {width}); "
                             "pass pad_if_needed=True to pad small images")
        if self.padding_mode == "constant" and len(steps) > 1:  # constant paddings add up
            steps = [tuple(int(v) for v in np.sum(steps, axis=0))]
        return steps, height, width

    def _fill(self, channels: int, channels_last: bool):
        """`fill` shaped to broadcast over `channels` channels (the last axis of images, the third from last of tensors)."""
        if isinstance(self.fill, numbers.Real):
            return self.fill
        if len(self.fill) == 1:
            return self.fill[0]
        if len(self.fill) != channels:
            raise ValueError(f"fill has {len(self.fill)} values, the image {channels} channels: fill={self.fill!r}")
        return np.asarray(self.fill).reshape(-1) if channels_last else np.asarray(self.fill).reshape(-1, 1, 1)

    def __call__(self, sample):
        if _is_pillow(sample):
            return super().__call__(sample)
        view, image_hwc = height_width_last(np.asarray(sample))
        steps, height, width = self._padding_steps(*view.shape[-2:])
        crop_h, crop_w = self.size
        u_top, u_left = rng.draws(1).uniform_list(2)
        top, left = int(u_top * (height - crop_h + 1)), int(u_left * (width - crop_w + 1))
        if self.padding_mode == "constant":
            out = self._constant_crop(view, steps[0][:2] if steps else (0, 0), top, left)
        else:
            for step in steps:
                view = pad_images(view, step, padding_mode=self.padding_mode, axes=(view.ndim - 2, view.ndim - 1))
            out = view[..., top:top + crop_h, left:left + crop_w].copy()
        return out.transpose(1, 2, 0) if image_hwc else out

    def _constant_crop(self, view: np.ndarray, padding: tuple[int, int], top: int, left: int) -> np.ndarray:
        """The window at (top, left) of `view` padded by (left, top) = `padding` with `fill`, without padding it."""
        crop_h, crop_w = self.size
        top, left = top - padding[1], left - padding[0]  # the window in the image's own coordinates
        rows = slice(max(top, 0), min(top + crop_h, view.shape[-2]))
        columns = slice(max(left, 0), min(left + crop_w, view.shape[-1]))
        inside = rows.start == top and columns.start == left and rows.stop - top == crop_h and columns.stop - left == crop_w
        out = np.zeros(view.shape[:-2] + self.size, view.dtype)
        if not inside and self._fills_nonzero:
            out[...] = self._fill(view.shape[-3] if view.ndim > 2 else 1, channels_last=False)
        if rows.stop > rows.start and columns.stop > columns.start:
            out[..., rows.start - top:rows.stop - top, columns.start - left:columns.stop - left] = view[..., rows, columns]
        return out

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        h_axis, w_axis = _spatial_axes(batch)
        steps, height, width = self._padding_steps(batch.shape[h_axis], batch.shape[w_axis])
        crop_h, crop_w = self.size
        if self.padding_mode == "constant" and steps:
            left, top, right, bottom = steps[0]
            shape = list(batch.shape)
            shape[h_axis], shape[w_axis] = height, width
            padded = np.zeros(shape, dtype=batch.dtype)
            if self._fills_nonzero and h_axis == 1:  # images (N, H, W[, C])
                padded[...] = self._fill(batch.shape[3] if batch.ndim == 4 else 1, channels_last=True)
            elif self._fills_nonzero:
                padded[...] = self._fill(batch.shape[-3] if batch.ndim > 3 else 1, channels_last=False)
            inside = [slice(None)] * batch.ndim
            inside[h_axis] = slice(top, top + batch.shape[h_axis])
            inside[w_axis] = slice(left, left + batch.shape[w_axis])
            padded[tuple(inside)] = batch
            batch = padded
        for step in steps if self.padding_mode != "constant" else ():
            batch = pad_images(batch, step, padding_mode=self.padding_mode, axes=(h_axis, w_axis))
        corners = np.floor(rng.draws(len(batch)).uniform(2) * [height - crop_h + 1, width - crop_w + 1]).astype(np.intp)
        tops, lefts = corners[:, 0], corners[:, 1]
        windows = np.lib.stride_tricks.sliding_window_view(batch, (crop_h, crop_w), axis=(h_axis, w_axis))
        samples = np.arange(len(batch))
        if h_axis != 1:  # tensors (N, ..., C, H, W): windows are (N, ..., C, H', W', h, w)
            return windows[(samples,) + (slice(None),) * (batch.ndim - 3) + (tops, lefts)]
        # Images (N, H, W[, C]): the crops come out as (N[, C], h, w); they are returned as an (N, h, w[, C]) view of
        # that memory, which ToTensor turns back into a contiguous (N, C, h, w) without copying.
        return np.moveaxis(windows[samples, tops, lefts], (-2, -1), (1, 2))


class RandomHorizontalFlip(_ImageTransform):
    """Mirror each image left-right with probability p (a tensor (..., C, H, W) called as one sample: all or none).

    A Pillow image gives a Pillow image, as in torchvision."""

    def __init__(self, p: float = 0.5):
        if not isinstance(p, numbers.Real):
            raise TypeError(f"p should be a number (a probability in [0, 1]), got p={p!r}")
        if not 0 <= p <= 1:
            raise ValueError(f"p should be a probability in [0, 1], got p={p!r}")
        self.p = p

    def __call__(self, sample):
        if _is_pillow(sample):
            return super().__call__(sample)
        sample = np.asarray(sample)
        view, image_hwc = height_width_last(sample)
        if not rng.draws(1).uniform_list(1)[0] < self.p:
            return sample  # as torchvision: the input itself when not flipped
        out = view[..., ::-1].copy()
        return out.transpose(1, 2, 0) if image_hwc else out

    def apply_batch(self, batch):
        return self.apply_batch_in_place(np.copy(batch, order="K"))

    def apply_batch_in_place(self, batch):
        """`apply_batch` flipping the chosen samples of `batch` itself (Compose uses it on arrays it owns)."""
        _, w_axis = _spatial_axes(batch)
        chosen = np.flatnonzero(rng.draws(len(batch)).uniform() < self.p)
        rows = np.moveaxis(batch, w_axis, -1)  # width last, so NumPy copies whole reversed rows
        rows[chosen] = rows[chosen, ..., ::-1]
        return batch
