"""Writers of the real on-disk formats, for test fixtures and benchmarks: IDX files and Python 2 cPickle streams.

The CIFAR-10 batches (and CIFAR-100's files) were written by Python 2's cPickle at protocol 2: keys are py2 str
(SHORT_BINSTRING), the `data` array is rebuilt through `numpy.core.multiarray._reconstruct` with its raw bytes in a
BINSTRING, lists are appended in groups of 1000, and every object is memoized with BINPUT. Python 3's pickle
writes none of that, so the stream is emitted opcode by opcode here.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import struct
import tarfile

import numpy as np

IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
             np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(array) -> bytes:
    """`array` (uint8, int8 or big-endian int16/int32/float32/float64) as an IDX file."""
    array = np.asarray(array)
    header = bytes([0, 0, IDX_CODES[array.dtype], array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.tobytes()


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


class Py2Pickle:
    """Builds a cPickle protocol 2 stream: call the emitters in order, then `.bytes()`."""

    def __init__(self):
        self.out, self.memo = bytearray(b"\x80\x02"), 0

    def bytes(self) -> bytes:
        return bytes(self.out + b".")

    def _put(self):
        self.memo += 1
        self.out += b"q" + bytes([self.memo]) if self.memo < 256 else b"r" + struct.pack("<I", self.memo)

    def str(self, text, memo: bool = True):
        """A py2 str; cPickle memoized only objects referenced elsewhere, not the temporaries of __reduce__."""
        raw = text.encode("latin1") if isinstance(text, str) else bytes(text)
        self.out += (b"U" + bytes([len(raw)]) if len(raw) < 256 else b"T" + struct.pack("<I", len(raw))) + raw
        if memo:
            self._put()

    def int(self, n: int):
        if 0 <= n < 256:
            self.out += b"K" + bytes([n])
        elif 0 <= n < 65536:
            self.out += b"M" + struct.pack("<H", n)
        else:
            self.out += b"J" + struct.pack("<i", n)

    def _global(self, module: str, name: str):
        self.out += f"c{module}\n{name}\n".encode()
        self._put()

    def _tuple(self, emitters):
        if 1 <= len(emitters) <= 3:
            for emit in emitters:
                emit()
            self.out += b"\x85\x86\x87"[len(emitters) - 1:len(emitters)]
        else:
            self.out += b"("
            for emit in emitters:
                emit()
            self.out += b"t"

    def array(self, array: np.ndarray):
        """A C-contiguous array of a one-byte or native little-endian dtype, as NumPy 1.x under Python 2 pickled it."""
        array = np.ascontiguousarray(array)
        self._global("numpy.core.multiarray", "_reconstruct")
        self._global("numpy", "ndarray")
        self._tuple([lambda: self.int(0)])
        self.str("b", memo=False)
        self.out += b"\x87R"
        self._put()  # the array itself, referenced by the dict
        self.out += b"("
        self.int(1)
        self._tuple([lambda n=n: self.int(n) for n in array.shape])
        self._global("numpy", "dtype")
        self.str(array.dtype.str[1:], memo=False)
        self.int(0)
        self.int(1)
        self.out += b"\x87R"
        self._put()  # the dtype, referenced by the array
        order = "|" if array.dtype.itemsize == 1 else "<"
        self.out += b"(K\x03"
        self.str(order, memo=False)
        self.out += b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89"
        self.str(array.tobytes(), memo=False)
        self.out += b"tb"

    def list(self, items, emit):
        self.out += b"]"
        self._put()
        for start in range(0, len(items), 1000):
            self.out += b"("
            for item in items[start:start + 1000]:
                emit(item)
            self.out += b"e"

    def dict(self, pairs):
        """`pairs`: (key, emitter) with the key a str."""
        self.out += b"}"
        self._put()
        self.out += b"("
        for key, emit in pairs:
            self.str(key)
            emit()
        self.out += b"u"


def cifar_batch(images_chw: np.ndarray, labels, name: str) -> bytes:
    """A CIFAR-10 batch file: {'data': uint8 (N, 3072), 'labels': [int], 'batch_label': str, 'filenames': [str]}."""
    pickle = Py2Pickle()
    flat = images_chw.reshape(len(images_chw), -1)
    filenames = [f"image_{i:06d}.png" for i in range(len(flat))]
    pickle.dict([("data", lambda: pickle.array(flat)), ("labels", lambda: pickle.list(list(labels), pickle.int)),
                 ("batch_label", lambda: pickle.str(name)), ("filenames", lambda: pickle.list(filenames, pickle.str))])
    return pickle.bytes()


def cifar_meta(label_names) -> bytes:
    pickle = Py2Pickle()
    pickle.dict([("num_cases_per_batch", lambda: pickle.int(10000)),
                 ("label_names", lambda: pickle.list(list(label_names), pickle.str)),
                 ("num_vis", lambda: pickle.int(3072))])
    return pickle.bytes()


def cifar_archive(train_images, train_labels, test_images, test_labels, label_names):
    """The cifar-10-python.tar.gz of these images (N, 3, 32, 32) split into five training batches and a test batch.

    Returns (archive bytes, {member file name: md5}).
    """
    members = {f"data_batch_{i + 1}": cifar_batch(images, labels, f"training batch {i + 1} of 5")
               for i, (images, labels) in enumerate(zip(np.array_split(train_images, 5),
                                                        np.array_split(np.asarray(train_labels), 5)))}
    members["test_batch"] = cifar_batch(test_images, test_labels, "testing batch 1 of 1")
    members["batches.meta"] = cifar_meta(label_names)
    return tar_gz({f"cifar-10-batches-py/{name}": data for name, data in members.items()}), \
        {name: md5(data) for name, data in members.items()}


def cifar100_split(images_chw: np.ndarray, fine_labels, coarse_labels, name: str) -> bytes:
    """A CIFAR-100 `train` or `test` file, keys in the real file's order: filenames, batch_label, fine_labels,
    coarse_labels, data."""
    pickle = Py2Pickle()
    flat = images_chw.reshape(len(images_chw), -1)
    filenames = [f"image_{i:06d}.png" for i in range(len(flat))]
    pickle.dict([("filenames", lambda: pickle.list(filenames, pickle.str)), ("batch_label", lambda: pickle.str(name)),
                 ("fine_labels", lambda: pickle.list(list(fine_labels), pickle.int)),
                 ("coarse_labels", lambda: pickle.list(list(coarse_labels), pickle.int)),
                 ("data", lambda: pickle.array(flat))])
    return pickle.bytes()


def cifar100_meta(fine_names, coarse_names) -> bytes:
    pickle = Py2Pickle()
    pickle.dict([("fine_label_names", lambda: pickle.list(list(fine_names), pickle.str)),
                 ("coarse_label_names", lambda: pickle.list(list(coarse_names), pickle.str))])
    return pickle.bytes()


def cifar100_archive(train, test, fine_names, coarse_names):
    """The cifar-100-python.tar.gz of `train` and `test`, each (images (N, 3, 32, 32), fine labels, coarse labels).

    Returns (archive bytes, {member file name: md5}).
    """
    members = {"train": cifar100_split(*train, "training batch 1 of 1"),
               "test": cifar100_split(*test, "testing batch 1 of 1"), "meta": cifar100_meta(fine_names, coarse_names)}
    return tar_gz({f"cifar-100-python/{name}": data for name, data in members.items()}), \
        {name: md5(data) for name, data in members.items()}


def tar_gz(members: dict) -> bytes:
    """A .tar.gz holding regular files {member path: bytes}."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
