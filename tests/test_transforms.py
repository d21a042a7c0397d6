import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st
from PIL import Image

from tinytorch.data import rng
from torch_reference import torchvision_or_none
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
       layout=st.sampled_from(["gray", "rgb", "tensor", "tensors"]),
       padding=st.one_of(st.none(), st.integers(0, 3), st.tuples(st.integers(0, 3), st.integers(0, 3)),
                         st.tuples(*[st.integers(0, 3)] * 4)),
       padding_mode=st.sampled_from(["constant", "edge", "reflect", "symmetric"]), pad_if_needed=st.booleans(),
       fill=st.sampled_from([0, 7, (1, 2, 3)]))
@settings(max_examples=150, deadline=None)
@example(seed=0, epoch=0, start=0, n=2, layout="rgb", padding=(1, 2), padding_mode="constant", pad_if_needed=False,
         fill=0)
def test_batched_application_equals_per_sample(seed, epoch, start, n, layout, padding, padding_mode, pad_if_needed,
                                               fill):
    """The loader's invariant: a transform on a batch gives bit for bit what it gives each sample on its own."""
    images = np.random.default_rng(seed).integers(0, 256, size=(n, 12, 10, 3), dtype=np.uint8)
    size = (14, 6) if pad_if_needed else (8, 6)
    if layout == "gray":
        images, fill = images[..., 0], fill if fill != (1, 2, 3) else (5,)
    crop = RandomCrop(size, padding=padding, pad_if_needed=pad_if_needed, fill=fill, padding_mode=padding_mode)
    transform = Compose([crop, RandomHorizontalFlip(), ToTensor(), Normalize(0.5, 0.25)])
    if layout in ("tensor", "tensors"):
        images = ToTensor().apply_batch(images)
        if layout == "tensors":  # (N, 2, C, H, W): each sample a stack of two tensors sharing one decision
            images = np.stack([images, images[::-1]], axis=1)
        crop = RandomCrop(9, padding=padding, pad_if_needed=True, fill=-1.0 if fill == 7 else fill,
                          padding_mode=padding_mode)
        transform = Compose([RandomHorizontalFlip(0.3), crop, Normalize((0.5, 0.4, 0.3), (1, 2, 3))])
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


def test_to_tensor_divides_bytes_by_255_exactly():
    """Bit for bit torchvision's `img.float().div(255)`, not a multiplication by float32(1 / 255)."""
    values = np.arange(256, dtype=np.uint8).reshape(16, 16)
    expected = np.arange(256, dtype=np.float32).reshape(1, 16, 16) / np.float32(255)
    np.testing.assert_array_equal(ToTensor()(values), expected)
    np.testing.assert_array_equal(ToTensor().apply_batch(values[None])[0], expected)
    rgb = np.stack([values, values[::-1], values.T], axis=-1)
    np.testing.assert_array_equal(ToTensor()(rgb), rgb.transpose(2, 0, 1).astype(np.float32) / np.float32(255))
    assert ToTensor()(rgb).flags.c_contiguous


def test_to_pil_image_truncates_floats_as_torchvision():
    tensor = np.array([[[0.999, 1.0, 0.5, 0.0019]]], np.float32)  # 254.7, 255, 127.5, 0.48 times 255
    assert np.asarray(ToPILImage()(tensor)).tolist() == [[254, 255, 127, 0]]
    assert ToPILImage(mode="F")(tensor[0]).mode == "F"


def test_normalize_takes_leading_axes_and_the_tensors_dtype():
    tensor = np.random.default_rng(0).random((2, 5, 3, 4, 4)).astype(np.float32)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 0.125)
    expected = (tensor - np.float32(mean).reshape(3, 1, 1)) / np.float32(std).reshape(3, 1, 1)
    np.testing.assert_array_equal(Normalize(mean, std)(tensor), expected)
    np.testing.assert_array_equal(Normalize(mean, std).apply_batch(tensor), expected)
    doubles = tensor.astype(np.float64)
    out = Normalize(0.1, 0.3)(doubles)
    assert out.dtype == np.float64 and np.array_equal(out, (doubles - 0.1) / 0.3)
    same = Normalize(0.1, 0.3, inplace=True)
    assert same(doubles) is doubles
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        Normalize(0, 1)(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match="same number"):
        Normalize((0, 0), (1, 1, 1))


def test_random_crop_arguments_follow_torchvision():
    image = np.arange(30, dtype=np.uint8).reshape(5, 6)
    assert RandomCrop((4,)).size == (4, 4) and RandomCrop(4).padding is None
    assert RandomCrop(4)(image).shape == (4, 4)
    assert RandomCrop(6, pad_if_needed=True)(image).shape == (6, 6)
    grown = RandomCrop((9, 8), pad_if_needed=True, padding_mode="edge")(image)
    assert grown.shape == (9, 8) and set(np.unique(grown)) <= set(np.unique(image))
    with pytest.raises(ValueError, match="pad_if_needed"):
        RandomCrop(6)(image)
    with pytest.raises(ValueError, match="padding_mode"):
        RandomCrop(4, padding=1, padding_mode="wrap")
    with pytest.raises(TypeError, match=r"size=32\.5"):
        RandomCrop(32.5)
    with pytest.raises(TypeError, match="padding="):
        RandomCrop(4, padding="4")
    with pytest.raises(ValueError, match=r"size=\(1, 2, 3\)"):
        RandomCrop((1, 2, 3))
    with pytest.raises(TypeError, match="p should be a number"):
        RandomHorizontalFlip("0.5")
    with pytest.raises(TypeError, match="fill"):
        RandomCrop(4, padding=1, fill="red")
    with pytest.raises(ValueError, match=r"number of elements in 'fill' does not match the number of channels of the image \(3 != 1\)"):
        RandomCrop(6, padding=1, fill=(1, 2, 3))(image)
    rgb = np.zeros((2, 2, 3), np.uint8)
    filled = RandomCrop(4, padding=1, fill=(10, 20, 30))(rgb)
    assert filled[0, 0].tolist() == [10, 20, 30] and filled[1, 1].tolist() == [0, 0, 0]
    assert repr(RandomCrop(4, padding=1)) == "RandomCrop(size=(4, 4), padding=1)"  # torchvision's repr


def test_a_tensor_with_leading_axes_gets_one_decision_per_call():
    tensors = np.random.default_rng(0).random((4, 3, 6, 5)).astype(np.float32)
    for _ in range(20):
        flipped = RandomHorizontalFlip()(tensors)
        assert np.array_equal(flipped, tensors) or np.array_equal(flipped, tensors[..., ::-1])
        crop = RandomCrop(4, padding=1)(tensors)
        padded = np.pad(tensors, [(0, 0), (0, 0), (1, 1), (1, 1)])
        assert any(np.array_equal(crop, padded[..., t:t + 4, l:l + 4]) for t in range(5) for l in range(4))


def _windows(padded, size):
    h, w = size
    return {padded[t:t + h, l:l + w].tobytes() for t in range(padded.shape[0] - h + 1)
            for l in range(padded.shape[1] - w + 1)}


CROPS = [dict(size=4, padding=2), dict(size=(3, 5), padding=(1, 3)), dict(size=5, padding=(0, 1, 2, 3)),
         dict(size=9, pad_if_needed=True), dict(size=(4,), padding=1, pad_if_needed=True),
         dict(size=8, padding=2, pad_if_needed=True), dict(size=12, padding=1, pad_if_needed=True)]


@pytest.mark.parametrize("padding_mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("arguments", CROPS)
def test_random_crop_windows_match_torchvision(arguments, padding_mode):
    """Every crop is a window of the image that torchvision pads (same padding, same modes, same pad_if_needed),
    and every window comes up: the draws cover torchvision's randint(0, h - th + 1) range."""
    torchvision = torchvision_or_none()
    if torchvision is None:
        pytest.skip("torchvision is not installed")
    import torch

    image = np.random.default_rng(1).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    theirs = torchvision.transforms.RandomCrop(**arguments, fill=9, padding_mode=padding_mode)
    whole = lambda img, size: (0, 0, *img.shape[-2:])  # noqa: E731  torchvision's crop of its whole padded image
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torchvision.transforms.RandomCrop, "get_params", staticmethod(whole))
        padded = theirs(torch.from_numpy(image).permute(2, 0, 1)).permute(1, 2, 0).numpy()
    ours = RandomCrop(**arguments, fill=9, padding_mode=padding_mode)
    windows = _windows(padded, ours.size)
    with rng.sample_randomness(0, 0, 0, 400):
        crops = ours.apply_batch(np.repeat(image[None], 400, axis=0))
    assert {crop.tobytes() for crop in crops} == windows
    with rng.sample_randomness(0, 1, 0, 1):
        assert ours(image).tobytes() in windows


def test_to_tensor_normalize_and_flip_are_bit_exact_with_torchvision():
    torchvision = torchvision_or_none()
    if torchvision is None:
        pytest.skip("torchvision is not installed")
    import torch

    T = torchvision.transforms
    image = np.random.default_rng(2).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    image[0, :, 0] = np.arange(16) * 17
    np.testing.assert_array_equal(ToTensor()(image), T.ToTensor()(image).numpy())
    np.testing.assert_array_equal(ToTensor()(image[..., 0]), T.ToTensor()(image[..., 0]).numpy())
    values = np.arange(256, dtype=np.uint8).reshape(16, 16)
    np.testing.assert_array_equal(ToTensor()(values), T.ToTensor()(values).numpy())
    tensors = np.random.default_rng(3).random((2, 3, 5, 4)).astype(np.float32)
    mean, std = [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]
    np.testing.assert_array_equal(Normalize(mean, std)(tensors), T.Normalize(mean, std)(torch.from_numpy(tensors)).numpy())
    np.testing.assert_array_equal(Normalize(0.1307, 0.3081)(tensors[:, :1].astype(np.float64)),
                                  T.Normalize([0.1307], [0.3081])(torch.from_numpy(tensors[:, :1].astype(np.float64))).numpy())
    np.testing.assert_array_equal(RandomHorizontalFlip(1.0)(tensors),
                                  T.RandomHorizontalFlip(1.0)(torch.from_numpy(tensors)).numpy())
    floats = np.random.default_rng(4).uniform(-0.5, 1.5, (3, 6, 5)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(ToPILImage()(floats)), np.asarray(T.ToPILImage()(torch.from_numpy(floats))))
    np.testing.assert_array_equal(np.asarray(ToPILImage()(floats[:1])), np.asarray(T.ToPILImage()(torch.from_numpy(floats[:1]))))


def test_pillow_images_come_back_as_pillow_images():
    image = np.random.default_rng(5).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    flipped = RandomHorizontalFlip(1.0)(Image.fromarray(image))
    assert isinstance(flipped, Image.Image) and np.array_equal(np.asarray(flipped), image[:, ::-1])
    with rng.sample_randomness(3, 0, 0, 1):
        crop = RandomCrop(4, padding=1)(Image.fromarray(image[..., 0]))
    with rng.sample_randomness(3, 0, 0, 1):
        expected = RandomCrop(4, padding=1)(image[..., 0])
    assert isinstance(crop, Image.Image) and crop.mode == "L" and np.array_equal(np.asarray(crop), expected)


@given(seed=st.integers(0, 2**63 - 1), epoch=st.integers(0, 10**6), start=st.integers(0, 2**40), n=st.integers(1, 6))
@settings(max_examples=50, deadline=None)
def test_one_sample_draws_are_the_rows_of_the_batch_draws(seed, epoch, start, n):
    """The per-sample path's Python-int draws (`uniform_list`) equal row i of the batch's NumPy draws, bit for bit."""
    with rng.sample_randomness(seed, epoch, start, n):
        first, second = rng.draws(n), rng.draws(n)
        rows = [first.uniform(2), first.uniform(3), second.uniform(1)]
    for i in range(n):
        with rng.sample_randomness(seed, epoch, start + i, 1):
            first, second = rng.draws(1), rng.draws(1)
            assert [first.uniform_list(2), first.uniform_list(3), second.uniform_list(1)] == [r[i].tolist() for r in rows]
        np.testing.assert_array_equal(rng.sample_keys(seed, epoch, [start + i]),
                                      rng.sample_keys(seed, epoch, np.arange(start, start + n))[i:i + 1])


@settings(max_examples=60, deadline=None)
@given(shape=st.sampled_from([(28, 28), (9, 5, 1), (6, 7, 3), (4, 4, 4)]), seed=st.integers(0, 2**32 - 1),
       kind=st.sampled_from(["scalar", "per channel", "per pixel"]), inplace=st.booleans())
def test_compose_of_to_tensor_and_normalize_gives_the_two_calls_values(shape, seed, kind, inplace):
    """Compose's one-sample route for ToTensor then Normalize (a table on one-channel uint8 images) gives what the
    two calls give, bit for bit, as a C-contiguous float32 (C, H, W)."""
    generator = np.random.default_rng(seed)
    image = generator.integers(0, 256, shape, dtype=np.uint8)
    channels = 1 if len(shape) == 2 else shape[2]
    size = {"scalar": (), "per channel": (channels,), "per pixel": (channels,) + shape[:2]}[kind]
    mean, std = generator.uniform(0, 1, size), generator.uniform(0.1, 1, size)
    expected = Normalize(mean, std)(ToTensor()(image))
    for got in Compose([ToTensor(), Normalize(mean, std, inplace=inplace)])(image), \
            Compose([Lambda(lambda x: x), ToTensor(), Normalize(mean, std), Flatten()])(image).reshape(expected.shape):
        assert got.dtype == np.float32 and got.shape == expected.shape and got.flags.c_contiguous
        np.testing.assert_array_equal(got, expected)


@settings(max_examples=40, deadline=None)
@given(shape=st.sampled_from([(5, 6), (5, 6, 1), (5, 6, 3)]), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**32 - 1))
def test_compose_normalizes_in_place_only_the_array_to_tensor_made(shape, dtype, seed):
    """Compose's one-sample ToTensor-then-Normalize normalizes ToTensor's new array in place: a float image, which
    ToTensor keeps in its dtype, comes out as the two calls give it, and the caller's array is left as it was."""
    image = np.random.default_rng(seed).uniform(0, 1, shape).astype(dtype)
    before = image.copy()
    channels = 1 if len(shape) == 2 else shape[2]
    normalize = Normalize([0.2] * channels, [0.3] * channels)
    got = Compose([ToTensor(), normalize])(image)
    np.testing.assert_array_equal(got, normalize(ToTensor()(image)))
    assert got.dtype == dtype and not np.shares_memory(got, image)
    np.testing.assert_array_equal(image, before)


def test_compose_batched_follows_changes_to_its_transforms_and_to_nested_ones():
    inner = Compose([ToTensor()])
    pipeline = Compose([inner, Normalize(0.5, 0.25)])
    plain = Compose([ToTensor(), Normalize(0.5, 0.25)])
    assert pipeline.batched and plain.batched
    inner.transforms.append(ToPILImage())  # a nested change: the outer Compose sees it
    plain.transforms.insert(0, Lambda(lambda x: x))  # a change in place, to a part that goes one sample at a time
    assert not pipeline.batched and not plain.batched
    inner.transforms.pop()
    plain.transforms.pop(0)
    assert pipeline.batched and plain.batched


def test_compose_follows_changes_to_its_transforms_and_keeps_normalize_errors():
    image = np.arange(16, dtype=np.uint8).reshape(4, 4)
    pipeline = Compose([ToTensor(), Normalize(0.5, 0.25)])
    np.testing.assert_array_equal(pipeline(image), (image[None] / np.float32(255) - np.float32(0.5)) / np.float32(0.25))
    pipeline.transforms[1] = Normalize(0.0, 0.5)
    np.testing.assert_array_equal(pipeline(image), (image[None] / np.float32(255)) / np.float32(0.5))
    pipeline.transforms.append(Flatten())
    assert pipeline(image).shape == (16,)
    with pytest.raises(ValueError, match="Normalize has 3 channel values, the tensor 1 channels"):
        Compose([ToTensor(), Normalize((0.1, 0.2, 0.3), (1, 1, 1))])(image)
    pillow = Image.fromarray(image)
    np.testing.assert_array_equal(Compose([ToTensor(), Normalize(0.5, 0.25)])(pillow),
                                  Normalize(0.5, 0.25)(ToTensor()(pillow)))
