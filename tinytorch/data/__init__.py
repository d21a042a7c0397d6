"""tinytorch.data: torch.utils.data's datasets, samplers, collation and DataLoader, plus transforms and datasets, on NumPy."""
from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
                      random_split)
from .errors import (ChecksumError, CorruptFileError, CorruptImageError, DataError, DatasetNotFoundError,
                     DiskSpaceError, DownloadError, UnsafeArchiveError, UnsafePickleError, UnusablePathError)
from .sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)
from .workers import WorkerInfo, get_worker_info

from . import datasets, transforms
from .datasets import (CIFAR10, CIFAR100, KMNIST, MNIST, DatasetFolder, FashionMNIST, ImageDataset, ImageFolder,
                       TinyDigits, TinyTalks)
