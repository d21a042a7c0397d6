"""Padding, cropping and flipping (the operations), and RandomCrop and RandomHorizontalFlip, the random augmentations
of the classic CIFAR pipeline.

The operations take `ImageBatch.view`s (N, ..., C, H, W) and return arrays in that layout; `functional` and the
transforms hand them their inputs and give the results back in the input's form.
"""
from __future__ import annotations

import numpy as np

from .. import rng
from .base import ImageBatch, ImageTransform, check_fill, check_probability, fill_values, padding_sides, pair

PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def check_padding_mode(padding_mode):
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"Padding mode should be either constant, edge, reflect or symmetric, got "
                         f"padding_mode={padding_mode!r}")
    return padding_mode


def pad(view: np.ndarray, sides: tuple[int, int, int, int], fill=None, padding_mode: str = "constant") -> np.ndarray:
    """`view` (..., H, W) padded by `sides` (left, top, right, bottom), as torchvision's pad.

    'constant' writes `fill` (an array (C, 1, 1) from `fill_values`, or None for zeros); 'edge', 'reflect' and
    'symmetric' are NumPy's np.pad modes of the same names.
    """
    left, top, right, bottom = sides
    if padding_mode != "constant":
        return np.pad(view, [(0, 0)] * (view.ndim - 2) + [(top, bottom), (left, right)], mode=padding_mode)
    height, width = view.shape[-2:]
    shape = view.shape[:-2] + (height + top + bottom, width + left + right)
    if fill is None:
        out = np.zeros(shape, view.dtype)
    else:
        out = np.empty(shape, view.dtype)
        out[...] = fill
    out[..., top:top + height, left:left + width] = view
    return out


def crop(view: np.ndarray, top, left, height: int, width: int, fill=None) -> np.ndarray:
    """The (height, width) window at (top, left) of each sample of `view` (N, ..., H, W), as torchvision's crop: the
    part of a window outside the image is `fill` (as in `pad`). A new array.

    `top` and `left` are ints (one window for every sample) or int arrays (N,) (a window per sample). One window is
    its inside part, padded by what lies outside (torchvision's way); windows per sample are the batch padded by the
    most any window sticks out, then each window gathered (one indexing call).
    """
    in_h, in_w = view.shape[-2:]
    if not isinstance(top, np.ndarray):
        bottom, right = top + height, left + width
        above = (-top if -top < height else height) if top < 0 else 0
        below = (bottom - in_h if bottom - in_h < height - above else height - above) if bottom > in_h else 0
        before = (-left if -left < width else width) if left < 0 else 0
        after = (right - in_w if right - in_w < width - before else width - before) if right > in_w else 0
        inside = view[..., (top if top > 0 else 0):(bottom if bottom > 0 else 0),
                      (left if left > 0 else 0):(right if right > 0 else 0)]
        return pad(inside, (before, above, after, below), fill) if above or below or before or after else inside.copy()
    tops, lefts = np.asarray(top), np.asarray(left)
    sides = (max(-int(lefts.min()), 0), max(-int(tops.min()), 0), max(int(lefts.max()) + width - in_w, 0),
             max(int(tops.max()) + height - in_h, 0))
    if any(sides):
        view, tops, lefts = pad(view, sides, fill), tops + sides[1], lefts + sides[0]
    windows = np.lib.stride_tricks.sliding_window_view(view, (height, width), axis=(-2, -1))
    return windows[(np.arange(len(view)),) + (slice(None),) * (view.ndim - 3) + (tops, lefts)]


def hflip(view: np.ndarray) -> np.ndarray:
    """`view` mirrored left-right (a view: copy it before writing)."""
    return view[..., ::-1]


def vflip(view: np.ndarray) -> np.ndarray:
    """`view` mirrored top-bottom (a view: copy it before writing)."""
    return view[..., ::-1, :]


def crop_corners(source, n: int, rows: int, columns: int, randomness=None):
    """Random top-left corners for n crops with `rows` x `columns` possible positions: (top, left) as ints for one
    sample, as int arrays (n,) for several (RandomCrop's draws; the same numbers either way)."""
    draws = rng.draws(n, source, randomness)
    if n == 1:
        top, left = draws.uniform_list(2)
        return int(top * rows), int(left * columns)
    corners = np.floor(draws.uniform(2) * [rows, columns]).astype(np.intp)
    return corners[:, 0], corners[:, 1]


def flip_chosen(source, n: int, p: float, randomness=None):
    """Whether each of n samples is flipped, with probability p: bools (n,), or one Python bool for one sample."""
    draws = rng.draws(n, source, randomness)
    return draws.uniform_list(1)[0] < p if n == 1 else draws.uniform() < p


class RandomCrop(ImageTransform):
    """A random `size` (h, w) window of each image, after padding its borders, with torchvision's arguments.

    `padding` (default None: no padding) is an int (all sides), (left/right, top/bottom) or (left, top, right,
    bottom); `pad_if_needed` pads an image smaller than `size` (by the missing amount on each side, as torchvision);
    `padding_mode` is 'constant' (with `fill`: a number, or one per channel), 'edge', 'reflect' or 'symmetric'.
    A tensor (..., C, H, W) called as one sample gets one window for all of it; a Pillow image gives a Pillow image.
    """

    new_array = True
    refusal = "Unexpected type {}"  # torchvision's words for an input that is no image

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0, padding_mode: str = "constant"):
        self.size = pair(size, "size")
        self.padding = padding
        self._sides = (0, 0, 0, 0) if padding is None else padding_sides(padding)
        self.pad_if_needed = bool(pad_if_needed)
        self.fill = check_fill(fill)
        self._fills_nonzero = bool(np.any(np.asarray(self.fill) != 0))
        self.padding_mode = check_padding_mode(padding_mode)
        self._steps = {}  # (height, width) of an input -> its _padding_steps

    @staticmethod
    def get_params(img, output_size) -> tuple[int, int, int, int]:
        """torchvision's (top, left, height, width) of a random `output_size` crop of `img`, drawn as RandomCrop
        draws (from the sample's stream inside a loader): `functional.crop(img, *params)` then equals the crop."""
        images = ImageBatch.of(img, "RandomCrop.get_params")
        (height, width), (crop_h, crop_w) = (images.height, images.width), output_size
        if height < crop_h or width < crop_w:
            raise ValueError(f"Required crop size {(crop_h, crop_w)} is larger than input image size {(height, width)}")
        top, left = crop_corners(RandomCrop, 1, height - crop_h + 1, width - crop_w + 1)
        return top, left, crop_h, crop_w

    def _padding_steps(self, size: tuple[int, int]) -> tuple[list[tuple[int, int, int, int]], int, int]:
        """The paddings (left, top, right, bottom) torchvision applies in turn to an image of `size` (height, width),
        and the padded height and width (kept in `_steps` for the next image of that size)."""
        height, width = size
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
            raise ValueError(f"Required crop size {self.size} is larger than input image size {(height, width)} (after "
                             "padding); pass pad_if_needed=True to pad small images")
        if self.padding_mode == "constant" and len(steps) > 1:  # constant paddings add up
            steps = [tuple(int(v) for v in np.sum(steps, axis=0))]
        self._steps[size] = steps, height, width
        return steps, height, width

    def apply(self, images: ImageBatch):
        view = images.view
        size = view.shape[-2:]
        steps, height, width = self._steps.get(size) or self._padding_steps(size)
        crop_h, crop_w = self.size
        tops, lefts = crop_corners(self, len(view), height - crop_h + 1, width - crop_w + 1, images.randomness)
        if self.padding_mode == "constant":  # a window of the padded image is a window of the image, filled outside
            left, top = steps[0][:2] if steps else (0, 0)
            fill = fill_values(self.fill, images.channels, view.dtype) if self._fills_nonzero else None
            return images.give(crop(view, tops - top, lefts - left, crop_h, crop_w, fill))
        for step in steps:
            view = pad(view, step, padding_mode=self.padding_mode)
        return images.give(crop(view, tops, lefts, crop_h, crop_w))

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip(ImageTransform):
    """Mirror each image left-right with probability p (a tensor (..., C, H, W) called as one sample: all or none).

    A sample that is not flipped comes back as the input itself, as in torchvision; a Pillow image gives a Pillow
    image."""

    new_array = True
    apply_batch = ImageTransform.apply_batch  # the batch route of this class's own __call__

    def __init__(self, p: float = 0.5):
        self.p = check_probability(p)

    @staticmethod
    def get_params(p: float = 0.5) -> bool:
        """Whether to flip, drawn as RandomHorizontalFlip draws: `if get_params(p): image, mask = F.hflip(image),
        F.hflip(mask)` flips a pair alike, reproducibly inside a loader. (An addition: torchvision's user code draws
        `torch.rand(1) < p`.)"""
        return flip_chosen(RandomHorizontalFlip, 1, p)

    def __call__(self, sample):
        """One sample. Its draw needs nothing of the input, so it comes first: a sample not flipped is returned as it
        is, untouched and undescribed, exactly as torchvision's `if torch.rand(1) < p: ...; return img`."""
        if not flip_chosen(self, 1, self.p):
            return sample
        images = ImageBatch.of(sample, "RandomHorizontalFlip", self.refusal)
        return images.give(hflip(images.view).copy())

    def apply(self, images: ImageBatch, in_place: bool = False):
        n, randomness = len(images.view), images.randomness
        chosen = [flip_chosen(self, 1, self.p, randomness)] if n == 1 else flip_chosen(self, n, self.p, randomness)
        return images.where(chosen, hflip, in_place)

    def apply_batch_in_place(self, batch, randomness=None):
        """`apply_batch` flipping the chosen samples of `batch` itself (Compose uses it on arrays it made)."""
        return self.apply(ImageBatch.of_batch(batch, "RandomHorizontalFlip", randomness), in_place=True)

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"

