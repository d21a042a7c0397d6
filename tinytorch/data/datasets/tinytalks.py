"""TinyTalks: 350 short question/answer pairs in five levels, shipped with TinyTorch for a first character-level GPT.

The pairs live in one text file per level (`level1_greetings.txt` ... `level5_context.txt`), each pair a `Q: ...`
line, an `A: ...` line and a blank line; `splits.json` says which pairs of each level are train, val and test.
"""
from __future__ import annotations

import json
import operator
from pathlib import Path

import numpy as np

from ..dataset import Dataset, as_index_array, check_index
from .shipped import shipped_dir

LEVELS = {1: "greetings", 2: "facts", 3: "math", 4: "reasoning", 5: "context"}
SPLITS = ("train", "val", "test")


def level_name(level: int) -> str:
    """The stem of a level's file and its key in splits.json, e.g. 'level1_greetings'."""
    return f"level{level}_{LEVELS[level]}"


def read_pairs(path) -> list[tuple[str, str]]:
    """The (question, answer) pairs of one TinyTalks file, checking its format line by line."""
    lines = Path(path).read_text(encoding="ascii").split("\n")
    if len(lines) % 3 != 0 or lines[-1] != "":
        raise ValueError(f"{path}: expected 'Q: ...', 'A: ...' and a blank line per pair, ending with a newline")
    pairs = []
    for start in range(0, len(lines), 3):
        question, answer, blank = lines[start : start + 3]
        if not (question.startswith("Q: ") and len(question) > 3 and answer.startswith("A: ") and len(answer) > 3):
            raise ValueError(f"{path}, line {start + 1}: expected a 'Q: ...' line then an 'A: ...' line, "
                             f"got {question!r} and {answer!r}")
        if blank != "" and start + 3 < len(lines):
            raise ValueError(f"{path}, line {start + 3}: expected a blank line between pairs, got {blank!r}")
        pairs.append((question[3:], answer[3:]))
    return pairs


def pair_text(question: str, answer: str) -> str:
    """A pair as the model sees it: 'Q: question', 'A: answer' and a blank line."""
    return f"Q: {question}\nA: {answer}\n\n"


def _check_levels(levels) -> list[int]:
    """`levels` (None, one level or an iterable of levels) as a sorted list of distinct levels in 1..5."""
    if levels is None:
        return list(LEVELS)
    items = [levels] if isinstance(levels, (int, np.integer)) else levels
    try:
        items = list(items)
    except TypeError:
        raise TypeError(f"levels must be None, an int in 1..5 or an iterable of them, got {levels!r}") from None
    chosen = set()
    for level in items:
        if isinstance(level, bool) or not isinstance(level, (int, np.integer)):
            raise TypeError(f"levels must hold ints in 1..5, got {level!r} of type {type(level).__name__}")
        if level not in LEVELS:
            raise ValueError(f"levels must hold ints in 1..5, got {level}")
        chosen.add(operator.index(level))
    if not chosen:
        raise ValueError("levels must name at least one level in 1..5, got an empty collection")
    return sorted(chosen)


class TinyTalks(Dataset):
    """The TinyTalks pairs of one split: `dataset[i]` is (question, answer), both str; `levels[i]` is its level.

    `split` is 'train' (245 pairs), 'val' (53), 'test' (52) or None (all 350); `levels` keeps only some of the
    levels 1..5. The character vocabulary comes from all pairs of all splits, so ids mean the same in every split:
    `encode(str)` -> int64 (len,), `decode(ids)` -> str. `windows(block_size)` gives the (input_ids, target_ids)
    windows of `text` for next-character training. `root` is a folder in the same layout (default: the shipped one).
    """

    def __init__(self, split: str | None = "train", levels=None, root=None):
        if split is not None and not isinstance(split, str):
            raise TypeError(f"split must be a str or None, got {type(split).__name__}: {split!r}")
        if split is not None and split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(map(repr, SPLITS))} or None, got {split!r}")
        wanted = _check_levels(levels)
        self.root = Path(root) if root is not None else shipped_dir("tinytalks")
        self.split = split
        every_level = {level: read_pairs(self.root / f"{level_name(level)}.txt") for level in LEVELS}
        chosen = every_level
        if split is not None:
            positions = json.loads((self.root / "splits.json").read_text(encoding="ascii"))[split]
            chosen = {level: [pairs[i] for i in positions[level_name(level)]] for level, pairs in every_level.items()}
        self.pairs: list[tuple[str, str]] = []
        self.levels: list[int] = []
        for level in wanted:
            self.pairs += chosen[level]
            self.levels += [level] * len(chosen[level])
        self.text = "".join(pair_text(question, answer) for question, answer in self.pairs)

        self.chars = sorted(set("".join(pair_text(q, a) for pairs in every_level.values() for q, a in pairs)))
        self.vocab_size = len(self.chars)
        self._codes = np.array([ord(char) for char in self.chars], dtype=np.uint8)  # id -> ASCII code
        self._ids = np.full(128, -1, dtype=np.int64)  # ASCII code -> id, -1 outside the vocabulary
        self._ids[self._codes] = np.arange(self.vocab_size)

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, index):
        return self.pairs[check_index(index, len(self))]

    def encode(self, text: str) -> np.ndarray:
        """The int64 (len(text),) ids of the characters of `text`; every character must be in the vocabulary."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        ids = self._ids[np.frombuffer(text.encode("ascii"), dtype=np.uint8)] if text.isascii() else None
        if ids is None or (ids < 0).any():
            unknown = sorted(set(text) - set(self.chars))
            raise ValueError(f"text has characters outside the TinyTalks vocabulary: {unknown!r}")
        return ids

    def decode(self, ids) -> str:
        """The text of a 1-D sequence of ids in [0, vocab_size)."""
        ids = np.asarray(ids)
        if ids.ndim != 1:
            raise ValueError(f"ids must be a 1-D sequence, got shape {ids.shape}")
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"ids must be ints, got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"ids must lie in [0, {self.vocab_size}), got values from {ids.min()} to {ids.max()}")
        return self._codes[ids.astype(np.int64)].tobytes().decode("ascii")

    def windows(self, block_size: int) -> TokenWindows:
        """Every (input_ids, target_ids) window of `block_size` characters of this split's text, for a DataLoader."""
        return TokenWindows(self.encode(self.text), block_size)

    def __repr__(self):
        return f"TinyTalks(split={self.split!r}, pairs={len(self)}, levels={sorted(set(self.levels))}, vocab_size={self.vocab_size})"


class TokenWindows(Dataset):
    """Next-token training windows: item i is (tokens[i:i+B], tokens[i+1:i+B+1]), both int64 (B,), B = block_size.

    There is one window per start position, len(tokens) - block_size in all; `get_batch` gathers a whole batch
    with one indexing call, so a DataLoader with the default collation takes the fast path.
    """

    def __init__(self, tokens, block_size: int):
        self.tokens = np.asarray(tokens, dtype=np.int64).reshape(-1)
        if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)):
            raise TypeError(f"block_size must be an int, got {type(block_size).__name__}: {block_size!r}")
        if not 1 <= block_size < len(self.tokens):
            raise ValueError(f"block_size must be in [1, {len(self.tokens) - 1}] for {len(self.tokens)} tokens, "
                             f"got {block_size}")
        self.block_size = int(block_size)

    def __len__(self):
        return len(self.tokens) - self.block_size

    def __getitem__(self, index):
        index = check_index(index, len(self))
        window = self.tokens[index : index + self.block_size + 1].copy()
        return window[:-1], window[1:]

    def get_batch(self, indices):
        """(inputs, targets), both int64 (len(indices), block_size)."""
        starts = np.arange(len(self))[as_index_array(indices)]  # negatives wrap, out of range raises IndexError
        rows = self.tokens[starts[:, None] + np.arange(self.block_size + 1)]
        return rows[:, :-1], rows[:, 1:]
