"""Writes splits.json: which pairs of each level file are train, val and test. Run: python -m datasets.tinytalks.build

The split is stratified by level (70/15/15 of every level, 245/53/52 in all) and depends only on the text: within
a level, pairs are ordered by the SHA-256 of their question, the first go to train, the next to val, the rest to test.
"""
import hashlib
import json
from pathlib import Path

from tinytorch.data.datasets.tinytalks import LEVELS, SPLITS, level_name, read_pairs

ROOT = Path(__file__).parent
SIZES = {1: (35, 8, 7), 2: (70, 15, 15), 3: (35, 8, 7), 4: (70, 15, 15), 5: (35, 7, 8)}  # (train, val, test)


def make_splits(root: Path = ROOT) -> dict[str, dict[str, list[int]]]:
    """{split: {level name: sorted positions of that level's pairs in the split}}."""
    splits = {split: {} for split in SPLITS}
    for level in LEVELS:
        questions = [question for question, _ in read_pairs(root / f"{level_name(level)}.txt")]
        if len(questions) != sum(SIZES[level]):
            raise ValueError(f"level {level} has {len(questions)} pairs, expected {sum(SIZES[level])}")
        order = sorted(range(len(questions)), key=lambda i: hashlib.sha256(questions[i].encode("ascii")).hexdigest())
        start = 0
        for split, size in zip(SPLITS, SIZES[level]):
            splits[split][level_name(level)] = sorted(order[start : start + size])
            start += size
    return splits


def splits_json(splits: dict[str, dict[str, list[int]]]) -> str:
    """splits.json's text: one line per (split, level), so a diff shows which pairs moved."""
    blocks = []
    for split, by_level in splits.items():
        rows = ",\n".join(f"    {json.dumps(name)}: {json.dumps(positions)}" for name, positions in by_level.items())
        blocks.append(f"  {json.dumps(split)}: {{\n{rows}\n  }}")
    return "{\n" + ",\n".join(blocks) + "\n}\n"


if __name__ == "__main__":
    (ROOT / "splits.json").write_text(splits_json(make_splits()), encoding="ascii")
    print(f"wrote {ROOT / 'splits.json'}")
