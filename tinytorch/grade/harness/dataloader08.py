"""Module 08's operations in the submission's interpreter: each builds the inputs it is given into the objects a
check needs, calls the student's code, and returns what came back (plus what it observed: calls, changed inputs,
np.random's global state) as plain data. NumPy and the standard library only: tinytorch is not importable here.

The grading process imports this file too, for the one definition of the datasets the loader checks use.
"""
from __future__ import annotations

import itertools
import math
import time
import timeit

import numpy as np

# ---- datasets whose samples say who they are ------------------------------------------------------------------

def label_of(index):
    """The label of sample `index` (int or array): labels travel with their samples, so a batch can be checked."""
    return (np.asarray(index) * 7 + 3) % 10


def samples(n: int, shape, batched: bool, data=None) -> tuple:
    """(dataset, features, labels, calls): n samples (features, label), features (n, *shape) float32 whose first
    value is the sample's index, label `label_of(index)` as a Python int; served one by one, and with `batched` also
    a batch at a time by get_batch. `calls()` is (the number of dataset[i] calls, the indices of each get_batch
    call); `data` gives (features, labels) made beforehand. The data and the counters live in this call's
    closure: the dataset the student's loader is handed has no attribute to rewrite."""
    if data is None:
        rng = np.random.default_rng(n)
        features = rng.random((n, *shape), dtype=np.float32)
        features.reshape(n, -1)[:, 0] = np.arange(n)
        labels = label_of(np.arange(n)).astype(np.int64)
    else:  # these very arrays (shared with the grading process, which made them the same way)
        features, labels = data
    getitem_calls, get_batch_calls = [0], []

    class Samples:
        def __len__(self):
            return n

        def __getitem__(self, index):
            getitem_calls[0] += 1
            return features[index], int(labels[index])

    class BatchedSamples(Samples):
        def get_batch(self, indices):
            indices = np.asarray(indices)
            get_batch_calls.append(indices.astype(np.int64).ravel())
            return features[indices], labels[indices]

    return (BatchedSamples if batched else Samples)(), features, labels, lambda: (getitem_calls[0], get_batch_calls)


def collate(samples: list):
    """The reference collate (tinytorch.data.default_collate on NumPy arrays and Python numbers), for the checks
    that grade another part: a tuple per field, ints -> int64, floats -> float64, arrays stacked."""
    first = samples[0]
    if isinstance(first, tuple):
        return tuple(collate(list(field)) for field in zip(*samples))
    if isinstance(first, bool) or not isinstance(first, (int, float)):
        return np.stack(samples)
    return np.array(samples, dtype=np.int64 if isinstance(first, int) else np.float64)


# ---- what the operations share -------------------------------------------------------------------------------------

def copies(arrays) -> list:
    return [np.array(array, copy=True) for array in arrays]


def changed(arrays, pristine) -> bool:
    return not all(np.array_equal(a, b, equal_nan=True) for a, b in zip(arrays, pristine))


def fields(value):
    """A batch or sample as a tuple when it is a tuple or list (torch's collate gives lists), else as it is."""
    return tuple(value) if isinstance(value, (tuple, list)) else value


def watched(indices: np.ndarray, arrays: list) -> tuple:
    """`indices` as an index array that notices being walked element by element (iterated, or indexed with one
    integer), and `arrays` as arrays that count how often they are indexed; and a function giving (elements walked,
    indexings). The counters live in this call's closure, not on a class the student's code is handed."""
    walked, indexed = [0], [0]

    class Indices(np.ndarray):
        def __iter__(self):
            walked[0] += 1
            return super().__iter__()

        def __getitem__(self, key):
            if isinstance(key, (int, np.integer)):
                walked[0] += 1
            return super().__getitem__(key)

    class Counting(np.ndarray):
        def __getitem__(self, key):
            indexed[0] += 1
            return super().__getitem__(key)

    return indices.view(Indices), [array.view(Counting) for array in arrays], lambda: (walked[0], indexed[0])


# ---- Part 1: TensorDataset -----------------------------------------------------------------------------------------

def tensor_dataset(student, arrays, items, batch=None, as_lists=False):
    """TensorDataset(*arrays) (given as Python lists with `as_lists`): its len, the samples at `items`, and
    get_batch(batch) with whether it walked the indices element by element."""
    pristine = copies(arrays)
    dataset = student.TensorDataset(*(array.tolist() if as_lists else array for array in arrays))
    out = {"len": len(dataset), "items": [fields(dataset[int(i)]) for i in items]}
    if batch is not None:
        indices, counted = watch(dataset, np.asarray(batch, dtype=np.int64))
        out["batch"] = fields(dataset.get_batch(indices))
        walked, indexed = counted()
        out["element_by_element"] = walked > 0 or indexed > len(arrays)
    out["changed"] = changed(arrays, pristine)
    return out


def watch(dataset, indices: np.ndarray) -> tuple:
    """Every array the dataset keeps (as an attribute, or in a tuple or list attribute) swapped for a counting view:
    (the watched indices, the counters)."""
    kept = {name: value for name, value in getattr(dataset, "__dict__", {}).items() if type(value) is np.ndarray or (
        type(value) in (tuple, list) and value and all(type(array) is np.ndarray for array in value))}
    arrays = [array for value in kept.values() for array in (value if type(value) in (tuple, list) else [value])]
    indices, views, counted = watched(indices, arrays)
    views = iter(views)
    for name, value in kept.items():
        setattr(dataset, name, type(value)(next(views) for _ in value) if type(value) in (tuple, list)
                else next(views))
    return indices, counted


def unequal_tensor_dataset(student, arrays):
    """Whether TensorDataset(*arrays) raised ValueError (the arrays have different lengths)."""
    try:
        student.TensorDataset(*arrays)
    except ValueError:
        return {"raised": True}
    return {"raised": False}


# ---- Part 2: collate -----------------------------------------------------------------------------------------------

def collate_op(student, samples):
    pristine = copies(leaves(samples))
    batch = student.collate(samples)
    return {"batch": fields(batch), "changed": changed(leaves(samples), pristine)}


def leaves(samples) -> list:
    """Every field of every sample, as an array."""
    return [np.asarray(value) for sample in samples for value in (sample if isinstance(sample, tuple) else (sample,))]


# ---- Part 3: DataLoader --------------------------------------------------------------------------------------------

def loader(student, n, shape, batched, batch_size, drop_last, runs, shuffle=True, own_len=False, own_collate=False,
           watch_global=False, data=None):
    """Loaders of the student's DataLoader over one dataset, each run doing its plan; the parts the check does not
    grade are the reference's: len() (unless `own_len`) and collate (unless `own_collate`).

    A run is {"seed": s (None: no seed given), "plan": [...]}; a plan step is "len", "epoch" (the batches of one
    epoch, cut one past the expected count), "cut" (one batch, then the epoch is dropped), "two" (two iterators
    taken before either is read, then read in turn) or ["draw", k] (other code drawing k numbers from np.random).
    With `watch_global`, each run also says whether the loader changed np.random's global state."""
    data, features, labels, calls = samples(n, shape, batched, data)
    pristine = copies([features, labels])
    expected = n // batch_size if drop_last else math.ceil(n / batch_size)
    kind = student.DataLoader
    if not own_len:
        kind = type("DataLoader", (kind,), {"__len__": lambda self: expected})
    saved = getattr(student, "collate", None)
    if not own_collate:
        student.collate = collate
    try:
        results = [run_plan(kind, data, batch_size, drop_last, shuffle, run, expected, watch_global) for run in runs]
    finally:
        if not own_collate:
            student.collate = saved
    getitem_calls, get_batch_calls = calls()
    return {"runs": results, "getitem_calls": getitem_calls, "get_batch_calls": get_batch_calls,
            "changed": changed([features, labels], pristine)}


def run_plan(kind, data, batch_size, drop_last, shuffle, run, expected, watch_global):
    options = {"shuffle": shuffle, "drop_last": drop_last}
    if run["seed"] is not None:
        options["seed"] = run["seed"]
    steps, global_state_changed = [], False
    for step in ["make", *run["plan"]]:
        if isinstance(step, list):  # ["draw", k]: other code draws from np.random
            np.random.random(step[1])
            continue
        state = global_state() if watch_global else None
        if step == "make":
            loader = kind(data, batch_size, **options)
        elif step == "len":
            steps.append(len(loader))
        elif step == "epoch":
            steps.append([fields(batch) for batch in itertools.islice(iter(loader), expected + 1)])
        elif step == "cut":
            steps.append([fields(next(iter(loader)))])
        elif step == "two":
            first, second = iter(loader), iter(loader)
            steps.append([[fields(batch) for batch in itertools.islice(it, expected + 1)] for it in (first, second)])
        global_state_changed |= watch_global and not same_state(state, global_state())
    return {"steps": steps, "global_state_changed": bool(global_state_changed)}


def global_state() -> tuple:
    """np.random's global state, all of it: the key, the position in it, and the cached Gaussian (a draw of a few
    numbers moves only the position)."""
    _, key, position, has_gauss, gauss = np.random.get_state()
    return key.copy(), position, has_gauss, gauss


def same_state(a: tuple, b: tuple) -> bool:
    return np.array_equal(a[0], b[0]) and a[1:] == b[1:]


# ---- Part 4: read_idx ----------------------------------------------------------------------------------------------

def read_idx(student, data):
    return {"array": student.read_idx(data.tobytes())}


def damaged_idx(student, data):
    try:
        student.read_idx(data.tobytes())
    except ValueError:
        return {"raised": True}
    return {"raised": False}


# ---- Part 5: Normalizer --------------------------------------------------------------------------------------------

def normalizer(student, x, applied=None):
    """Normalizer().fit(x) then the fitted Normalizer called on `applied`, by default a fresh copy of x: a fit that
    writes into its input is graded by the inputs check only, not also here."""
    pristine, applied = copies([x]), np.array(x, copy=True) if applied is None else applied
    made = student.Normalizer()
    fitted = made.fit(x)
    if fitted is not made:
        return {"fit_returned": type(fitted).__name__, "changed": changed([x], pristine)}
    return {"mean": getattr(fitted, "mean", None), "std": getattr(fitted, "std", None), "out": fitted(applied),
            "changed": changed([x, applied], pristine * 2)}


class Normalizer:
    """The reference Normalizer (tinytorch.data's statistics and Normalize), for the check that grades
    normalize_splits: which split it fits on, not the student's Normalizer, which has a check of its own."""

    def fit(self, images):
        self.mean = images.mean(axis=(0, 2, 3), dtype=np.float64)
        self.std = images.std(axis=(0, 2, 3), dtype=np.float64)
        return self

    def __call__(self, images):
        return ((images - self.mean[:, None, None]) / self.std[:, None, None]).astype(np.float32)


def normalize_splits(student, train, test, own_normalizer=False):
    """normalize_splits(train, test) with the reference Normalizer in place of the student's (unless
    `own_normalizer`)."""
    pristine, saved = copies([train, test]), getattr(student, "Normalizer", None)
    if not own_normalizer:
        student.Normalizer = Normalizer
    try:
        out = fields(student.normalize_splits(train, test))
    finally:
        student.Normalizer = saved
    return {"out": out, "changed": changed([train, test], pristine)}


# ---- Part 6: random_horizontal_flip --------------------------------------------------------------------------------

def flip(student, images, labels, seed, p):
    pristine = copies([images, labels])
    out = student.random_horizontal_flip((images, labels), np.random.default_rng(seed), p=p)
    return {"out": fields(out), "changed": changed([images, labels], pristine)}


# ---- Part 7: time_epoch --------------------------------------------------------------------------------------------

class Clock:
    """A virtual clock that moves only when a `timed` loader serves a batch: time_epoch's result becomes exact,
    whatever the machine's load. It stands in for the time module (and its perf_counter, time, monotonic)."""

    def __init__(self):
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now

    time = monotonic = process_time = perf_counter

    def perf_counter_ns(self) -> int:
        return round(self.now * 1e9)

    time_ns = monotonic_ns = perf_counter_ns


def timed(durations, clock: Clock) -> tuple:
    """(a loader whose epoch e takes durations[e] seconds of `clock`, in 4 batches; a function giving how many epochs
    it started and finished). The durations and counters live in this call's closure, out of the student's reach."""
    started, finished = [0], [0]

    class Timed:
        def __iter__(self):
            duration = durations[started[0] % len(durations)]
            started[0] += 1
            for _ in range(4):
                clock.now += duration / 4
                yield np.zeros(1), np.zeros(1)
            finished[0] += 1

        def __len__(self):
            return 4

    return Timed(), lambda: (started[0], finished[0])


class Plain:
    """A minimal correct loader of (features, labels) in order: batched (one indexing per batch) or one by one."""

    def __init__(self, features, labels, batch_size, batched):
        self.features, self.labels, self.batch_size, self.batched = features, labels, batch_size, batched

    def __len__(self):
        return math.ceil(len(self.labels) / self.batch_size)

    def __iter__(self):
        for start in range(0, len(self.labels), self.batch_size):
            if self.batched:
                yield self.features[start:start + self.batch_size], self.labels[start:start + self.batch_size]
            else:
                rows = range(start, min(start + self.batch_size, len(self.labels)))
                yield collate([(self.features[i], int(self.labels[i])) for i in rows])


def time_epoch_timed(student, durations, repeats):
    """time_epoch on a `timed` loader, with the student's clock (the time module or its functions, however the file
    imported them, and timeit's default_timer) replaced by the loader's virtual one."""
    clock, swapped = Clock(), []
    for name in dir(student):
        value = getattr(student, name)
        function = next((function for function in CLOCK_FUNCTIONS if value is getattr(time, function)), None)
        if value is time or function:
            swapped.append((student, name, value))
            setattr(student, name, clock if value is time else getattr(clock, function))
    swapped.append((timeit, "default_timer", timeit.default_timer))
    timeit.default_timer = clock.perf_counter
    loader, epochs = timed(durations, clock)
    try:
        value = student.time_epoch(loader, repeats)
    finally:
        for owner, name, original in swapped:
            setattr(owner, name, original)
    started, finished = epochs()
    return {"value": value, "started": started, "finished": finished}


CLOCK_FUNCTIONS = ("perf_counter", "time", "monotonic", "process_time", "perf_counter_ns", "time_ns", "monotonic_ns")


def time_epoch_batched(student, n, width, batch_size):
    rng = np.random.default_rng(0)
    features, labels = rng.random((n, width), dtype=np.float32), rng.integers(0, 10, n)
    return {"batched": student.time_epoch(Plain(features, labels, batch_size, True), 5),
            "one_by_one": student.time_epoch(Plain(features, labels, batch_size, False), 5)}


# ---- end to end ----------------------------------------------------------------------------------------------

def training_batches(student, images, labels, batch_size, seed, epochs):
    """The batches of `epochs` shuffled epochs of the student's DataLoader over their TensorDataset(images, labels)."""
    loader = student.DataLoader(student.TensorDataset(images, labels), batch_size, shuffle=True, seed=seed)
    limit = math.ceil(len(labels) / batch_size) + 1
    return {"epochs": [[fields(batch) for batch in itertools.islice(iter(loader), limit)] for _ in range(epochs)]}


OPS = {"tensor_dataset": tensor_dataset, "unequal_tensor_dataset": unequal_tensor_dataset, "collate": collate_op,
       "loader": loader, "read_idx": read_idx, "damaged_idx": damaged_idx, "normalizer": normalizer,
       "normalize_splits": normalize_splits, "flip": flip, "time_epoch_timed": time_epoch_timed,
       "time_epoch_batched": time_epoch_batched, "training_batches": training_batches}
