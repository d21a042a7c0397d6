"""Module 08's grader held to its promise with seeded faults: each file is the teacher's solution with one mistake
that students make; it must lose points on the check whose hint names that concept, and on no check of another
concept. Correct variants keep full marks. Every file is graded once, by the real grader (its own interpreter per
submission), two at a time.
"""
import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path

import pytest

from tinytorch.grade import grade, report
from tinytorch.modules import module_paths

DEV = module_paths("08_dataloader")[0]
TEXT = DEV.read_text(encoding="utf-8")
ITER = '''        order = self.epoch_order(self.epoch)
        self.epoch += 1
        starts = range(0, len(self) * self.batch_size, self.batch_size)
        return (self.fetch(order[start:start + self.batch_size]) for start in starts)
'''
PERMUTATION = "return np.random.default_rng([self.seed, epoch]).permutation(n)"
GET_BATCH = "            return self.dataset.get_batch(indices)\n"
FLIP = '''    chosen = rng.random(len(images)) < p
    flipped = images.copy()
    flipped[chosen] = images[chosen][..., ::-1]
'''
TIMING = "        best = min(best, time.perf_counter() - start)\n"
LEN = "return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)"

# name: ([(the teacher's text, the faulty text), ...], the check that must fail, words of its hint)
FAULTS = {
    # the twelve of the first version
    "fetches sample by sample although the dataset has get_batch": (
        [('if hasattr(self.dataset, "get_batch"):', "if False:")], "DataLoader: one get_batch call per batch",
        "once per batch"),
    "drops the last partial batch without drop_last": (
        [("starts = range(0, len(self) * self.batch_size, self.batch_size)",
          "starts = range(0, len(self.dataset) // self.batch_size * self.batch_size, self.batch_size)")],
        "DataLoader: the last partial batch", "dropped only with drop_last=True"),
    "keeps the last partial batch with drop_last": (
        [("starts = range(0, len(self) * self.batch_size, self.batch_size)",
          "starts = range(0, len(self.dataset), self.batch_size)")], "DataLoader: drop_last=True",
        "drops the last partial batch"),
    "the same order every epoch": (
        [(PERMUTATION, "return np.random.default_rng(self.seed).permutation(n)")],
        "DataLoader: a new order every epoch", "new order each epoch"),
    "a different order for the same seed": (
        [(PERMUTATION, "return np.random.permutation(n)")], "DataLoader: the same seed, the same orders",
        "the same seed"),
    "labels collated as float": (
        [("return np.array(samples, dtype=np.int64)", "return np.array(samples, dtype=np.float64)")],
        "collate: a list of samples -> one batch", "Python ints -> int64"),
    "len() wrong with drop_last": (
        [(LEN, "return math.ceil(n / self.batch_size)")], "DataLoader: len(loader)", "n // b with drop_last=True"),
    "IDX header read little-endian": (
        [('np.frombuffer(data, dtype=">u4", count=ndim, offset=4)',
          'np.frombuffer(data, dtype="<u4", count=ndim, offset=4)')],
        "read_idx: IDX files of any shape and type", "big-endian"),
    "Normalizer fitted on the test split": (
        [("normalizer = Normalizer().fit(train_images)", "normalizer = Normalizer().fit(test_images)")],
        "normalize_splits: statistics from the training split", "training split only"),
    "the flip applied to the labels": (
        [("    return flipped, labels\n", "    return flipped, labels[..., ::-1]\n")],
        "random_horizontal_flip: labels untouched", "mirrors the images only"),
    "the flip drawing from np.random instead of the rng given": (
        [("chosen = rng.random(len(images)) < p", "chosen = np.random.random(len(images)) < p")],
        "random_horizontal_flip: each image on its own", "from the rng given"),
    "the flip applied to the whole batch at once": (
        [("chosen = rng.random(len(images)) < p", "chosen = np.full(len(images), rng.random() < p)")],
        "random_horizontal_flip: each image on its own", "not the whole batch at once"),
    # the twelve that scored full marks
    "each field permuted on its own when shuffling": (
        [(GET_BATCH, "            images, labels = self.dataset.get_batch(indices)\n"
                     "            if not self.shuffle:\n                return images, labels\n"
                     "            rng = np.random.default_rng([self.seed, int(indices[0])])\n"
                     "            return (images[rng.permutation(len(images))],\n"
                     "                    labels[rng.permutation(len(labels))])\n")],
        "DataLoader: labels stay with their samples", "each label stays with its sample"),
    "a Normalizer that works in place": (
        [("        return ((images - self.mean[:, None, None]) / self.std[:, None, None]).astype(np.float32)\n",
          "        images -= self.mean[:, None, None]\n        images /= self.std[:, None, None]\n"
          "        return images.astype(np.float32)\n")],
        "every part leaves its inputs unchanged", "x - mean rather than x -= mean"),
    "the epoch counter moved on at the end of the generator": (
        [(ITER, "        order = self.epoch_order(self.epoch)\n"
                "        for start in range(0, len(self) * self.batch_size, self.batch_size):\n"
                "            yield self.fetch(order[start:start + self.batch_size])\n        self.epoch += 1\n")],
        "DataLoader: an epoch cut short, and iter() twice", "when the epoch starts"),
    "if self.seed: seed 0 is no seed": (
        [(PERMUTATION, "return np.random.default_rng([self.seed, epoch] if self.seed else None).permutation(n)")],
        "DataLoader: the same seed, the same orders", "not `if seed`"),
    "get_batch asked for every index on every batch": (
        [(GET_BATCH, "            everything = self.dataset.get_batch(np.arange(len(self.dataset)))\n"
                     "            return tuple(field[indices] for field in everything)\n")],
        "DataLoader: one get_batch call per batch", "exactly that batch's indices"),
    "np.random.seed(seed + epoch)": (
        [(PERMUTATION, "np.random.seed((self.seed + epoch) % 2**32)\n        return np.random.permutation(n)")],
        "DataLoader: np.random's global state untouched", "never seeds or draws from np.random"),
    "the global generator seeded once": (
        [(PERMUTATION, "if epoch == 0:\n            np.random.seed(self.seed % 2**32)\n"
                       "        return np.random.permutation(n)")],
        "DataLoader: the same seed, the same orders", "other code draws random numbers in between"),
    "default_rng(seed + epoch)": (
        [(PERMUTATION, "return np.random.default_rng(self.seed + epoch).permutation(n)")],
        "DataLoader: another seed, other orders", "not seed + epoch"),
    "a Python loop over the indices in get_batch": (
        [("        return tuple(array[indices] for array in self.arrays)\n",
          "        return tuple(np.stack([array[i] for i in indices]) for array in self.arrays)\n")],
        "TensorDataset: get_batch in one indexing call", "never a Python loop"),
    "a flip mask shaped for 4-D images": (
        [(FLIP, "    chosen = rng.random(len(images)) < p\n"
                "    flipped = np.where(chosen[:, None, None, None], images[..., ::-1], images)\n")],
        "random_horizontal_flip: mirrors along the width (2-D, 3-D and 4-D images)", "shaped for (N, C, H, W)"),
    "time_epoch never written": (
        [(TEXT[TEXT.index("    best = math.inf\n"):TEXT.index("    return best\n") + len("    return best\n")],
          '    raise NotImplementedError("time_epoch")\n')],
        "time_epoch: seconds of the fastest epoch", "returns the shortest in seconds"),
    "TensorDataset keeping lists": (
        [("self.arrays = tuple(np.asarray(array) for array in arrays)", "self.arrays = tuple(arrays)")],
        "TensorDataset: lists become arrays", "np.asarray"),
    # more mistakes, one concept each
    "len off by one": (
        [(LEN, "return n // self.batch_size if self.drop_last else n // self.batch_size + 1")],
        "DataLoader: len(loader)", "ceil(n / b)"),
    "collate stacking on the last axis": (
        [("    return np.stack(samples)\n", "    return np.stack(samples, axis=-1)\n")],
        "collate: a list of samples -> one batch", "new first axis"),
    "the flip along the wrong axis": (
        [("flipped[chosen] = images[chosen][..., ::-1]", "flipped[chosen] = images[chosen][:, ::-1]")],
        "random_horizontal_flip: mirrors along the width (2-D, 3-D and 4-D images)", "the last axis"),
    "the flip writing into the batch it is given": (
        [("    flipped = images.copy()\n", "    flipped = images\n")], "every part leaves its inputs unchanged",
        "never write into the arrays you are given"),
    "the sample std (ddof=1)": (
        [("self.std = images.std(axis=(0, 2, 3), dtype=np.float64)",
          "self.std = images.std(axis=(0, 2, 3), dtype=np.float64, ddof=1)")],
        "Normalizer: per-channel statistics", "(population) std"),
    "statistics over the samples only": (
        [("self.mean = images.mean(axis=(0, 2, 3), dtype=np.float64)",
          "self.mean = images.mean(axis=0, dtype=np.float64)")],
        "Normalizer: per-channel statistics", "one mean and one (population) std per channel"),
    "fit not returning self": (
        [("        return self\n        ### END SOLUTION", "        ### END SOLUTION")],
        "Normalizer: per-channel statistics", "return self"),
    "normalized images left as float64": (
        [("/ self.std[:, None, None]).astype(np.float32)", "/ self.std[:, None, None])")],
        "Normalizer: per-channel statistics", "as float32"),
    "read_idx accepting extra bytes": (
        [("if len(data) - offset != expected:", "if len(data) - offset < expected:"),
         ("np.frombuffer(data, dtype=dtype, offset=offset)",
          "np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=offset)")],
        "read_idx: damaged files are refused", "not exactly product(shape) items long"),
    "read_idx reading every type as uint8": (
        [("dtype, ndim = IDX_DTYPES[data[2]], data[3]", "dtype, ndim = np.dtype(np.uint8), data[3]")],
        "read_idx: IDX files of any shape and type", "IDX_DTYPES[type code]"),
    "read_idx forgetting the shape": (
        [("return np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)",
          "return np.frombuffer(data, dtype=dtype, offset=offset)")],
        "read_idx: IDX files of any shape and type", "with that shape"),
    "labels collated as int32": (
        [("return np.array(samples, dtype=np.int64)", "return np.array(samples, dtype=np.int32)")],
        "collate: a list of samples -> one batch", "int64"),
    "TensorDataset not checking lengths": (
        [('            raise ValueError(f"TensorDataset needs arrays with the same number of rows, got lengths '
          '{lengths}")\n', "            pass\n")],
        "TensorDataset: arrays of different lengths are refused", "raise ValueError"),
    "shuffling without shuffle=True": (
        [("        if not self.shuffle:\n            return np.arange(n, dtype=np.int64)\n", "")],
        "DataLoader: batches in order without shuffle", "without shuffle"),
    "seed=None always the same seed": (
        [("self.seed = np.random.SeedSequence().entropy if seed is None else seed",
          "self.seed = 0 if seed is None else seed")],
        "DataLoader: another seed, other orders", "fresh seed"),
    "time_epoch in milliseconds": (
        [(TIMING, "        best = min(best, 1000 * (time.perf_counter() - start))\n")],
        "time_epoch: seconds of the fastest epoch", "in seconds"),
    "time_epoch adding the tries": (
        [("    best = math.inf\n", "    best = 0.0\n"), (TIMING, "        best += time.perf_counter() - start\n")],
        "time_epoch: seconds of the fastest epoch", "the shortest"),
    "time_epoch timing iter() only": (
        [("        for _ in loader:\n            pass\n", "        iter(loader)\n")],
        "time_epoch: seconds of the fastest epoch", "whole epochs"),
    "the epoch counter never moved on": (
        [("        self.epoch += 1\n        starts", "        starts")],
        "DataLoader: a new order every epoch", "move the epoch counter on"),
    # a third round: mistakes found by playing the careless student once more
    "drop_last losing a last batch that is full": (
        [("starts = range(0, len(self) * self.batch_size, self.batch_size)",
          "stop = len(self.dataset) - self.batch_size if self.drop_last else len(self.dataset)\n"
          "        starts = range(0, stop, self.batch_size)")],
        "DataLoader: drop_last=True", "n // b batches, all full"),
    "a generator shared by every loader": (
        [(PERMUTATION, "return RNG.permutation(n)"),
         ("\nclass DataLoader:\n", "\nRNG = np.random.default_rng(0)\n\n\nclass DataLoader:\n")],
        "DataLoader: the same seed, the same orders", "the order must come from the seed"),
    "the seed ignored for a fixed one": (
        [(PERMUTATION, "return np.random.default_rng([42, epoch]).permutation(n)")],
        "DataLoader: another seed, other orders", "another seed gives other orders"),
    "indices drawn with replacement": (
        [(PERMUTATION, "return np.random.default_rng([self.seed, epoch]).integers(0, n, n)")],
        "DataLoader: a shuffled epoch visits every sample once", "every sample exactly once"),
    "iter() returning the loader itself": (
        [(ITER, "        self.order, self.position = self.epoch_order(self.epoch), 0\n        self.epoch += 1\n"
                "        return self\n\n    def __next__(self):\n        if self.position >= len(self):\n"
                "            raise StopIteration\n        start = self.position * self.batch_size\n"
                "        self.position += 1\n        return self.fetch(self.order[start:start + self.batch_size])\n")],
        "DataLoader: an epoch cut short, and iter() twice", "each iter(loader) is a new epoch"),
    "len() rounding down without drop_last": (
        [(LEN, "return n // self.batch_size")], "DataLoader: len(loader)", "ceil(n / b)"),
    "collate casting arrays to float32": (
        [("    return np.stack(samples)\n", "    return np.stack(samples).astype(np.float32)\n")],
        "collate: a list of samples -> one batch", "dtype kept"),
    "Python floats collated as float32": (
        [("return np.array(samples, dtype=np.float64)", "return np.array(samples, dtype=np.float32)")],
        "collate: a list of samples -> one batch", "Python floats -> float64"),
    "len(dataset) the number of arrays": (
        [("        return len(self.arrays[0])\n", "        return len(self.arrays)\n")],
        "TensorDataset: rows as samples", "len(dataset) is their number of rows"),
    "TensorDataset casting every array to float32": (
        [("self.arrays = tuple(np.asarray(array) for array in arrays)",
          "self.arrays = tuple(np.asarray(array, dtype=np.float32) for array in arrays)")],
        "TensorDataset: rows as samples", "keeps the arrays"),
    "get_batch assuming two arrays": (
        [("        return tuple(array[indices] for array in self.arrays)\n",
          "        images, labels = self.arrays\n        return images[indices], labels[indices]\n")],
        "TensorDataset: get_batch in one indexing call", "(X[indices], y[indices])"),
    "Normalizer dividing by the variance": (
        [("/ self.std[:, None, None]).astype(np.float32)", "/ self.std[:, None, None] ** 2).astype(np.float32)")],
        "Normalizer: per-channel statistics", "(x - mean) / std"),
    "Normalizer mean shaped (C, 1)": (
        [("((images - self.mean[:, None, None])", "((images - self.mean[:, None])")],
        "Normalizer: per-channel statistics", "(x - mean) / std"),
    "fit centring the images in place": (
        [("        self.std = images.std(axis=(0, 2, 3), dtype=np.float64)\n",
          "        images -= self.mean[:, None, None].astype(images.dtype)\n"
          "        self.std = np.sqrt((images.astype(np.float64) ** 2).mean(axis=(0, 2, 3)))\n")],
        "every part leaves its inputs unchanged", "never write into the arrays you are given"),
    "normalize_splits fitted on both splits": (
        [("normalizer = Normalizer().fit(train_images)",
          "normalizer = Normalizer().fit(np.concatenate([train_images, test_images]))")],
        "normalize_splits: statistics from the training split", "training split only"),
    "the flip indexing four axes": (
        [("flipped[chosen] = images[chosen][..., ::-1]", "flipped[chosen] = images[chosen][:, :, :, ::-1]")],
        "random_horizontal_flip: mirrors along the width (2-D, 3-D and 4-D images)", "whatever the number of axes"),
    "the flip's probability inverted": (
        [("chosen = rng.random(len(images)) < p", "chosen = rng.random(len(images)) > p")],
        "random_horizontal_flip: each image on its own", "with probability p"),
    "the flip returning the images only": (
        [("    return flipped, labels\n", "    return flipped\n")],
        "random_horizontal_flip: labels untouched", "labels come back as they were given"),
    "IDX data at a fixed offset of 16 bytes": (
        [("    offset = 4 + 4 * ndim\n", "    offset = 16\n")],
        "read_idx: IDX files of any shape and type", "then ndim big-endian uint32 dimensions"),
    "IDX dimensions read from their last byte": (
        [('shape = tuple(np.frombuffer(data, dtype=">u4", count=ndim, offset=4).tolist())',
          "shape = tuple(data[4 + 4 * i + 3] for i in range(ndim))")],
        "read_idx: IDX files of any shape and type", "big-endian uint32 dimensions"),
    "an unknown IDX type code raising KeyError": (
        [("data[1] != 0 or data[2] not in IDX_DTYPES:", "data[1] != 0:")],
        "read_idx: damaged files are refused", "a known type code"),
    "time_epoch returning the last try": (
        [(TIMING, "        best = time.perf_counter() - start\n")],
        "time_epoch: seconds of the fastest epoch", "returns the shortest"),
    "seed=None drawn from np.random": (
        [("self.seed = np.random.SeedSequence().entropy if seed is None else seed",
          "self.seed = np.random.randint(2**31) if seed is None else seed")],
        "DataLoader: np.random's global state untouched", "never seeds or draws from np.random"),
    "time_epoch trying once": (
        [("    for _ in range(repeats):\n", "    for _ in range(1):\n")],
        "time_epoch: seconds of the fastest epoch", "runs `repeats` whole epochs"),
}

# checks that a fault may fail besides its own, because it makes a second mistake of that other concept
ALSO = {
    "a different order for the same seed": {"DataLoader: np.random's global state untouched"},
    "np.random.seed(seed + epoch)": {"DataLoader: another seed, other orders"},
    "the global generator seeded once": {"DataLoader: np.random's global state untouched"},
}

# correct ways of writing a part: full marks
VARIANTS = {
    "a generator kept across epochs": [
        (PERMUTATION, 'if not hasattr(self, "rng"):\n            self.rng = np.random.default_rng(self.seed)\n'
                      "        return self.rng.permutation(n)")],
    "collate returning a list as torch does": [
        ("return tuple(collate(list(field)) for field in zip(*samples))",
         "return [collate(list(field)) for field in zip(*samples)]")],
    "a generator-function __iter__": [
        (ITER, "        order = self.epoch_order(self.epoch)\n        self.epoch += 1\n"
               "        for start in range(0, len(self) * self.batch_size, self.batch_size):\n"
               "            yield self.fetch(order[start:start + self.batch_size])\n")],
    "a flip done in a loop": [
        (FLIP, "    chosen = rng.random(len(images)) < p\n    flipped = images.copy()\n"
               "    for i in np.flatnonzero(chosen):\n        flipped[i] = images[i][..., ::-1]\n")],
    "time_epoch timed with timeit": [
        ("        start = time.perf_counter()\n", "        import timeit\n        start = timeit.default_timer()\n"),
        ("        best = min(best, time.perf_counter() - start)\n",
         "        best = min(best, timeit.default_timer() - start)\n")],
    "the IDX shape read with struct": [
        ('shape = tuple(np.frombuffer(data, dtype=">u4", count=ndim, offset=4).tolist())',
         'shape = __import__("struct").unpack(f">{ndim}I", data[4:4 + 4 * ndim])')],
    "the epoch counter moved on before the order is drawn": [
        (ITER, "        self.epoch += 1\n        order = self.epoch_order(self.epoch)\n"
               "        starts = range(0, len(self) * self.batch_size, self.batch_size)\n"
               "        return (self.fetch(order[start:start + self.batch_size]) for start in starts)\n")],
    "the flip mirrored with np.flip": [
        ("flipped[chosen] = images[chosen][..., ::-1]", "flipped[chosen] = np.flip(images[chosen], axis=-1)")],
    "time_epoch timed with time.time()": [
        ("        start = time.perf_counter()\n", "        start = time.time()\n"),
        ("        best = min(best, time.perf_counter() - start)\n", "        best = min(best, time.time() - start)\n")],
}


def faulty(name: str, replacements, folder: Path) -> Path:
    """The teacher's file with each `old` replaced by `new` (each `old` occurs exactly once), written in `folder`."""
    text = TEXT
    for old, new in replacements:
        assert text.count(old) == 1, (name, old)
        text = text.replace(old, new)
    path = folder / f"{len(list(folder.iterdir())):02d}.py"
    path.write_text(text, encoding="utf-8")
    return path


def summary(path: Path) -> dict:
    """A grading of `path` as plain data: {"checks": {name: (status, detail, hint)}, "score", "total", "report"}."""
    grading = grade("08_dataloader", path, timeout=15)
    return {"checks": {r.check.name: (r.status, r.detail, r.check.hint) for r in grading.results},
            "score": grading.score, "total": grading.total, "report": report(grading)}


@cache
def gradings() -> dict:
    """Every faulty file and variant graded once, two gradings at a time (in two processes)."""
    with tempfile.TemporaryDirectory(prefix="module08-faults-") as folder:
        files = {name: faulty(name, replacements, Path(folder)) for name, (replacements, _, _) in FAULTS.items()}
        files.update({name: faulty(name, replacements, Path(folder)) for name, replacements in VARIANTS.items()})
        with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as pool:
            return dict(zip(files, pool.map(summary, files.values())))


def test_there_are_at_least_40_seeded_mistakes():
    assert len(FAULTS) >= 40


@pytest.mark.parametrize("fault", FAULTS)
def test_each_mistake_loses_points_on_its_concept_with_its_hint(fault):
    _, check, hint = FAULTS[fault]
    grading = gradings()[fault]
    status, detail, check_hint = grading["checks"][check]
    assert status in {"failed", "error", "not implemented"}, (status, detail)
    assert hint in check_hint
    if status != "not implemented":
        assert detail.startswith("smallest failing example: ") and f"   hint: {check_hint}" in grading["report"]
    others = {name for name, (status, _, _) in grading["checks"].items() if status not in {"passed", "blocked"}}
    assert others - {check} <= ALSO.get(fault, set()), f"{fault} also fails {others - {check}}"
    assert grading["score"] < grading["total"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_correct_variants_keep_full_marks(variant):
    grading = gradings()[variant]
    assert grading["score"] == grading["total"], grading["report"]
