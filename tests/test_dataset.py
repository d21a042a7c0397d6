import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from tinytorch.data import (ChainDataset, ConcatDataset, DataLoader, Dataset, ImageDataset,
                            IterableDataset, Sampler, StackDataset, Subset, TensorDataset, random_split)
from tinytorch.data.dataset import has_batches


class Count(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_tensor_dataset_rows_and_batches():
    X, y = np.arange(20).reshape(10, 2), np.arange(10) * 3
    ds = TensorDataset(X, y)
    assert len(ds) == 10 and ds[2][0].tolist() == [4, 5] and ds[-1][1] == 27
    xb, yb = ds.get_batch([3, 1, -1])
    assert xb.tolist() == [[6, 7], [2, 3], [18, 19]] and yb.tolist() == [9, 3, 27]
    with pytest.raises(IndexError, match="out of range"):
        ds[10]
    with pytest.raises(IndexError):
        ds.get_batch([0, 10])
    with pytest.raises(TypeError, match="index must be an int"):
        ds[1.5]
    with pytest.raises(AssertionError, match="^Size mismatch between tensors"):  # torch's error and words
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_image_dataset_applies_transforms_per_sample_and_per_batch():
    data = np.arange(4 * 2 * 2, dtype=np.uint8).reshape(4, 2, 2)
    ds = ImageDataset(data, [0, 1, 2, 3], transform=lambda x: x * 2, target_transform=lambda t: t + 10)
    image, label = ds[1]
    assert image.tolist() == (data[1] * 2).tolist() and label == 11
    images, labels = ds.get_batch([1, 3])
    assert images.shape == (2, 2, 2) and labels.tolist() == [11, 13]
    assert ds.targets.dtype == np.int64
    with pytest.raises(ValueError, match="equally long"):
        ImageDataset(data, [0, 1])


def test_subset_concat_stack():
    base = TensorDataset(np.arange(10))
    sub = Subset(base, [9, 0, 4])
    assert [sub[i][0] for i in range(3)] == [9, 0, 4] and sub.get_batch([2, 0])[0].tolist() == [4, 9]
    cat = base + TensorDataset(np.arange(100, 103))
    assert isinstance(cat, ConcatDataset) and len(cat) == 13 and cat[10][0] == 100 and cat[-1][0] == 102
    with pytest.raises(IndexError):
        cat[13]
    stack = StackDataset(base, TensorDataset(np.arange(10) * 2))
    assert stack[3] == ((3,), (6,))
    named = StackDataset(x=base, y=TensorDataset(np.arange(10) * 2))
    assert named[3] == {"x": (3,), "y": (6,)}
    with pytest.raises(ValueError, match="Size mismatch between datasets"):  # torch's words
        StackDataset(base, TensorDataset(np.arange(3)))
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(x=base, y=TensorDataset(np.arange(3)))
    with pytest.raises(ValueError, match="but both types are given"):
        StackDataset(base, y=base)
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([base, Count(2)])


def test_subset_has_batches_exactly_when_its_dataset_does():
    """Decided when asked (`has_batches`): it follows the dataset, and a subclass's __getitem__."""
    assert not has_batches(Subset([1, 2, 3], [0]))
    assert has_batches(Subset(TensorDataset(np.arange(4)), [0]))
    subset = Subset([1, 2, 3], [2, 0])
    subset.dataset = TensorDataset(np.arange(10, 13))
    assert has_batches(subset) and subset.get_batch([0, 1])[0].tolist() == [12, 10]

    class Doubled(Subset):
        def __getitem__(self, i):
            return super().__getitem__(i) * 2

    assert not has_batches(Doubled(TensorDataset(np.arange(4)), [1]))


def test_datasets_and_samplers_are_generic_as_torchs():
    class Ints(Dataset[int]):
        def __getitem__(self, i):
            return i

    assert Ints()[3] == 3 and issubclass(Ints, Dataset)
    for generic in (Dataset, IterableDataset, Subset, ConcatDataset, StackDataset, DataLoader, Sampler):  # as torch
        assert generic[int] is not None and generic[int].__origin__ is generic


def test_chain_of_iterable_datasets():
    chained = Count(2) + Count(3)
    assert isinstance(chained, ChainDataset) and list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5
    lazy = ChainDataset([Count(1), [1, 2]])  # as torch: built, then refused when iterated or measured
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(lazy)
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        len(lazy)


@given(st.integers(0, 200), st.lists(st.integers(0, 50), min_size=1, max_size=5), st.integers(0, 2**32))
def test_random_split_by_counts_partitions(n_extra, counts, seed):
    n = sum(counts)
    parts = random_split(range(n), counts, generator=seed)
    assert [len(p) for p in parts] == counts
    flat = [i for p in parts for i in p.indices]
    assert sorted(flat) == list(range(n))
    assert [p.indices for p in random_split(range(n), counts, generator=seed)] == [p.indices for p in parts]


@given(st.integers(0, 500), st.lists(st.integers(1, 10), min_size=1, max_size=5))
def test_random_split_by_fractions_follows_torch_remainder_rule(n, weights):
    fractions = [w / sum(weights) for w in weights]
    assume(abs(sum(fractions) - 1) <= 1e-12 and sum(fractions) <= 1)
    parts = random_split(range(n), fractions, generator=0)
    floors = [int(np.floor(n * f)) for f in fractions]
    expected = [floor + (1 if i < n - sum(floors) else 0) for i, floor in enumerate(floors)]
    assert [len(p) for p in parts] == expected
    assert sorted(i for p in parts for i in p.indices) == list(range(n))


def test_random_split_errors():
    with pytest.raises(ValueError, match="does not equal"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(range(10), [-1, 11])


def test_subset_batches_follow_reassigned_indices():
    sub = Subset(TensorDataset(np.arange(10)), [9, 0, 4])
    assert sub.get_batch([0, 2])[0].tolist() == [9, 4]
    sub.indices = [1, 2, 3]
    assert sub.get_batch([0, 2])[0].tolist() == [1, 3]


def assert_same_rows(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_tensor_dataset_takes_slices_lists_and_arrays_like_torch():
    X, y = np.arange(20).reshape(10, 2), np.arange(10) * 3
    ds = TensorDataset(X, y)
    assert_same_rows(ds[1:3], (X[1:3], y[1:3]))
    assert_same_rows(ds[[0, 2]], (X[[0, 2]], y[[0, 2]]))
    assert_same_rows(ds[np.array([4, -1])], (X[[4, 9]], y[[4, 9]]))
    assert_same_rows(ds[range(2)], (X[:2], y[:2]))
    assert_same_rows(ds[::-3], (X[::-3], y[::-3]))


def test_slicing_of_subset_of_dataset():
    """torch's test_slicing_of_subset_of_dataset, on NumPy."""
    dataset = TensorDataset(np.array([1, 2, 3, 4, 5]))
    subset_of_dataset = Subset(dataset, [0, 1, 2, 3, 4])
    assert_same_rows(subset_of_dataset[:], dataset[:])
    assert_same_rows(subset_of_dataset[1:2], dataset[1:2])
    assert_same_rows(subset_of_dataset[0:-1:2], dataset[0:-1:2])
    subset1, subset2 = random_split(dataset, [3, 2], generator=0)
    assert_same_rows(subset1[:], dataset[subset1.indices[:]])
    assert_same_rows(subset1[0:2], dataset[subset1.indices[0:2]])
    assert_same_rows(subset1[0:-1:2], dataset[subset1.indices[0:-1:2]])
    assert_same_rows(subset2[[1, 0]], dataset[[subset2.indices[1], subset2.indices[0]]])


def test_stack_dataset_getitems_matches_getitem():
    class Counting(TensorDataset):
        calls = 0

        def __getitems__(self, indices):
            Counting.calls += 1
            return [self[i] for i in indices]

    a, b = Counting(np.arange(10)), TensorDataset(np.arange(10) * 2)
    stack = StackDataset(a, b)
    assert stack.__getitems__([3, 1]) == [stack[3], stack[1]] and Counting.calls == 1
    named = StackDataset(x=a, y=b)
    assert named.__getitems__([0, 9, 9]) == [named[0], named[9], named[9]]
    assert stack.__getitems__([]) == []

    class Short(TensorDataset):
        def __getitems__(self, indices):
            return [self[i] for i in indices[1:]]

    with pytest.raises(ValueError, match=r"Nested dataset's output size mismatch. Expected 2, got 1 \(from Short"):
        StackDataset(a, Short(np.arange(10))).__getitems__([0, 1])


def test_a_subset_subclass_that_overrides_getitem_is_fetched_through_it():
    from tinytorch.data import DataLoader
    from tinytorch.data.transforms import RandomHorizontalFlip

    class Flipped(Subset):
        """The pattern of many PyTorch tutorials: a transform applied in a Subset subclass's __getitem__."""

        flip = RandomHorizontalFlip(p=1.0)

        def __getitem__(self, index):
            image, label = super().__getitem__(index)
            return self.flip(image), label

    images = np.arange(6 * 2 * 3, dtype=np.uint8).reshape(6, 2, 3)
    flipped = Flipped(ImageDataset(images, np.arange(6)), [5, 1, 2])
    assert not has_batches(flipped)
    expected = [images[5, :, ::-1], images[1, :, ::-1], images[2, :, ::-1]]
    assert_same_rows([image for image, _ in flipped.__getitems__([0, 1, 2])], expected)
    batch, labels = next(iter(DataLoader(flipped, batch_size=3)))
    assert_same_rows(batch, expected)
    assert labels.tolist() == [5, 1, 2]



@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 30), data=st.data())
def test_image_datasets_gather_rows_as_indexing_does(tmp_path_factory, n, data):
    """`datasets.base.rows` (ImageDataset's and a cached ImageFolder's batch gather) is `data[indices]`: the same
    values, negatives from the end, a plain array from a memory-mapped one, IndexError out of range."""
    from tinytorch.data.datasets.base import rows

    images = np.arange(n * 6, dtype=np.uint8).reshape(n, 2, 3)
    indices = np.array(data.draw(st.lists(st.integers(-n, n - 1), max_size=10)), dtype=np.int64)
    np.testing.assert_array_equal(rows(images, indices), images[indices])
    path = tmp_path_factory.mktemp("rows") / "images.npy"
    np.save(path, images)
    got = rows(np.load(path, mmap_mode="r"), indices)
    assert type(got) is np.ndarray and got.shape == (len(indices), 2, 3)
    np.testing.assert_array_equal(got, images[indices])
    with pytest.raises(IndexError, match=f"index {n} is out of bounds"):
        rows(images, np.array([0, n]))
