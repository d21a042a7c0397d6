"""The restricted unpickler: NumPy arrays and plain containers load, any other global is refused unrun."""
import io
import os
import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from formats import Py2Pickle
from tinytorch.data.datasets.storage import safe_pickle
from tinytorch.data.errors import CorruptFileError, UnsafePickleError

arrays = hnp.arrays(st.sampled_from([np.uint8, np.int64, np.float32, np.float64, np.bool_]),
                    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))


@settings(max_examples=60, deadline=None)
@given(images=arrays, labels=arrays, protocol=st.integers(0, pickle.HIGHEST_PROTOCOL))
def test_python3_pickles_of_dicts_of_arrays_load_at_every_protocol(images, labels, protocol):
    """TinyDigits-style files: {'images': array, 'labels': array} plus plain containers and NumPy scalars."""
    original = {"images": images, "labels": labels, "meta": [("a", 1.5, None), {1, 2}, b"raw"], "n": np.int64(7)}
    loaded = safe_pickle.load(io.BytesIO(pickle.dumps(original, protocol=protocol)))
    for key in ("images", "labels"):
        assert loaded[key].dtype == original[key].dtype and loaded[key].shape == original[key].shape
        assert np.array_equal(loaded[key], original[key], equal_nan=original[key].dtype.kind == "f")
    assert loaded["meta"] == original["meta"] and loaded["n"] == 7 and type(loaded["n"]) is np.int64


def test_python2_pickles_load_with_latin1_and_bytes_encodings():
    stream = Py2Pickle()
    array = np.arange(12, dtype=np.uint8).reshape(3, 4) + 200
    stream.dict([("data", lambda: stream.array(array)), ("names", lambda: stream.list(["x", "y"], stream.str))])
    as_text = safe_pickle.load(io.BytesIO(stream.bytes()))
    assert np.array_equal(as_text["data"], array) and as_text["names"] == ["x", "y"]
    as_bytes = safe_pickle.load(io.BytesIO(stream.bytes()), encoding="bytes")
    assert np.array_equal(as_bytes[b"data"], array) and as_bytes[b"names"] == [b"x", b"y"]


class Exploit:
    def __init__(self, call, *args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


@pytest.mark.parametrize("make", [lambda p: Exploit(os.mkdir, str(p)), lambda p: Exploit(eval, f"open({str(p)!r}, 'w')"),
                                  lambda p: Exploit(np.save, str(p), np.zeros(1)),
                                  lambda p: {"ok": np.zeros(2), "bad": [Exploit(os.mkdir, str(p))]}])
def test_any_other_global_is_refused_and_nothing_runs(tmp_path, make):
    target = tmp_path / "created"
    data = pickle.dumps(make(target), protocol=2)
    (tmp_path / "evil.pkl").write_bytes(data)
    with pytest.raises(UnsafePickleError, match="evil.pkl refers to .*nothing in the file was run"):
        safe_pickle.load(tmp_path / "evil.pkl")
    assert not target.exists() and not target.with_suffix(".npy").exists()


def test_codecs_encode_is_allowed_only_for_latin1():
    data = b"c_codecs\nencode\n(X\x03\x00\x00\x00abcX\x05\x00\x00\x00utf-7tR."
    with pytest.raises(UnsafePickleError, match="utf-7"):
        safe_pickle.load(io.BytesIO(data))
    assert safe_pickle.load(io.BytesIO(pickle.dumps(b"\xff\x00", protocol=2))) == b"\xff\x00"


@pytest.mark.parametrize("damage", [lambda d: d[:len(d) // 2], lambda d: b"", lambda d: b"\x80\x02garbage"])
def test_truncated_or_malformed_streams_are_corrupt_file_errors_naming_the_file(tmp_path, damage):
    path = tmp_path / "batch.pkl"
    path.write_bytes(damage(pickle.dumps({"images": np.zeros((4, 4))}, protocol=2)))
    with pytest.raises(CorruptFileError, match="batch.pkl is truncated or not a valid pickle"):
        safe_pickle.load(path)
