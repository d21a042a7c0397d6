"""Samplers: the order in which a DataLoader visits dataset indices, with torch.utils.data's names and rules.

The order of a seeded sampler is a pure function of (seed, epoch). `set_epoch(e)` chooses the epoch (torch's
convention), and a DataLoader calls it before each of its epochs, so that the loader is the one owner of the epoch;
iterated on its own, a sampler goes on to its next epoch after each complete iteration, as torch's draws a new
order. `state_dict()` (seed, epoch) is all it takes to replay or resume it. Built-in samplers also give the whole
epoch as one int64 array (`epoch_indices()`), which `BatchSampler.index_batches()` slices without a Python loop
per index; the loader takes that route only when the class's `__iter__` is the built-in one
(`arguments.fast_route_agrees`): a subclass overriding `__iter__` is iterated, as torch iterates it.
"""
from __future__ import annotations

import math
import operator
import os
import sys
from typing import Generic, TypeVar

import numpy as np

from .arguments import boolean, fast_route_agrees, positive_int, state_int
from .rng import seed_from

T_co = TypeVar("T_co", covariant=True)  # what a sampler yields: an index, or a list of them for a batch sampler


class Sampler(Generic[T_co]):
    """Yields dataset indices. Subclasses define `__iter__` and usually `__len__`.

    `Sampler(data_source)` is accepted and ignored, as torch accepted it before 2.2 (older samplers call
    `super().__init__(data_source)`); torch 2.13's `Sampler()` takes no arguments.
    """

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1, every epoch."""

    def __init__(self, data_source):
        self.data_source = data_source

    def epoch_indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class SeededSampler(Sampler[int]):
    """A sampler whose order in epoch e is `order(numpy Generator seeded with (seed, e))`, e being set by `set_epoch`.

    `generator` is None (a seed drawn from NumPy's global generator), an int seed in [0, 2**64), a numpy Generator or a
    torch.Generator (one seed drawn from it now: `rng.seed_from`). `epoch_from_loader`: a DataLoader sets the epoch
    of this sampler to its own before each epoch.
    Iterated on its own, a sampler made without a generator draws a new seed from NumPy's global generator each time
    an iteration starts, as torch's draws from torch's: every iteration has a new order, and `np.random.seed` repeats
    them. A seeded one goes on to its next epoch after each complete iteration (a new order each time, as torch's
    generator moves on; `set_epoch` chooses one). A DataLoader takes `epoch_indices()` after `set_epoch`, so the
    loader owns the epoch.
    """

    epoch_from_loader = True

    def __init__(self, generator=None):
        self.seed = seed_from(generator)
        self.epoch = 0
        self.generator = generator

    def order(self, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define order(rng)")

    def set_epoch(self, epoch: int) -> None:
        """Make iterations produce the order of `epoch`."""
        self.epoch = positive_int(epoch, "epoch", allow_zero=True)

    def epoch_indices(self) -> np.ndarray:
        """The int64 indices of the current epoch (the same on every call until `set_epoch`)."""
        return self.order(np.random.default_rng([self.seed, self.epoch]))

    def draw_from_torch(self, torch) -> None:
        """Take from torch's global generator what torch's sampler of this kind takes at each iteration when made
        without a generator (`take_torch_draws`); DistributedSampler's takes nothing."""

    def __iter__(self):
        if self.generator is None:
            self.seed = seed_from(None)  # when the iteration starts (its first next()), as torch draws
            take_torch_draws(self.draw_from_torch)
        yield from self.epoch_indices().tolist()
        if self.generator is not None and self.epoch_from_loader:  # a seeded one's complete iteration on its own
            self.epoch += 1

    def state_dict(self) -> dict:
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        """Take the seed and epoch of `state_dict()`; a ValueError names a missing or invalid entry."""
        if not isinstance(state, dict) or set(state) != {"seed", "epoch"}:
            raise ValueError(f"{type(self).__name__} state should be a dict with 'seed' and 'epoch', got {state!r}")
        self.seed, self.epoch = (state_int(state, key, f"{type(self).__name__} state") for key in ("seed", "epoch"))


class RandomSampler(SeededSampler):
    """A random permutation each epoch; with `replacement`, `num_samples` draws with replacement.

    Without replacement and `num_samples` > len(data_source), whole permutations are concatenated, as in torch.
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None, generator=None):
        super().__init__(generator)
        self.data_source = data_source
        self.replacement = boolean(replacement, "replacement", error=TypeError)  # torch's type here
        self._num_samples = None if num_samples is None else positive_int(num_samples, "num_samples")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def draw_from_torch(self, torch) -> None:
        """torch's RandomSampler without a generator draws its seed, one int64."""
        draw_one_int64(torch)

    def order(self, rng):
        n = len(self.data_source)
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples, dtype=np.int64)
        rounds = [rng.permutation(n) for _ in range(math.ceil(self.num_samples / n))] if n else []
        if not rounds:
            return np.zeros(0, np.int64)
        order = rounds[0] if len(rounds) == 1 else np.concatenate(rounds)  # one round: no copy
        return order[: self.num_samples].astype(np.int64, copy=False)

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(SeededSampler):
    """The given indices in a random order each epoch."""

    def __init__(self, indices, generator=None):
        super().__init__(generator)
        self.indices = indices

    def order(self, rng):
        return np.asarray(self.indices, dtype=np.int64)[rng.permutation(len(self.indices))]

    def draw_from_torch(self, torch) -> None:
        """torch's SubsetRandomSampler without a generator takes a `torch.randperm`."""
        torch.randperm(len(self.indices))

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(SeededSampler):
    """`num_samples` indices drawn with probability proportional to `weights` (1-D, non-negative, not all zero)."""

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        super().__init__(generator)
        self.num_samples = positive_int(num_samples, "num_samples")
        self.replacement = boolean(replacement, "replacement")
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 1:  # torch's words
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {weights.shape}")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or not np.any(weights > 0):
            raise ValueError(f"weights should be finite, non-negative numbers, not all zero, got {weights!r}")
        self.weights = weights
        if not self.replacement and self.num_samples > np.count_nonzero(weights):
            raise ValueError(
                f"num_samples={num_samples} is more than the {np.count_nonzero(weights)} non-zero weights; "
                "without replacement each index can be drawn once"
            )

    def order(self, rng):
        if self.replacement:
            p = self.weights / self.weights.max()  # scaled first: a sum of huge weights must not overflow
            return rng.choice(len(p), size=self.num_samples, p=p / p.sum()).astype(np.int64)
        # Without replacement: the num_samples largest of log(w) + Gumbel noise (Gumbel-top-k), the same law as
        # drawing one index at a time and removing it. Logarithms keep tiny weights (5e-324) drawable, where
        # normalising them would round them to 0.
        candidates = np.flatnonzero(self.weights)
        scores = np.log(self.weights[candidates]) - np.log(-np.log(rng.random(len(candidates))))
        return candidates[np.argsort(-scores, kind="stable")[: self.num_samples]].astype(np.int64)

    def draw_from_torch(self, torch) -> None:
        """torch's WeightedRandomSampler without a generator takes a `torch.multinomial`."""
        torch.multinomial(torch.as_tensor(self.weights, dtype=torch.double), self.num_samples, self.replacement)

    def __len__(self):
        return self.num_samples


class DistributedSampler(SeededSampler):
    """The shard of the dataset that process `rank` of `num_replicas` reads, as torch's DistributedSampler.

    The epoch's order (seeded by `seed` and `set_epoch`) is padded by repeating its start (or, with `drop_last`,
    cut) to a multiple of num_replicas; rank r takes every num_replicas-th index from r. Like torch, the epoch is
    the user's: call `set_epoch(epoch)` before each epoch so that shuffling changes (a DataLoader does not set it).
    `num_replicas` and `rank` default to the WORLD_SIZE and RANK environment variables that torchrun-style
    launchers set (torch asks its process group, which tinytorch does not have).
    """

    epoch_from_loader = False

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False):
        super().__init__(positive_int(seed, "seed", allow_zero=True))
        self.dataset = dataset
        self.num_replicas = positive_int(_from_environment(num_replicas, "num_replicas", "WORLD_SIZE"), "num_replicas")
        self.rank = operator.index(_from_environment(rank, "rank", "RANK"))
        if not 0 <= self.rank < self.num_replicas:  # torch's words
            raise ValueError(f"Invalid rank {self.rank}, rank should be in the interval [0, {self.num_replicas - 1}]")
        self.shuffle = boolean(shuffle, "shuffle")
        self.drop_last = boolean(drop_last, "drop_last")
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def order(self, rng):
        n = len(self.dataset)
        indices = rng.permutation(n) if self.shuffle else np.arange(n)
        if self.total_size > n:
            indices = np.resize(indices, self.total_size)
        return indices[: self.total_size][self.rank :: self.num_replicas].astype(np.int64)

    def __len__(self):
        return self.num_samples


def as_int64_indices(batch) -> np.ndarray:
    """A batch of indices that a sampler yielded, as an int64 array; an IndexError naming the batch when an index
    does not fit an int64 (NumPy would raise a bare OverflowError, or wrap a uint64 array silently)."""
    if isinstance(batch, np.ndarray) and batch.dtype.kind == "u" and batch.size and int(batch.max()) >> 63:
        raise IndexError(f"the sampler yielded the batch {batch!r:.200}, with an index that does not fit an int64")
    try:
        return np.asarray(batch, dtype=np.int64)
    except OverflowError:
        raise IndexError(f"the sampler yielded the batch {batch!r:.200}, with an index that does not fit an "
                         "int64") from None


def take_torch_draws(draw) -> None:
    """`draw(torch)` when torch is loaded (never importing it): what torch's loader or sampler would take from
    torch's global generator, taken and not used (our numbers come from NumPy's), so that a training script's
    `torch.manual_seed` gives the model the same random numbers (dropout, init) as with torch's loader."""
    torch = sys.modules.get("torch")
    if torch is not None:
        draw(torch)


def draw_one_int64(torch) -> None:
    """One int64 from torch's global generator, as torch's loader takes for its base seed and RandomSampler for its
    seed."""
    torch.empty((), dtype=torch.int64).random_()


def _from_environment(value, argument: str, variable: str) -> int:
    if value is not None:
        return value
    if variable not in os.environ:
        raise ValueError(
            f"{argument} was not given and the environment variable {variable} is not set; pass {argument}= "
            f"or start the processes with a launcher such as torchrun that sets {variable}"
        )
    try:
        return int(os.environ[variable])
    except ValueError:
        raise ValueError(f"the environment variable {variable}={os.environ[variable]!r} should be an integer") from None


class BatchSampler(Sampler[list]):
    """Groups the indices of `sampler` into lists of `batch_size`; the last, shorter one is dropped with `drop_last`."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        self.sampler = sampler
        self.batch_size = positive_int(batch_size, "batch_size")
        self.drop_last = boolean(drop_last, "drop_last")

    def index_batches(self):
        """Yields each batch of the current epoch as an int64 array: slices of `epoch_indices()` where the sampler
        has it (the sampler's epoch is then left as it is, for the DataLoader to set)."""
        size = self.batch_size
        if not fast_route_agrees(self.sampler, "epoch_indices", "__iter__"):
            yield from (as_int64_indices(batch) for batch in self)
            return
        indices = self.sampler.epoch_indices()
        stop = len(indices) - len(indices) % size if self.drop_last else len(indices)
        for start in range(0, stop, size):
            yield indices[start : start + size]

    def __iter__(self):
        """Each batch as a list of indices, iterating the sampler as torch's BatchSampler does."""
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return math.ceil(len(self.sampler) / self.batch_size)

    @property
    def epoch_from_loader(self) -> bool:
        return getattr(self.sampler, "epoch_from_loader", False)

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def state_dict(self) -> dict:
        return self.sampler.state_dict() if hasattr(self.sampler, "state_dict") else {}

    def load_state_dict(self, state: dict) -> None:
        if hasattr(self.sampler, "load_state_dict"):
            self.sampler.load_state_dict(state)
