"""Conversions between images and tensors (ToTensor, ToPILImage, Flatten), and Normalize."""
from __future__ import annotations

import numpy as np

from .base import Transform, _describe


_BYTE_RANGE = np.float32(255)


class ToTensor(Transform):
    """uint8 image (H, W) or (H, W, C), or a Pillow image -> float32 tensor (C, H, W) in [0, 1].

    Bytes are divided by 255 in float32, bit for bit as torchvision. Arrays of other dtypes keep their values
    (cast to float32, where torchvision keeps their dtype).
    """

    def __call__(self, picture):
        picture = np.asarray(picture)
        if picture.ndim not in (2, 3):
            raise ValueError(f"ToTensor expects an image (H, W) or (H, W, C), got shape {picture.shape}")
        tensor = picture[None] if picture.ndim == 2 else picture.transpose(2, 0, 1)
        if picture.dtype == np.uint8:
            return np.divide(tensor, _BYTE_RANGE, dtype=np.float32, order="C")
        return tensor.astype(np.float32, order="C")

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        if batch.ndim == 3:
            batch = batch[:, None]
        elif batch.ndim == 4:
            batch = np.ascontiguousarray(batch.transpose(0, 3, 1, 2))  # bytes are cheap to move; floats later are not
        else:
            raise ValueError(f"ToTensor expects images (H, W) or (H, W, C), got a batch of shape {batch.shape}")
        tensor = batch.astype(np.float32)  # then scaling in place: faster than one mixed-type division
        if batch.dtype == np.uint8:
            tensor /= _BYTE_RANGE
        return tensor


class Normalize(Transform):
    """(tensor - mean) / std per channel on float tensors (..., C, H, W), in the tensor's dtype, as torchvision.

    `mean` and `std` have one value or one per channel. A new array unless `inplace=True`.
    """

    def __init__(self, mean, std, inplace: bool = False):
        self.mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        self.std = np.asarray(std, dtype=np.float64).reshape(-1)
        if not self.mean.size or not self.std.size:
            raise ValueError(f"mean and std should hold one value or one per channel, got mean={mean!r}, std={std!r}")
        if self.mean.size > 1 and self.std.size > 1 and self.mean.size != self.std.size:
            raise ValueError(f"mean and std should have the same number of channel values, got mean={mean!r}, std={std!r}")
        if np.any(self.std.astype(np.float32) == 0):
            raise ValueError(f"std evaluated to zero after conversion to float32, leading to division by zero: std={std!r}")
        self.inplace = inplace
        self._channels = max(self.mean.size, self.std.size) if max(self.mean.size, self.std.size) > 1 else None
        self._constants = {}  # dtype -> (mean, std) in that dtype: scalars, or shaped (C, 1, 1)

    def __call__(self, tensor):
        return self._normalize(tensor, self.inplace, 3)

    def apply_batch(self, batch):
        return self._normalize(batch, self.inplace, 4)

    def apply_batch_in_place(self, batch):
        """`apply_batch` writing into `batch` itself (Compose uses it on intermediate arrays it owns)."""
        return self._normalize(batch, True, 4)

    def _normalize(self, tensor, inplace: bool, min_ndim: int):
        constants = self._constants.get(getattr(tensor, "dtype", None))
        if constants is None:
            constants = self._constants_for(tensor)
        if tensor.ndim < min_ndim or (self._channels is not None and tensor.shape[-3] != self._channels):
            expected = "a tensor (..., C, H, W)" if min_ndim == 3 else "a batch of tensors (N, ..., C, H, W)"
            if tensor.ndim < min_ndim:
                raise ValueError(f"Normalize expects {expected}, got shape {tensor.shape}")
            raise ValueError(f"Normalize has {self._channels} channel values, the tensor {tensor.shape[-3]} channels")
        mean, std = constants
        if inplace:
            tensor -= mean
        else:
            tensor = tensor - mean
        tensor /= std
        return tensor

    def _constants_for(self, tensor) -> tuple:
        """mean and std in the dtype of `tensor` (a float array, else TypeError), as torchvision converts them."""
        if not isinstance(tensor, np.ndarray) or tensor.dtype.kind != "f":
            raise TypeError(f"Normalize expects float tensors (C, H, W); apply ToTensor first (got {_describe(tensor)})")
        # One value: a scalar, which NumPy applies faster than a broadcast array.
        self._constants[tensor.dtype] = tuple(
            values.astype(tensor.dtype)[0] if values.size == 1 else values.astype(tensor.dtype).reshape(-1, 1, 1)
            for values in (self.mean, self.std))
        return self._constants[tensor.dtype]


class Flatten(Transform):
    """Each sample to one dimension: (C, H, W) -> (C*H*W,); a batch (N, ...) -> (N, features)."""

    def __call__(self, sample):
        return np.asarray(sample).reshape(-1)

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        return batch.reshape(len(batch), -1)


class ToPILImage(Transform):
    """A tensor (C, H, W) or (H, W), or an image array (H, W[, C]) -> a Pillow image (one sample only).

    Float tensors become bytes as torchvision's `mul(255).byte()`: truncated, not rounded (unless mode='F').
    """

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, picture):
        from PIL import Image

        array = np.asarray(picture)
        if array.dtype.kind == "f":
            if array.ndim == 3:
                array = array.transpose(1, 2, 0)
            if self.mode != "F":
                with np.errstate(invalid="ignore"):  # NaN -> 0, out of range wraps around: torch's byte()
                    array = (array * array.dtype.type(255)).astype(np.int64).astype(np.uint8)
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        if array.ndim not in (2, 3):
            raise ValueError(f"ToPILImage expects (C, H, W), (H, W) or (H, W, C), got shape {array.shape}")
        return Image.fromarray(array, mode=self.mode) if self.mode else Image.fromarray(array)

    @property
    def batched(self):
        return False
