"""A dataset's own `__getitems__` that calls its `__getitem__` (`[self[i] for i in indices]`) needs no change: inside
a batch's randomness block, each sample's chain of one-sample draws is matched to that sample in order, so it gets
the batches of the plain `__getitem__` path, whatever the wrappers, batch size or worker count."""
import multiprocessing

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from tinytorch.data import ConcatDataset, DataLoader, Dataset, StackDataset, Subset, random_split, rng
from tinytorch.data.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor

IMAGES = np.random.default_rng(1).integers(0, 256, size=(30, 8, 8, 3), dtype=np.uint8)
TIMEOUT = 60  # seconds; only reached if something is broken


class GetItem(Dataset):
    """Written for PyTorch: `__getitem__` crops and flips the image and adds noise to the label, one sample."""

    def __init__(self, n):
        self.images, self.transform = IMAGES[:n], Compose([RandomCrop(6, padding=2), RandomHorizontalFlip(),
                                                           ToTensor(), Normalize((0.5,) * 3, (0.2,) * 3)])

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i]), i + rng.draws(1).uniform_list(1)[0]


class InOrder(GetItem):
    """The common way to write `__getitems__`: the samples one after the other, nothing narrowed."""

    def __getitems__(self, indices):
        return [self[i] for i in indices]


def build(recipe, in_order: bool):
    """The dataset a recipe describes; with in_order=False, every InOrder leaf is a plain GetItem."""
    kind, first, second = recipe
    if kind == "kind":
        return (InOrder if in_order and first == "in_order" else GetItem)(second)
    if kind == "subset":
        inner = build(first, in_order)
        return Subset(inner, np.random.default_rng(second).permutation(len(inner))[: max(1, len(inner) - 3)].tolist())
    if kind == "split":
        return random_split(build(first, in_order), [0.5, 0.5], generator=second)[second % 2]
    left, right = build(first, in_order), build(second, in_order)
    if kind == "concat":
        return ConcatDataset([left, right])
    length = min(len(left), len(right))
    return StackDataset(Subset(left, range(length)), Subset(right, range(length)))


leaf = st.tuples(st.just("kind"), st.sampled_from(["in_order", "getitem"]), st.integers(4, 30))
recipes = st.recursive(leaf, lambda inner: st.one_of(
    st.tuples(st.just("subset"), inner, st.integers(0, 99)), st.tuples(st.just("split"), inner, st.integers(0, 99)),
    st.tuples(st.just("stack"), inner, inner)), max_leaves=3)


def flat(batch):
    """The arrays of a collated batch, nested tuples flattened in order."""
    if isinstance(batch, (tuple, list)):
        return [array for part in batch for array in flat(part)]
    return [np.asarray(batch)]


def epoch(dataset, seed, batch_size, **kwargs):
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=seed, **kwargs)
    return [flat(batch) for _ in range(2) for batch in loader]


def assert_same(left, right):
    assert len(left) == len(right)
    for a, b in zip(left, right):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


@settings(max_examples=40, deadline=None)
@given(recipes, st.integers(1, 9), st.integers(0, 2**31))
@example(("kind", "in_order", 30), 4, 0)
@example(("stack", ("kind", "in_order", 9), ("kind", "in_order", 9)), 4, 1)  # two passes in one block
@example(("subset", ("concat", ("kind", "in_order", 5), ("kind", "in_order", 7)), 3), 5, 2)
def test_a_getitems_calling_getitem_gives_the_batches_of_the_plain_getitem_path(recipe, batch_size, seed):
    expected = epoch(build(recipe, in_order=False), seed, batch_size)
    assert_same(epoch(build(recipe, in_order=True), seed, batch_size), expected)
    assert_same(epoch(build(recipe, in_order=True), seed, batch_size), expected)  # reproducible
    assert_same(epoch(build(recipe, in_order=True), seed, None), epoch(build(recipe, in_order=False), seed, None))
    if len(build(recipe, in_order=True)) >= 3:  # another seed, other numbers
        other = epoch(build(recipe, in_order=True), seed + 1, batch_size)
        assert any(not np.array_equal(x[0], y[0]) for x, y in zip(other, expected))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="fork keeps worker start-up cheap")
@settings(max_examples=4, deadline=None)
@given(recipes, st.integers(1, 9), st.integers(0, 2**31), st.sampled_from([1, 2]))
@example(("subset", ("kind", "in_order", 30), 5), 4, 3, 2)
def test_with_workers_too(recipe, batch_size, seed, workers):
    expected = epoch(build(recipe, in_order=False), seed, batch_size)
    assert_same(epoch(build(recipe, in_order=True), seed, batch_size, num_workers=workers, timeout=TIMEOUT,
                      multiprocessing_context="fork"), expected)
    assert multiprocessing.active_children() == []


# A chain: the (source, how many numbers) of one sample's draws, in order. Its first source is not drawn again.
chains = st.lists(st.tuples(st.sampled_from("BCD"), st.integers(1, 12)), max_size=4).flatmap(
    lambda rest: st.integers(1, 12).map(lambda k: [("A", k)] + rest))


def draw_chain(chain, sources):
    return [rng.draws(1, sources[name]).uniform(k)[0].tolist() for name, k in chain]


@settings(max_examples=100, deadline=None)
@given(chains, st.integers(2, 6), st.integers(0, 2**40), st.integers(0, 3))
def test_draws_matched_in_order_are_the_draws_of_each_sample_narrowed(chain, n, seed, before):
    """Any chain of draws repeated sample after sample gets each sample's own numbers, and the block's later
    streams come after it, as after a loop narrowing each sample."""
    sources = {name: object() for name in "ABCD"}
    with rng.sample_randomness(seed, 2, 5, n):
        first = [rng.draws(n).uniform(2) for _ in range(before)]
        expected = rng.each_sample(lambda _: draw_chain(chain, sources), range(n))
        after = rng.draws(n).uniform(3)
    with rng.sample_randomness(seed, 2, 5, n):
        for i in range(before):
            np.testing.assert_array_equal(rng.draws(n).uniform(2), first[i])
        assert [draw_chain(chain, sources) for _ in range(n)] == expected
        np.testing.assert_array_equal(rng.draws(n).uniform(3), after)


def draw_each(chains_of_samples, n):
    sources = {name: object() for name in "ABCD"}
    with rng.sample_randomness(0, 0, 0, n):
        for chain in chains_of_samples:
            draw_chain(chain, sources)


MESSAGE = r"draws for 1 samples inside the randomness block of 3 samples .*cannot be matched to the samples: .*{}.*one_sample_randomness"


@pytest.mark.parametrize("chains_of_samples, reason", [
    ([[("A", 1), ("B", 1)], [("A", 1)], [("A", 1), ("B", 1)]], "sample 1 drew 1 times, sample 0 2 times"),
    ([[("A", 1), ("B", 1)], [("A", 1), ("C", 1)], [("A", 1), ("B", 1)]], "sample 1's draw 2 came from"),
    ([[("A", 1), ("B", 1)]] * 2 + [[("A", 1), ("B", 1), ("B", 1)]], r"only 1 of the 3 samples drew in a pass"),
    ([[("A", 1)]] * 4, "drew again after every sample had drawn"),
    ([[("A", 1), ("B", 1)]] * 2, r"only 2 of the 3 samples drew in a pass"),  # raised when the block ends
    ([[("A", 1), ("A", 1)]] * 3, "drew again after every sample had drawn"),
])
def test_draws_that_cannot_be_matched_to_samples_raise(chains_of_samples, reason):
    with pytest.raises(RuntimeError, match=MESSAGE.format(reason)):
        draw_each(chains_of_samples, 3)


def test_draws_for_another_count_raise_and_draws_naming_no_source_are_one_source():
    """rng does not guess the drawing function from the call stack: draws that name no source are one source, so two
    functions drawing per sample without naming themselves are refused, and matched once they name themselves."""
    with rng.sample_randomness(0, 0, 0, 3):
        with pytest.raises(RuntimeError, match="draws for 2 samples inside the randomness block of 3 samples"):
            rng.draws(2)

    def crop(source=None):
        return rng.draws(1, source).uniform_list(1)

    def flip(source=None):
        return rng.draws(1, source).uniform_list(2)

    with pytest.raises(RuntimeError, match="a draw that names no source drew again after every sample had drawn"):
        with rng.sample_randomness(0, 0, 0, 3):
            for _ in range(3):
                crop(), flip()
    with rng.sample_randomness(0, 0, 0, 3):
        named = [(crop(crop), flip(flip)) for _ in range(3)]
    with rng.sample_randomness(0, 0, 0, 3):
        assert rng.each_sample(lambda _: (crop(), flip()), range(3)) == named


class TwoViews(GetItem):
    """SimCLR-style: two augmented views of each image, one transform drawing twice per sample."""

    def __getitem__(self, i):
        return self.transform(self.images[i]), self.transform(self.images[i])


def test_two_views_of_a_sample_cannot_be_matched_in_order_and_narrowing_each_sample_fixes_it():
    """A transform drawing more than once per sample looks like the next sample beginning: [crop, flip, crop, flip]
    per sample, or [crop, flip] for twice as many samples. Every draw must be answered when it is made, so the
    matcher cannot wait to see which: it refuses, and the README's fix (narrow each sample) gives the batches of the
    plain `__getitem__` path."""
    class InOrderViews(TwoViews):
        def __getitems__(self, indices):
            return [self[i] for i in indices]

    class NarrowedViews(TwoViews):
        def __getitems__(self, indices):
            return [self.narrowed(place, i) for place, i in enumerate(indices)]

        def narrowed(self, place, i):
            with rng.one_sample_randomness(place):  # the README's fix
                return self[i]

    for batch_size in (4, 5):
        with pytest.raises(RuntimeError, match=r"RandomCrop drew again after every sample had drawn: it draws more "
                                               r"than once per sample \(two augmented views"):
            epoch(InOrderViews(12), 0, batch_size)
        expected = epoch(TwoViews(12), 0, batch_size)
        assert_same(epoch(NarrowedViews(12), 0, batch_size), expected)
        assert not np.array_equal(expected[0][0], expected[0][1])  # the two views differ


class ImagesThenLabels(GetItem):
    """All the images' transforms first, then all the labels' noise: two passes over the samples."""

    def __getitems__(self, indices):
        images = [self.transform(self.images[i]) for i in indices]
        return [(image, i + rng.draws(1).uniform_list(1)[0]) for image, i in zip(images, indices)]


def test_each_pass_over_the_samples_draws_after_the_previous_one_as_getitem_would():
    for batch_size in (2, 5):
        assert_same(epoch(ImagesThenLabels(20), 3, batch_size), epoch(GetItem(20), 3, batch_size))


def test_one_dataset_stacked_with_itself_draws_a_pass_per_part():
    """StackDataset(ds, ds): the second part's draws come from the same transforms as the first's; get_samples tells
    rng that a new pass over the samples begins, so this is not taken for samples drawing twice."""
    for batch_size in (1, 3, 4):
        plain, in_order = GetItem(12), InOrder(12)
        assert_same(epoch(StackDataset(in_order, in_order), 5, batch_size), epoch(StackDataset(plain, plain), 5, batch_size))


def test_the_old_getitems_error_still_comes_when_some_samples_do_not_draw():
    class FirstHalfOnly(GetItem):
        def __getitems__(self, indices):
            half = len(indices) // 2
            return [self[i] for i in indices[:half]] + [(self.images[i], i) for i in indices[half:]]

    with pytest.raises(RuntimeError, match=r"draws for 1 samples inside the randomness block of 4 samples.*"
                                           r"only 2 of the 4 samples drew.*one_sample_randomness"):
        next(iter(DataLoader(FirstHalfOnly(8), batch_size=4, generator=0, collate_fn=list)))
