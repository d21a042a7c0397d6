"""The constructor that MNIST and CIFAR10 share: torchvision's signature, the default root, the optional download."""
from __future__ import annotations

from ..cache import default_root
from ..dataset import ImageDataset


class DownloadedImages(ImageDataset):
    """An ImageDataset whose files live under `root` and can be fetched with `download=True`.

    Subclasses define the classmethod `download(root, *, force=False, quiet=False)` and `load()`, which returns
    (data, targets) of the split chosen by `self.train` from `self.root`.
    """

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None, download: bool = False):
        if not isinstance(train, bool):
            raise TypeError(f"train must be a bool, got {type(train).__name__}: {train!r}")
        self.root, self.train = default_root(root), train
        if download:
            self.download(self.root)
        data, targets = self.load()
        super().__init__(data, targets, transform, target_transform)
