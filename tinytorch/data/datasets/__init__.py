"""Datasets with torchvision's names: `from tinytorch.data import datasets`, then `datasets.MNIST(...)`.

`base` holds ImageDataset and `downloaded` the base of every downloaded dataset; `storage` beneath them holds the
file handling they share (download, cache root and md5 records, IDX reader, restricted unpickler).
"""
from .base import ImageDataset
from .cifar import CIFAR10, CIFAR100
from .folder import DatasetFolder, ImageFolder
from .mnist import KMNIST, MNIST, FashionMNIST
from .tinydigits import TinyDigits
from .tinytalks import TinyTalks

__all__ = ["ImageDataset", "MNIST", "FashionMNIST", "KMNIST", "CIFAR10", "CIFAR100", "ImageFolder", "DatasetFolder",
           "TinyDigits", "TinyTalks"]
