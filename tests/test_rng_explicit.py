"""Randomness is passed in: a random transform's batched path takes the batch's streams as an argument, and the
built-in datasets hand over the streams the loader computed; the context (`rng.draws`) is only the adapter for a
user's `__getitem__`/`__getitems__` calling transforms itself."""
import numpy as np
import pytest

from tinytorch.data import DataLoader, ImageDataset, rng
from tinytorch.data.transforms import (ColorJitter, Compose, GaussianBlur, Normalize, RandomCrop, RandomErasing,
                                       RandomGrayscale, RandomHorizontalFlip, RandomResizedCrop, RandomRotation,
                                       ToTensor)

IMAGES = np.random.default_rng(0).integers(0, 256, (12, 10, 10, 3), dtype=np.uint8)
RANDOM = [RandomCrop(8, padding=2), RandomHorizontalFlip(), ColorJitter(0.4, 0.4, 0.4, 0.1), GaussianBlur(3),
          RandomResizedCrop(6), RandomRotation(30), RandomGrayscale(0.5),
          Compose([RandomCrop(8, padding=1), RandomHorizontalFlip(), ToTensor(), RandomErasing(0.7, value="random")])]


@pytest.mark.parametrize("transform", RANDOM, ids=lambda t: type(t).__name__)
def test_a_batch_given_its_streams_draws_them_without_any_context(transform):
    with rng.sample_randomness(7, 2, 30, len(IMAGES)):
        expected = transform.apply_batch(IMAGES)
    given = transform.apply_batch(IMAGES, rng.sample_randomness(7, 2, 30, len(IMAGES)))  # no block entered
    np.testing.assert_array_equal(given, expected)
    other = transform.apply_batch(IMAGES, rng.sample_randomness(8, 2, 30, len(IMAGES)))
    assert not np.array_equal(other, expected)


def refuse_the_adapter(monkeypatch):
    """From now on, a transform drawing without the randomness handed in (from the loader's context) fails."""
    handed_in_only = rng.draws

    def draws(n, source=None, randomness=None):
        if randomness is None:
            raise AssertionError("a batched transform asked the context for its draws")
        return handed_in_only(n, source, randomness)

    monkeypatch.setattr(rng, "draws", draws)


def test_the_loader_hands_image_datasets_their_streams_the_adapter_is_not_used(monkeypatch):
    dataset = ImageDataset(IMAGES, np.arange(12), transform=Compose([
        RandomCrop(8, padding=2), RandomHorizontalFlip(), ColorJitter(0.3), ToTensor(), Normalize(0.5, 0.2)]))

    def epoch():
        return [batch[0] for batch in DataLoader(dataset, batch_size=5, shuffle=True, generator=3)]

    expected = epoch()

    refuse_the_adapter(monkeypatch)
    for got, want in zip(epoch(), expected):
        np.testing.assert_array_equal(got, want)


def test_image_dataset_get_batch_draws_the_randomness_it_is_given_outside_any_block():
    dataset = ImageDataset(IMAGES, np.arange(12), transform=Compose([RandomCrop(8, padding=2), RandomHorizontalFlip(),
                                                                     ToTensor()]))
    loader = DataLoader(dataset, batch_size=5, generator=3)
    first = next(iter(loader))[0]
    given = dataset.get_batch(np.arange(5), randomness=rng.sample_randomness(loader.seed, 0, 0, 5))
    np.testing.assert_array_equal(given[0], first)
    other = dataset.get_batch(np.arange(5), randomness=rng.sample_randomness(loader.seed, 1, 0, 5))
    assert not np.array_equal(other[0], first)


def test_a_subclass_overriding_get_batch_without_randomness_still_gets_the_loaders_draws():
    class Counted(ImageDataset):
        calls = 0

        def get_batch(self, indices):
            Counted.calls += 1
            return super().get_batch(indices)

    transform = Compose([RandomCrop(8, padding=2), RandomHorizontalFlip(), ToTensor()])
    counted, plain = (cls(IMAGES, np.arange(12), transform=transform) for cls in (Counted, ImageDataset))
    for got, want in zip(DataLoader(counted, batch_size=5, shuffle=True, generator=4),
                         DataLoader(plain, batch_size=5, shuffle=True, generator=4)):
        np.testing.assert_array_equal(got[0], want[0])
    assert Counted.calls == 3


def test_an_image_folder_batch_draws_the_randomness_it_is_given_as_from_a_block(tmp_path, isolated_cache):
    from PIL import Image

    from tinytorch.data import ImageFolder

    for i, image in enumerate(IMAGES):
        (tmp_path / "photos" / f"class{i % 3}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(tmp_path / "photos" / f"class{i % 3}" / f"{i}.png")
    folder = ImageFolder(tmp_path / "photos", transform=Compose([RandomCrop(8, padding=2), RandomHorizontalFlip(),
                                                                 ColorJitter(0.4), ToTensor()]), cache=True)
    indices = np.array([3, 0, 11, 5, 7])
    with rng.sample_randomness(7, 2, 30, len(indices)):
        expected = folder.get_batch(indices)[0]
    given = folder.get_batch(indices, randomness=rng.sample_randomness(7, 2, 30, len(indices)))[0]  # no block
    np.testing.assert_array_equal(given, expected)
    with rng.sample_randomness(8, 2, 30, len(indices)):  # the randomness handed in wins over the block around
        inside = folder.get_batch(indices, randomness=rng.sample_randomness(7, 2, 30, len(indices)))[0]
    np.testing.assert_array_equal(inside, expected)
    other = folder.get_batch(indices, randomness=rng.sample_randomness(8, 2, 30, len(indices)))[0]
    assert not np.array_equal(other, expected)


def test_the_loader_hands_a_cached_image_folder_its_streams(tmp_path, isolated_cache, monkeypatch):
    from PIL import Image

    from tinytorch.data import ImageFolder

    for i, image in enumerate(IMAGES):
        (tmp_path / "photos" / f"class{i % 2}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(tmp_path / "photos" / f"class{i % 2}" / f"{i}.png")
    transform = Compose([RandomCrop(8, padding=2), RandomHorizontalFlip(), ToTensor()])
    plain, cached = (ImageFolder(tmp_path / "photos", transform=transform, cache=cache) for cache in (False, True))
    loader = DataLoader(cached, batch_size=5, shuffle=True, generator=3, num_workers=2)
    assert loader.in_process  # one get_batch call per batch, kept in the main process
    expected = [batch[0] for batch in DataLoader(plain, batch_size=5, shuffle=True, generator=3)]

    refuse_the_adapter(monkeypatch)
    got = [batch[0] for batch in loader]
    assert len(got) == len(expected) == 3
    for x, want in zip(got, expected):
        np.testing.assert_array_equal(x, want)
