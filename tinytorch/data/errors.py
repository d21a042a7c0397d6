"""The errors of tinytorch.data's datasets and downloads: one type per failure, all under `DataError`.

Catch `DataError` for any of them; each message says what went wrong, where, and how to get out of it.
"""


class DataError(RuntimeError):
    """The common base of every dataset and download error."""


class DatasetNotFoundError(DataError):
    """The dataset's files are not on disk and `download=False`."""


class DownloadError(DataError):
    """Every mirror failed (or there is no network); the message lists each URL with its failure."""


class ChecksumError(DataError):
    """A file's digest is not the expected one; nothing is left under the final name."""


class CorruptFileError(DataError):
    """A file on disk is truncated or malformed (IDX header, pickle, archive)."""


class UnsafePickleError(DataError):
    """A pickle names a global outside the allowed NumPy/container set; nothing in it was run."""


class UnsafeArchiveError(DataError):
    """An archive member would land outside the target folder, or is a link or a device."""


class DiskSpaceError(DataError):
    """Not enough free disk space for a download or an extraction; says how much is needed and where."""


class UnusablePathError(DataError):
    """A folder or file the data layer must use is not usable: the root is a file, a folder cannot be created, or a
    path it must write is taken by a folder or a file; says which path and what to do. Nothing was deleted."""


class CorruptImageError(CorruptFileError, OSError):
    """An image file Pillow cannot decode (truncated, damaged, or not an image). Also an OSError, as Pillow's
    errors are, so code written for torchvision's `except OSError` still catches it."""


class FolderChangedError(DataError):
    """Files of a folder changed while they were being read into a cache; nothing was kept."""


class TooSlowError(OSError):
    """A source delivered less than `download.MIN_RATE` bytes/s over `RATE_WINDOW` seconds; the next source is tried."""
