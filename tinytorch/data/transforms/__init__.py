"""Transforms with torchvision's names, each working on one sample or, with no Python loop, on a whole batch.

Layout follows torchvision's PIL-versus-tensor split: a uint8 array is an image, (H, W) or (H, W, C), as `ToTensor`
takes it (a wider integer array only as (H, W): with a channel axis it may be ToTensor's int16/int32 output, and is
refused); a floating array is a tensor, (..., C, H, W), as `ToTensor` returns it (leading
axes share one random decision, as in torchvision). A batch has one more leading axis. `transform(x)` takes one
sample, `transform.apply_batch(batch)` a batch, and the loader uses it. `base.ImageBatch` describes either as one
array (N, ..., C, H, W), so each transform is written once, as `apply(images)`. Random transforms draw from the
samples' (seed, epoch, position) streams, so a batch and its samples one by one get the same decisions, bit for bit:
a batch's streams are passed in (`apply_batch(batch, randomness)`, as `ImageDataset.get_batch` does), and a transform
called in a user's own code takes them from the block the loader opened (`rng.draws`). `base.Transform` states the
contract a new transform follows; a subclass overriding `__call__` or torchvision's `forward` is called through
its override, one sample at a time, on batches too.

`functional` holds torchvision's functional API (crop, hflip, resize, rotate, adjust_*, ...), and the random
transforms' `get_params` draw torchvision's parameters for it, so a paired transform (an image and its mask cropped
and flipped alike) is written as in torchvision. `base` holds the Transform protocol, Compose, Lambda, ImageBatch and
the argument parsers; `tensor` the conversions and Normalize; `flip_crop` padding, cropping and flipping with
RandomCrop and RandomHorizontalFlip; `geometry` Resize, CenterCrop, Pad, RandomResizedCrop and RandomRotation;
`color` ColorJitter, Grayscale, RandomGrayscale, GaussianBlur and RandomErasing.
"""
from . import functional
from .base import Compose, ImageBatch, Lambda, Transform, apply_to_batch
from .flip_crop import RandomCrop, RandomHorizontalFlip
from .color import ColorJitter, GaussianBlur, Grayscale, RandomErasing, RandomGrayscale
from .geometry import CenterCrop, InterpolationMode, Pad, RandomResizedCrop, RandomRotation, Resize
from .tensor import Flatten, Normalize, ToPILImage, ToTensor
