"""Fuzzed NIfTI input: every generated file is read into a valid volume or refused with an InputError.

Files are written with nibabel, then their header bytes are edited (huge or negative dimensions, bad data
types, voxel sizes, scaling, offsets, affines) and the file is damaged (truncated, bytes flipped, gzip
garbage). The cases run through :func:`read_nifti` and :func:`read_image`.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pscgan.errors import InputError
from pscgan.io.image import MAX_ARRAY_BYTES
from pscgan.io.nifti import read_nifti
from pscgan.io.reader import read_image

FUZZ = settings.get_profile("fuzz")
# nibabel, pydicom, numpy and scikit-image warn about the hostile inputs on their way to an answer.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
RGB = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])
DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64, np.float32,
          np.float64, np.complex64, np.complex128, RGB]
#: NIfTI-1 header fields: byte offset and struct format (little-endian, as nibabel writes on this machine).
FIELDS = {"sizeof_hdr": (0, "<i"), "dim": (40, "<8h"), "datatype": (70, "<h"), "bitpix": (72, "<h"),
          "pixdim": (76, "<8f"), "vox_offset": (108, "<f"), "scl_slope": (112, "<f"),
          "scl_inter": (116, "<f"), "xyzt_units": (123, "<B"), "qform_code": (252, "<h"),
          "sform_code": (254, "<h"), "quatern": (256, "<6f"), "srow": (280, "<12f"), "magic": (344, "<4s")}
ODD_FLOATS = st.sampled_from([0.0, -1.0, float("nan"), float("inf"), -float("inf"), 1e-30, 1e30, 2.5])


def random_array(shape: tuple[int, ...], dtype: np.dtype, fill: str, seed: int) -> np.ndarray:
    """Values of ``dtype``: random, constant, or random with NaN/inf or the dtype's extremes mixed in."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype == RGB:
        return rng.integers(0, 256, shape + (3,), dtype=np.uint8).view(RGB).reshape(shape)
    if fill == "constant":
        return np.full(shape, 7, dtype)
    values = rng.normal(0.0, 100.0, shape)
    if dtype.kind == "c":
        values = values + 1j * rng.normal(0.0, 100.0, shape)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = np.clip(values, info.min, info.max)
    out = values.astype(dtype)
    if out.size and fill in ("nan", "inf") and dtype.kind in "fc":
        out.flat[rng.integers(0, out.size)] = np.nan if fill == "nan" else -np.inf
    if out.size and fill == "extreme":
        info = np.iinfo(dtype) if dtype.kind in "iu" else np.finfo(dtype)
        out.flat[rng.integers(0, out.size)] = info.max
        out.flat[rng.integers(0, out.size)] = info.min
    return out


@st.composite
def header_edits(draw: st.DrawFn) -> list[tuple[str, tuple]]:
    """Up to two header fields overwritten with hostile or inconsistent values."""
    edits = []
    for field in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=2, unique=True)):
        if field == "dim":
            value = draw(st.one_of(
                st.just((3, 30000, 30000, 500, 1, 1, 1, 1)),  # ~1.6 TiB declared
                st.just((4, 1000, 1000, 100, 10, 1, 1, 1)),  # under 2**31 elements each, above the cap
                st.just((3, 600, 600, 600, 1, 1, 1, 1)),  # under the cap, far more than the file holds
                st.tuples(st.integers(-2, 9), *[st.integers(-3, 32767)] * 7)))
        elif field in ("pixdim", "quatern", "srow"):
            n = {"pixdim": 8, "quatern": 6, "srow": 12}[field]
            value = tuple(draw(st.lists(ODD_FLOATS, min_size=n, max_size=n)))
        elif field in ("vox_offset", "scl_slope", "scl_inter"):
            value = (draw(st.one_of(ODD_FLOATS, st.sampled_from([352.0, 351.0, 1e9, 3e38]))),)
        elif field == "datatype":
            value = (draw(st.sampled_from([0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 768, 1024, 1280, 1536,
                                           1792, 2048, 2304, 9999, -1])),)
        elif field == "magic":
            value = (draw(st.sampled_from([b"ni1\0", b"n+2\0", b"\xff\xff\xff\xff", b"n+1\0"])),)
        elif field == "sizeof_hdr":
            value = (draw(st.sampled_from([0, 540, 1543569408, -1])),)  # 1543569408: 348 byte-swapped
        else:
            fmt = FIELDS[field][1]
            lo, hi = (0, 255) if fmt == "<B" else (-32768, 32767)
            value = (draw(st.integers(lo, hi)),)
        edits.append((field, value))
    return edits


def edit_header(raw: bytes, edits: list[tuple[str, tuple]]) -> bytes:
    buf = bytearray(raw)
    for field, value in edits:
        offset, fmt = FIELDS[field]
        struct.pack_into(fmt, buf, offset, *value)
    return bytes(buf)


def damage(raw: bytes, how: str, where: float, seed: int) -> bytes:
    """Truncate at a fraction ``where`` of the file, flip a few random bytes, or leave intact."""
    if how == "truncate":
        return raw[: int(len(raw) * where)]
    if how == "flip":
        rng = np.random.default_rng(seed)
        buf = bytearray(raw)
        for pos in rng.integers(0, len(buf), size=1 + seed % 8):
            buf[pos] ^= int(rng.integers(1, 256))
        return bytes(buf)
    return raw


def nifti_bytes(array: np.ndarray, zooms: tuple[float, ...]) -> bytes:
    """``array`` as an uncompressed NIfTI-1 file, written by nibabel."""
    import nibabel as nib

    img = nib.Nifti1Image(array, np.diag([*zooms[:3], 1.0]), dtype=array.dtype)
    img.header.set_xyzt_units("mm", "msec")
    return img.to_bytes()


@st.composite
def nifti_cases(draw: st.DrawFn, ndims: tuple[int, ...] = ()) -> tuple[str, bytes]:
    """(file name, file bytes) of a NIfTI file, possibly hostile; mostly of ``ndims`` dimensions if given."""
    ndim = draw(st.sampled_from(list(ndims) * 6 + [1, 2, 3, 4, 5]))
    sizes = st.sampled_from([2, 3, 4, 5, 1, 2, 3, 4, 1, 0])  # zero last: hypothesis favours early entries
    shape = tuple(draw(st.lists(sizes, min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from(DTYPES))
    fill = draw(st.sampled_from(["random", "random", "constant", "nan", "inf", "extreme"]))
    seed = draw(st.integers(0, 2**32 - 1))
    zooms = tuple(draw(st.lists(st.sampled_from([1.0, 1.5, 8.0, 40.0]), min_size=3, max_size=3)))
    raw = nifti_bytes(random_array(shape, dtype, fill, seed), zooms)
    raw = edit_header(raw, draw(header_edits()))
    compressed = draw(st.booleans())
    how = draw(st.sampled_from(["none"] * 6 + ["truncate", "flip", "gzip-garbage", "not-gzip"]))
    where = draw(st.floats(0.0, 1.0))
    if compressed and how == "gzip-garbage":
        raw = gzip.compress(np.random.default_rng(seed).bytes(1 + seed % 2000))
    elif compressed and how == "not-gzip":
        pass  # uncompressed bytes named .nii.gz
    elif compressed:
        raw = damage(gzip.compress(raw, compresslevel=1), how, where, seed)
    else:
        raw = damage(raw, how, where, seed)
    return ("image.nii.gz" if compressed else "image.nii"), raw


@settings(FUZZ, max_examples=450)
@given(case=nifti_cases((2, 3, 4)), dtype=st.sampled_from([np.float32, None]),
       ndim=st.sampled_from([None, 3, (3, 4)]))
def test_fuzzed_nifti_is_read_or_refused(fuzz_cases, tmp_path, case, dtype, ndim):
    name, raw = case
    path = tmp_path / name  # one file, overwritten by each example
    path.write_bytes(raw)
    allowed = {None: (1, 2, 3, 4, 5, 6, 7), 3: (3,), (3, 4): (3, 4)}[ndim]
    fuzz_cases.run(lambda: read_nifti(path, ndim=ndim, dtype=dtype), path, ndims=allowed)


@settings(FUZZ, max_examples=300)
@given(case=st.sampled_from(["cine", "lge", "labels"]).flatmap(
    lambda kind: st.tuples(st.just(kind), nifti_cases((4,) if kind == "cine" else (2, 3)))))
def test_fuzzed_nifti_through_read_image(fuzz_cases, tmp_path, case):
    kind, (name, raw) = case
    path = tmp_path / name  # one file, overwritten by each example
    path.write_bytes(raw)
    vol = fuzz_cases.run(lambda: read_image(path, kind), path, ndims=(4,) if kind == "cine" else (3,))
    if vol is not None and kind == "labels":
        assert vol.array.dtype == np.uint8


def _huge_header(path: Path) -> None:
    """A NIfTI file of a few hundred bytes whose header declares 30000 x 30000 x 30 float32 (100 GiB)."""
    raw = edit_header(nifti_bytes(np.zeros((2, 2, 2), np.float32), (1.0, 1.0, 1.0)),
                      [("dim", (3, 30000, 30000, 30, 1, 1, 1, 1))])
    path.write_bytes(gzip.compress(raw) if path.name.endswith(".gz") else raw)


@pytest.mark.parametrize("name", ["huge.nii", "huge.nii.gz"])
def test_header_declaring_100_gib_is_refused_before_any_data_is_read(tmp_path, monkeypatch, name):
    import nibabel.arrayproxy

    def no_reading(*args, **kwargs):
        raise AssertionError("image data read despite an oversized header")

    monkeypatch.setattr(nibabel.arrayproxy.ArrayProxy, "__array__", no_reading)
    monkeypatch.setattr(nibabel.arrayproxy.ArrayProxy, "get_unscaled", no_reading)
    path = tmp_path / name
    _huge_header(path)
    with pytest.raises(InputError, match="GiB") as err:
        read_nifti(path)
    assert err.value.path == path and str(MAX_ARRAY_BYTES // 1024**3) in str(err.value)


@pytest.mark.parametrize("name", ["short.nii", "short.nii.gz"])
def test_header_declaring_more_data_than_the_file_holds_is_refused_before_allocating(tmp_path, monkeypatch,
                                                                                    name):
    """600**3 float32 (824 MiB) is under the size cap, but the file holds 8 voxels: refused unread."""
    import nibabel.arrayproxy

    def no_reading(*args, **kwargs):
        raise AssertionError("image data read from a truncated file")

    monkeypatch.setattr(nibabel.arrayproxy.ArrayProxy, "__array__", no_reading)
    raw = edit_header(nifti_bytes(np.zeros((2, 2, 2), np.float32), (1.0, 1.0, 1.0)),
                      [("dim", (3, 600, 600, 600, 1, 1, 1, 1))])
    path = tmp_path / name
    path.write_bytes(gzip.compress(raw) if name.endswith(".gz") else raw)
    with pytest.raises(InputError, match="truncated") as err:
        read_nifti(path)
    assert err.value.path == path


@pytest.mark.parametrize("dtype", [np.complex64, RGB])
def test_complex_and_rgb_images_are_refused_before_reading(tmp_path, dtype):
    path = tmp_path / "odd.nii"
    path.write_bytes(nifti_bytes(random_array((3, 3, 2), dtype, "random", 0), (1.0, 1.0, 1.0)))
    with pytest.raises(InputError, match="not a real-valued image") as err:
        read_nifti(path)
    assert err.value.path == path
