"""Conversions between images and tensors (ToTensor, ToPILImage, Flatten), and Normalize."""
from __future__ import annotations

import numpy as np

from .base import Transform, _describe


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


class Flatten(Transform):
    """Each sample to one dimension: (C, H, W) -> (C*H*W,); a batch (N, ...) -> (N, features)."""

    def __call__(self, sample):
        return np.asarray(sample).reshape(-1)

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        return batch.reshape(len(batch), -1)


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
