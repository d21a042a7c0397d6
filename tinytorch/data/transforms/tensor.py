"""Conversions between images and tensors (to_tensor, to_pil_image and their transforms ToTensor, ToPILImage),
normalize and Normalize, and Flatten."""
from __future__ import annotations

import sys

import numpy as np

from .base import Transform, describe, is_pillow

_BYTE_RANGE = np.float32(255)
_PILLOW_DTYPES = {"I": np.int32, "I;16" if sys.byteorder == "little" else "I;16B": np.int16, "F": np.float32}


def to_tensor(pic) -> np.ndarray:
    """torchvision's to_tensor: a Pillow image or an array (H, W) or (H, W, C) -> an array (C, H, W) (see ToTensor)."""
    return ToTensor()(pic)


class ToTensor(Transform):
    """uint8 image (H, W) or (H, W, C), or a Pillow image -> float32 tensor (C, H, W) in [0, 1], as torchvision's.

    Bytes are divided by 255 in float32, bit for bit as torchvision. Every other dtype keeps its dtype and its exact
    values, as torchvision keeps int32 or float64 (a Pillow 'I' image is int32, 'I;16' int16, 'F' float32, '1' 0 or
    1.0). A batch (N, H, W[, C]) gives (N, C, H, W).
    """

    new_array = True

    def __call__(self, pic):
        if not isinstance(pic, np.ndarray):
            if not is_pillow(pic):
                raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
            array = np.array(pic, _PILLOW_DTYPES.get(pic.mode, np.uint8))
            pic = array * np.uint8(255) if pic.mode == "1" else array
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions (shape {pic.shape}).")
        return scaled(pic[None] if pic.ndim == 2 else pic.transpose(2, 0, 1))

    def apply_batch(self, batch):
        if not isinstance(batch, np.ndarray):
            raise TypeError(f"ToTensor.apply_batch takes an ndarray batch (N, H, W) or (N, H, W, C), got "
                            f"{describe(batch)}")
        if batch.ndim == 3:
            batch = batch[:, None]
        elif batch.ndim == 4:
            batch = np.ascontiguousarray(batch.transpose(0, 3, 1, 2))  # bytes are cheap to move; floats later are not
        else:
            raise ValueError(f"ToTensor expects images (H, W) or (H, W, C), got a batch of shape {batch.shape}")
        return scaled(batch)


def scaled(tensor: np.ndarray) -> np.ndarray:
    """ToTensor's values of `tensor` laid out as (..., C, H, W), in a new C-ordered array: bytes as float32 divided
    by 255, anything else as it is. Converting, then dividing in place, is faster than one mixed-type division."""
    if tensor.dtype != np.uint8:
        return np.array(tensor, order="C")
    tensor = tensor.astype(np.float32, order="C")
    tensor /= _BYTE_RANGE
    return tensor


def to_pil_image(pic, mode=None):
    """torchvision's to_pil_image: a float tensor (C, H, W) or (H, W), or an image array (H, W[, C]), -> a Pillow image.

    Floats become bytes as torchvision's `mul(255)` then a cast: truncated, not rounded (unless mode='F'). One
    channel gives mode L (uint8), I;16 (int16), I (int32) or F (float32); 2, 3 and 4 channels LA, RGB and RGBA, or
    the `mode` asked for among torchvision's permitted ones.
    """
    from PIL import Image

    if not isinstance(pic, np.ndarray):
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if pic.dtype.kind == "f" and pic.ndim == 3:  # a tensor (C, H, W), as torchvision permutes a torch tensor
        pic = pic.transpose(1, 2, 0)
    if pic.ndim == 2:
        pic = pic[:, :, None]
    if pic.ndim != 3:
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    if pic.shape[-1] > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {pic.shape[-1]} channels.")
    if pic.dtype.kind == "f" and mode != "F":
        with np.errstate(invalid="ignore"):  # NaN -> 0, out of range wraps around: torch's byte()
            pic = (pic * pic.dtype.type(255)).astype(np.int64).astype(np.uint8)
    channels = pic.shape[2]
    if channels == 1:
        pic = pic[:, :, 0]
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16" if sys.byteorder == "little" else "I;16B",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(pic.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {pic.dtype}. Should be {expected}")
        mode = expected
    else:
        permitted = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}[channels]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for {channels}D inputs")
        if mode is None and pic.dtype == np.uint8:
            mode = permitted[0]
    if mode is None:
        raise TypeError(f"Input type {pic.dtype} is not supported")
    # frombuffer reads the bytes in `mode` (Image.fromarray's mode argument, which did so, is deprecated)
    return Image.frombuffer(mode, (pic.shape[1], pic.shape[0]), np.ascontiguousarray(pic), "raw", mode, 0, 1)


class ToPILImage(Transform):
    """A tensor (C, H, W) or (H, W), or an image array (H, W[, C]) -> a Pillow image (`to_pil_image`; one sample
    only)."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return to_pil_image(pic, self.mode)

    @property
    def batched(self):
        return False

    def __repr__(self):
        return f"{type(self).__name__}(" + (f"mode={self.mode}" if self.mode is not None else "") + ")"


def _channel_values(values, argument: str) -> np.ndarray:
    """`mean` or `std` as float64: one value per channel as (C, 1, 1), one value as (), an array (C, H, W) as is."""
    array = np.asarray(values, dtype=np.float64)
    if not array.size:
        raise ValueError(f"{argument} should hold one value or one per channel, got {argument}={values!r}")
    if array.ndim == 1 and array.size > 1:
        return array.reshape(-1, 1, 1)
    return array.reshape(()) if array.size == 1 else array


def normalize(tensor, mean, std, inplace: bool = False) -> np.ndarray:
    """torchvision's normalize: (tensor - mean) / std on a float tensor (..., C, H, W), in its dtype. `mean` and `std`
    hold one value, one per channel, or broadcast as arrays (C, H, W). A new array unless `inplace`."""
    return Normalize(mean, std, inplace)(tensor)


class Normalize(Transform):
    """(tensor - mean) / std per channel on float tensors (..., C, H, W), in the tensor's dtype, as torchvision.

    `mean` and `std` have one value, one per channel, or are arrays broadcasting against (C, H, W). A new array
    unless `inplace=True`.
    """

    def __init__(self, mean, std, inplace: bool = False):
        self.mean, self.std, self.inplace = mean, std, inplace
        self._mean, self._std = _channel_values(mean, "mean"), _channel_values(std, "std")
        counts = {values.shape[0] for values in (self._mean, self._std) if values.ndim == 3}
        if len(counts) > 1:
            raise ValueError(f"mean and std should have the same number of channel values, got mean={mean!r}, "
                             f"std={std!r}")
        self._channels = counts.pop() if counts else 1  # the channels a tensor must have, when more than one
        if np.any(self._std.astype(np.float32) == 0):
            raise ValueError(f"std evaluated to zero after conversion to float32, leading to division by zero. "
                             f"Got std={std!r}")
        self._constants = {}  # dtype -> (mean, std) in that dtype: scalars, or broadcasting arrays

    @property
    def new_array(self):
        return not self.inplace

    @property
    def per_channel(self) -> bool:
        """Whether mean and std hold one value, or one per channel (not arrays (C, H, W))."""
        return all(values.ndim == 0 or values.shape[1:] == (1, 1) for values in (self._mean, self._std))

    def __call__(self, tensor):
        return self._normalize(tensor, self.inplace, 3)

    def apply_batch(self, batch):
        return self._normalize(batch, self.inplace, 4)

    def apply_batch_in_place(self, batch):
        """`apply_batch` writing into `batch` itself (Compose uses it on arrays it made)."""
        return self._normalize(batch, True, 4)

    def _normalize(self, tensor, inplace: bool, min_ndim: int):
        constants = self._constants.get(getattr(tensor, "dtype", None))
        if constants is None:
            constants = self._constants_for(tensor)
        mean, std = constants
        if tensor.ndim < min_ndim:
            expected = "a tensor image of size (..., C, H, W)" if min_ndim == 3 else "a batch (N, ..., C, H, W)"
            raise ValueError(f"Expected tensor to be {expected}. Got tensor.size() = {tensor.shape}")
        if self._channels > 1 and tensor.shape[-3] != self._channels:
            raise ValueError(f"Normalize has {self._channels} channel values, the tensor {tensor.shape[-3]} channels "
                             f"(shape {tensor.shape})")
        if inplace:
            tensor -= mean
        else:
            tensor = tensor - mean
        tensor /= std
        return tensor

    def _constants_for(self, tensor) -> tuple:
        """mean and std in the dtype of `tensor` (a float array, else TypeError), as torchvision converts them."""
        if not isinstance(tensor, np.ndarray):
            raise TypeError(f"img should be Tensor Image. Got {type(tensor)} (apply ToTensor first)")
        if tensor.dtype.kind != "f":
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype} (apply ToTensor first).")
        mean, std = self._mean.astype(tensor.dtype), self._std.astype(tensor.dtype)
        if np.any(std == 0):
            raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
        # One value: a scalar, which NumPy applies faster than a broadcast array.
        self._constants[tensor.dtype] = tuple(v[()] if v.ndim == 0 else v for v in (mean, std))
        return self._constants[tensor.dtype]

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class NormalizedTensor:
    """ToTensor then Normalize on one sample, as Compose runs the pair (`one_sample_steps`): their values, with less
    work. ToTensor's output is a new array, so it is normalized in place; and a single-channel uint8 image under a
    per-channel Normalize is one lookup in a table of the 256 byte values (made by the two transforms themselves),
    about half the time on MNIST's 28x28 images (bench_image_transforms.py, section 3). On three channels the
    table's index arithmetic cost what it saved (32x32x3: 6.8 against 7.1 us), so they take the in-place route.
    """

    def __init__(self, to_tensor: ToTensor, normalize: Normalize):
        self.to_tensor, self.normalize = to_tensor, normalize
        self._per_channel = normalize.per_channel
        self._values = None  # float32 (256,): byte b's value, once a single-channel image came

    def __call__(self, image):
        if type(image) is np.ndarray and (image.ndim == 2 or image.ndim == 3 and image.shape[2] == 1) and \
                image.dtype == np.uint8 and image.size and self._per_channel and self._byte_values() is not None:
            return self._values.take(image[None] if image.ndim == 2 else image.transpose(2, 0, 1))
        return self.normalize._normalize(self.to_tensor(image), True, 3)

    def _byte_values(self):
        """The table, made at the first single-channel image; None if Normalize refuses one channel (the in-place
        route then raises its error)."""
        if self._values is None:
            try:
                self._values = self.normalize(self.to_tensor(np.arange(256, dtype=np.uint8)[:, None])).reshape(-1)
            except ValueError:
                return None
        return self._values

    def __repr__(self):
        return f"NormalizedTensor({self.to_tensor!r}, {self.normalize!r})"


class Flatten(Transform):
    """Each sample to one dimension: (C, H, W) -> (C*H*W,); a batch (N, ...) -> (N, features)."""

    def __call__(self, sample):
        return np.asarray(sample).reshape(-1)

    def apply_batch(self, batch):
        batch = np.asarray(batch)
        return batch.reshape(len(batch), -1)
