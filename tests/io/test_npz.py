"""NPZ reader: the key/axes convention and every refusal."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from pscgan.errors import InputError
from pscgan.io.npz import npz_members, read_npz


def test_canonical_cine_lge_labels(tmp_path):
    rng = np.random.default_rng(0)
    cine = rng.random((20, 18, 3, 30)).astype(np.float32)
    lge = rng.random((20, 18, 3))
    labels = rng.integers(0, 4, (20, 18, 3)).astype(np.int16)
    path = tmp_path / "s.npz"
    np.savez_compressed(path, cine=cine, lge=lge, labels=labels, spacing=np.array([1.4, 1.5, 8.0]),
                        trigger_times_ms=np.arange(30) * 33.0, rr_interval_ms=np.array(1000.0))
    vol = read_npz(path, "cine")
    np.testing.assert_array_equal(vol.array, cine)
    assert vol.spacing == (1.4, 1.5, 8.0) and vol.source == path
    assert vol.meta["trigger_times_ms"][1] == 33.0 and vol.meta["rr_interval_ms"] == 1000.0
    assert read_npz(path, "lge").array.dtype == np.float32
    lab = read_npz(path, "labels")
    assert lab.array.dtype == np.uint8 and np.array_equal(lab.array, labels)


def test_single_slice_network_orientation(tmp_path):
    cine = np.arange(25 * 6 * 5, dtype=np.float32).reshape(25, 6, 5)  # (time, row, col)
    lge = np.arange(30, dtype=np.float32).reshape(6, 5)  # (row, col)
    np.savez(tmp_path / "s.npz", cine=cine, lge=lge, spacing=np.array([1.2, 1.3]))
    vol = read_npz(tmp_path / "s.npz", "cine")
    assert vol.array.shape == (5, 6, 1, 25) and vol.spacing == (1.2, 1.3, 1.0)
    for t in (0, 24):  # the display image of the slice is the stored frame
        np.testing.assert_array_equal(vol.array[:, :, 0, t].T, cine[t])
    np.testing.assert_array_equal(read_npz(tmp_path / "s.npz", "lge").array[:, :, 0].T, lge)


@pytest.mark.parametrize(("arrays", "message"), [
    ({"lge": np.zeros((4, 4, 2))}, "no array named 'cine'"),
    ({"cine": np.zeros((4, 4))}, r"expected \(x, y, slice, time\) or \(time, row, col\)"),
    ({"cine": np.zeros((4, 4, 2, 1))}, "at least 2"),
    ({"cine": np.full((4, 4, 2, 3), np.nan)}, "NaN or infinite"),
    ({"cine": np.zeros((0, 4, 2, 3))}, "empty or invalid array shape"),
    ({"cine": np.zeros((4, 4, 2, 3), complex)}, "complex"),
    ({"cine": np.zeros((4, 4, 2, 3)), "spacing": np.array([1.0, -1.0])}, "'spacing' must hold"),
    ({"cine": np.zeros((4, 4, 2, 3)), "trigger_times_ms": np.array([0.0, 5.0])}, "3 increasing values"),
])
def test_bad_cine(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(InputError, match=message) as err:
        read_npz(path, "cine")
    assert "bad.npz" in str(err.value)


def test_bad_labels(tmp_path):
    np.savez(tmp_path / "l.npz", labels=np.full((4, 4, 2), 1.5))
    with pytest.raises(InputError, match="integers"):
        read_npz(tmp_path / "l.npz", "labels")


def test_pickled_objects_are_never_loaded(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, cine=np.full((4, 4, 2, 3), {"evil": 1}, dtype=object))
    with pytest.raises(InputError, match="holds Python objects"):
        read_npz(path, "cine")


def test_missing_corrupt_and_truncated(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_npz(tmp_path / "none.npz")
    (tmp_path / "junk.npz").write_bytes(b"this is not a zip archive at all")
    with pytest.raises(InputError, match="not a readable NPZ archive"):
        read_npz(tmp_path / "junk.npz")
    good = tmp_path / "good.npz"
    np.savez(good, cine=np.random.default_rng(0).random((16, 16, 2, 10)))
    truncated = tmp_path / "cut.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputError, match="cut.npz"):
        read_npz(truncated)


def test_huge_declared_shape_refused_before_reading(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_2_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (4096, 4096, 64, 30)})
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("cine.npy", b"\x93NUMPY\x02\x00" + header.getvalue()[8:] + b"\x00" * 16)
    assert npz_members(path)["cine"][0] == (4096, 4096, 64, 30)
    with pytest.raises(InputError, match="GiB limit"):
        read_npz(path)
