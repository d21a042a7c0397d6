"""Counter-based randomness: every draw is a pure function of (seed, epoch, position, stream, counter).

The loader never hands a stateful random generator to transforms. Instead, for each batch it opens a
`sample_randomness(seed, epoch, start, count)` context; a random transform asks `draws(n)` for a `SampleDraws`
and gets one independent stream per sample, keyed by the sample's position in the epoch. Because the key is
the position and not "how many numbers were drawn before", a batch, a single sample, or a worker process
all see the same numbers for the same sample: that is what makes batched transforms equal per-sample ones,
and runs reproducible however the work is split. Code that breaks a batch into samples (the loader's fetch,
Subset/StackDataset `__getitems__`, per-sample transforms of a batch) narrows the block to each sample with
`one_sample_randomness(i)`. The loader hands a batch's block to the built-in image datasets' `get_batch`, which hands it
to its transforms (`apply_batch(batch, randomness)`); the context is the adapter that lets a user's `__getitem__` call
transforms unchanged. Code that goes through a batch's samples without saying so (a dataset's own
`__getitems__` calling its `__getitem__`) has its one-sample draws matched to the samples in order; draws that
cannot be matched raise, rather than give numbers no other path reproduces. Outside any block (a transform called by
hand), draws come from NumPy's global generator, so `np.random.seed` makes them reproducible.

Each sample's key is a hash of (seed, epoch, position); its numbers are the SplitMix64 sequence seeded with that key,
read at an index made of (stream, call, number). One hash (`mix`) and one formula (`uniform_at`) make every number,
on Python ints and uint64 arrays alike: a batch evaluates them on arrays, one sample on Python ints, where NumPy's
fixed cost per call would be most of the work (`benchmarks/bench_loader.py` measures both routes). The samples of a
batch fetched one by one read their small draws from a table the batch's block makes on arrays once two of them ask
(`SampleRandomness.uniform_rows`): the same numbers, hashed per batch instead of per sample.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import sys

import numpy as np

_MASK64 = (1 << 64) - 1
_GOLDEN, _M1, _M2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
LEAN_DRAWS = 16  # one sample's draws of at most this many numbers take the Python-int route (bench_loader.py, race 5)


def mix(x, value: int = 0):
    """SplitMix64's finaliser applied to `x` plus `value` times the golden ratio: an independent-looking uint64.

    `x` is a Python int in [0, 2**64) or a uint64 array (elementwise); the masks keep Python ints to 64 bits, as
    arrays wrap by themselves. mix(seed, k) is output k of SplitMix64 seeded with `seed`.
    """
    x = (x + ((value * _GOLDEN) & _MASK64)) & _MASK64
    x = ((x ^ (x >> 30)) * _M1) & _MASK64
    x = ((x ^ (x >> 27)) * _M2) & _MASK64
    return x ^ (x >> 31)


def uniform_at(key, index):
    """The float64 in [0, 1) at `index` of the SplitMix64 sequence seeded with `key` (ints or uint64 arrays alike).

    Its top 53 bits over 2**53: exact in float64 whichever type computes it.
    """
    return (mix(key, index) >> 11) * (1.0 / (1 << 53))


def seed_from(generator, argument: str = "generator") -> int:
    """Turn a `generator` argument (None, an int seed, a numpy Generator, or a torch.Generator) into a seed.

    An int seed in [0, 2**64) (torch's `manual_seed` range) is the seed itself, so distinct seeds give distinct
    streams; anything outside that range is refused. The other arguments give a seed in [0, 2**63).

    None draws the seed from NumPy's global generator, as torch draws from its global one: `np.random.seed(0)`
    then makes the run reproducible. A Generator gives one number, as torch's loader draws its base seed from it
    (a torch.Generator is recognised only when torch is already imported: torch is never imported here).
    """
    if generator is None:
        return int(np.random.randint(0, 1 << 63, dtype=np.int64))
    if isinstance(generator, (bool, np.bool_)):
        raise TypeError(f"{argument} must be None, an int seed, a numpy.random.Generator or a torch.Generator, got "
                        f"{generator!r}")
    if isinstance(generator, (int, np.integer)):
        if not 0 <= generator < 1 << 64:
            raise ValueError(f"{argument} must be an int seed in [0, 2**64) (torch.manual_seed's range), got "
                             f"{argument}={generator!r}")
        return int(generator)
    if isinstance(generator, np.random.Generator):
        return int(generator.integers(0, 1 << 63))
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(generator, torch.Generator):
        return int(torch.empty((), dtype=torch.int64).random_(generator=generator).item()) & ((1 << 63) - 1)
    raise TypeError(f"{argument} must be None, an int seed, a numpy.random.Generator or a torch.Generator, got "
                    f"{type(generator).__name__}")


class SampleDraws:
    """Independent random numbers for n samples, drawn call after call.

    Each sample's numbers are its own SplitMix64 sequence, seeded with the sample's key: number j (1, 2, ...) of
    call c in stream s (the s-th random transform applied) is the sequence's output at index (s << 48) + (c << 32)
    + j (room for 2**16 streams of 2**16 calls of 2**32 numbers). So row i of `uniform(*shape)` (float64 (n, *shape)
    in [0, 1)) depends only on sample i's key, the stream and the calls before. `keys` are given as a uint64 array
    of n keys, or one sample's key as a Python int. `uniform_list(count)` is `uniform(count)[0].tolist()` for one
    sample, bit for bit, computed on Python ints: the route a per-sample transform takes, since NumPy's fixed cost
    per call would dominate such a tiny draw. Given `table` (block, row) instead of keys, they are the draws of sample
    `row` of a block of several samples, and a small draw is that sample's row of the numbers the block makes for all
    its samples at once (`SampleRandomness.uniform_rows`): the loader's per-sample path then hashes per batch, not
    per sample.
    """

    def __init__(self, keys, stream: int = 0, table=None):
        self._keys, self._stream, self._table, self.calls = keys, stream, table, 0
        self._origins = None  # each sample's start of the stream, once asked for

    @property
    def origins(self):
        """Each sample's start of the stream: a uint64 array, or one sample's as a Python int."""
        if self._origins is None:
            keys = self._keys if self._table is None else int(self._table[0].keys[self._table[1]])
            offset = stream_offset(self._stream)
            self._origins = (keys + offset) & _MASK64 if isinstance(keys, int) else \
                np.asarray(keys, dtype=np.uint64) + np.uint64(offset)
        return self._origins

    @property
    def keys(self) -> np.ndarray:
        """Each sample's stream as a key: `SampleDraws(draws.keys)` with `calls` copied goes on with `draws`'
        numbers."""
        origins = self.origins
        return np.full(1, origins, np.uint64) if isinstance(origins, int) else origins

    def uniform(self, *shape: int) -> np.ndarray:
        size = math.prod(shape)
        if size <= LEAN_DRAWS and (self._table is not None or len(self.keys) == 1):
            return np.array(self.uniform_list(size)).reshape((1,) + shape)
        first = self._next_call() << 32
        origins = self.keys
        return uniform_at(origins[:, None], np.arange(first + 1, first + size + 1, dtype=np.uint64)).reshape(
            (len(origins),) + shape)

    def _next_call(self) -> int:
        if self.calls == 0xFFFF:
            raise ValueError("SampleDraws draws up to 65535 times for a sample; make a new one (rng.draws) for more")
        self.calls += 1
        return self.calls

    def uniform_list(self, count: int) -> list[float]:
        """The next `count` numbers of the one sample's sequence, as Python floats."""
        table = self._table
        if table is None and not isinstance(self.origins, int) and len(self.origins) != 1:
            raise ValueError(f"uniform_list is for draws over one sample, these are over {len(self.origins)}")
        first = self._next_call() << 32
        if table is not None:
            rows = table[0].uniform_rows(self._stream, first, count) if count <= LEAN_DRAWS else None
            if rows is not None:
                return rows[table[1]][:]
        origin = self.origins
        origin = origin if isinstance(origin, int) else int(origin[0])
        return [uniform_at(origin, index) for index in range(first + 1, first + count + 1)]


def stream_offset(stream: int) -> int:
    """Where stream `stream` starts in every sample's sequence, times the golden ratio (what `mix` adds)."""
    return ((stream << 48) * _GOLDEN) & _MASK64


@functools.lru_cache(maxsize=64)
def _epoch_key(seed: int, epoch: int) -> int:
    """The part of every sample key that depends on (seed, epoch) only."""
    return mix(mix(seed & _MASK64), epoch)


def sample_key(seed: int, epoch: int, position: int) -> int:
    """The key of the sample at `position` in the epoch, as a Python int: a hash of (seed, epoch, position)."""
    return _epoch_key(seed, epoch) ^ mix(position + 1)


def sample_keys(seed: int, epoch: int, positions) -> np.ndarray:
    """`sample_key` of each position, as a uint64 array shaped like `positions`."""
    return _epoch_key(seed, epoch) ^ mix(np.asarray(positions, dtype=np.uint64) + np.uint64(1))


class SampleRandomness:
    """The randomness of the samples at positions start..start+count-1 of the epoch (`sample_randomness` makes one).

    Handed to a batched transform (`apply_batch(batch, randomness)`), or entered as a context manager (`with`) for
    the transforms a user's code calls, it is a block: each random transform given it, or drawing inside it, takes
    the next stream of the samples' keys (`draws`). It holds the positions, their keys once a transform asks for
    them, and how many streams it has handed out (one per random transform applied). A block narrowed to one of its
    samples (`one_sample_randomness`) goes on from its parent's streams, and the parent's next transform comes after
    the most streams any of those samples used, so a batch drawn in parts (one transform on the whole batch, the
    next one sample at a time) gets the draws of its samples taken one by one. One-sample draws
    in a block of several samples that nothing narrowed are matched to its samples in order (`_InOrderPass`).
    """

    __slots__ = ("seed", "epoch", "start", "count", "_streams", "_used", "_parent", "_child", "_keys", "_token",
                 "_order", "_first_sources", "_tables")

    def __init__(self, seed: int, epoch: int, start: int, count: int, parent=None):
        self.seed, self.epoch, self.start, self.count = seed, epoch, start, count
        self._streams = self._used = 0
        self._parent = parent
        self._child = None  # the block narrowed to one sample, reused from sample to sample
        self._keys = None
        self._order = None  # the pass matching one-sample draws to samples, while one is open
        self._first_sources = None  # the source that began each such pass (a list, once one began)
        self._tables = None  # (stream, first index, count) -> every sample's numbers there (`uniform_rows`)

    @property
    def keys(self):
        """The samples' keys: a uint64 array, or one sample's key as a Python int (for `SampleDraws`)."""
        if self._keys is None:
            self._keys = sample_key(self.seed, self.epoch, self.start) if self.count == 1 else \
                sample_keys(self.seed, self.epoch, np.arange(self.start, self.start + self.count))
        return self._keys

    def uniform_rows(self, stream: int, first: int, count: int) -> list[list[float]] | None:
        """Numbers first+1..first+count of `stream` for each sample of the block, a list per sample: made on arrays
        for all the samples at once, so that one-sample draws cost a lookup each (`SampleDraws.uniform_list`).

        None for the first sample to ask, which takes the Python-int route: a draw that only one sample makes costs
        what it costs alone, and the table is made when a second sample asks.
        """
        tables = self._tables = self._tables or {}
        key = (stream, first, count)
        rows = tables.get(key, False)
        if rows is False:
            tables[key] = rows = None
        elif rows is None:
            origins = self.keys + np.uint64(stream_offset(stream))
            rows = tables[key] = uniform_at(origins[:, None], np.arange(
                first + 1, first + count + 1, dtype=np.uint64)).tolist()
        return rows

    def __enter__(self) -> SampleRandomness:
        self._token = _current.set(self)
        return self

    def __exit__(self, kind, *exception):
        _current.reset(self._token)
        if kind is None and self._order is not None:
            self._end_pass()
        if self._parent is not None:
            self._hand_back()

    def _narrowed(self, i: int) -> SampleRandomness:
        """This block narrowed to its i-th sample: one child block, moved from sample to sample. Loops over the
        samples start at i = 0, which starts a new pass after every stream drawn so far."""
        if not 0 <= i < self.count:
            raise RuntimeError(f"one_sample_randomness({i}) inside a block of {self.count} samples")
        if i == 0:
            if self._order is not None:
                self._end_pass()
            if self._used > self._streams:
                self._streams = self._used
        child = self._child
        if child is None:
            child = self._child = SampleRandomness(self.seed, self.epoch, 0, 1, self)
        child.start, child._streams, child._used, child._keys = self.start + i, self._streams, self._streams, None
        return child

    def _hand_back(self):
        """Let the parent's next transform come after every stream this narrowed block used."""
        used = self._streams if self._streams > self._used else self._used
        if used > self._parent._used:
            self._parent._used = used

    def draws(self, n: int, source) -> SampleDraws:
        """The streams of the next random transform drawing for n samples in this block; `source` is what draws (a
        transform passes itself, `get_params` its class; None, draws that name no source), so that one-sample draws
        can be matched to the samples in order (see `draws`)."""
        if n == self.count:
            if self._order is not None:
                self._end_pass()
            self._streams = max(self._streams, self._used) + 1
            parent = self._parent
            if self.count == 1 and parent is not None and parent.count > 1:  # a sample of a batch: the batch's table
                return SampleDraws(None, self._streams, (parent, self.start - parent.start))
            return SampleDraws(self.keys, self._streams)
        if n != 1:
            raise self._unmatched(n, f"only draws for all {self.count} samples or for one sample can be matched")
        if self._order is None or self._order.complete():
            self._end_pass()
            sources = self._first_sources or []
            if source in sources:
                raise self._unmatched(1, f"{_name(source)} drew again after every sample had drawn: it draws more than "
                                        "once per sample (two augmented views of one image, say), or for more "
                                        "samples than the block has")
            self._first_sources = sources + [source]
            self._order = _InOrderPass(self, max(self._streams, self._used))
        sample, stream = self._order.next_draw(source)
        self._used = max(self._used, stream)
        return SampleDraws(None, stream, (self, sample))

    def _end_pass(self):
        """Close the open pass of one-sample draws matched to samples; one that did not reach every sample raises."""
        order, self._order = self._order, None
        if order is not None and not order.complete():
            raise self._unmatched(1, f"only {order.sample + 1} of the {self.count} samples drew in a pass (a pass "
                                      "ends when every sample has drawn as sample 0 did; later draws start another)")

    def _new_pass(self):
        """Close the open pass; the next one-sample draw starts a pass, whatever its source (`samples_in_order`)."""
        self._end_pass()
        self._first_sources = None

    def _unmatched(self, n: int, reason: str) -> RuntimeError:
        return RuntimeError(
            f"a random transform asked for draws for {n} samples inside the randomness block of {self.count} "
            f"samples (positions {self.start}..{self.start + self.count - 1} of epoch {self.epoch}), and the draws "
            f"cannot be matched to the samples: {reason}. Code that applies transforms to a batch's samples one at a "
            "time must give every sample the same random transforms in the same order, sample after sample, or wrap "
            "each sample in tinytorch.data.rng.one_sample_randomness(i), i being the sample's place in the batch"
        )


class _InOrderPass:
    """One-sample draws in a block of n samples, matched to the samples in order: a dataset's own `__getitems__`
    calling its `__getitem__` (`[self[i] for i in indices]`) draws each sample's transforms in turn.

    The first source to draw starts sample 0's chain of draws; each time it draws again, the next sample's chain
    starts. The j-th draw of every chain gets stream base + j, as that sample narrowed on its own would. The calls
    are matched only when there are exactly n chains and every chain draws from the same sources in the same
    order as the first. After the n-th chain, the next draw starts another pass over the samples (another part
    of a StackDataset), unless its source began a pass before. Anything else raises, since then no other path
    would reproduce the numbers.
    """

    __slots__ = ("block", "base", "chain", "sample", "position")

    def __init__(self, block: SampleRandomness, base: int):
        self.block, self.base = block, base
        self.chain = []  # the sources of sample 0's draws, in order
        self.sample = self.position = 0  # the sample drawing, and how many draws its chain has made

    def next_draw(self, source) -> tuple[int, int]:
        """(sample, stream number) of the next one-sample draw, made by `source`."""
        if self.position and source is self.chain[0]:
            if self.sample and self.position != len(self.chain):
                raise self.block._unmatched(1, f"sample {self.sample} drew {self.position} times, sample 0 "
                                              f"{len(self.chain)} times")
            self.sample, self.position = self.sample + 1, 0
        if self.sample == 0:
            self.chain.append(source)
        elif self.position == len(self.chain) or self.chain[self.position] is not source:
            expected = _name(self.chain[self.position]) if self.position < len(self.chain) else "nothing"
            raise self.block._unmatched(1, f"sample {self.sample}'s draw {self.position + 1} came from "
                                          f"{_name(source)}, sample 0's from {expected}")
        self.position += 1
        return self.sample, self.base + self.position

    def complete(self) -> bool:
        """Whether the last sample has made as many draws as sample 0."""
        return self.sample == self.block.count - 1 and self.position == len(self.chain)


def _name(source) -> str:
    if source is None:
        return "a draw that names no source"
    return source.__name__ if isinstance(source, type) else type(source).__name__


_current: contextvars.ContextVar[SampleRandomness | None] = contextvars.ContextVar("tinytorch_randomness", default=None)
_OUTSIDE = contextlib.nullcontext()


# sample_randomness(seed, epoch, start, count): the randomness of the samples at positions start..start+count-1 of
# epoch `epoch` under `seed`: `with` it, the random transforms inside draw for those samples; or hand it to a batched
# transform as `randomness`. The class itself, so that the loader makes a batch's block in one call.
sample_randomness = SampleRandomness


def one_sample_randomness(i: int):
    """Inside a `sample_randomness` block, narrow it to its i-th sample (for work done one sample at a time).

    Loops over a block's samples start at i = 0: that starts a new pass after every stream drawn so far.
    """
    context = _current.get()
    return _OUTSIDE if context is None else context._narrowed(i)


def each_sample(function, items) -> list:
    """`[function(item) for item in items]`, item i drawing the randomness of the block's i-th sample.

    One narrowed block moves from sample to sample (what `with one_sample_randomness(i)` around each item does,
    without entering and leaving a block per item: the loader's per-sample path runs through here)."""
    context = _current.get()
    if context is None or not len(items):
        return [function(item) for item in items]
    child, results = context._narrowed(0), []
    with child:
        for i, item in enumerate(items):
            if i:
                child._hand_back()
                context._narrowed(i)
            results.append(function(item))
    return results


def samples_in_order(function, items):
    """`function(items)` for code that goes through the block's samples itself (a dataset's own `__getitems__`):
    its one-sample draws are matched to the samples in order (`_InOrderPass`), in a pass of their own."""
    context = _current.get()
    if context is not None:
        context._new_pass()
    return function(items)


def draws(n: int, source=None, randomness: SampleRandomness | None = None) -> SampleDraws:
    """Streams for the next random transform applied to n samples; `source` is what draws (a transform passes
    itself, `get_params` its class). Draws that name no source count as one source of their own. The one place the
    transforms take randomness.

    `randomness` is a block handed in: a batch's streams, as `ImageDataset.get_batch` hands them to its transforms
    (`apply_batch(batch, randomness)`). Without it, the draws come from the adapter for transforms called in a user's
    code: the block the loader opened around the call. Inside a block over n samples, each transform gets its own
    stream of the samples' keys (the first transform stream 1, the next stream 2, ...), so per-sample and batched
    application agree. Draws for one sample in a block of several that nothing narrowed (a dataset's own
    `__getitems__` calling `__getitem__`) are matched to the samples in order when every sample draws from the same
    sources in the same order, one sample after the other (`_InOrderPass`); any other count, or draws that do not
    match, raise rather than draw numbers that no other path would reproduce. Outside any block (a transform called
    by hand), the keys come from NumPy's global generator, as torchvision's transforms draw from torch's global
    generator.
    """
    block = _current.get() if randomness is None else randomness
    if block is None:
        return SampleDraws(np.random.randint(0, 1 << 64, size=n, dtype=np.uint64))
    return block.draws(n, source)
