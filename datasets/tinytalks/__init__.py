"""TinyTalks: 350 question/answer pairs in five levels, written for TinyTorch (see README.md in this folder)."""
from pathlib import Path

from tinytorch.data.datasets.tinytalks import TinyTalks


def load_tinytalks(split=None, levels=None) -> list[tuple[str, str]]:
    """The (question, answer) pairs of `split` ('train', 'val', 'test' or None for all 350), of `levels` (1..5)."""
    return TinyTalks(split, levels, root=Path(__file__).parent).pairs
