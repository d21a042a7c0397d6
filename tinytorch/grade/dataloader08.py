"""The checks of module 08 (DataLoader): each part of the student's file against tinytorch.data on generated cases.

The loader checks feed the student's DataLoader datasets of the grader's own, whose sample i carries its index in
its first feature, so a batch tells which samples it holds. The reference is tinytorch.data: its DataLoader for the
batching rules, default_collate, TensorDataset, idx.read_idx, transforms.Normalize and RandomHorizontalFlip. Orders
are not compared with the reference's random stream: only what any correct loader shares with it (coverage, a new
order each epoch, the same orders for the same seed).
"""
from __future__ import annotations

import itertools
import math
import struct
import tempfile
from pathlib import Path

import numpy as np

import tinytorch.data as reference
from tinytorch.data.datasets.storage.idx import DTYPES as IDX_DTYPES, read_idx as reference_read_idx
from tinytorch.data.transforms import Normalize, RandomHorizontalFlip

from . import Check


# ---- what the checks share -------------------------------------------------------------------------------------

def differs(got, expected, what: str = "the batch") -> str | None:
    """None when `got` has the structure, shapes, dtypes and values of `expected`, else the first difference."""
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"{what} should be a tuple of {len(expected)} fields, got {type(got).__name__} {short(got)}"
        return next(filter(None, (differs(g, e, f"{what}[{i}]") for i, (g, e) in enumerate(zip(got, expected)))), None)
    expected = np.asarray(expected)
    if not isinstance(got, (np.ndarray, np.generic)):
        return f"{what} should be a NumPy array {expected.dtype} {expected.shape}, got {type(got).__name__} {short(got)}"
    if got.shape != expected.shape:
        return f"{what} has shape {got.shape}, expected {expected.shape}"
    if got.dtype.str[1:] != expected.dtype.str[1:]:  # the type, whatever the byte order
        return f"{what} has dtype {got.dtype}, expected {expected.dtype}"
    return first_difference(got, expected, what, np.equal(got, expected) | (np.isnan(got) & np.isnan(expected))
                            if expected.dtype.kind == "f" else np.equal(got, expected))


def first_difference(got, expected, what: str, agree) -> str | None:
    """None when every element agrees, else the first element that does not (arrays of one shape)."""
    wrong = np.argwhere(~np.asarray(agree))
    if not len(wrong):
        return None
    index = tuple(int(i) for i in wrong[0])
    return f"{what}[{', '.join(map(str, index))}] is {np.asarray(got)[index]}, expected {np.asarray(expected)[index]}" \
        f" ({len(wrong)} of {np.size(expected)} elements differ)"


def short(value) -> str:
    text = np.array2string(value.ravel(), threshold=8, edgeitems=3) if isinstance(value, np.ndarray) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


class Samples:
    """A map-style dataset of n samples (features, label) whose features[0] is the sample's index; one by one only."""

    def __init__(self, n: int, rng: np.random.Generator):
        shape = tuple(int(d) for d in rng.integers(1, 4, size=rng.integers(1, 3)))
        self.features = rng.random((n, *shape), dtype=np.float32)
        self.features.reshape(n, -1)[:, 0] = np.arange(n)
        self.labels = rng.integers(0, 10, n)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.features[index], int(self.labels[index])


class BatchedSamples(Samples):
    """The same samples, also served a batch at a time by get_batch; counts the calls of each kind."""

    def __init__(self, n: int, rng: np.random.Generator):
        super().__init__(n, rng)
        self.calls = {"get_batch": 0, "__getitem__": 0}

    def __getitem__(self, index):
        self.calls["__getitem__"] += 1
        return super().__getitem__(index)

    def get_batch(self, indices):
        self.calls["get_batch"] += 1
        indices = np.asarray(indices)
        return self.features[indices], self.labels[indices]


def dataset(case: dict) -> Samples:
    kind = BatchedSamples if case["dataset"] == "with get_batch" else Samples
    return kind(case["n"], np.random.default_rng(case["n"]))


def loader_cases(rng, drop_last=(False, True), min_visited=0, whole_batches=False) -> list[dict]:
    """DataLoader cases, smallest first: fixed edge cases then random sizes, both kinds of dataset. With
    `whole_batches`, n is rounded down to a multiple of the batch size; `min_visited` keeps the cases whose epoch
    visits at least that many samples."""
    sizes = [(1, 1), (2, 1), (3, 2), (4, 2), (5, 2), (2, 3), (7, 3), (9, 3), (10, 4), (12, 5), (16, 16), (17, 16)]
    sizes += [(int(rng.integers(1, 150)), int(rng.integers(1, 33))) for _ in range(24)]
    if whole_batches:
        sizes = [(max(n - n % b, b), b) for n, b in sizes]
    cases = [{"n": n, "batch_size": b, "drop_last": d, "seed": int(rng.integers(2**31)), "epochs": int(rng.integers(2, 5)),
              "dataset": str(rng.choice(["with get_batch", "one by one"]))}
             for n, b in sizes for d in drop_last if (n - n % b if d else n) >= min_visited]
    return sorted(cases, key=lambda case: (case["n"], case["batch_size"]))


def reference_loader(case: dict, data):
    return reference.DataLoader(data, case["batch_size"], drop_last=case["drop_last"])


def student_loader(student, case: dict, data, shuffle=False, seed=None):
    return student.DataLoader(data, case["batch_size"], shuffle=shuffle, drop_last=case["drop_last"],
                              seed=case["seed"] if seed is None else seed)


def epoch(loader, expected_batches: int) -> list:
    """The batches of one epoch, stopping one past the expected count (an endless loader is cut short)."""
    return list(itertools.islice(iter(loader), expected_batches + 1))


def ids(batch) -> list[int]:
    """The sample indices a batch of Samples holds (from the first feature of each sample)."""
    features = np.asarray(batch[0])
    return features.reshape(len(features), -1)[:, 0].astype(np.int64).tolist()


def epoch_order(loader, expected_batches: int) -> list[int]:
    """The sample indices one epoch of `loader` visits, in order."""
    return [i for batch in epoch(loader, expected_batches) for i in ids(batch)]


def epoch_ids(student, case, data, epochs: int, seed=None) -> list[list[int]]:
    """The sample order of each of `epochs` epochs of a shuffled student loader."""
    loader, expected = student_loader(student, case, data, shuffle=True, seed=seed), len(reference_loader(case, data))
    return [epoch_order(loader, expected) for _ in range(epochs)]


def batch_sizes(loader, expected_batches: int) -> list[int]:
    return [len(batch[1]) for batch in epoch(loader, expected_batches)]


# ---- TensorDataset and collate -----------------------------------------------------------------------------------

def random_array(rng, n: int, dtypes=("float32", "uint8", "int64", "float64")) -> np.ndarray:
    shape = (n, *(int(d) for d in rng.integers(1, 4, size=rng.integers(0, 3))))
    return (rng.random(shape) * 100).astype(rng.choice(dtypes))


def tensor_dataset_cases(rng) -> list[dict]:
    cases = [{"n": int(rng.integers(1, 40)), "arrays": int(rng.integers(1, 4)), "unequal": bool(rng.random() < 0.2),
              "seed": int(rng.integers(2**31))} for _ in range(30)]
    return sorted(cases, key=lambda case: (case["n"], case["arrays"]))


def tensor_dataset(student, case):
    rng = np.random.default_rng(case["seed"])
    arrays = [random_array(rng, case["n"]) for _ in range(case["arrays"])]
    if case["unequal"]:
        arrays.append(random_array(rng, case["n"] + 1))
        try:
            student.TensorDataset(*arrays)
        except ValueError:
            return None
        return f"TensorDataset of arrays with {case['n']} and {case['n'] + 1} rows should raise ValueError"
    yours, expected = student.TensorDataset(*arrays), reference.TensorDataset(*arrays)
    if len(yours) != len(expected):
        return f"len(dataset) is {len(yours)}, expected {len(expected)}"
    for index in sorted({0, case["n"] - 1, int(rng.integers(case["n"]))}):
        problem = differs(tuple(yours[index]), expected[index], f"dataset[{index}]")
        if problem:
            return problem
    indices = rng.integers(0, case["n"], size=rng.integers(1, 2 * case["n"] + 1))
    return differs(yours.get_batch(indices), expected.get_batch(indices), f"get_batch({indices.tolist()})")


def collate_cases(rng) -> list[dict]:
    kinds = ["array", "int", "float"]
    cases = [{"samples": int(rng.integers(1, 9)), "fields": [str(rng.choice(kinds)) for _ in range(rng.integers(1, 4))],
              "seed": int(rng.integers(2**31))} for _ in range(40)]
    cases += [{"samples": int(rng.integers(1, 9)), "fields": "one array, not a tuple", "seed": int(rng.integers(2**31))}
              for _ in range(5)]
    return sorted(cases, key=lambda case: (case["samples"], len(case["fields"])))


def collate(student, case):
    rng = np.random.default_rng(case["seed"])
    if case["fields"] == "one array, not a tuple":
        samples = list(random_array(rng, case["samples"]))
    else:
        columns = [random_array(rng, case["samples"]) if kind == "array" else
                   rng.integers(0, 10, case["samples"]).tolist() if kind == "int" else
                   rng.normal(size=case["samples"]).tolist() for kind in case["fields"]]
        samples = [tuple(column[i] for column in columns) for i in range(case["samples"])]
    return differs(student.collate(list(samples)), reference.default_collate(samples), "collate(samples)")


# ---- DataLoader ---------------------------------------------------------------------------------------------------

def batches_in_order(student, case):
    data = dataset(case)
    expected = list(reference_loader(case, data))
    got = epoch(student_loader(student, case, data), len(expected))
    if len(got) != len(expected):
        return f"{len(got)} batches, expected {len(expected)}"
    return next(filter(None, (differs(g, e, f"batch {i}") for i, (g, e) in enumerate(zip(got, expected)))), None)


def one_call_per_batch(student, case):
    data = BatchedSamples(case["n"], np.random.default_rng(case["n"]))
    batches = len(epoch(student_loader(student, case, data), len(reference_loader(case, data))))
    if data.calls != {"get_batch": batches, "__getitem__": 0}:
        return f"an epoch of {batches} batches called get_batch {data.calls['get_batch']} times and __getitem__ " \
               f"{data.calls['__getitem__']} times, expected {batches} and 0"
    return None


def same_batch_sizes(student, case):
    data = dataset(case)
    expected = batch_sizes(reference_loader(case, data), len(data))
    got = batch_sizes(student_loader(student, case, data), len(expected))
    return None if got == expected else f"batch sizes {got}, expected {expected}"


def length(student, case):
    data = dataset(case)
    got, expected = len(student_loader(student, case, data)), len(reference_loader(case, data))
    return None if got == expected else f"len(loader) is {got}, expected {expected}"


def shuffled_coverage(student, case):
    data = dataset(case)
    expected = batch_sizes(reference_loader(case, data), len(data))
    loader = student_loader(student, case, data, shuffle=True)
    for number in range(case["epochs"]):
        batches = epoch(loader, len(expected))
        if [len(batch[1]) for batch in batches] != expected:
            return f"epoch {number}: batch sizes {[len(batch[1]) for batch in batches]}, expected {expected}"
        order = [i for batch in batches for i in ids(batch)]
        if len(set(order)) != len(order) or not set(order) <= set(range(case["n"])):
            return f"epoch {number} visits samples {order}: some twice (or not from the dataset)"
        if not case["drop_last"] and sorted(order) != list(range(case["n"])):
            return f"epoch {number} visits samples {sorted(order)}, expected each of 0..{case['n'] - 1} once"
    return None


def new_order_each_epoch(student, case):
    orders = epoch_ids(student, case, dataset(case), case["epochs"])
    for number in range(1, case["epochs"]):
        if orders[number] == orders[number - 1]:
            return f"epochs {number - 1} and {number} have the same order {orders[number]}"
    return None


def seeded_orders(student, case):
    data = dataset(case)
    first, again = epoch_ids(student, case, data, case["epochs"]), epoch_ids(student, case, data, case["epochs"])
    if first != again:
        return f"two loaders with seed={case['seed']} gave different orders: {first[0]} and {again[0]} in epoch 0" \
            if first[0] != again[0] else f"two loaders with seed={case['seed']} agree in epoch 0 but not later"
    other = epoch_ids(student, case, data, epochs=1, seed=case["seed"] + 1)
    if other[0] == first[0]:
        return f"seed={case['seed']} and seed={case['seed'] + 1} gave the same order {first[0]}"
    unseeded = [student.DataLoader(data, case["batch_size"], shuffle=True, drop_last=case["drop_last"]) for _ in range(2)]
    orders = [epoch_order(loader, len(reference_loader(case, data))) for loader in unseeded]
    if orders[0] == orders[1]:
        return f"two loaders without a seed gave the same order {orders[0]}: seed=None should draw a fresh seed"
    return None


# ---- IDX files ---------------------------------------------------------------------------------------------------

def idx_cases(rng) -> list[dict]:
    codes = list(IDX_DTYPES)
    cases = [{"shape": tuple(int(d) for d in rng.integers(0 if rng.random() < 0.1 else 1, 7, size=ndim)),
              "type code": hex(codes[0] if rng.random() < 0.5 else int(rng.choice(codes))), "seed": int(rng.integers(2**31))}
             for ndim in rng.integers(1, 5, size=40)]
    cases += [{"shape": (int(rng.integers(256, 700)), 28, 28), "type code": "0x8", "seed": 1}]  # MNIST-like, dims > 255
    return sorted(cases, key=lambda case: (sum(case["shape"]), len(case["shape"])))


def idx_bytes(case) -> bytes:
    """An IDX file of random values with the case's shape and type code."""
    rng, code = np.random.default_rng(case["seed"]), int(case["type code"], 16)
    array = (rng.random(case["shape"]) * 200 - (0 if code == 0x08 else 100)).astype(IDX_DTYPES[code])
    header = bytes([0, 0, code, len(case["shape"])]) + struct.pack(f">{len(case['shape'])}I", *case["shape"])
    return header + array.tobytes()


def reference_idx(data: bytes):
    """tinytorch.data's reading of the IDX bytes `data`, or the exception it raises."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "file-idx-ubyte"
        path.write_bytes(data)
        try:
            return np.array(reference_read_idx(path))
        except Exception as error:
            return error


def idx_reads(student, case):
    data = idx_bytes(case)
    return differs(student.read_idx(data), reference_idx(data), "read_idx(data)")


def damaged_idx_cases(rng) -> list[dict]:
    damages = ["one byte short", "one byte too many", "half the data", "first byte not zero", "unknown type code",
               "header cut short"]
    cases = [dict(case, damage=damage) for case, damage in zip(idx_cases(rng)[-12:], damages * 2)]
    return sorted(cases, key=lambda case: sum(case["shape"]))


def damaged_idx(student, case):
    data = idx_bytes(case)
    data = {"one byte short": data[:-1], "one byte too many": data + b"\0", "first byte not zero": b"\1" + data[1:],
            "half the data": data[: 4 + 4 * len(case["shape"]) + (len(data) - 4 - 4 * len(case["shape"])) // 2],
            "unknown type code": data[:2] + b"\x07" + data[3:], "header cut short": data[:6]}[case["damage"]]
    if not isinstance(reference_idx(data), Exception):
        return None  # not damaged after all (e.g. half of no data); nothing to refuse
    try:
        student.read_idx(data)
    except ValueError:
        return None
    return f"read_idx accepted a damaged file ({case['damage']}) instead of raising ValueError"


# ---- Normalizer --------------------------------------------------------------------------------------------------

def image_cases(rng, count=30) -> list[dict]:
    cases = [{"shape": (int(rng.integers(2, 30)), int(rng.integers(1, 4)), int(rng.integers(1, 7)), int(rng.integers(1, 7))),
              "seed": int(rng.integers(2**31))} for _ in range(count)]
    return sorted(cases, key=lambda case: math.prod(case["shape"]))


def images(shape, rng, centre=0.0) -> np.ndarray:
    """float32 images (N, C, H, W) whose channels have their own mean (around `centre`) and spread."""
    means = centre + rng.uniform(-5, 5, size=(1, shape[1], 1, 1))
    return (means + rng.uniform(0.5, 3, size=(1, shape[1], 1, 1)) * rng.normal(size=shape)).astype(np.float32)


def reference_normalized(fit_on, x) -> np.ndarray:
    mean, std = fit_on.mean(axis=(0, 2, 3), dtype=np.float64), fit_on.std(axis=(0, 2, 3), dtype=np.float64)
    return Normalize(mean, std).apply_batch(x)


def close(got, expected, what: str) -> str | None:
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return f"{what} should be an array of shape {expected.shape}, got {short(got)}"
    if got.dtype != np.float32:
        return f"{what} has dtype {got.dtype}, expected float32"
    return first_difference(got, expected, what, np.isclose(got, expected, rtol=1e-4, atol=1e-4))


def normalizer(student, case):
    x = images(case["shape"], np.random.default_rng(case["seed"]))
    fitted = student.Normalizer().fit(x)
    mean, std = x.mean(axis=(0, 2, 3), dtype=np.float64), x.std(axis=(0, 2, 3), dtype=np.float64)
    for name, expected in (("mean", mean), ("std", std)):
        got = np.asarray(getattr(fitted, name, None), dtype=float)  # fit must return the Normalizer (self)
        if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-4, atol=1e-6):
            return f"Normalizer().fit(x).{name} is {short(got)}, expected {short(expected)} (one per channel)"
    return close(fitted(x), reference_normalized(x, x), "Normalizer().fit(x)(x)")


def normalized_splits(student, case):
    rng = np.random.default_rng(case["seed"])
    train, test = images(case["shape"], rng), images(case["shape"], rng, centre=20.0)
    got = student.normalize_splits(train, test)
    if not isinstance(got, tuple) or len(got) != 2:
        return f"normalize_splits should return (train, test), got {type(got).__name__}"
    return close(got[0], reference_normalized(train, train), "normalize_splits(train, test)[0]") or \
        close(got[1], reference_normalized(train, test), "normalize_splits(train, test)[1]")


# ---- random horizontal flip ----------------------------------------------------------------------------------------

def flip_cases(rng) -> list[dict]:
    cases = [{"images": (int(rng.integers(32, 65)), int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(2, 6))),
              "p": float(rng.choice([0.0, 1.0, 0.5, 0.5, 0.3, 0.7])), "seed": int(rng.integers(2**31))} for _ in range(20)]
    return sorted(cases, key=lambda case: math.prod(case["images"]))


def flip_batch(case):
    """Distinct images none of which is its own mirror, and labels 0..N-1 in a shuffled order."""
    rng = np.random.default_rng(case["seed"])
    pictures = rng.random(case["images"], dtype=np.float32)
    pictures[..., 0] += 2  # the left column stands out: a mirrored image never equals the original
    return pictures, rng.permutation(case["images"][0])


def flip_each_image(student, case):
    pictures, labels = flip_batch(case)
    got, _ = student.random_horizontal_flip((pictures.copy(), labels.copy()), np.random.default_rng(case["seed"]), p=case["p"])
    if not isinstance(got, np.ndarray) or got.shape != pictures.shape:
        return f"the images should come back as an array of shape {pictures.shape}, got {short(got)}"
    mirrored = RandomHorizontalFlip(p=1.0).apply_batch(pictures)
    same, flipped = (got == pictures).all(axis=(1, 2, 3)), (got == mirrored).all(axis=(1, 2, 3))
    if not (same | flipped).all():
        return f"image {np.flatnonzero(~(same | flipped))[0]} is neither the original nor its left-right mirror"
    expected = {0.0: "none", 1.0: "all"}.get(case["p"], "some but not all")
    count = int(flipped.sum())
    got_kind = "none" if count == 0 else "all" if count == len(flipped) else "some but not all"
    if got_kind != expected:
        return f"p={case['p']} flipped {count} of {len(flipped)} images, expected {expected}"
    again, _ = student.random_horizontal_flip((pictures.copy(), labels.copy()), np.random.default_rng(case["seed"]), p=case["p"])
    if not np.array_equal(again, got):
        return "two calls with generators of the same seed flipped different images: draw from the rng you are given"


def flip_leaves_labels(student, case):
    pictures, labels = flip_batch(case)
    given = (pictures.copy(), labels.copy())
    _, got = student.random_horizontal_flip(given, np.random.default_rng(case["seed"]), p=case["p"])
    if not np.array_equal(given[0], pictures):
        return "the images passed in were changed: return new arrays instead of writing into the batch"
    return differs(got, labels, "the labels")


# ---- the checks, in the module's order ----------------------------------------------------------------------------

CHECKS = [
    Check("TensorDataset: rows as samples, get_batch in one call",
          "TensorDataset(X, y)[i] is (X[i], y[i]); get_batch(indices) is (X[indices], y[indices]); arrays of "
          "different lengths raise ValueError", tensor_dataset_cases, tensor_dataset),
    Check("collate: a list of samples -> one batch",
          "collate each field of the tuples on its own: arrays stacked on a new first axis (dtype kept), Python ints "
          "-> int64 (labels stay integers), Python floats -> float64", collate_cases, collate),
    Check("DataLoader: batches in order without shuffle",
          "without shuffle, batch k holds samples k*b .. k*b+b-1 in order, fetched with get_batch when the dataset has "
          "it and collated one by one otherwise", lambda rng: loader_cases(rng, whole_batches=True), batches_in_order),
    Check("DataLoader: one get_batch call per batch",
          "a dataset with get_batch gives a whole batch in one call (one NumPy indexing call): call it once per "
          "batch, with the batch's indices, instead of dataset[i] for each sample",
          lambda rng: loader_cases(rng, drop_last=(False,)), one_call_per_batch),
    Check("DataLoader: the last partial batch",
          "the last partial batch is dropped only with drop_last=True: n samples in batches of b give ceil(n / b) "
          "batches, the last holding n % b", lambda rng: loader_cases(rng, drop_last=(False,)), same_batch_sizes),
    Check("DataLoader: drop_last=True",
          "drop_last=True drops the last partial batch: n // b batches, all full",
          lambda rng: loader_cases(rng, drop_last=(True,)), same_batch_sizes),
    Check("DataLoader: len(loader)",
          "len(loader) is the number of batches in an epoch: ceil(n / b), or n // b with drop_last=True",
          loader_cases, length),
    Check("DataLoader: a shuffled epoch visits every sample once",
          "shuffle=True visits a permutation of the samples each epoch: every sample exactly once (with drop_last, "
          "the samples left over are the ones dropped)", loader_cases, shuffled_coverage),
    Check("DataLoader: a new order every epoch",
          "shuffle=True draws a new order each epoch: iterating the loader again must not repeat the last order "
          "(move the epoch counter on, or keep drawing from the same generator)",
          lambda rng: loader_cases(rng, min_visited=10), new_order_each_epoch),
    Check("DataLoader: the same seed, the same orders",
          "the same seed gives the same order in every epoch, another seed other orders: the order must come from "
          "the seed (e.g. np.random.default_rng([seed, epoch])), never from np.random's global state; seed=None draws "
          "a fresh seed",
          lambda rng: loader_cases(rng, min_visited=10), seeded_orders),
    Check("read_idx: IDX files of any shape and type",
          "IDX: two zero bytes, the type code, ndim, then ndim big-endian uint32 dimensions (np.frombuffer with "
          "dtype '>u4'), then the data as IDX_DTYPES[type code] with that shape", idx_cases, idx_reads),
    Check("read_idx: damaged files are refused",
          "a file whose data is not exactly product(shape) items long, or whose first bytes are not 0, 0 and a known "
          "type code, is damaged: raise ValueError", damaged_idx_cases, damaged_idx),
    Check("Normalizer: per-channel statistics",
          "fit: one mean and one (population) std per channel, over samples and pixels (axes 0, 2, 3); calling the "
          "Normalizer gives (x - mean) / std as float32", image_cases, normalizer),
    Check("normalize_splits: statistics from the training split",
          "fit the Normalizer on the training split only, then apply those statistics to both splits: the test split "
          "must not influence the preprocessing", image_cases, normalized_splits),
    Check("random_horizontal_flip: each image on its own",
          "each image is mirrored on its own with probability p (one draw per image from the rng given, e.g. "
          "rng.random(n) < p), not the whole batch at once", flip_cases, flip_each_image),
    Check("random_horizontal_flip: labels untouched",
          "the flip mirrors the images only (along the width, the last axis): labels come back as they were given, "
          "and the arrays passed in are not written to", flip_cases, flip_leaves_labels),
]
