"""tinytorch.data: torch.utils.data's datasets, samplers, collation and DataLoader, plus transforms and datasets, on NumPy."""
from .dataset import (ChainDataset, ConcatDataset, Dataset, ImageDataset, IterableDataset, StackDataset, Subset,
                      TensorDataset, random_split)
