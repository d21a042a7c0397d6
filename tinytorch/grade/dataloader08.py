"""The checks of module 08 (DataLoader): each part of the student's file against tinytorch.data on generated cases.

Each check grades one concept and uses the reference for every other part: the loader checks run the student's
DataLoader with the reference collate and len() (harness/dataloader08.py swaps them in), on datasets whose samples
carry their index and a label derived from it, so a batch says which samples it holds. The expected answer is
computed here, from the inputs as generated, before the student's code sees its own copy of them. Orders are not
compared with the reference's random stream, only with what every correct loader shares (coverage, labels that stay
with their samples, a new order each epoch, the same orders for the same seed, other orders for other seeds).
"""
from __future__ import annotations

import math
import struct
import tempfile
from pathlib import Path

import numpy as np

import tinytorch.data as reference
from tinytorch.data.datasets.storage.idx import DTYPES as IDX_DTYPES
from tinytorch.data.datasets.storage.idx import read_idx as reference_read_idx
from tinytorch.data.transforms import Normalize, RandomHorizontalFlip

from . import Check
from .harness import dataloader08 as harness
from .harness.wire import Opaque, Shared

# ---- asking the student's code ---------------------------------------------------------------------------------

def ask(op: str, **inputs) -> tuple:
    """A request to the submission: the harness's operation `op` (harness/dataloader08.py) on `inputs`. A check is a
    generator that yields its requests and receives each answer: `got = yield ask("collate", samples=samples)`."""
    return op, inputs


# ---- comparing answers ------------------------------------------------------------------------------------------

def differs(got, expected, what: str = "the batch") -> str | None:
    """None when `got` has the structure, shapes, dtypes and values of `expected`, else the first difference (with
    both shapes and dtypes whenever those differ)."""
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"{what} should be a tuple of {len(expected)} fields, got {kind(got)}"
        return next(filter(None, (differs(g, e, f"{what}[{i}]") for i, (g, e) in enumerate(zip(got, expected)))), None)
    expected = np.asarray(expected)
    if not isinstance(got, np.ndarray):
        return f"{what} should be a NumPy array of dtype {expected.dtype} and shape {expected.shape}, got {kind(got)}"
    if got.shape != expected.shape or got.dtype.str[1:] != expected.dtype.str[1:]:  # dtype whatever the byte order
        return f"{what} has shape {got.shape} and dtype {got.dtype}, expected shape {expected.shape} and dtype " \
               f"{expected.dtype}"
    agree = np.equal(got, expected)
    if expected.dtype.kind == "f":
        agree |= np.isnan(got) & np.isnan(expected)
    return first_difference(got, expected, what, agree)


def close(got, expected, what: str) -> str | None:
    """None when `got` is a float32 array of `expected`'s shape, equal to 1e-4."""
    if not isinstance(got, np.ndarray) or got.shape != expected.shape or got.dtype != np.float32:
        return f"{what} should be a float32 array of shape {expected.shape}, got {kind(got)}"
    return first_difference(got, expected, what, np.isclose(got, expected, rtol=1e-4, atol=1e-4))


def first_difference(got, expected, what: str, agree) -> str | None:
    wrong = np.argwhere(~np.asarray(agree))
    if not len(wrong):
        return None
    index = tuple(int(i) for i in wrong[0])
    return f"{what}[{', '.join(map(str, index))}] is {got[index]!r}, expected {expected[index]!r} " \
           f"({len(wrong)} of {expected.size} elements differ)"


def kind(value) -> str:
    """What a value is, for a message: an array's shape and dtype, else its type and a short repr."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}: {short(value)}"
    if isinstance(value, Opaque):
        return f"a {value.kind}: {value.text}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} ({', '.join(kind(v).split(':')[0] for v in value[:3])})"
    return f"{type(value).__name__} {short(value)}"


def short(value) -> str:
    text = np.array2string(value.ravel(), threshold=8, edgeitems=3) if isinstance(value, np.ndarray) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


# ---- Part 1: TensorDataset ----------------------------------------------------------------------------------------

def random_array(rng, n: int, dtypes=("float32", "uint8", "int64", "float64")) -> np.ndarray:
    shape = (n, *(int(d) for d in rng.integers(1, 4, size=rng.integers(0, 3))))
    return (rng.random(shape) * 100).astype(rng.choice(dtypes))


def tensor_dataset_cases(rng) -> list[dict]:
    cases = [{"n": int(rng.integers(1, 40)), "arrays": int(rng.integers(1, 4)), "seed": int(rng.integers(2**31))}
             for _ in range(16)]
    return sorted(cases, key=lambda case: (case["n"], case["arrays"]))


def tensor_inputs(case):
    rng = np.random.default_rng(case["seed"])
    arrays = [random_array(rng, case["n"]) for _ in range(case["arrays"])]
    items = sorted({0, case["n"] - 1, int(rng.integers(case["n"]))})
    return arrays, items, rng.integers(0, case["n"], size=rng.integers(3, 2 * case["n"] + 4))


def tensor_rows(case):
    arrays, items, _ = tensor_inputs(case)
    expected, got = reference.TensorDataset(*arrays), (yield ask("tensor_dataset", arrays=arrays, items=items))
    if got["len"] != len(expected):
        return f"len(dataset) is {got['len']!r}, expected {len(expected)}"
    return next(filter(None, (differs(g, expected[i], f"dataset[{i}]") for i, g in zip(items, got["items"]))), None)


def tensor_get_batch(case, as_lists=False):
    arrays, _, indices = tensor_inputs(case)
    given = [np.asarray(array.tolist()) for array in arrays] if as_lists else arrays  # what lists hold: int64, float64
    expected = reference.TensorDataset(*given).get_batch(indices)
    got = (yield ask("tensor_dataset", arrays=arrays, items=[], batch=indices, as_lists=as_lists))
    problem = differs(got["batch"], expected, f"get_batch({indices.tolist()})")
    if problem or as_lists:
        return problem
    if got["element_by_element"]:
        return f"get_batch({indices.tolist()}) went through the indices one by one (a Python loop or one indexing " \
               "per element): the values are right, but that is the slow path get_batch exists to avoid"
    return None


def tensor_from_lists(case):
    return (yield from tensor_get_batch(case, as_lists=True))


def tensor_unequal(case):
    rng = np.random.default_rng(case["seed"])
    arrays = [random_array(rng, case["n"]) for _ in range(case["arrays"])] + [random_array(rng, case["n"] + 1)]
    if (yield ask("unequal_tensor_dataset", arrays=arrays))["raised"]:
        return None
    return f"TensorDataset of arrays with {case['n']} and {case['n'] + 1} rows should raise ValueError"


# ---- Part 2: collate ---------------------------------------------------------------------------------------------

def collate_cases(rng) -> list[dict]:
    kinds = ["array", "int", "float"]
    cases = [{"samples": int(rng.integers(1, 9)), "fields": [str(rng.choice(kinds)) for _ in range(rng.integers(1, 4))],
              "seed": int(rng.integers(2**31))} for _ in range(20)]
    cases += [{"samples": int(rng.integers(1, 9)), "fields": "one array, not a tuple", "seed": int(rng.integers(2**31))}
              for _ in range(4)]
    return sorted(cases, key=lambda case: (case["samples"], len(case["fields"])))


def collate_samples(case) -> list:
    rng = np.random.default_rng(case["seed"])
    if case["fields"] == "one array, not a tuple":
        return list(random_array(rng, case["samples"]))
    columns = [random_array(rng, case["samples"]) if field == "array" else
               rng.integers(0, 10, case["samples"]).tolist() if field == "int" else
               rng.normal(size=case["samples"]).tolist() for field in case["fields"]]
    return [tuple(column[i] for column in columns) for i in range(case["samples"])]


def collate(case):
    samples = collate_samples(case)
    expected = reference.default_collate(samples)
    return differs((yield ask("collate", samples=samples))["batch"], expected, "collate(samples)")


# ---- Part 3: DataLoader ------------------------------------------------------------------------------------------

def loader_cases(rng, drop_last=(False, True), min_visited=0, whole_batches=False, shuffle=True, seeds=()) -> list:
    """DataLoader cases, smallest first: fixed edge cases then random sizes, both kinds of dataset. With
    `whole_batches`, n is rounded to a multiple of the batch size; `min_visited` keeps the cases whose epoch visits
    at least that many samples; `seeds` are tried first (e.g. 0)."""
    sizes = [(1, 1), (2, 1), (3, 2), (4, 2), (5, 2), (2, 3), (7, 3), (9, 3), (10, 4), (12, 5), (16, 16), (17, 16)]
    sizes += [(int(rng.integers(1, 120)), int(rng.integers(1, 33))) for _ in range(12)]
    if whole_batches:
        sizes = [(max(n - n % b, b), b) for n, b in sizes]
    cases = [{"n": n, "batch_size": b, "drop_last": drop_last[i % len(drop_last)], "shuffle": shuffle,
              "seed": int(rng.integers(2**31)), "epochs": int(rng.integers(2, 5)),
              "shape": [int(s) for s in rng.integers(1, 4, size=rng.integers(1, 3))],
              "dataset": str(rng.choice(["with get_batch", "one by one"]))} for i, (n, b) in enumerate(sizes)]
    cases = [case for case in cases if (n_kept(case) >= min_visited)]
    cases = sorted(cases, key=lambda case: (case["n"], case["batch_size"]))
    for case, seed in zip(cases, seeds):
        case["seed"] = seed
    return cases


def n_kept(case) -> int:
    """How many samples an epoch of the case visits."""
    return case["n"] - case["n"] % case["batch_size"] if case["drop_last"] else case["n"]


def run_loader(case, runs, **options) -> dict:
    return (yield ask("loader", n=case["n"], shape=case["shape"], batched=case["dataset"] == "with get_batch",
                  batch_size=case["batch_size"], drop_last=case["drop_last"], shuffle=case["shuffle"], runs=runs,
                  **options))


def epochs_plan(case) -> list:
    return ["epoch"] * case["epochs"]


def reference_batches(case) -> list:
    data = harness.samples(case["n"], case["shape"], case["dataset"] == "with get_batch")[0]
    return list(reference.DataLoader(data, case["batch_size"], drop_last=case["drop_last"]))


def ids(batch):
    """The sample indices that a batch of the harness's samples holds (from the first feature of each), or None
    when the batch is not (features array, labels array)."""
    if not isinstance(batch, (tuple, list)) or len(batch) != 2 or not all(isinstance(f, np.ndarray) for f in batch):
        return None
    features = batch[0]
    return features.reshape(len(features), -1)[:, 0].astype(np.int64).tolist() if len(features) else []


def orders(epochs) -> list[list[int]]:
    """The sample order of each epoch (a list of batches); a batch that is not (features, labels) gives [-1]."""
    return [[i for batch in batches for i in (ids(batch) if ids(batch) is not None else [-1])] for batches in epochs]


def loader_length(case):
    got = (yield from run_loader(case, [{"seed": case["seed"], "plan": ["len"]}], own_len=True))["runs"][0]["steps"][0]
    expected = len(reference_batches(case))
    return None if got == expected else f"len(loader) is {got!r}, expected {expected}"


def batches_in_order(case):
    expected = reference_batches(case)
    got = (yield from run_loader(case, [{"seed": case["seed"], "plan": ["epoch"]}]))["runs"][0]["steps"][0]
    if len(got) != len(expected):
        return f"{len(got)} batches, expected {len(expected)}"
    return next(filter(None, (differs(g, e, f"batch {i}") for i, (g, e) in enumerate(zip(got, expected)))), None)


def one_call_per_batch(case):
    expected = [ids(batch) for batch in reference_batches(case)]
    got = (yield from run_loader(case, [{"seed": case["seed"], "plan": ["epoch"]}]))
    calls = [indices.tolist() for indices in got["get_batch_calls"]]
    if got["getitem_calls"] or calls != expected:
        shown = calls if len(str(calls)) < 200 else f"{str(calls)[:197]}..."
        return f"an epoch called get_batch with {shown} and dataset[i] {got['getitem_calls']} times; expected " \
               f"get_batch once per batch with that batch's indices, {expected}, and dataset[i] never"
    return None


def batch_sizes(case):
    expected = [len(batch[1]) for batch in reference_batches(case)]
    got = (yield from run_loader(case, [{"seed": case["seed"], "plan": ["epoch"]}]))["runs"][0]["steps"][0]
    sizes = [len(batch[1]) if isinstance(batch, (tuple, list)) and len(batch) == 2 else None for batch in got]
    return None if sizes == expected else f"batch sizes {sizes}, expected {expected}"


def shuffled_epochs(case) -> list[list[int]]:
    got = yield from run_loader(case, [{"seed": case["seed"], "plan": epochs_plan(case)}])
    return orders(got["runs"][0]["steps"])


def shuffled_coverage(case):
    for number, order in enumerate((yield from shuffled_epochs(case))):
        kept = n_kept(case)
        if len(order) != kept or len(set(order)) != len(order) or not set(order) <= set(range(case["n"])):
            return f"epoch {number} visits samples {order}: expected {kept} different samples of 0..{case['n'] - 1}"
    return None


def labels_with_samples(case):
    steps = (yield from run_loader(case, [{"seed": case["seed"], "plan": epochs_plan(case)}]))["runs"][0]["steps"]
    for number, batches in enumerate(steps):
        for position, batch in enumerate(batches):
            found = ids(batch)
            if found is None:
                return f"epoch {number}, batch {position} is {kind(batch)}, expected (features, labels)"
            expected = harness.label_of(np.array(found, dtype=np.int64))
            if not np.array_equal(batch[1], expected):
                return f"epoch {number}, batch {position} holds samples {found} with labels {batch[1].tolist()}; " \
                       f"their labels are {expected.tolist()}"
    return None


def new_order_each_epoch(case):
    found = (yield from shuffled_epochs(case))
    for number in range(1, len(found)):
        if found[number] == found[number - 1]:
            return f"epochs {number - 1} and {number} have the same order {found[number]}"
    return None


def epoch_cut_short(case):
    seed = case["seed"]
    got = yield from run_loader(case, [{"seed": seed, "plan": ["epoch", "epoch"]},
                                       {"seed": seed, "plan": ["cut", "epoch"]}, {"seed": seed, "plan": ["two"]}])
    whole, cut, two = (run["steps"] for run in got["runs"])
    if orders([cut[1]]) != orders([whole[1]]):
        return f"after an epoch stopped at its first batch, the next epoch has the order {orders([cut[1]])[0]}; the " \
               f"second epoch of a loader with the same seed has {orders([whole[1]])[0]}: the epoch counter must " \
               "move on when the epoch starts, not when it ends"
    if orders(two[0]) != orders(whole):
        return f"two iterators taken before either is read give the orders {orders(two[0])}; two epochs one after " \
               f"the other give {orders(whole)}: each iter() must be an epoch of its own"
    return None


def same_seed_same_orders(case):
    seed, plan = case["seed"], epochs_plan(case)
    drawing = [step for epoch in plan for step in (["draw", 3], epoch)]
    runs = (yield from run_loader(case, [{"seed": seed, "plan": plan}, {"seed": seed, "plan": plan},
                                     {"seed": seed, "plan": drawing}]))["runs"]
    first, again, drawn = (orders(run["steps"]) for run in runs)
    if first != again:
        return f"two loaders with seed={seed} gave the orders {first} and {again}"
    if drawn != first:
        return f"with seed={seed}, other code drawing from np.random between epochs changed the orders from {first} " \
               f"to {drawn}"
    return None


def other_seeds_other_orders(case):
    seed = case["seed"]
    runs = (yield from run_loader(case, [{"seed": seed, "plan": ["epoch"] * 2}, {"seed": seed + 1, "plan": ["epoch"]},
                                     {"seed": None, "plan": ["epoch"]}, {"seed": None, "plan": ["epoch"]}]))["runs"]
    (first, second), (other,), (fresh,), (fresh_again,) = (orders(run["steps"]) for run in runs)
    if other == first:
        return f"seed={seed} and seed={seed + 1} gave the same order {first}"
    if other == second:
        return f"the second epoch of seed={seed} has the order of the first epoch of seed={seed + 1}, {other}: " \
               "seed and epoch must not be added together"
    if fresh == fresh_again:
        return f"two loaders without a seed gave the same order {fresh}: seed=None should draw a fresh seed"
    return None


def global_state_untouched(case):
    runs = yield from run_loader(case, [{"seed": case["seed"], "plan": epochs_plan(case)},
                                        {"seed": None, "plan": ["epoch"]}], watch_global=True)
    if any(run["global_state_changed"] for run in runs["runs"]):
        return "creating or iterating the loader changed np.random's global state"
    return None


# ---- Part 4: IDX files ---------------------------------------------------------------------------------------------

def idx_cases(rng) -> list[dict]:
    codes = list(IDX_DTYPES)
    cases = [{"shape": tuple(int(d) for d in rng.integers(0 if rng.random() < 0.1 else 1, 7, size=ndim)),
              "type code": hex(codes[0] if rng.random() < 0.5 else int(rng.choice(codes))),
              "seed": int(rng.integers(2**31))}
             for ndim in rng.integers(1, 5, size=20)]
    cases += [{"shape": (int(rng.integers(256, 700)), 28, 28), "type code": "0x8", "seed": 1}]  # MNIST-like, dims > 255
    return sorted(cases, key=lambda case: (sum(case["shape"]), len(case["shape"])))


def idx_bytes(case) -> bytes:
    """An IDX file of random values with the case's shape and type code."""
    rng, code = np.random.default_rng(case["seed"]), int(case["type code"], 16)
    array = (rng.random(case["shape"]) * 200 - (0 if code == 0x08 else 100)).astype(IDX_DTYPES[code])
    header = bytes([0, 0, code, len(case["shape"])]) + struct.pack(f">{len(case['shape'])}I", *case["shape"])
    return header + array.tobytes()


def reference_idx(data: bytes):
    """tinytorch.data's reading of the IDX bytes `data` (through one temporary file), or the exception it raises."""
    with tempfile.NamedTemporaryFile(suffix="-idx-ubyte") as file:
        file.write(data)
        file.flush()
        try:
            return np.array(reference_read_idx(Path(file.name)))
        except Exception as error:
            return error


def as_uint8(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8).copy()


def idx_reads(case):
    data = idx_bytes(case)
    expected = reference_idx(data)
    return differs((yield ask("read_idx", data=as_uint8(data)))["array"], expected, "read_idx(data)")


def damaged_idx_cases(rng) -> list[dict]:
    damages = ["one byte short", "one byte too many", "half the data", "first byte not zero", "unknown type code",
               "header cut short"]
    cases = [dict(case, damage=damage) for case, damage in zip(idx_cases(rng)[-12:], damages * 2)]
    return sorted(cases, key=lambda case: sum(case["shape"]))


def damaged_idx(case):
    data = idx_bytes(case)
    data = {"one byte short": data[:-1], "one byte too many": data + b"\0", "first byte not zero": b"\1" + data[1:],
            "half the data": data[: 4 + 4 * len(case["shape"]) + (len(data) - 4 - 4 * len(case["shape"])) // 2],
            "unknown type code": data[:2] + b"\x07" + data[3:], "header cut short": data[:6]}[case["damage"]]
    if not isinstance(reference_idx(data), Exception):
        return None  # not damaged after all (e.g. half of no data); nothing to refuse
    if (yield ask("damaged_idx", data=as_uint8(data)))["raised"]:
        return None
    return f"read_idx accepted a damaged file ({case['damage']}) instead of raising ValueError"


# ---- Part 5: Normalizer --------------------------------------------------------------------------------------------

def image_cases(rng, count=12) -> list[dict]:
    cases = [{"shape": (int(rng.integers(2, 30)), int(rng.integers(1, 4)), int(rng.integers(1, 7)),
                        int(rng.integers(1, 7))),
              "seed": int(rng.integers(2**31))} for _ in range(count)]
    return sorted(cases, key=lambda case: math.prod(case["shape"]))


def images(shape, rng, centre=0.0) -> np.ndarray:
    """float32 images (N, C, H, W) whose channels have their own mean (around `centre`) and spread."""
    means = centre + rng.uniform(-5, 5, size=(1, shape[1], 1, 1))
    return (means + rng.uniform(0.5, 3, size=(1, shape[1], 1, 1)) * rng.normal(size=shape)).astype(np.float32)


def statistics(x) -> tuple:
    return x.mean(axis=(0, 2, 3), dtype=np.float64), x.std(axis=(0, 2, 3), dtype=np.float64)


def reference_normalized(fit_on, x) -> np.ndarray:
    """`x` standardised by tinytorch.data's Normalize with the statistics of `fit_on`, image by image."""
    normalize = Normalize(*statistics(fit_on))
    return np.stack([normalize(image) for image in x])


def normalizer(case):
    x = images(case["shape"], np.random.default_rng(case["seed"]))
    (mean, std), expected = statistics(x), reference_normalized(x, x)
    got = (yield ask("normalizer", x=x))
    if "fit_returned" in got:
        return f"Normalizer().fit(x) returned {got['fit_returned']}, expected the Normalizer itself (return self)"
    for name, value in (("mean", mean), ("std", std)):
        found = got[name]
        if not isinstance(found, np.ndarray) or found.shape != value.shape:
            return f"Normalizer().fit(x).{name} should be an array of shape {value.shape} (one per channel), got " \
                   f"{kind(found)}"
        if not np.allclose(found, value, rtol=1e-4, atol=1e-6):
            return f"Normalizer().fit(x).{name} is {short(found)}, expected {short(value)}"
    return close(got["out"], expected, "Normalizer().fit(x)(x)")


def splits(case):
    rng = np.random.default_rng(case["seed"])
    return images(case["shape"], rng), images(case["shape"], rng, centre=20.0)


def normalized_splits(case):
    train, test = splits(case)
    expected = reference_normalized(train, train), reference_normalized(train, test)
    got = (yield ask("normalize_splits", train=train, test=test))["out"]
    if not isinstance(got, tuple) or len(got) != 2:
        return f"normalize_splits should return (train, test), got {kind(got)}"
    return close(got[0], expected[0], "normalize_splits(train, test)[0]") or \
        close(got[1], expected[1], "normalize_splits(train, test)[1]")


# ---- Part 6: random horizontal flip ----------------------------------------------------------------------------------

def flip_cases(rng, ndims=(4,)) -> list[dict]:
    cases = [{"images": (int(rng.integers(32, 65)), *(int(d) for d in rng.integers(1, 5, size=ndim - 2)),
                         int(rng.integers(2, 6))),
              "p": [0.0, 1.0, 0.5, 0.3, 0.7, 0.5][number % 6], "seed": int(rng.integers(2**31))}
             for number, ndim in enumerate(list(ndims) * (12 // len(ndims)))]
    return sorted(cases, key=lambda case: (math.prod(case["images"]), len(case["images"])))


def flip_batch(case):
    """Distinct images none of which is its own mirror, and labels 0..N-1 in a shuffled order."""
    rng = np.random.default_rng(case["seed"])
    pictures = rng.random(case["images"], dtype=np.float32)
    pictures[..., 0] += 2  # the left column stands out: a mirrored image never equals the original
    return pictures, rng.permutation(case["images"][0])


def flipped_kinds(got, pictures) -> tuple | str:
    """(which images came back as they were, which mirrored), or what is wrong with `got`."""
    if not isinstance(got, np.ndarray) or got.shape != pictures.shape:
        return f"the images should come back as an array of shape {pictures.shape}, got {kind(got)}"
    flip = RandomHorizontalFlip(p=1.0)
    mirrored = np.stack([flip(image) for image in pictures]) if pictures.ndim == 4 else pictures[..., ::-1]
    axes = tuple(range(1, pictures.ndim))
    same, flipped = (got == pictures).all(axis=axes), (got == mirrored).all(axis=axes)
    if not (same | flipped).all():
        return f"image {np.flatnonzero(~(same | flipped))[0]} is neither the original nor its left-right mirror"
    return same, flipped


def flipped(case, pictures, labels):
    """The images that the student's flip of `pictures` gave back (with the case's seed and p)."""
    out = (yield ask("flip", images=pictures, labels=labels, seed=case["seed"], p=case["p"]))["out"]
    return out[0] if isinstance(out, tuple) and len(out) == 2 else out


def flip_each_image(case):
    pictures, labels = flip_batch(case)
    first = (yield from flipped(case, pictures, labels))
    found = flipped_kinds(first, pictures)
    if isinstance(found, str):
        return found
    mirrored = found[1]
    expected = {0.0: "none", 1.0: "all"}.get(case["p"], "some but not all")
    count = int(mirrored.sum())
    got_kind = "none" if count == 0 else "all" if count == len(mirrored) else "some but not all"
    if got_kind != expected:
        return f"p={case['p']} flipped {count} of {len(mirrored)} images, expected {expected}"
    if not np.array_equal(first, (yield from flipped(case, pictures, labels))):
        return "two calls with generators of the same seed flipped different images: draw from the rng you are given"
    return None


def flip_any_axes(case):
    pictures, labels = flip_batch(case)
    found = flipped_kinds((yield from flipped(case, pictures, labels)), pictures)
    return found if isinstance(found, str) else None


def flip_leaves_labels(case):
    pictures, labels = flip_batch(case)
    got = (yield ask("flip", images=pictures, labels=labels, seed=case["seed"], p=case["p"]))["out"]
    if not isinstance(got, tuple) or len(got) != 2:
        return f"random_horizontal_flip should return (images, labels), got {kind(got)}"
    return differs(got[1], labels, "the labels")


# ---- inputs, every part ----------------------------------------------------------------------------------------

def input_cases(rng) -> list[dict]:
    parts = ["TensorDataset", "collate", "DataLoader", "Normalizer", "normalize_splits", "random_horizontal_flip"]
    return [{"part": part, "seed": int(rng.integers(2**31))} for _ in range(3) for part in parts]


def inputs_unchanged(case):
    """Each part on inputs shared with the submission's interpreter (`Shared`): the grading process itself reads
    them back after the answer. The harness's own comparison counts too (it is all the notebook has)."""
    rng, part = np.random.default_rng(case["seed"]), case["part"]
    shape = (int(rng.integers(2, 9)), int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(2, 5)))
    if part == "TensorDataset":
        inputs = {"arrays": [Shared(random_array(rng, 6)), Shared(random_array(rng, 6))], "items": [0, 5],
                  "batch": [5, 0, 2]}
    elif part == "collate":
        inputs = {"samples": [(Shared(array), label) for array, label in collate_samples(
            {"samples": 4, "fields": ["array", "int"], "seed": case["seed"]})]}
    elif part == "DataLoader":
        batched = bool(rng.random() < 0.5)
        inputs = {"n": 10, "shape": [2], "batched": batched, "batch_size": 3, "drop_last": False, "own_len": True,
                  "own_collate": True, "runs": [{"seed": case["seed"], "plan": ["epoch", "epoch"]}],
                  "data": [Shared(array) for array in harness.samples(10, [2], batched)[1:3]]}
    elif part == "Normalizer":
        x = images(shape, rng)
        inputs = {"x": Shared(x), "applied": Shared(x)}
    elif part == "normalize_splits":
        inputs = {"train": Shared(images(shape, rng)), "test": Shared(images(shape, rng)), "own_normalizer": True}
    else:
        pictures, labels = flip_batch({"images": shape, "seed": case["seed"]})
        inputs = {"images": Shared(pictures), "labels": Shared(labels), "seed": case["seed"], "p": 0.5}
    got = yield ask(INPUT_OPS.get(part, part), **inputs)
    written = [name for name, value in inputs.items() for item in (value if isinstance(value, list) else [value])
               for shared in (item if isinstance(item, tuple) else (item,)) if isinstance(shared, Shared)
               and shared.written()]
    if written or got["changed"]:
        return f"{part} wrote into the arrays it was given" + (f" ({', '.join(sorted(set(written)))})" if written
                                                               else "")
    return None


INPUT_OPS = {"TensorDataset": "tensor_dataset", "DataLoader": "loader", "Normalizer": "normalizer",
             "random_horizontal_flip": "flip"}


# ---- Part 7: time_epoch ----------------------------------------------------------------------------------------

def time_epoch_cases(rng) -> list[dict]:
    return [{"loader": "epochs of 60, 20 and 40 ms on a virtual clock", "durations": [0.06, 0.02, 0.04], "repeats": 3},
            {"loader": "epochs of 50 and 30 ms on a virtual clock", "durations": [0.05, 0.03], "repeats": 2},
            {"loader": "batched or one by one", "n": 4000, "width": 64, "batch_size": 64}]


def time_epoch(case):
    if "durations" in case:
        got = (yield ask("time_epoch_timed", durations=case["durations"], repeats=case["repeats"]))
        value, expected = got["value"], min(case["durations"][:case["repeats"]])
        if isinstance(value, np.ndarray) and value.ndim == 0:  # a NumPy scalar
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return f"time_epoch returned {kind(value)}, expected a number of seconds (a float)"
        if got["finished"] != case["repeats"] or got["started"] != case["repeats"]:
            return f"time_epoch(loader, repeats={case['repeats']}) started {got['started']} epochs and finished " \
                   f"{got['finished']}: run `repeats` whole epochs"
        if not math.isclose(value, expected, rel_tol=1e-6):
            took = ", ".join(map(str, case["durations"]))
            return f"time_epoch returned {value:.6g} for epochs that took {took} s: " \
                   f"expected the shortest, {expected} (in seconds, not milliseconds)"
        return None
    got = (yield ask("time_epoch_batched", n=case["n"], width=case["width"], batch_size=case["batch_size"]))
    if not got["batched"] < got["one_by_one"]:
        return f"time_epoch says an epoch fetched one NumPy call per batch took {got['batched']!r} s and one fetched " \
               f"sample by sample {got['one_by_one']!r} s: the batched one is several times faster"
    return None


# ---- end to end: the TinyDigits MLP of milestones/03_1986_mlp through the student's loader ---------------------------

TARGET = 0.85  # the milestone's target accuracy
E2E_EPOCHS = 4


def end_to_end_cases(rng) -> list[dict]:
    return [{"dataset": "TinyDigits", "batch_size": 32, "epochs": E2E_EPOCHS, "seed": int(rng.integers(2**31))}]


def end_to_end(case):
    from tinytorch import nn
    from tinytorch.nn import Tensor
    from tinytorch.nn.functional import cross_entropy

    train, test = reference.TinyDigits(train=True), reference.TinyDigits(train=False)
    x, y = train.data.reshape(len(train), -1).astype(np.float32), np.asarray(train.targets, dtype=np.int64)
    got = (yield ask("training_batches", images=x, labels=y, batch_size=case["batch_size"], seed=case["seed"],
                 epochs=case["epochs"]))["epochs"]
    nn.manual_seed(case["seed"] % 1000)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = nn.Adam(model.parameters(), lr=0.005)
    for number, batches in enumerate(got):
        for position, batch in enumerate(batches):
            if ids(batch) is None or batch[0].shape[1:] != (64,) or batch[1].dtype.kind not in "iu" \
                    or len(batch[0]) != len(batch[1]):
                return f"epoch {number}, batch {position} is {kind(batch)}, expected (images (B, 64) float32, " \
                       "labels (B,) int64)"
            loss = cross_entropy(model(Tensor(batch[0].astype(np.float32))), batch[1].astype(np.int64))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    x_test = test.data.reshape(len(test), -1).astype(np.float32)
    accuracy = float((model(Tensor(x_test)).data.argmax(axis=1) == np.asarray(test.targets)).mean())
    if accuracy < TARGET:
        return f"the MLP trained for {case['epochs']} epochs on your loader's batches reaches {accuracy:.1%} test " \
               f"accuracy; the target is {TARGET:.0%} (tinytorch.data's loader reaches it)"
    return None


# ---- the checks, in the module's order -----------------------------------------------------------------------------

ROWS = "TensorDataset: rows as samples"
GET_BATCH = "TensorDataset: get_batch in one indexing call"
IN_ORDER = "DataLoader: batches in order without shuffle"
COVERAGE = "DataLoader: a shuffled epoch visits every sample once"
SAME_SEED = "DataLoader: the same seed, the same orders"
NORMALIZER = "Normalizer: per-channel statistics"
FLIP = "random_horizontal_flip: each image on its own"
MIRROR = "random_horizontal_flip: mirrors along the width (2-D, 3-D and 4-D images)"


SIZES = ("DataLoader: the last partial batch", "DataLoader: drop_last=True")


def loader_check(name, hint, cases, run, needs=(IN_ORDER,)):
    return Check(name, hint, cases, run, part="DataLoader", needs=needs)


CHECKS = [
    Check(ROWS, "TensorDataset(X, y) keeps the arrays: len(dataset) is their number of rows and dataset[i] is "
          "(X[i], y[i])", tensor_dataset_cases, tensor_rows, part="TensorDataset"),
    Check(GET_BATCH,
          "get_batch(indices) is (X[indices], y[indices]): one NumPy indexing call per array with the whole index "
          "array, never a Python loop or one indexing per element", tensor_dataset_cases, tensor_get_batch,
          part="TensorDataset", needs=(ROWS,)),
    Check("TensorDataset: lists become arrays",
          "convert each argument with np.asarray: TensorDataset([[0, 1], [2, 3]], [0, 1]) must serve get_batch too, "
          "and a Python list cannot be indexed with an index array", tensor_dataset_cases, tensor_from_lists,
          part="TensorDataset", needs=(ROWS, GET_BATCH)),
    Check("TensorDataset: arrays of different lengths are refused",
          "arrays with different numbers of rows raise ValueError (saying the lengths)", tensor_dataset_cases,
          tensor_unequal, part="TensorDataset"),
    Check("collate: a list of samples -> one batch",
          "collate each field of the tuples on its own: arrays stacked on a new first axis (dtype kept), Python ints "
          "-> int64 (labels stay integers), Python floats -> float64", collate_cases, collate, part="collate"),
    Check("DataLoader: len(loader)",
          "len(loader) is the number of batches in an epoch: ceil(n / b), or n // b with drop_last=True",
          lambda rng: loader_cases(rng, shuffle=False), loader_length, part="DataLoader"),
    loader_check(IN_ORDER,
                 "without shuffle, batch k holds samples k*b .. k*b+b-1 in order: slices of the epoch's order, each "
                 "fetched", lambda rng: loader_cases(rng, drop_last=(False,), whole_batches=True, shuffle=False),
                 batches_in_order,
                 needs=()),
    loader_check("DataLoader: the last partial batch",
                 "the last partial batch is dropped only with drop_last=True: n samples in batches of b give "
                 "ceil(n / b) batches, the last holding n % b",
                 lambda rng: loader_cases(rng, drop_last=(False,), shuffle=False), batch_sizes),
    loader_check("DataLoader: drop_last=True", "drop_last=True drops the last partial batch: n // b batches, all full",
                 lambda rng: loader_cases(rng, drop_last=(True,), shuffle=False), batch_sizes),
    loader_check("DataLoader: one get_batch call per batch",
                 "a dataset with get_batch gives a whole batch in one call: call it once per batch, with exactly that "
                 "batch's indices, instead of dataset[i] for each sample or get_batch of more than the batch",
                 lambda rng: [dict(case, dataset="with get_batch")
                              for case in loader_cases(rng, drop_last=(False,), shuffle=False)[::2]],
                 one_call_per_batch, needs=(IN_ORDER, *SIZES)),
    loader_check(COVERAGE,
                 "shuffle=True visits a permutation of the samples each epoch: every sample exactly once (with "
                 "drop_last, the samples left over are the ones dropped)", loader_cases, shuffled_coverage,
                 needs=(IN_ORDER, *SIZES)),
    loader_check("DataLoader: labels stay with their samples",
                 "shuffle the indices, never the data: fetch every field of a batch at the same indices, so that each "
                 "label stays with its sample", loader_cases, labels_with_samples),
    loader_check("DataLoader: a new order every epoch",
                 "shuffle=True draws a new order each epoch: iterating the loader again must not repeat the last "
                 "order (move the epoch counter on, or keep drawing from the same generator)",
                 lambda rng: loader_cases(rng, min_visited=10), new_order_each_epoch, needs=(COVERAGE,)),
    loader_check(SAME_SEED,
                 "the same seed (0 included: test `seed is None`, not `if seed`) gives the same order in every epoch, "
                 "even when other code draws random numbers in between: the order must come from the seed (e.g. "
                 "np.random.default_rng([seed, epoch])), never from np.random's global state",
                 lambda rng: loader_cases(rng, min_visited=10, seeds=(0, 0, 1)), same_seed_same_orders,
                 needs=(COVERAGE,)),
    loader_check("DataLoader: another seed, other orders",
                 "another seed gives other orders, and no epoch of one seed repeats an epoch of another: mix seed and "
                 "epoch as two numbers (np.random.default_rng([seed, epoch])), not seed + epoch; seed=None draws a "
                 "fresh seed", lambda rng: loader_cases(rng, min_visited=10), other_seeds_other_orders,
                 needs=(COVERAGE,)),
    loader_check("DataLoader: np.random's global state untouched",
                 "the loader never seeds or draws from np.random's global generator (np.random.seed, "
                 "np.random.shuffle, np.random.permutation): the rest of the program owns it; use a Generator of your "
                 "own, np.random.default_rng(...)", lambda rng: loader_cases(rng, min_visited=10)[::3],
                 global_state_untouched, needs=(COVERAGE,)),
    loader_check("DataLoader: an epoch cut short, and iter() twice",
                 "each iter(loader) is a new epoch, even when the previous one was not read to its end: move the "
                 "epoch counter on when the epoch starts (in __iter__, before the batches), not after its last batch",
                 lambda rng: loader_cases(rng, min_visited=10)[::2], epoch_cut_short, needs=(SAME_SEED,)),
    Check("read_idx: IDX files of any shape and type",
          "IDX: two zero bytes, the type code, ndim, then ndim big-endian uint32 dimensions (np.frombuffer with "
          "dtype '>u4'), then the data as IDX_DTYPES[type code] with that shape", idx_cases, idx_reads,
          part="read_idx"),
    Check("read_idx: damaged files are refused",
          "a file whose data is not exactly product(shape) items long, or whose first bytes are not 0, 0 and a known "
          "type code, is damaged: raise ValueError", damaged_idx_cases, damaged_idx, part="read_idx"),
    Check(NORMALIZER,
          "fit: one mean and one (population) std per channel, over samples and pixels (axes 0, 2, 3), and return "
          "self; calling the Normalizer gives (x - mean) / std as float32", image_cases, normalizer, part="Normalizer"),
    Check("normalize_splits: statistics from the training split",
          "fit the Normalizer on the training split only, then apply those statistics to both splits: the test split "
          "must not influence the preprocessing", image_cases, normalized_splits, part="Normalizer"),
    Check(MIRROR,
          "mirroring is images[..., ::-1], along the last axis (the width), whatever the number of axes: select the "
          "images to flip with the mask (images[chosen]) rather than broadcasting a mask shaped for (N, C, H, W)",
          lambda rng: flip_cases(rng, ndims=(2, 3, 4)), flip_any_axes, part="random_horizontal_flip"),
    Check(FLIP,
          "each image is mirrored on its own with probability p (one draw per image from the rng given, e.g. "
          "rng.random(n) < p), not the whole batch at once", flip_cases, flip_each_image, part="random_horizontal_flip",
          needs=(MIRROR,)),
    Check("random_horizontal_flip: labels untouched",
          "the flip mirrors the images only (along the width, the last axis): labels come back as they were given",
          flip_cases, flip_leaves_labels, part="random_horizontal_flip"),
    Check("every part leaves its inputs unchanged",
          "never write into the arrays you are given (they may be the dataset's own memory, or the caller's): compute "
          "new ones, x - mean rather than x -= mean", input_cases, inputs_unchanged, part="inputs",
          needs=(ROWS, "collate: a list of samples -> one batch", IN_ORDER, NORMALIZER,
                 "normalize_splits: statistics from the training split", FLIP)),
    Check("time_epoch: seconds of the fastest epoch",
          "time_epoch runs `repeats` whole epochs and returns the shortest in seconds (time.perf_counter() before and "
          "after a loop over the loader), so that a batched loader measures faster than one going sample by sample",
          time_epoch_cases, time_epoch, part="time_epoch"),
    Check("end to end: the TinyDigits MLP trained through your loader",
          f"milestones/03_1986_mlp: an MLP trained for {E2E_EPOCHS} epochs on batches of your TensorDataset and "
          f"shuffled DataLoader reaches {TARGET:.0%} test accuracy, as with tinytorch.data",
          end_to_end_cases, end_to_end, part="end to end",
          needs=(ROWS, GET_BATCH, IN_ORDER, COVERAGE,
                 "DataLoader: labels stay with their samples", "DataLoader: a new order every epoch")),
]

PARTS = ["TensorDataset", "collate", "DataLoader", "read_idx", "Normalizer", "random_horizontal_flip", "time_epoch"]
