"""tinytorch.data: torch.utils.data's datasets, samplers, collation and DataLoader, plus transforms and datasets, on NumPy."""
from . import transforms
from .collate import default_collate
from .dataset import (ChainDataset, ConcatDataset, Dataset, ImageDataset, IterableDataset, StackDataset, Subset,
                      TensorDataset, random_split)
from .errors import (ChecksumError, CorruptFileError, DataError, DatasetNotFoundError, DiskSpaceError, DownloadError,
                     UnsafeArchiveError, UnsafePickleError, UnusablePathError)
from .loader import DataLoader
from .sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)
from .worker import WorkerInfo, get_worker_info

from .datasets.cifar import CIFAR10, CIFAR100
from .datasets.folder import DatasetFolder, ImageFolder
from .datasets.mnist import KMNIST, MNIST, FashionMNIST
from .datasets.tinydigits import TinyDigits
from .datasets.tinytalks import TinyTalks
