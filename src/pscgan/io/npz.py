"""NPZ reading: numpy archives holding a cine and optionally an LGE and a label map.

Key and axes convention (one subject per file):

=================  ==================================================================================
key                content
=================  ==================================================================================
``cine``           float, 4D ``(x, y, slice, time)`` (the canonical axes, as in ``cine.nii.gz``) or 3D
                   ``(time, row, col)``: one slice in the network/display orientation.
``lge``            optional, float, 3D ``(x, y, slice)`` or 2D ``(row, col)`` (one slice).
``labels``         optional, integer, same axes as ``lge`` (0 other, 1 LV blood pool, 2 healthy
                   myocardium, 3 scar; EMIDEC maps are converted by the caller).
``spacing``        optional, mm: 2 values ``(x, y)`` or 3 values ``(x, y, slice)``; default 1 mm each.
``trigger_times_ms``  optional, one value per cine phase.
``rr_interval_ms``    optional, a scalar.
=================  ==================================================================================

A ``(row, col)`` image becomes ``(x, y, 1)`` with ``x = col`` and ``y = row``, so that its display image
(``volume[:, :, 0].T``) is the array as stored. Archives are opened with ``allow_pickle=False`` and every
member's declared shape is checked against :data:`~pscgan.io.image.MAX_ARRAY_BYTES` before it is loaded.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.npz"
    >>> np.savez(p, cine=np.random.rand(25, 64, 64).astype(np.float32), spacing=np.array([1.4, 1.4]))
    >>> vol = read_npz(p, "cine")
    >>> vol.array.shape, vol.spacing
    ((64, 64, 1, 25), (1.4, 1.4, 1.0))
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from pscgan.errors import InputError
from pscgan.io.image import ImageVolume, check_declared_size

NPZ_KEYS = ("cine", "lge", "labels")
_EXTRA_KEYS = ("spacing", "trigger_times_ms", "rr_interval_ms")
_ALLOWED_NDIM = {"cine": (4, 3), "lge": (3, 2), "labels": (3, 2)}


def read_npz(path: str | Path, key: str = "cine") -> ImageVolume:
    """Read the array ``key`` (``"cine"``, ``"lge"`` or ``"labels"``) of an NPZ archive.

    Returns:
        The volume in canonical axes: ``(x, y, slice, time)`` float32 for ``cine``, ``(x, y, slice)``
        float32 for ``lge``, ``(x, y, slice)`` uint8 for ``labels``.

    Raises:
        InputError: naming the file: missing or corrupt archive, missing key, wrong dimensions, empty,
            non-finite values, non-integer or negative labels, pickled objects, oversized arrays.
    """
    if key not in NPZ_KEYS:
        raise ValueError(f"key must be one of {NPZ_KEYS}, got {key!r}")
    path = Path(path)
    headers = _member_headers(path)
    if key not in headers:
        raise InputError(path, f"no array named {key!r} (found {sorted(headers) or 'none'}); "
                               "see pscgan.io.npz for the expected keys")
    shape, dtype, available = headers[key]
    if len(shape) not in _ALLOWED_NDIM[key]:
        raise InputError(path, f"array {key!r} has shape {shape}; expected "
                               f"{' or '.join(_describe(key, n) for n in _ALLOWED_NDIM[key])}")
    check_declared_size(path, shape, max(dtype.itemsize, 4))
    if not dtype.hasobject and int(np.prod(shape, dtype=np.int64)) * dtype.itemsize > available:
        raise InputError(path, f"array {key!r} is truncated: its header declares shape {shape} of {dtype} "
                               f"but the archive holds {available} bytes of data; save the archive again")
    with _open(path) as archive:
        array = _load(path, archive, key)
        extras = {name: _load(path, archive, name) for name in _EXTRA_KEYS
                  if name in headers and 0 <= np.prod(headers[name][0], dtype=np.int64) <= 64}
    array = _to_canonical(key, array)
    if key == "cine" and array.shape[3] < 2:
        raise InputError(path, f"cine has {array.shape[3]} phase; at least 2 are needed to see motion")
    array = _check_values(path, key, array)
    spacing = _spacing(path, extras.get("spacing"))
    meta: dict[str, Any] = {"format": "npz", "key": key}
    if key == "cine":
        meta.update(_timing(path, extras, array.shape[3]))
    return ImageVolume(array, spacing=spacing, source=path, meta=meta)


def npz_members(path: str | Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shapes and dtypes of the arrays of an NPZ archive, read from the ``.npy`` headers only.

    Raises:
        InputError: the file is missing, not a zip archive, or holds a member that is not a ``.npy`` array.
    """
    return {name: (shape, dtype) for name, (shape, dtype, _) in _member_headers(Path(path)).items()}


def read_npz_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of an NPZ archive, each checked before it is loaded: a ``.npy`` member with a numeric
    dtype (bool, integer, float) and a declared size within the readers' limit. Pickled objects are never
    loaded.

    Raises:
        InputError: the file is missing, not an NPZ archive, or holds a damaged, non-numeric or too large
            member.
    """
    path = Path(path)
    headers = _member_headers(path)
    for name, (shape, dtype, _) in headers.items():
        if dtype.kind not in "buif":
            raise InputError(path, f"array {name!r} has dtype {dtype}; only numeric arrays are accepted "
                                   "(pickled data is never loaded)")
        check_declared_size(path, shape, dtype.itemsize)
    with _open(path) as archive:
        return {name: _load(path, archive, name) for name in headers}


def _member_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype, int]]:
    """Shape, dtype and the number of data bytes the archive holds, of every ``.npy`` member."""
    if not path.is_file():
        raise InputError(path, "file not found")
    out = {}
    with _open(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            try:
                with archive.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    if version not in ((1, 0), (2, 0)):
                        raise ValueError(f"unsupported .npy format version {version}")
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read_header(fh)  # the header only, no data
                    available = info.file_size - fh.tell()
            except Exception as exc:
                raise InputError(path, f"member {info.filename!r} is not a readable .npy array "
                                       f"({type(exc).__name__}: {exc})") from None
            out[info.filename[:-4]] = (tuple(int(s) for s in shape), np.dtype(dtype), available)
    return out


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except Exception as exc:  # zipfile raises BadZipFile, NotImplementedError, ValueError, ... on damage
        raise InputError(path, f"not a readable NPZ archive ({type(exc).__name__}: {exc})") from None


def _load(path: Path, archive: zipfile.ZipFile, name: str) -> np.ndarray:
    try:
        with archive.open(f"{name}.npy") as fh:
            return np.lib.format.read_array(fh, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            raise InputError(path, f"array {name!r} holds Python objects; only numeric arrays are accepted "
                                   "(pickled data is never loaded)") from None
        raise InputError(path, f"array {name!r} could not be read ({exc})") from None
    except Exception as exc:  # truncated or corrupt member
        raise InputError(path, f"array {name!r} could not be read ({type(exc).__name__}: {exc})") from None


def _describe(key: str, ndim: int) -> str:
    return {("cine", 4): "(x, y, slice, time)", ("cine", 3): "(time, row, col)",
            ("lge", 3): "(x, y, slice)", ("lge", 2): "(row, col)",
            ("labels", 3): "(x, y, slice)", ("labels", 2): "(row, col)"}[(key, ndim)]


def _to_canonical(key: str, array: np.ndarray) -> np.ndarray:
    if key == "cine" and array.ndim == 3:  # (time, row, col) -> (x=col, y=row, slice=1, time)
        return array.transpose(2, 1, 0)[:, :, None, :]
    if key != "cine" and array.ndim == 2:  # (row, col) -> (x=col, y=row, slice=1)
        return array.T[:, :, None]
    return array


def _check_values(path: Path, key: str, array: np.ndarray) -> np.ndarray:
    if np.iscomplexobj(array):
        raise InputError(path, f"array {key!r} is complex; store the magnitude image")
    if array.dtype.kind not in "biuf":  # strings, dates, durations, records
        raise InputError(path, f"array {key!r} has non-numeric dtype {array.dtype}; store numbers")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        n_bad = int(np.sum(~np.isfinite(array)))
        raise InputError(path, f"array {key!r} contains {n_bad} NaN or infinite values")
    if key != "labels":
        return np.ascontiguousarray(array, dtype=np.float32)
    if not np.all(array == np.round(array)) or array.min() < 0 or array.max() > 255:
        raise InputError(path, "array 'labels' must hold integers 0..255 (pscgan labels are 0..3)")
    return np.ascontiguousarray(array, dtype=np.uint8)


def _spacing(path: Path, value: np.ndarray | None) -> tuple[float, float, float]:
    if value is None:
        return (1.0, 1.0, 1.0)
    flat = _as_floats(path, "spacing", value)
    if flat.size not in (2, 3) or not np.all(np.isfinite(flat)) or np.any(flat <= 0):
        raise InputError(path, f"'spacing' must hold 2 or 3 positive values in mm, got {flat.tolist()}")
    return (float(flat[0]), float(flat[1]), float(flat[2]) if flat.size == 3 else 1.0)


def _timing(path: Path, extras: dict[str, np.ndarray], n_phases: int) -> dict[str, Any]:
    out: dict[str, Any] = {"trigger_times_ms": None, "rr_interval_ms": None}
    if "trigger_times_ms" in extras:
        times = _as_floats(path, "trigger_times_ms", extras["trigger_times_ms"])
        if times.size != n_phases or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
            raise InputError(path, f"'trigger_times_ms' must hold {n_phases} increasing values, "
                                   f"got {times.size}")
        out["trigger_times_ms"] = times.tolist()
    if "rr_interval_ms" in extras:
        rr = _as_floats(path, "rr_interval_ms", extras["rr_interval_ms"])
        if rr.size != 1 or not np.isfinite(rr[0]) or rr[0] <= 0:
            raise InputError(path, "'rr_interval_ms' must be one positive value")
        out["rr_interval_ms"] = float(rr[0])
    return out


def _as_floats(path: Path, name: str, value: np.ndarray) -> np.ndarray:
    """``value`` flattened to float64, refusing strings, dates, complex numbers and records."""
    if np.asarray(value).dtype.kind not in "biuf":
        raise InputError(path, f"{name!r} has dtype {np.asarray(value).dtype}; store it as real numbers")
    return np.asarray(value, dtype=np.float64).ravel()
