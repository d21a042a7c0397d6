"""The original TinyTorch import path, kept so that older code runs: `from tinytorch.data.loader import Dataset,
TensorDataset, DataLoader, Compose, RandomHorizontalFlip, RandomCrop`. New code imports from `tinytorch.data`."""
from .dataloader import DataLoader
from .dataset import Dataset, TensorDataset
from .transforms import Compose, RandomCrop, RandomHorizontalFlip

__all__ = ["DataLoader", "Dataset", "TensorDataset", "Compose", "RandomHorizontalFlip", "RandomCrop"]
