"""Counter-based randomness: every draw is a pure function of (seed, epoch, position, stream, counter).

The loader never hands a stateful random generator to transforms. Instead, for each batch it opens a
`sample_randomness(seed, epoch, start, count)` context; a random transform asks `draws(n)` for a `SampleDraws`
and gets one independent stream per sample, keyed by the sample's position in the epoch. Because the key is
the position and not "how many numbers were drawn before", a batch, a single sample, or a worker process
all see the same numbers for the same sample: that is what makes batched transforms equal per-sample ones,
and runs reproducible however the work is split.
"""
from __future__ import annotations

import contextlib
import math
import contextvars
import secrets

import numpy as np

_MASK64 = (1 << 64) - 1


_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_M1, _M2, _M3 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0xD1B54A32D192ED03)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (arrays wrap silently on overflow, as the hash wants)."""
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


def _hash(key: np.ndarray, value: int) -> np.ndarray:
    """`key` mixed with the int `value`: a new, independent-looking uint64 array."""
    return _mix(key ^ np.uint64((value * 0x9E3779B97F4A7C15) & _MASK64))


def seed_from(generator, argument: str = "generator") -> int:
    """Turn a `generator` argument (None, an int seed, or a numpy Generator) into a 63-bit int seed."""
    if generator is None:  # a fresh seed from the operating system's entropy
        return secrets.randbits(63)
    if isinstance(generator, (bool, np.bool_)):
        raise TypeError(f"{argument} must be None, an int seed or a numpy.random.Generator, got {generator!r}")
    if isinstance(generator, (int, np.integer)):
        if generator < 0:
            raise ValueError(f"{argument} must be a non-negative int seed, got {generator!r}")
        return int(generator) & ((1 << 63) - 1)
    if isinstance(generator, np.random.Generator):
        return int(generator.integers(0, 1 << 63))
    raise TypeError(
        f"{argument} must be None, an int seed or a numpy.random.Generator, got {type(generator).__name__}"
    )


class SampleDraws:
    """Independent random streams for n samples; each call draws the next numbers of every stream.

    `uniform(*shape)` returns float64 of shape (n, *shape) in [0, 1). Row i depends only on sample i's key and the
    number of calls before.
    """

    def __init__(self, keys: np.ndarray):
        self.keys = np.asarray(keys, dtype=np.uint64)
        self.calls = 0

    def _bits(self, shape: tuple[int, ...]) -> np.ndarray:
        self.calls += 1
        size = math.prod(shape)
        base = _hash(self.keys, self.calls)[:, None]
        bits = _mix(base + np.arange(1, size + 1, dtype=np.uint64) * _M3)
        return bits.reshape((len(self.keys),) + tuple(shape))

    def uniform(self, *shape: int) -> np.ndarray:
        return (self._bits(shape) >> _S11).astype(np.float64) * (1.0 / (1 << 53))


def sample_keys(seed: int, epoch: int, positions) -> np.ndarray:
    """The uint64 key of each sample: a hash of (seed, epoch, position in the epoch)."""
    positions = np.asarray(positions, dtype=np.uint64)
    return _hash(_hash(_mix(np.full(positions.shape, seed & _MASK64, dtype=np.uint64)), epoch), 0) ^ _mix(
        positions + np.uint64(1)
    )


class sample_randomness:
    """Make random transforms inside this block draw for the samples at positions start..start+count-1 of the epoch.

    A context manager written as a small class (it runs once per batch): it holds the positions, their keys once a
    transform asks for them, and how many streams it has handed out (one per random transform applied).
    """

    __slots__ = ("seed", "epoch", "start", "count", "streams", "_keys", "_token")

    def __init__(self, seed: int, epoch: int, start: int, count: int):
        self.seed, self.epoch, self.start, self.count = seed, epoch, start, count
        self.streams = 0
        self._keys = None

    @property
    def keys(self) -> np.ndarray:
        if self._keys is None:
            self._keys = sample_keys(self.seed, self.epoch, np.arange(self.start, self.start + self.count))
        return self._keys

    def __enter__(self):
        self._token = _current.set(self)

    def __exit__(self, *exception):
        _current.reset(self._token)


_current: contextvars.ContextVar[sample_randomness | None] = contextvars.ContextVar("tinytorch_randomness", default=None)


def one_sample_randomness(i: int):
    """Inside a `sample_randomness` block, narrow it to its i-th sample (for transforms applied one sample at a time)."""
    context = _current.get()
    if context is None:
        return contextlib.nullcontext()
    return sample_randomness(context.seed, context.epoch, context.start + i, 1)


def draws(n: int) -> SampleDraws:
    """Streams for the next random transform applied to n samples.

    Inside a `sample_randomness` block over n samples, each transform gets its own stream of the samples' keys
    (the first transform stream 1, the next stream 2, ...), so per-sample and batched application agree.
    Elsewhere (a transform called by hand), the draws are fresh, like torchvision's use of the global RNG.
    """
    context = _current.get()
    if context is None or context.count != n:
        return SampleDraws(np.frombuffer(secrets.token_bytes(8 * n), dtype=np.uint64).copy())
    context.streams += 1
    return SampleDraws(_hash(context.keys, (context.streams << 32) | 0xA5A5))
