"""Fuzzed NPZ input: every generated archive is read into a valid volume or refused with an InputError.

Archives hold random members (any numpy dtype incl. bool, complex, strings, datetimes, pickled objects,
random shapes incl. zero-size and 0-D/5-D, NaN/inf), ``.npy`` headers declaring huge shapes over little
data, and are damaged (truncated, bytes flipped, not a zip at all).
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pscgan.errors import InputError
from pscgan.io.npz import read_npz
from pscgan.io.reader import read_image

FUZZ = settings.get_profile("fuzz")
# nibabel, pydicom, numpy and scikit-image warn about the hostile inputs on their way to an answer.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
DTYPES = ["i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "?", "c8", "c16", "U3", "S2",
          "M8[ms]", "m8[ms]", "O", "V4", [("a", "u1"), ("b", "f4")]]
KEYS = ["cine", "lge", "labels", "spacing", "trigger_times_ms", "rr_interval_ms", "notes"]


def random_member(shape: tuple[int, ...], dtype: str, fill: str, seed: int) -> np.ndarray:
    """An array of ``dtype`` and ``shape``: small non-negative integers (valid labels), normal noise, NaN
    or inf mixed in, or a constant."""
    rng = np.random.default_rng(seed)
    if fill == "labels":
        values = rng.integers(0, 4, shape).astype(np.float64)
    elif fill == "constant":
        values = np.full(shape, 3.0)
    else:
        values = rng.normal(100.0, 50.0, shape)
        if values.size and fill in ("nan", "inf"):
            values.flat[rng.integers(0, values.size)] = np.nan if fill == "nan" else np.inf
    dt = np.dtype(dtype)
    if dt.kind in "OUS":
        return values.astype(object if dt.kind == "O" else dt)
    if dt.kind in "MmV":
        return np.zeros(shape, dt)
    with np.errstate(invalid="ignore", over="ignore"):
        return values.astype(dt)


def npy_with_header(shape: tuple[int, ...], payload: bytes) -> bytes:
    """A ``.npy`` member declaring float32 ``shape`` while holding only ``payload``."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_2_0(buf, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buf.getvalue() + payload


def flip_bytes(raw: bytes, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buf = bytearray(raw)
    for pos in rng.integers(0, len(buf), size=1 + seed % 8):
        buf[pos] ^= int(rng.integers(1, 256))
    return bytes(buf)


@st.composite
def npz_archives(draw: st.DrawFn) -> tuple[str, bytes, str]:
    """(file name, bytes, the key to read) of an NPZ archive, possibly hostile."""
    members: dict[str, bytes] = {}
    main = draw(st.sampled_from(["cine", "lge", "labels"]))
    extras = draw(st.lists(st.sampled_from(KEYS), max_size=4, unique=True))
    for key in [main] + [k for k in extras if k != main]:
        if draw(st.integers(0, 14)) == 14:  # a header promising far more data than the member holds
            shape = draw(st.sampled_from([(30000, 30000, 30), (600, 600, 600), (25, 64, 64), (-1, 4, 4)]))
            members[key] = npy_with_header(shape, b"\0" * draw(st.integers(0, 64)))
            continue
        sizes = st.sampled_from([4, 5, 6] * 5 + [1, 2, 3, 0] if key == main else [1, 2, 3, 25, 0])
        ndim = draw(st.sampled_from({"cine": [3, 4, 4, 4, 2, 5], "lge": [2, 3, 3, 3, 1, 4],
                                     "labels": [2, 3, 3, 3, 1, 4]}.get(key, [0, 1, 1, 2])))
        shape = tuple(draw(st.lists(sizes, min_size=ndim, max_size=ndim)))
        dtype = draw(st.sampled_from(["f4", "f8", "u1", "i2"] if draw(st.booleans()) else DTYPES))
        fill = draw(st.sampled_from(["labels", "noise", "noise", "nan", "inf", "constant"]))
        buf = io.BytesIO()
        np.lib.format.write_array(buf, random_member(shape, dtype, fill, draw(st.integers(0, 2**32 - 1))),
                                  allow_pickle=True)
        members[key] = buf.getvalue()
    out = io.BytesIO()
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    with zipfile.ZipFile(out, "w", compression=method) as archive:
        for key, data in members.items():
            archive.writestr(f"{key}.npy", data)
        if draw(st.integers(0, 9)) == 9:
            archive.writestr("readme.txt", b"not an array")
    raw = out.getvalue()
    how = draw(st.sampled_from(["none"] * 5 + ["truncate", "flip", "garbage"]))
    seed = draw(st.integers(0, 2**32 - 1))
    if how == "truncate":
        raw = raw[: int(len(raw) * draw(st.floats(0.0, 1.0)))]
    elif how == "flip":
        raw = flip_bytes(raw, seed)
    elif how == "garbage":
        raw = np.random.default_rng(seed).bytes(seed % 3000)
    wanted = main if draw(st.integers(0, 4)) else draw(st.sampled_from(["cine", "lge", "labels"]))
    return "subject.npz", raw, wanted


@settings(FUZZ, max_examples=550)
@given(case=npz_archives(), via=st.sampled_from(["npz", "image"]))
def test_fuzzed_npz_is_read_or_refused(fuzz_cases, tmp_path, case, via):
    name, raw, key = case
    path = tmp_path / name  # one file, overwritten by each example
    path.write_bytes(raw)
    reader = read_npz if via == "npz" else read_image
    vol = fuzz_cases.run(lambda: reader(path, key), path, ndims=(4,) if key == "cine" else (3,))
    if vol is not None:
        assert vol.array.dtype == (np.uint8 if key == "labels" else np.float32)
        if key == "cine":
            assert vol.array.shape[3] >= 2


def test_member_declaring_100_gib_is_refused_before_reading(tmp_path, monkeypatch):
    def no_reading(*args, **kwargs):
        raise AssertionError("array data read despite an oversized header")

    monkeypatch.setattr(np.lib.format, "read_array", no_reading)
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("cine.npy", npy_with_header((30000, 30000, 30), b"\0" * 64))
    with pytest.raises(InputError, match="GiB") as err:
        read_npz(path, "cine")
    assert err.value.path == path


def test_member_holding_less_data_than_declared_is_refused_before_reading(tmp_path, monkeypatch):
    def no_reading(*args, **kwargs):
        raise AssertionError("array data read from a truncated member")

    monkeypatch.setattr(np.lib.format, "read_array", no_reading)
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("cine.npy", npy_with_header((600, 600, 600), b"\0" * 64))
    with pytest.raises(InputError, match="truncated") as err:
        read_npz(path, "cine")
    assert "cine" in str(err.value) and err.value.path == path
