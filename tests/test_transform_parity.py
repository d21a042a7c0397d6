"""The transforms and their functions against torchvision 0.28 itself: reprs, and the error type and message for
typical wrong arguments and inputs (skipped without torchvision).

Each case is one call written once and run on both sides: `side.T` is the transforms module, `side.F` the
functional module, `side.I` InterpolationMode, `side.tensor` a float tensor (C, H, W) (a torch tensor for
torchvision, a float32 array here), `side.pil` a Pillow RGB image, `side.image` the same image as each side takes
it (Pillow for torchvision, a uint8 array here). An error must have torchvision's type, and its
message must begin with torchvision's message (README, "Differences from PyTorch": the value given may follow).
"""
from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest

from tinytorch.data import transforms as ours
from torch_reference import torchvision_or_none

tv = torchvision_or_none()
README = (Path(__file__).parents[1] / "README.md").read_text()
pytestmark = pytest.mark.skipif(tv is None, reason="needs torch and torchvision")


def sides():
    from PIL import Image

    image = np.random.default_rng(0).integers(0, 256, (8, 9, 3), dtype=np.uint8)
    tensor = (image.transpose(2, 0, 1) / 255).astype(np.float32)
    import torch

    theirs = types.SimpleNamespace(T=tv.transforms, F=tv.transforms.functional, I=tv.transforms.InterpolationMode,
                                   tensor=torch.from_numpy(tensor.copy()), pil=Image.fromarray(image),
                                   image=Image.fromarray(image))
    mine = types.SimpleNamespace(T=ours, F=ours.functional, I=ours.InterpolationMode, tensor=tensor.copy(),
                                 pil=Image.fromarray(image), image=image.copy())
    return theirs, mine


def outcome(call, side):
    try:
        return "value", call(side)
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return "error", error


REPRS = {
    "Resize(4)": lambda s: s.T.Resize(4),
    "Resize((4, 5), nearest)": lambda s: s.T.Resize((4, 5), interpolation=s.I.NEAREST),
    "Resize([4], max_size, antialias)": lambda s: s.T.Resize([4], max_size=10, antialias=False),
    "Resize(4, pillow int 3)": lambda s: s.T.Resize(4, interpolation=3),
    "Resize(4, bicubic)": lambda s: s.T.Resize(4, s.I.BICUBIC),
    "CenterCrop(4)": lambda s: s.T.CenterCrop(4),
    "CenterCrop((4, 5))": lambda s: s.T.CenterCrop((4, 5)),
    "CenterCrop([3])": lambda s: s.T.CenterCrop([3]),
    "Pad(2)": lambda s: s.T.Pad(2),
    "Pad((1, 2))": lambda s: s.T.Pad((1, 2)),
    "Pad([1, 2, 3, 4], edge)": lambda s: s.T.Pad([1, 2, 3, 4], fill=3, padding_mode="edge"),
    "Pad(1, fill=(1, 2, 3))": lambda s: s.T.Pad(1, fill=(1, 2, 3)),
    "Pad(1, fill=[1, 2, 3])": lambda s: s.T.Pad(1, fill=[1, 2, 3]),
    "Pad([5], reflect)": lambda s: s.T.Pad([5], padding_mode="reflect"),
    "Pad(1, fill=0.5, symmetric)": lambda s: s.T.Pad(1, 0.5, "symmetric"),
    "RandomResizedCrop(4)": lambda s: s.T.RandomResizedCrop(4),
    "RandomResizedCrop((4, 5), all)": lambda s: s.T.RandomResizedCrop((4, 5), scale=(0.5, 1.0), ratio=(1 / 3, 3.0),
                                                                     interpolation=s.I.NEAREST, antialias=False),
    "RandomResizedCrop([6], lists)": lambda s: s.T.RandomResizedCrop([6], scale=[0.25, 0.75], ratio=[0.5, 2]),
    "RandomRotation(10)": lambda s: s.T.RandomRotation(10),
    "RandomRotation((-5, 20), all)": lambda s: s.T.RandomRotation((-5, 20), interpolation=s.I.BILINEAR, expand=True,
                                                                  center=(1, 2), fill=(1, 2, 3)),
    "RandomRotation(10.5, fill=None)": lambda s: s.T.RandomRotation(10.5, fill=None),
    "RandomRotation([1, 2], fill=[0.5])": lambda s: s.T.RandomRotation([1, 2], fill=[0.5], center=[3, 4]),
    "ColorJitter(0.1)": lambda s: s.T.ColorJitter(0.1),
    "ColorJitter(pairs, hue)": lambda s: s.T.ColorJitter(brightness=(0.5, 1.5), saturation=[0.2, 0.8], hue=0.2),
    "ColorJitter()": lambda s: s.T.ColorJitter(),
    "ColorJitter(contrast=2)": lambda s: s.T.ColorJitter(contrast=2, hue=(-0.1, 0.3)),
    "GaussianBlur(3)": lambda s: s.T.GaussianBlur(3),
    "GaussianBlur((3, 5), 1.0)": lambda s: s.T.GaussianBlur((3, 5), sigma=1.0),
    "GaussianBlur([5], [0.5, 1])": lambda s: s.T.GaussianBlur([5], sigma=[0.5, 1]),
    "RandomErasing()": lambda s: s.T.RandomErasing(),
    "RandomErasing(all)": lambda s: s.T.RandomErasing(p=1, scale=(0.1, 0.2), ratio=(0.5, 2), value="random",
                                                      inplace=True),
    "RandomErasing(value=(1, 2, 3))": lambda s: s.T.RandomErasing(0.25, value=(1, 2, 3)),
    "Grayscale()": lambda s: s.T.Grayscale(),
    "Grayscale(3)": lambda s: s.T.Grayscale(num_output_channels=3),
    "RandomGrayscale(0.3)": lambda s: s.T.RandomGrayscale(0.3),
    "RandomCrop(4, padding=2)": lambda s: s.T.RandomCrop(4, padding=2),
    "RandomHorizontalFlip(0.25)": lambda s: s.T.RandomHorizontalFlip(0.25),
    "ToTensor()": lambda s: s.T.ToTensor(),
    "Normalize": lambda s: s.T.Normalize((0.1307,), (0.3081,)),
    "ToPILImage(RGB)": lambda s: s.T.ToPILImage("RGB"),
}


REPRS["Compose"] = lambda s: s.T.Compose([s.T.Resize(24), s.T.CenterCrop(20), s.T.ToTensor()])


@pytest.mark.parametrize("case", list(REPRS))
def test_repr_is_torchvisions(case):
    theirs, mine = sides()
    assert repr(REPRS[case](mine)) == repr(REPRS[case](theirs))


def errors_alike(theirs, mine):
    """Both calls fail with the same error type, and our message begins with torchvision's."""
    (their_kind, their_error), (my_kind, my_error) = theirs, mine
    assert their_kind == "error", f"torchvision gave {their_error!r}"
    assert my_kind == "error", f"tinytorch gave {my_error!r}, torchvision raised {their_error!r}"
    assert type(my_error) is type(their_error), f"{my_error!r} vs torchvision's {their_error!r}"
    assert str(my_error).startswith(str(their_error)), f"{my_error!r} vs torchvision's {their_error!r}"


NOT_AN_IMAGE = {"a list": [[1, 2]], "a string": "abc", "a number": 3, "None": None}

TRANSFORMS = {
    "RandomCrop": lambda T: T.RandomCrop(1), "RandomHorizontalFlip": lambda T: T.RandomHorizontalFlip(1.0),
    "Resize": lambda T: T.Resize(4), "CenterCrop": lambda T: T.CenterCrop(1), "Pad": lambda T: T.Pad(1),
    "RandomResizedCrop": lambda T: T.RandomResizedCrop(4), "RandomRotation": lambda T: T.RandomRotation(4),
    "ColorJitter": lambda T: T.ColorJitter(0.5), "Grayscale": lambda T: T.Grayscale(),
    "ToTensor": lambda T: T.ToTensor(),
    "RandomGrayscale": lambda T: T.RandomGrayscale(1.0), "GaussianBlur": lambda T: T.GaussianBlur(3),
}


@pytest.mark.parametrize("transform", list(TRANSFORMS))
def test_a_transform_refuses_a_list_as_torchvision_does(transform):
    theirs, mine = sides()
    errors_alike(outcome(lambda s: TRANSFORMS[transform](s.T)([[1, 2]]), theirs),
                 outcome(lambda s: TRANSFORMS[transform](s.T)([[1, 2]]), mine))

FUNCTIONS = {
    "get_dimensions": lambda F, x: F.get_dimensions(x),
    "get_image_size": lambda F, x: F.get_image_size(x),
    "get_image_num_channels": lambda F, x: F.get_image_num_channels(x),
    "hflip": lambda F, x: F.hflip(x),
    "vflip": lambda F, x: F.vflip(x),
    "crop": lambda F, x: F.crop(x, 0, 0, 1, 1),
    "center_crop": lambda F, x: F.center_crop(x, 1),
    "pad": lambda F, x: F.pad(x, 1),
    "resize": lambda F, x: F.resize(x, 2),
    "resized_crop": lambda F, x: F.resized_crop(x, 0, 0, 1, 1, 2),
    "rotate": lambda F, x: F.rotate(x, 10.0),
    "erase": lambda F, x: F.erase(x, 0, 0, 1, 1, 0),
    "adjust_brightness": lambda F, x: F.adjust_brightness(x, 1.0),
    "adjust_contrast": lambda F, x: F.adjust_contrast(x, 1.0),
    "adjust_saturation": lambda F, x: F.adjust_saturation(x, 1.0),
    "adjust_hue": lambda F, x: F.adjust_hue(x, 0.1),
    "rgb_to_grayscale": lambda F, x: F.rgb_to_grayscale(x),
    "to_grayscale": lambda F, x: F.to_grayscale(x),
    "gaussian_blur": lambda F, x: F.gaussian_blur(x, 3),
    "normalize": lambda F, x: F.normalize(x, [0.5], [0.5]),
    "to_tensor": lambda F, x: F.to_tensor(x),
    "to_pil_image": lambda F, x: F.to_pil_image(x),
}


@pytest.mark.parametrize("given", list(NOT_AN_IMAGE))
@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_a_function_refuses_what_is_not_an_image_as_torchvision_does(function, given):
    value = NOT_AN_IMAGE[given]
    theirs, mine = sides()
    errors_alike(outcome(lambda s: FUNCTIONS[function](s.F, value), theirs),
                 outcome(lambda s: FUNCTIONS[function](s.F, value), mine))


# Wrong arguments and inputs, each transform and function. The value is how the call must end here:
# "same": torchvision's error type, its message first; EARLY: torchvision accepts the argument (and fails later,
# computes something else, or trips over it with Python's own error), and we raise TypeError or ValueError at once,
# naming the argument (its README row); any other string: the README row of another deliberate difference.
EARLY = "wrong argument types and values"
ARRAYS = "batches, `ToTensor` output"
WRONG = {
    # geometry
    "Resize(size=None)": (lambda s: s.T.Resize(None), "same"),
    "Resize((1, 2, 3))": (lambda s: s.T.Resize((1, 2, 3)), "same"),
    "Resize(0)": (lambda s: s.T.Resize(0), EARLY),
    "Resize('a')": (lambda s: s.T.Resize("a"), EARLY),
    "Resize(10, max_size=5)(pil)": (lambda s: s.T.Resize(10, max_size=5)(s.pil), "same"),
    "Resize((10, 10), max_size=20)": (lambda s: s.T.Resize((10, 10), max_size=20), EARLY),
    "CenterCrop((1, 2, 3))": (lambda s: s.T.CenterCrop((1, 2, 3)), "same"),
    "CenterCrop(0)": (lambda s: s.T.CenterCrop(0), EARLY),
    "CenterCrop(None)": (lambda s: s.T.CenterCrop(None), EARLY),  # torchvision: "NoneType has no len()"
    "Pad('a')": (lambda s: s.T.Pad("a"), "same"),
    "Pad(1, fill='a')": (lambda s: s.T.Pad(1, fill="a"), "same"),
    "Pad(1, fill=None)": (lambda s: s.T.Pad(1, fill=None), "same"),
    "Pad(1, padding_mode='wrap')": (lambda s: s.T.Pad(1, padding_mode="wrap"), "same"),
    "Pad((1, 2, 3))": (lambda s: s.T.Pad((1, 2, 3)), "same"),
    "Pad(-1)": (lambda s: s.T.Pad(-1), "`Pad` with negative padding"),
    "Pad(1.5)": (lambda s: s.T.Pad(1.5), EARLY),
    "RandomResizedCrop((1, 2, 3))": (lambda s: s.T.RandomResizedCrop((1, 2, 3)), "same"),
    "RandomResizedCrop(4, scale=0.5)": (lambda s: s.T.RandomResizedCrop(4, scale=0.5), "same"),
    "RandomResizedCrop(4, ratio=2)": (lambda s: s.T.RandomResizedCrop(4, ratio=2), "same"),
    "RandomResizedCrop(0)": (lambda s: s.T.RandomResizedCrop(0), EARLY),
    "RandomResizedCrop(4, ratio=(0, 1))": (lambda s: s.T.RandomResizedCrop(4, ratio=(0, 1)), EARLY),
    "RandomRotation(-1)": (lambda s: s.T.RandomRotation(-1), "same"),
    "RandomRotation([-0.7])": (lambda s: s.T.RandomRotation([-0.7]), "same"),
    "RandomRotation('ab')": (lambda s: s.T.RandomRotation("ab"), EARLY),  # torchvision: float('a') fails
    "RandomRotation(None)": (lambda s: s.T.RandomRotation(None), "same"),
    "RandomRotation(10, center=1)": (lambda s: s.T.RandomRotation(10, center=1), "same"),
    "RandomRotation(10, center=(1, 2, 3))": (lambda s: s.T.RandomRotation(10, center=(1, 2, 3)), "same"),
    "RandomRotation(10, fill={})": (lambda s: s.T.RandomRotation(10, fill={}), "same"),
    # colour
    "ColorJitter(brightness=-1)": (lambda s: s.T.ColorJitter(brightness=-1), "same"),
    "ColorJitter(brightness=(2, 1))": (lambda s: s.T.ColorJitter(brightness=(2, 1)), "same"),
    "ColorJitter(contrast=(-1, 1))": (lambda s: s.T.ColorJitter(contrast=(-1, 1)), "same"),
    "ColorJitter(saturation='a')": (lambda s: s.T.ColorJitter(saturation="a"), "same"),
    "ColorJitter(hue=0.6)": (lambda s: s.T.ColorJitter(hue=0.6), "same"),
    "ColorJitter(hue=(-0.6, 0.1))": (lambda s: s.T.ColorJitter(hue=(-0.6, 0.1)), "same"),
    "ColorJitter(brightness=(1, 2, 3))": (lambda s: s.T.ColorJitter(brightness=(1, 2, 3)), "same"),
    "Grayscale(2)": (lambda s: s.T.Grayscale(2), EARLY),
    "RandomGrayscale(p=2)": (lambda s: s.T.RandomGrayscale(p=2), EARLY),
    "GaussianBlur('k')": (lambda s: s.T.GaussianBlur("kernel"), "same"),
    "GaussianBlur(4)": (lambda s: s.T.GaussianBlur(4), "same"),
    "GaussianBlur((3, 3, 3))": (lambda s: s.T.GaussianBlur((3, 3, 3)), "same"),
    "GaussianBlur(3, 0)": (lambda s: s.T.GaussianBlur(3, 0), "same"),
    "GaussianBlur(3, (2, 1))": (lambda s: s.T.GaussianBlur(3, (2, 1)), "same"),
    "GaussianBlur(3, 'a')": (lambda s: s.T.GaussianBlur(3, "a"), "same"),
    "GaussianBlur(-3)": (lambda s: s.T.GaussianBlur(-3), "same"),
    "RandomErasing(value='x')": (lambda s: s.T.RandomErasing(value="x"), "same"),
    "RandomErasing(value={})": (lambda s: s.T.RandomErasing(value={}), "same"),
    "RandomErasing(p=2)": (lambda s: s.T.RandomErasing(p=2), "same"),
    "RandomErasing(p=-0.5)": (lambda s: s.T.RandomErasing(p=-0.5), "same"),
    "RandomErasing(scale=(0, 2))": (lambda s: s.T.RandomErasing(scale=(0, 2)), "same"),
    "RandomErasing(scale=0.5)": (lambda s: s.T.RandomErasing(scale=0.5), "same"),
    "RandomErasing(ratio=0.5)": (lambda s: s.T.RandomErasing(ratio=0.5), "same"),
    "RandomErasing(value=(1, 2))(tensor)": (lambda s: s.T.RandomErasing(p=1, value=(1, 2))(s.tensor), "same"),
    "RandomErasing(p=1)(pil)": (lambda s: s.T.RandomErasing(p=1)(s.pil), "`RandomErasing` on a Pillow image"),
    "RandomErasing(p=1)(image)": (lambda s: s.T.RandomErasing(p=1)(s.image), "`RandomErasing` on a Pillow image"),
    # functions: arguments
    "F.adjust_brightness(pil, -1)": (lambda s: s.F.adjust_brightness(s.pil, -1), EARLY),  # Pillow extrapolates
    "F.adjust_contrast(tensor, -1)": (lambda s: s.F.adjust_contrast(s.tensor, -1), "same"),
    "F.adjust_saturation(pil, -1)": (lambda s: s.F.adjust_saturation(s.pil, -1), EARLY),
    "F.adjust_hue(pil, 0.7)": (lambda s: s.F.adjust_hue(s.pil, 0.7), "same"),
    "F.adjust_hue(tensor, -0.7)": (lambda s: s.F.adjust_hue(s.tensor, -0.7), "same"),
    "F.rgb_to_grayscale(tensor, 2)": (lambda s: s.F.rgb_to_grayscale(s.tensor, 2), "same"),
    "F.to_grayscale(pil, 2)": (lambda s: s.F.to_grayscale(s.pil, 2), "same"),
    "F.gaussian_blur(tensor, 4)": (lambda s: s.F.gaussian_blur(s.tensor, 4), "same"),
    "F.gaussian_blur(tensor, 'a')": (lambda s: s.F.gaussian_blur(s.tensor, "a"), "same"),
    "F.gaussian_blur(tensor, (3, 3, 3))": (lambda s: s.F.gaussian_blur(s.tensor, (3, 3, 3)), "same"),
    "F.gaussian_blur(tensor, 3, 0)": (lambda s: s.F.gaussian_blur(s.tensor, 3, 0), "same"),
    "F.gaussian_blur(tensor, 3, 'a')": (lambda s: s.F.gaussian_blur(s.tensor, 3, "a"), "same"),
    "F.gaussian_blur(tensor, 3, (1, 2, 3))": (lambda s: s.F.gaussian_blur(s.tensor, 3, (1, 2, 3)), "same"),
    "F.pad(pil, 'a')": (lambda s: s.F.pad(s.pil, "a"), "same"),
    "F.pad(pil, (1, 2, 3))": (lambda s: s.F.pad(s.pil, (1, 2, 3)), "same"),
    "F.pad(pil, 1, padding_mode='wrap')": (lambda s: s.F.pad(s.pil, 1, padding_mode="wrap"), "same"),
    "F.pad(tensor, 1, fill='a')": (lambda s: s.F.pad(s.tensor, 1, fill="a"), "same"),
    "F.resize(pil, 'a')": (lambda s: s.F.resize(s.pil, "a"), EARLY),  # torchvision: 'str' / 'int' fails
    "F.resize(pil, (1, 2, 3))": (lambda s: s.F.resize(s.pil, (1, 2, 3)), "same"),
    "F.resize(pil, (4, 4), max_size=8)": (lambda s: s.F.resize(s.pil, (4, 4), max_size=8), "same"),
    "F.resize(pil, 4, max_size=3)": (lambda s: s.F.resize(s.pil, 4, max_size=3), "same"),
    "F.rotate(pil, 'a')": (lambda s: s.F.rotate(s.pil, "a"), "same"),
    "F.rotate(pil, 10, center=1)": (lambda s: s.F.rotate(s.pil, 10, center=1), "same"),
    "F.center_crop(pil, (1, 2, 3))": (lambda s: s.F.center_crop(s.pil, (1, 2, 3)), EARLY),  # too many to unpack
    "F.erase(pil, 0, 0, 1, 1, 0)": (lambda s: s.F.erase(s.pil, 0, 0, 1, 1, 0), "same"),
    "F.rotate(tensor, 10, bicubic)": (lambda s: s.F.rotate(s.tensor, 10.0, interpolation=s.I.BICUBIC), "same"),
    "F.rgb_to_grayscale(2-channel tensor)": (lambda s: s.F.rgb_to_grayscale(s.tensor[:2]), "same"),
    "F.center_crop(pil, 0)": (lambda s: s.F.center_crop(s.pil, 0), EARLY),
    "F.resized_crop(pil, 0, 0, 4, 4, 'a')": (lambda s: s.F.resized_crop(s.pil, 0, 0, 4, 4, "a"), EARLY),
    "F.resize(tensor, 4, box)": (lambda s: s.F.resize(s.tensor, 4, interpolation=s.I.BOX), EARLY),  # torch's own
    # inputs of the transforms
    # One adjustment each: with several, the first in a random order raises, and contrast's list reads [3, 1]
    "ColorJitter(4-channel tensor)": (lambda s: s.T.ColorJitter(brightness=0.5)(s.tensor[[0, 1, 2, 0]]), "same"),
    "ColorJitter(contrast, 4-channel tensor)": (lambda s: s.T.ColorJitter(contrast=0.5)(s.tensor[[0, 1, 2, 0]]),
                                                "same"),
    "Grayscale(2-channel tensor)": (lambda s: s.T.Grayscale()(s.tensor[:2]), "same"),
    "RandomGrayscale(2-channel tensor)": (lambda s: s.T.RandomGrayscale(1.0)(s.tensor[:2]), "same"),
    "GaussianBlur(3)(pil, kernel too big)": (lambda s: s.T.GaussianBlur(31)(s.pil), EARLY),
    "F.crop(pil, 'a', 0, 1, 1)": (lambda s: s.F.crop(s.pil, "a", 0, 1, 1), EARLY),  # torchvision: str + int
    "F.crop(pil, 0, 0, None, 1)": (lambda s: s.F.crop(s.pil, 0, 0, None, 1), EARLY),
    # the transforms of flip_crop and tensor
    "RandomCrop((1, 2, 3))": (lambda s: s.T.RandomCrop((1, 2, 3)), "same"),
    "RandomCrop(20)(tensor)": (lambda s: s.T.RandomCrop(20)(s.tensor), "same"),
    "RandomCrop(20)(pil)": (lambda s: s.T.RandomCrop(20)(s.pil), "same"),
    "RandomCrop(-1)": (lambda s: s.T.RandomCrop(-1), EARLY),
    "RandomCrop(4, padding='a')": (lambda s: s.T.RandomCrop(4, padding="a"), EARLY),
    "RandomCrop(4, padding=(1, 2, 3))": (lambda s: s.T.RandomCrop(4, padding=(1, 2, 3)), EARLY),
    "RandomCrop(4, padding_mode='wrap')": (lambda s: s.T.RandomCrop(4, padding=1, padding_mode="wrap"), EARLY),
    "RandomHorizontalFlip(-1)": (lambda s: s.T.RandomHorizontalFlip(-1), EARLY),
    "RandomHorizontalFlip('0.5')": (lambda s: s.T.RandomHorizontalFlip("0.5"), EARLY),
    "ToTensor()('abc')": (lambda s: s.T.ToTensor()("abc"), "same"),
    "ToTensor()(None)": (lambda s: s.T.ToTensor()(None), "same"),
    "ToPILImage()([[1, 2]])": (lambda s: s.T.ToPILImage()([[1, 2]]), "same"),
    "ToPILImage(mode='X')(tensor)": (lambda s: s.T.ToPILImage(mode="X")(s.tensor), "same"),
    "ToPILImage()(4-D tensor)": (lambda s: s.T.ToPILImage()(s.tensor[None]), "same"),
    "Normalize(list)": (lambda s: s.T.Normalize([0.5], [0.5])([[1.0, 2.0]]), "same"),
    "Normalize(pil)": (lambda s: s.T.Normalize([0.5], [0.5])(s.pil), "same"),
    # the words name NumPy's dtype and shape (float32, (8, 9)) where torchvision's name torch's
    "Normalize(std 0)": (lambda s: s.T.Normalize([0.5] * 3, [0.0] * 3)(s.tensor), ARRAYS),
    "Normalize(2-D tensor)": (lambda s: s.T.Normalize([0.5], [0.5])(s.tensor[0]), ARRAYS),
    "Lambda(3)": (lambda s: s.T.Lambda(3), "same"),
    "Lambda('f')": (lambda s: s.T.Lambda("f"), "same"),
}


WRONG["Resize(4, interpolation='x')"] = (lambda s: s.T.Resize(4, interpolation="x")(s.pil), "same")
WRONG["RandomCrop(4, fill='a')(pil)"] = (lambda s: s.T.RandomCrop(4, padding=1, fill="a")(s.pil), "same")


@pytest.mark.parametrize("case", list(WRONG))
def test_a_wrong_argument_fails_as_in_torchvision(case):
    call, expected = WRONG[case]
    theirs, mine = sides()
    their_outcome, my_outcome = outcome(call, theirs), outcome(call, mine)
    if expected == "same":
        errors_alike(their_outcome, my_outcome)
        return
    kind, error = my_outcome
    assert kind == "error" and isinstance(error, (TypeError, ValueError)), my_outcome
    if their_outcome[0] == "error":  # else torchvision accepted it
        assert str(error) != str(their_outcome[1]), "the same error as torchvision's: the case is 'same'"
    assert f"| {expected}" in README, f"README's Differences table has no row {expected!r}"


def test_color_jitter_without_adjustments_takes_any_number_of_channels_as_torchvision():
    """torchvision checks the channels in each adjustment it applies: with none, a 4-channel tensor passes as it is."""
    theirs, mine = sides()
    for side in theirs, mine:
        kind, out = outcome(lambda s: s.T.ColorJitter()(s.tensor[[0, 1, 2, 0]]), side)
        assert kind != "error", out
        np.testing.assert_array_equal(np.asarray(out), np.asarray(side.tensor[[0, 1, 2, 0]]))


def test_pad_and_rotation_read_their_attributes_at_each_call_as_torchvision():
    """A schedule that changes `padding`, `fill` or `degrees` between epochs changes what the transform does."""
    theirs, mine = sides()
    results = []
    for side in (theirs, mine):
        pad, rotation = side.T.Pad(1), side.T.RandomRotation((90, 90))
        pad.padding, pad.fill, pad.padding_mode = (3, 2), (5, 6, 7), "constant"
        rotation.degrees, rotation.fill = [180.0, 180.0], [9, 8, 7]
        results.append((np.asarray(pad(side.pil)), np.asarray(rotation(side.pil))))
    (their_pad, their_rotation), (my_pad, my_rotation) = results
    assert my_pad.shape == (8 + 4, 9 + 6, 3) and np.array_equal(my_pad, their_pad)
    assert np.array_equal(my_rotation, their_rotation)


WARNED = {
    "RandomResizedCrop(4, scale=(1.0, 0.5))": lambda s: s.T.RandomResizedCrop(4, scale=(1.0, 0.5)),
    "RandomResizedCrop(4, ratio=(2, 1))": lambda s: s.T.RandomResizedCrop(4, ratio=(2, 1)),
    "RandomErasing(scale=(0.5, 0.1))": lambda s: s.T.RandomErasing(scale=(0.5, 0.1)),
    "RandomErasing(ratio=(3, 1))": lambda s: s.T.RandomErasing(ratio=(3, 1)),
    "Resize(4, antialias=False)(pil)": lambda s: s.T.Resize(4, antialias=False)(s.pil),
}


@pytest.mark.parametrize("case", list(WARNED))
def test_a_warning_has_torchvisions_words(case):
    import warnings

    messages = []
    for side in sides():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            WARNED[case](side)
        messages.append([str(warning.message) for warning in caught])
    theirs, mine = messages
    assert theirs and len(mine) == len(theirs)
    assert all(my.startswith(their) for my, their in zip(mine, theirs)), (mine, theirs)
