import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

from tinytorch.data import rng
from tinytorch.data.transforms import (Compose, Flatten, Lambda, Normalize, RandomCrop, RandomHorizontalFlip,
                                       ToPILImage, ToTensor, apply_to_batch)

CIFAR_PIPELINE = lambda: Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(), ToTensor(),
                                  Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26))])


def one_by_one(transform, batch, seed, epoch, start):
    """The per-sample path: each sample alone in its own randomness context, as the loader does for plain datasets."""
    outputs = []
    for i, sample in enumerate(batch):
        with rng.sample_randomness(seed, epoch, start + i, 1):
            outputs.append(transform(sample))
    return np.stack(outputs)


@given(seed=st.integers(0, 2**40), epoch=st.integers(0, 100), start=st.integers(0, 10**6), n=st.integers(1, 12),
       layout=st.sampled_from(["gray", "rgb", "tensor"]))
@settings(max_examples=60, deadline=None)
def test_batched_application_equals_per_sample(seed, epoch, start, n, layout):
    images = np.random.default_rng(seed).integers(0, 256, size=(n, 12, 10, 3), dtype=np.uint8)
    if layout == "gray":
        images = images[..., 0]
    transform = Compose([RandomCrop((8, 6), padding=(1, 2)), RandomHorizontalFlip(), ToTensor(), Normalize(0.5, 0.25)])
    if layout == "tensor":
        images = ToTensor().apply_batch(images)
        transform = Compose([RandomHorizontalFlip(0.3), RandomCrop(9, padding=2, fill=-1.0), Flatten()])
    with rng.sample_randomness(seed, epoch, start, n):
        batched = transform.apply_batch(images)
    np.testing.assert_array_equal(batched, one_by_one(transform, images, seed, epoch, start))


def test_draws_are_a_function_of_seed_epoch_and_position():
    images = np.arange(64 * 8 * 8, dtype=np.uint8).reshape(64, 8, 8) % 251
    transform = Compose([RandomCrop(6, padding=1), RandomHorizontalFlip()])

    def run(seed, epoch, start, rows):
        with rng.sample_randomness(seed, epoch, start, len(images[rows])):
            return transform.apply_batch(images[rows])

    whole = run(1, 0, 0, slice(0, 64))
    np.testing.assert_array_equal(whole, run(1, 0, 0, slice(0, 64)))
    np.testing.assert_array_equal(whole[32:], run(1, 0, 32, slice(32, 64)))  # split batches: same result
    assert not np.array_equal(whole, run(2, 0, 0, slice(0, 64)))
    assert not np.array_equal(whole, run(1, 1, 0, slice(0, 64)))


def test_transforms_in_a_compose_draw_independently():
    with rng.sample_randomness(0, 0, 0, 4000):
        first = rng.draws(4000).uniform()
        second = rng.draws(4000).uniform()
    assert abs(np.corrcoef(first, second)[0, 1]) < 0.05
    assert 0.48 < first.mean() < 0.52


def test_to_tensor_layouts_and_scale():
    gray = np.full((5, 4), 255, np.uint8)
    assert ToTensor()(gray).shape == (1, 5, 4) and ToTensor()(gray).dtype == np.float32 and ToTensor()(gray).max() == 1
    rgb = np.zeros((5, 4, 3), np.uint8)
    rgb[..., 2] = 51
    tensor = ToTensor()(rgb)
    assert tensor.shape == (3, 5, 4) and np.allclose(tensor[2], 0.2) and np.all(tensor[:2] == 0)
    assert ToTensor()(Image.fromarray(rgb)).shape == (3, 5, 4)
    assert ToTensor().apply_batch(np.zeros((7, 5, 4), np.uint8)).shape == (7, 1, 5, 4)
    floats = np.full((2, 2), 3.0)
    assert ToTensor()(floats).max() == 3.0
    with pytest.raises(ValueError, match="shape"):
        ToTensor()(np.zeros(5, np.uint8))


def test_normalize_per_channel():
    tensor = np.stack([np.full((2, 2), 0.5), np.full((2, 2), 1.0)]).astype(np.float32)
    out = Normalize((0.5, 0.0), (1.0, 0.5))(tensor)
    assert np.allclose(out[0], 0) and np.allclose(out[1], 2) and out.dtype == np.float32
    assert np.allclose(tensor[0], 0.5)  # not in place by default
    with pytest.raises(ValueError, match="std"):
        Normalize(0, 0)
    with pytest.raises(TypeError, match="ToTensor"):
        Normalize(0, 1)(np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="channel"):
        Normalize((0, 0, 0), (1, 1, 1))(tensor)


def test_random_crop_takes_a_window_of_the_padded_image():
    image = np.arange(1, 26, dtype=np.uint8).reshape(5, 5)
    padded = np.pad(image, 2)
    crops = [RandomCrop(5, padding=2)(image) for _ in range(50)]
    windows = {padded[t:t + 5, l:l + 5].tobytes() for t in range(5) for l in range(5)}
    assert all(crop.tobytes() in windows for crop in crops)
    assert len({crop.tobytes() for crop in crops}) > 5
    assert np.array_equal(RandomCrop(5)(image), image)
    with pytest.raises(ValueError, match="larger"):
        RandomCrop(6)(image)
    with pytest.raises(ValueError, match="padding"):
        RandomCrop(3, padding=-1)
    with pytest.raises(ValueError, match="size"):
        RandomCrop(0)


def test_horizontal_flip_probability_and_axis():
    image = np.arange(6, dtype=np.uint8).reshape(2, 3)
    assert np.array_equal(RandomHorizontalFlip(1.0)(image), image[:, ::-1])
    assert np.array_equal(RandomHorizontalFlip(0.0)(image), image)
    tensor = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    assert np.array_equal(RandomHorizontalFlip(1.0)(tensor), tensor[:, :, ::-1])
    with rng.sample_randomness(0, 0, 0, 10000):
        flipped = RandomHorizontalFlip(0.3).apply_batch(np.repeat(image[None], 10000, axis=0))
    assert abs(np.mean(flipped[:, 0, 0] == 2) - 0.3) < 0.02
    with pytest.raises(ValueError, match="p should"):
        RandomHorizontalFlip(2)


def test_flatten_lambda_and_pil_roundtrip():
    assert Flatten()(np.zeros((1, 3, 4))).shape == (12,)
    assert Flatten().apply_batch(np.zeros((5, 1, 3, 4))).shape == (5, 12)
    double = Lambda(lambda x: x * 2)
    assert double(np.ones(3)).tolist() == [2, 2, 2] and not double.batched
    with pytest.raises(TypeError, match="batched=False"):
        double.apply_batch(np.ones((2, 3)))
    assert Lambda(lambda b: b + 1, batched=True).apply_batch(np.zeros((2, 3))).sum() == 6
    with pytest.raises(TypeError, match="callable"):
        Lambda(3)
    image = np.random.default_rng(0).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    picture = ToPILImage()(ToTensor()(image))
    assert isinstance(picture, Image.Image) and np.array_equal(np.asarray(picture), image)
    assert ToPILImage()(image[..., 0]).mode == "L"


def test_apply_to_batch_falls_back_to_samples_for_plain_callables():
    batch = np.arange(12, dtype=np.uint8).reshape(3, 2, 2)
    transform = Compose([RandomHorizontalFlip(), lambda x: x.astype(np.int64) * 10])
    assert not transform.batched
    with rng.sample_randomness(5, 0, 0, 3):
        out = apply_to_batch(transform, batch)
    np.testing.assert_array_equal(out, one_by_one(transform, batch, 5, 0, 0))
    assert apply_to_batch(None, batch) is batch
    assert apply_to_batch(lambda t: t + 1, np.array([1, 2])).tolist() == [2, 3]


def test_compose_rejects_non_callables():
    with pytest.raises(TypeError, match=r"transforms\[1\]"):
        Compose([ToTensor(), 3])


@pytest.mark.parametrize("pipeline", [
    lambda: [RandomHorizontalFlip(1.0), Normalize(0.5, 2)],
    lambda: [Lambda(lambda b: b, batched=True), Normalize(0.5, 2)],
    lambda: [Lambda(lambda b: b[:, :, ::-1], batched=True), Normalize(0.5, 2)],
    lambda: [RandomCrop(5), RandomHorizontalFlip(1.0), Normalize(0.5, 2)],
    lambda: [Normalize(0.5, 2), Normalize(0.5, 2)],
])
@pytest.mark.parametrize("as_view", [False, True])
def test_compose_never_writes_into_its_input(pipeline, as_view):
    base = np.random.default_rng(0).random((5, 1, 5, 5)).astype(np.float32)
    batch = base[1:] if as_view else base
    before = base.copy()
    out = Compose(pipeline()).apply_batch(batch)
    np.testing.assert_array_equal(base, before)
    expected = batch
    for transform in pipeline():
        expected = transform.apply_batch(expected)
    np.testing.assert_array_equal(out, expected)
