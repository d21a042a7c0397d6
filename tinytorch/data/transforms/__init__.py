"""Transforms with torchvision's names, each working on one sample or, with no Python loop, on a whole batch.

Layout follows torchvision's PIL-versus-tensor split: a uint8 (or other integer) array is an image, (H, W) or
(H, W, C), as `ToTensor` takes it; a floating array is a tensor, (..., C, H, W), as `ToTensor` returns it (leading
axes share one random decision, as in torchvision). A batch has one more leading axis. `transform(x)` takes one
sample, on a path of its own for speed in users' `__getitem__`; `transform.apply_batch(batch)` takes a batch, and
the loader uses it. Random transforms draw from `rng.draws`, so a batch and its samples one by one get the same
decisions, bit for bit (`base.Transform` states the contract a new transform follows).

`base` holds the Transform protocol, Compose, Lambda and the shared helpers; `tensor` the conversions and
Normalize; `flip_crop` RandomCrop and RandomHorizontalFlip; `geometry` Resize, CenterCrop, Pad, RandomResizedCrop and
RandomRotation; `color` ColorJitter, Grayscale, RandomGrayscale, GaussianBlur and RandomErasing.
"""
from .base import Compose, Lambda, Transform, apply_to_batch
from .flip_crop import RandomCrop, RandomHorizontalFlip
from .color import ColorJitter, GaussianBlur, Grayscale, RandomErasing, RandomGrayscale
from .geometry import CenterCrop, InterpolationMode, Pad, RandomResizedCrop, RandomRotation, Resize
from .tensor import Flatten, Normalize, ToPILImage, ToTensor
