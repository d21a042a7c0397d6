"""A transform subclass is called through its override on every route (review B0c), and integer arrays whose layout
is ambiguous are refused rather than misread (review B0d)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch.data import DataLoader, ImageDataset
from tinytorch.data import transforms as T
from tinytorch.data.transforms import ImageBatch, apply_to_batch

IMAGES = np.random.RandomState(0).randint(0, 256, (6, 8, 8), dtype=np.uint8)
LABELS = np.arange(6)


class PlusOne(T.ToTensor):
    def __call__(self, pic):
        return super().__call__(pic) + 1.0


class ZeroForward(T.RandomHorizontalFlip):  # torchvision's way: transforms are nn.Modules customised by forward
    def forward(self, img):
        return np.zeros_like(img)


class MirrorForward(T.RandomHorizontalFlip):  # forward calling the built-in one-sample transform
    def forward(self, img):
        return super().forward(img)[::-1].copy()


class Twice(MirrorForward):  # two levels of forward
    def forward(self, img):
        return super().forward(img) * 2


def loader_images(transform):
    dataset = ImageDataset(IMAGES, LABELS, transform=transform)
    batches = [images for images, _ in DataLoader(dataset, batch_size=4, generator=3)]
    return dataset, np.concatenate(batches)


@pytest.mark.parametrize("transform, expected", [
    (PlusOne(), lambda images: images[:, None] / np.float32(255) + 1),
    (T.Compose([PlusOne(), T.Normalize(0.5, 0.25)]), lambda images: (images[:, None] / np.float32(255) + 0.5) / 0.25)])
def test_call_override_is_used_by_the_loader(transform, expected):
    dataset, batched = loader_images(transform)
    np.testing.assert_allclose(batched, expected(IMAGES), rtol=1e-6)
    np.testing.assert_array_equal(batched, np.stack([dataset[i][0] for i in range(len(dataset))]))


def test_call_override_after_a_random_transform_gets_the_same_draws():
    """The loader's per-sample route gives the override the crops the batch route gives the parent."""
    _, with_override = loader_images(T.Compose([T.RandomCrop(6, padding=1), PlusOne()]))
    _, builtin = loader_images(T.Compose([T.RandomCrop(6, padding=1), T.ToTensor()]))
    np.testing.assert_array_equal(with_override, builtin + 1)


def test_forward_override_runs_on_a_sample_and_in_the_loader():
    dataset, batched = loader_images(ZeroForward(p=1.0))
    assert not dataset[0][0].any() and not batched.any()
    assert not ZeroForward(p=1.0)(IMAGES[0]).any()


def test_super_forward_is_the_builtin_call():
    image = IMAGES[0]
    np.testing.assert_array_equal(MirrorForward(p=1.0)(image), image[::-1, ::-1])
    np.testing.assert_array_equal(Twice(p=1.0)(image), image[::-1, ::-1] * 2)
    dataset, batched = loader_images(Twice(p=1.0))
    np.testing.assert_array_equal(batched, IMAGES[:, ::-1, ::-1] * 2)


def test_builtin_transforms_keep_their_batch_route():
    calls = []

    class Counting(T.ToTensor):
        def apply_batch(self, batch):
            calls.append(len(batch))
            return super().apply_batch(batch)

    out = apply_to_batch(T.Compose([T.RandomHorizontalFlip(), Counting(), T.Normalize(0.5, 0.5)]), IMAGES)
    assert calls == [len(IMAGES)] and out.shape == (6, 1, 8, 8)


def test_an_override_naming_its_batch_route_keeps_it():
    calls = []

    class Named(T.ToTensor):
        def __call__(self, pic):
            return super().__call__(pic)

        def apply_batch(self, batch):  # the class overriding __call__ names its batch route: it is used
            calls.append(len(batch))
            return super().apply_batch(batch)

    apply_to_batch(Named(), IMAGES)
    assert calls == [len(IMAGES)]


# ----------------------------------------------------------------------------- B0d: integer arrays with channels

DEPTH = np.random.RandomState(1).randint(0, 60000, (12, 16)).astype(np.uint16).astype(np.int32)


@pytest.mark.parametrize("follow", [T.CenterCrop(8), T.RandomHorizontalFlip(1.0), T.Resize(6), T.RandomCrop(8),
                                    T.Pad(1)])
def test_totensor_integer_output_is_refused_not_misread(follow):
    tensor = T.ToTensor()(DEPTH)
    assert tensor.dtype == np.int32 and tensor.shape == (1, 12, 16)  # as torchvision keeps int32
    with pytest.raises(TypeError, match=r"astype\(np.float32\).*uint8"):
        T.Compose([T.ToTensor(), follow])(DEPTH)
    with pytest.raises(TypeError, match="int32"):
        follow.apply_batch(tensor[None])


def test_16_bit_pillow_image_through_totensor_then_crop():
    Image = pytest.importorskip("PIL.Image")
    depth = Image.fromarray(DEPTH.astype(np.uint16))
    with pytest.raises(TypeError, match="layout"):
        T.Compose([T.ToTensor(), T.CenterCrop(8)])(depth)
    # the conversion the message names gives torchvision's result: the centre of the tensor (C, H, W)
    out = T.Compose([T.ToTensor(), lambda t: t.astype(np.float32), T.CenterCrop(8)])(depth)
    np.testing.assert_array_equal(out, np.asarray(depth).astype(np.int16)[None, 2:10, 4:12])  # 'I;16' is int16


@pytest.mark.parametrize("dtype", [np.uint8, np.bool_])
def test_byte_and_bool_images_keep_their_layout(dtype):
    image = (np.arange(4 * 6 * 3).reshape(4, 6, 3) % 2).astype(dtype)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(image), image[:, ::-1])
    np.testing.assert_array_equal(T.CenterCrop(2)(image), image[1:3, 2:4])


def test_two_dimensional_integer_images_stay_images():
    image = np.arange(20, dtype=np.int32).reshape(4, 5)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(image), image[:, ::-1])


# ------------------------------------------------------------------- ImageBatch.of's lean route for uint8 images

class GeneralRoute(np.ndarray):
    """An ndarray subclass, which ImageBatch.of describes by its general route."""


@settings(max_examples=40, deadline=None)
@given(shape=st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 4)), seed=st.integers(0, 2**32 - 1),
       transposed=st.booleans())
def test_lean_description_of_a_uint8_image_is_the_general_one(shape, seed, transposed):
    image = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    if transposed:  # a view laid out (C, H, W) in memory, as a crop's output
        image = np.ascontiguousarray(image.transpose(2, 0, 1)).transpose(1, 2, 0)
    lean, general = ImageBatch.of(image, "t"), ImageBatch.of(image.view(GeneralRoute), "t")
    assert (lean.kind, lean.form, lean.channel_axis) == (general.kind, general.form, general.channel_axis)
    np.testing.assert_array_equal(lean.view, general.view)
    assert lean.given is image and lean.view.base is not None  # a view, never a copy
    for transform in (T.RandomHorizontalFlip(1.0), T.CenterCrop(max(1, shape[0] - 1)), T.Pad(1)):
        np.testing.assert_array_equal(transform(image), transform.apply_batch(image[None])[0])
