"""The Transform protocol, Compose, Lambda, ImageBatch (what an input is) and the argument parsers of the transforms."""
from __future__ import annotations

import functools
import numbers
import sys
import warnings

import numpy as np

from .. import rng
from ..arguments import fast_route_agrees
from ..collate import default_collate


class Transform:
    """A transform called as torchvision's are, `transform(sample)`, that also runs on a whole batch at once.

    The contract for a subclass (the loader and Compose rely on it):
    - `apply_batch(batch)` (required): the transform on every sample of `batch` (axis 0 = samples), with no Python
      loop over the samples. A random transform takes its numbers from `rng.draws(len(batch), self, randomness)`
      (or `uniform` below), row i deciding for sample i, so the batch gets exactly what its samples get one by one.
      Its `apply_batch(batch, randomness=None)` receives the batch's streams explicitly (an `rng.sample_randomness`
      block, as `ImageDataset.get_batch` hands them over); without them it draws from the block the loader opened.
    - `__call__(sample)`: one sample, laid out as in torchvision: an image is an integer array (H, W) or (H, W, C), a
      tensor a floating array (..., C, H, W) whose leading axes share one random decision. The default is
      `apply_batch(sample[None])[0]`.
    - `apply_batch` never writes into its input. `new_array` says that it always returns a new array (never its
      input or a view of it); `apply_batch_in_place(batch)` (optional) is `apply_batch` allowed to overwrite
      `batch`. Compose uses the two to skip copies (see there).
    - `batched` is False for a transform that can only go one sample at a time.
    - A subclass overriding `__call__`, or `forward` as torchvision's transforms (nn.Modules) are customised, is
      called through its override on batches too (one sample at a time, `batch_route`), unless the class with the
      override also names its `apply_batch`. `super().forward(x)` is the built-in one-sample call.
    """

    new_array = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "forward" in vars(cls) and "__call__" not in vars(cls):  # as nn.Module.__call__ runs forward
            cls.__call__ = Transform.call_forward

    def __call__(self, sample):
        return self.apply_batch(np.asarray(sample)[None])[0]

    def call_forward(self, sample):
        """`__call__` of a class that defines `forward`: the user's `forward` runs, as in torchvision."""
        return self.forward(sample)

    def forward(self, sample):
        """torchvision's hook: the transform on one sample (the `__call__` of the nearest class without `forward`)."""
        for cls in type(self).__mro__:
            call = vars(cls).get("__call__")
            if call is not None and call is not Transform.call_forward:
                return call(self, sample)

    def apply_batch(self, batch):
        raise NotImplementedError(f"{type(self).__name__} must define apply_batch")

    batched = True  # whether `apply_batch` is available (False for transforms that go one sample at a time)

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in vars(self).items() if not key.startswith("_"))
        return f"{type(self).__name__}({arguments})"


def apply_to_batch(transform, batch, randomness=None):
    """`transform` applied to every sample of `batch`: in one call when it is batched, else one sample at a time.

    `randomness` (the batch's `rng.sample_randomness` block) goes to the transforms that draw; one at a time, each
    sample gets the random draws it would get on its own, and the results are collated.
    """
    if transform is None:
        return batch
    if batch_route(transform):
        return transform.apply_batch(batch, randomness) if isinstance(transform, (ImageTransform, Compose)) \
            else transform.apply_batch(batch)
    unwrap = lambda sample: sample.item() if isinstance(sample, np.generic) else sample  # noqa: E731
    return default_collate(rng.each_sample(lambda sample: transform(unwrap(sample)), batch))


def batch_route(transform) -> bool:
    """Whether `transform.apply_batch` computes what `transform(sample)` does on each sample: a batched Transform
    whose `__call__` (or `forward`) comes from a class that defines `apply_batch` too, so a subclass's override of
    the one-sample call is never bypassed (`arguments.fast_route_agrees`, worked out once per class: it costs a
    tenth of an MNIST batch's transforms)."""
    cls = type(transform)
    agrees = CALLS_AGREE.get(cls)
    if agrees is None:
        agrees = CALLS_AGREE[cls] = issubclass(cls, Transform) and fast_route_agrees(transform, "apply_batch", "__call__")
    return agrees and transform.batched


# A class -> whether it is a Transform whose apply_batch comes from the class defining its __call__ (`batch_route`).
# A plain dict: a weak one costs a Python call per lookup, a third of a small batch's overhead.
CALLS_AGREE = {}


class Compose(Transform):
    """Transforms applied in order. Batched when every part is a batched Transform.

    On a batch, the array a part returns is the chain's own when that part makes a new array (`new_array`); the
    next part then works in place on it if it can (`apply_batch_in_place`), and the array stays the chain's own.
    It pays: a fresh megabyte-sized array costs its page faults, and the CIFAR batch pipeline (crop, flip,
    ToTensor, Normalize) takes 13 us per sample this way against 45 us with a new array at every step.
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for position, transform in enumerate(self.transforms):
            if not callable(transform):
                raise TypeError(f"transforms[{position}] should be callable, got {type(transform).__name__}: {transform!r}")
        self._steps_of = None  # the list of transforms that `_steps` was made from
        self._batched_of = None  # the list of transforms that `_batched` was worked out for

    def __call__(self, sample):
        if self._steps_of != self.transforms:  # made again if someone changed `transforms`
            self._steps, self._steps_of = one_sample_steps(self.transforms), list(self.transforms)
        for step in self._steps:
            sample = step(sample)
        return sample

    def apply_batch(self, batch, randomness=None):
        own = False  # whether `batch` is an array this chain made, which no one else holds
        for transform in self.transforms:
            given = (randomness,) if isinstance(transform, (ImageTransform, Compose)) else ()  # the random ones
            if own and hasattr(transform, "apply_batch_in_place"):
                batch = transform.apply_batch_in_place(batch, *given)
            else:
                batch = transform.apply_batch(batch, *given)
                own = transform.new_array
        return batch

    @property
    def batched(self):
        """Whether every part takes the batch route (`batch_route`). Worked out again when `transforms` changed, and
        at every call while a part's class computes its `batched` (a property: Lambda, RandomRotation, a Compose)."""
        if self._batched_of != self.transforms:
            self._batched = all(batch_route(transform) for transform in self.transforms)
            fixed = not any(isinstance(getattr(type(transform), "batched", None), property)
                            for transform in self.transforms)
            self._batched_of = list(self.transforms) if fixed else None
        return self._batched

    def __repr__(self):
        return "Compose(" + "".join(f"\n    {transform!r}" for transform in self.transforms) + "\n)"


def one_sample_steps(transforms) -> list:
    """Compose's one-sample steps: its transforms in order, a ToTensor followed by a Normalize (of those very classes)
    merged into one `NormalizedTensor`, which normalizes the array ToTensor made in place (the batch route's rule)."""
    from .tensor import Normalize, NormalizedTensor, ToTensor  # imported here: tensor.py builds on this module

    steps, i = [], 0
    while i < len(transforms):
        if type(transforms[i]) is ToTensor and i + 1 < len(transforms) and type(transforms[i + 1]) is Normalize:
            steps.append(NormalizedTensor(transforms[i], transforms[i + 1]))
            i += 2
        else:
            steps.append(transforms[i])
            i += 1
    return steps


class Lambda(Transform):
    """A user function as a transform. With `batched=True` it receives whole batches (and must treat samples alike)."""

    def __init__(self, function, batched: bool = False):
        if not callable(function):
            raise TypeError(f"Argument lambd should be callable, got {type(function).__name__!r}")
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


# ------------------------------------------------------------------------------------------ what an input is

def is_pillow(sample) -> bool:
    """Whether `sample` is a Pillow image (if Pillow was never imported, it cannot be one)."""
    return "PIL.Image" in sys.modules and isinstance(sample, sys.modules["PIL.Image"].Image)


def describe(value) -> str:
    """A short description of a value for error messages: its shape and dtype, or its type."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return type(value).__name__


def check_layout(image: np.ndarray, name: str) -> np.ndarray:
    """`image`, an integer array read as (H, W, C) (or a batch (N, H, W, C)), if its layout is certain: uint8 (or
    bool) is an image; a wider integer array with a channel axis may be ToTensor's output (C, H, W) of a 16- or
    32-bit image, which torchvision would read as a tensor, so it is refused (TypeError) rather than misread."""
    if image.dtype != np.uint8 and image.dtype != np.bool_:
        layout = "(H, W, C)" if image.ndim == 3 else "(N, H, W, C)"
        raise TypeError(f"{name} cannot tell the layout of an {describe(image)}: a tensor (C, H, W) from ToTensor "
                        f"of a 16/32-bit image, or an image {layout}? Convert it: .astype(np.float32) for a "
                        f"tensor (C, H, W), or to uint8 for an image {layout}")
    return image


NOT_PIL = "img should be PIL Image. Got {}"  # torchvision's TypeError for an input that is no image (a list, ...)


class ImageBatch:
    """What a transform's input is, worked out in one place: n samples seen as one array (N, ..., C, H, W).

    `kind` is 'image' for integer arrays (H, W) or (H, W, C) and Pillow images (mode L, RGB, RGBA): torchvision's PIL
    path; 'tensor' for floating arrays (..., C, H, W) or (H, W): its tensor path. `view` shows every input in one
    layout, samples first, then a tensor's leading axes, then channels, height and width, without copying: an
    (H, W, C) image is read through a transpose, an (H, W) input gets a channel axis of 1. An operation computes on
    `view` and `give(result)` hands its result back in the input's form (one sample or a batch, an array laid out
    as the input was, or a Pillow image).
    """

    __slots__ = ("view", "kind", "form", "channel_axis", "given", "randomness")

    def __init__(self, view: np.ndarray, kind: str, form: str, channel_axis: bool, given=None, randomness=None):
        self.view, self.kind, self.form, self.channel_axis, self.given = view, kind, form, channel_axis, given
        self.randomness = randomness  # the batch's streams, handed in (None: the adapter, see `rng.draws`)

    @classmethod
    def of(cls, sample, name: str, refusal: str = NOT_PIL) -> ImageBatch:
        """One sample: a Pillow image, an image array (H, W[, C]) or a tensor (..., C, H, W); `name` is for errors,
        `refusal` the TypeError's words for an input that is no image (a list, a number, None), as torchvision's."""
        if type(sample) is np.ndarray and sample.dtype == np.uint8 and sample.ndim == 3 and sample.size:
            return cls(sample.transpose(2, 0, 1)[None], "image", "sample", True, sample)  # the common case, first
        given, form = sample, "sample"
        if not isinstance(sample, np.ndarray):
            if is_pillow(sample):
                if sample.mode not in ("L", "RGB", "RGBA"):
                    raise TypeError(f"{name} takes Pillow images of mode 'L', 'RGB' or 'RGBA', got mode "
                                    f"{sample.mode!r}: convert it first, e.g. image.convert('RGB')")
                form = "pillow"
            elif not hasattr(sample, "__array__"):  # a torch tensor is an image; a list is not
                raise TypeError(refusal.format(type(sample)))
            sample = np.asarray(sample)
        ndim, floating = sample.ndim, sample.dtype.kind == "f"
        if floating and ndim >= 2:
            view, kind = sample[None, None] if ndim == 2 else sample[None], "tensor"
        elif ndim == 3 and not floating:
            view, kind = check_layout(sample, name).transpose(2, 0, 1)[None], "image"
        elif ndim == 2:
            view, kind = sample[None, None], "image"
        else:
            message = (f"{name} expects an image (H, W) or (H, W, C) or a float tensor (..., C, H, W) or (H, W), got "
                       f"{sample.dtype} array of shape {sample.shape}")
            raise TypeError(f"Tensor is not a torch image. {message}") if ndim < 2 else ValueError(message)
        images = cls(view, kind, form, ndim > 2, given)
        return images if sample.size else images.check_size(name)

    @classmethod
    def of_batch(cls, batch, name: str, randomness=None) -> ImageBatch:
        """A batch: images (N, H, W[, C]) or tensors (N, ..., C, H, W) or (N, H, W); `randomness`, its streams."""
        batch = np.asarray(batch)
        if batch.dtype.kind == "f" and batch.ndim >= 3:
            images = cls(batch[:, None] if batch.ndim == 3 else batch, "tensor", "batch", batch.ndim > 3, batch,
                         randomness)
        elif batch.dtype.kind != "f" and batch.ndim in (3, 4):
            if batch.ndim == 4:
                check_layout(batch, name)
            images = cls(batch[:, None] if batch.ndim == 3 else batch.transpose(0, 3, 1, 2), "image", "batch",
                         batch.ndim == 4, batch, randomness)
        else:
            raise ValueError(f"{name} expects a batch of images (N, H, W) or (N, H, W, C) or of tensors "
                             f"(N, ..., C, H, W), got {batch.dtype} array of shape {batch.shape}")
        return images if batch.size else images.check_size(name)

    def check_size(self, name: str) -> ImageBatch:
        if not (self.view.shape[-1] and self.view.shape[-2]):
            raise ValueError(f"{name} got an image with no pixels: height {self.view.shape[-2]}, width "
                             f"{self.view.shape[-1]} (input shape {self.input_shape})")
        return self

    @property
    def input_shape(self) -> tuple:
        return self.give(self.view).shape if self.form != "pillow" else self.view.shape[1:]

    @property
    def n(self) -> int:
        return self.view.shape[0]

    @property
    def channels(self) -> int:
        return self.view.shape[-3]

    @property
    def height(self) -> int:
        return self.view.shape[-2]

    @property
    def width(self) -> int:
        return self.view.shape[-1]

    def give(self, out: np.ndarray):
        """`out` (N, ..., C', H', W'), the result of an operation on `view`, in the input's form.

        An image or Pillow image that comes out with one channel, where it had none or had several (grey), is
        (H, W), as Pillow's mode 'L'; an (H, W) tensor stays (H, W) while it has one channel.
        """
        drop = out.shape[-3] == 1 and (not self.channel_axis or (self.kind == "image" and self.channels != 1))
        if self.kind == "image":
            out = out[:, 0] if drop else out.transpose(0, 2, 3, 1)
        elif drop:
            out = out[:, 0]
        if self.form == "batch":
            return out
        if self.form == "sample":
            return out[0]
        return sys.modules["PIL.Image"].fromarray(np.ascontiguousarray(out[0]))

    def unchanged(self):
        """The input itself, for a transform that leaves it as it is (torchvision returns its input then)."""
        return self.given

    def where(self, chosen, operation, in_place: bool = False):
        """The samples with `chosen` (bools (N,)) replaced by `operation(those samples)` (which may return a view of
        its argument, but not write into it), in the input's form. One sample that is not chosen is the input
        itself, as torchvision returns its input; a batch gives a new array, or `view` itself written in place."""
        if self.form != "batch":
            return self.give(operation(self.view).copy()) if chosen[0] else self.given
        out = self.view if in_place else self.view.copy()
        picked = np.flatnonzero(chosen)
        if len(picked):
            out[picked] = operation(out[picked])
        return self.give(out)

    def check_pillow_path(self, name: str) -> ImageBatch:
        """Refuse images that torchvision's PIL path cannot take: integer images other than uint8 of 1, 3 or 4
        channels."""
        if self.kind == "image" and (self.view.dtype != np.uint8 or self.channels not in (1, 3, 4)):
            raise TypeError(f"{name} expects uint8 images (H, W) or (H, W, C) with C = 1, 3 or 4, or float tensors "
                            f"(..., C, H, W) or (H, W); got an {describe(self.view)} seen as (N, C, H, W)")
        return self

    def pillow_each(self, operation) -> np.ndarray:
        """`operation(i, pil_image)` on each uint8 image, the results stacked as a view (N, C, H', W')."""
        from PIL import Image

        planes = self.view.transpose(0, 2, 3, 1)  # (N, H, W, C)
        grey = planes.shape[3] == 1
        out = np.stack([np.asarray(operation(i, Image.fromarray(image[..., 0] if grey else image)))
                        for i, image in enumerate(planes)])
        return out[:, None] if grey else out.transpose(0, 3, 1, 2)


class ImageTransform(Transform):
    """A transform of images and tensors written once, as `apply(images)` on an ImageBatch: `transform(sample)` and
    `apply_batch(batch)` describe their input and call it. A Pillow image in gives a Pillow image out."""

    refusal = NOT_PIL  # torchvision's words for an input that is no image (ImageBatch.of)

    def __call__(self, sample):
        return self.apply(ImageBatch.of(sample, type(self).__name__, self.refusal))

    def apply_batch(self, batch, randomness=None):
        return self.apply(ImageBatch.of_batch(batch, type(self).__name__, randomness))

    def apply(self, images: ImageBatch):
        raise NotImplementedError(f"{type(self).__name__} must define apply")


# ------------------------------------------------------------------------------------------------ randomness

# Each random transform draws in one named function (`rng.draws`, with the batch's `randomness` when handed in), which
# its transform and its `get_params` both call: `flip_crop.crop_corners` and `flip_chosen`, `geometry.resized_crop_boxes`
# and `rotation_angles`, `color.jitter_parameters`, `blur_sigmas`, `RandomGrayscale`'s coin and `RandomErasing`'s coin,
# rectangles (`erasing_rectangles`) and noise (`erasing_noise`). For one sample, a transform may take
# `uniform_list(count)` of its draws: the same numbers as Python floats, without NumPy's cost per call.

def uniform(source, n: int, *shape: int, randomness=None) -> np.ndarray:
    """Uniform numbers in [0, 1), float64 (n, *shape), from `rng.draws(n, source, randomness)`: row i for sample
    i."""
    return rng.draws(n, source, randomness).uniform(*shape)


# ---------------------------------------------------------------------------------------------- argument parsers

def ints(value, argument: str) -> tuple:
    """An int or a tuple/list of ints as a tuple; a TypeError naming the argument for anything else."""
    values = (value,) if isinstance(value, numbers.Integral) else tuple(value) if isinstance(value, (tuple, list)) else None
    if values is None or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{argument} should be an int or a tuple of ints, got {argument}={value!r}")
    return tuple(int(v) for v in values)


def pair(size, argument: str, message: str = "Please provide only two dimensions (h, w) for size.") -> tuple[int, int]:
    """An int, a pair (h, w) or a one-element sequence (s,) -> (h, w), as torchvision's `_setup_size` reads `size`."""
    if isinstance(size, (tuple, list)) and len(size) not in (1, 2) or isinstance(size, str):
        raise ValueError(f"{message} Got {argument}={size!r}")
    values = ints(size, argument)
    values = values * 2 if len(values) == 1 else values
    if min(values) <= 0:
        raise ValueError(f"{argument} should be positive, got {argument}={size!r}")
    return values


def padding_sides(padding) -> tuple[int, int, int, int]:
    """An int (all sides), (left/right, top/bottom), (left, top, right, bottom) or (p,) -> (left, top, right, bottom)."""
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError(f"Got inappropriate padding arg: padding={padding!r}")
    if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
    values = ints(padding, "padding")
    if min(values) < 0:
        raise ValueError(f"padding should be non-negative, got padding={padding!r}")
    return values * 4 if len(values) == 1 else values * 2 if len(values) == 2 else values


def check_fill(fill):
    """torchvision's check of `fill`: None, a number or a sequence of numbers (returned as a tuple, hashable)."""
    if fill is None:
        return 0
    if isinstance(fill, numbers.Real) and not isinstance(fill, bool):
        return fill
    if isinstance(fill, (tuple, list)) and fill and all(isinstance(v, numbers.Real) for v in fill):
        return tuple(fill)
    raise TypeError(f"Got inappropriate fill arg. Got fill={fill!r}")  # torchvision's F.pad words


@functools.lru_cache(maxsize=256)
def fill_values(fill, channels: int, dtype: np.dtype) -> np.ndarray:
    """`fill` (a number or one per channel, from `check_fill`) as a read-only array (C, 1, 1) of `dtype`.

    torchvision's `_parse_fill`: one value serves every channel; integer images take the values as ints.
    """
    values = list(fill) if isinstance(fill, tuple) else [fill]
    if len(values) == 1:
        values = values * channels
    if len(values) != channels:
        raise ValueError("The number of elements in 'fill' does not match the number of channels of the image "
                         f"({len(values)} != {channels})")
    if np.dtype(dtype).kind != "f":
        values = [int(value) for value in values]
    out = np.array(values, dtype=dtype).reshape(-1, 1, 1)
    out.flags.writeable = False
    return out


def check_probability(p, name: str = "p", outside: str = "{name} should be a probability between 0 and 1"):
    """A probability in [0, 1]: TypeError for a non-number, ValueError outside [0, 1] (as torchvision's checks fail),
    in the words `outside` where torchvision has its own."""
    if not isinstance(p, numbers.Real) or isinstance(p, bool):
        raise TypeError(f"{name} should be a number (a probability in [0, 1]), got {name}={p!r}")
    if not 0 <= p <= 1:
        raise ValueError(f"{outside.format(name=name)}, got {name}={p!r}")
    return p


def check_range(values, argument: str, low=-float("inf"), high=float("inf")):
    """A (min, max) sequence of numbers within [low, high]: TypeError if not a sequence, torchvision's warning if
    min > max."""
    if not (isinstance(values, (tuple, list)) and len(values) == 2 and all(isinstance(v, numbers.Real) for v in values)):
        raise TypeError(f"{argument.capitalize()} should be a sequence (min, max) of numbers, got "
                        f"{argument}={values!r}")
    if not (low <= values[0] and values[1] <= high):
        raise ValueError(f"{argument.capitalize()} should be between {low} and {high}, got {argument}={values!r}")
    if values[0] > values[1]:
        warnings.warn(f"Scale and ratio should be of kind (min, max), got {argument}={values!r}")
