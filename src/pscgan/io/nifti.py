"""NIfTI reading and writing (nibabel).

Spacing comes from the header's zooms, not from the affine: some public files (the EMIDEC cases among
them) carry a unit affine with the true voxel size only in ``pixdim``. The affine is kept as found so that
outputs written with it overlay the input in any viewer. For 4D files the time between phases
(``pixdim[4]`` with the header's time unit) is reported as ``meta["time_step_ms"]``. The declared array
size is checked against :data:`~pscgan.io.image.MAX_ARRAY_BYTES`, and against what the file actually holds,
before any data is read or any buffer allocated.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.nii.gz"
    >>> write_nifti(p, np.ones((4, 4, 2), np.float32), spacing=(1.5, 1.5, 8.0))
    >>> read_nifti(p).spacing
    (1.5, 1.5, 8.0)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pscgan.errors import InputError
from pscgan.io.atomic import atomic_path
from pscgan.io.image import ImageVolume, affine_from_spacing, check_declared_size

_TIME_UNIT_TO_MS = {"msec": 1.0, "sec": 1000.0, "usec": 0.001}


def read_nifti(path: str | Path, *, ndim: int | tuple[int, ...] | None = None,
               dtype: type | np.dtype | None = np.float32) -> ImageVolume:
    """Read a NIfTI file into an :class:`ImageVolume`.

    Args:
        path: ``.nii`` or ``.nii.gz`` file.
        ndim: required number of dimensions (or allowed set); checked before the data is loaded.
        dtype: dtype to convert to; ``None`` keeps the on-disk type.

    Raises:
        InputError: naming the file: missing, unreadable or truncated, wrong dimensionality, empty, complex
            or RGB data, oversized header, non-finite values, invalid voxel size or orientation.
    """
    import nibabel as nib

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        img: Any = nib.load(str(path))  # a NIfTI or Analyze image: shape, dataobj, affine, header zooms
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise InputError(path, f"not a readable NIfTI file ({type(exc).__name__}: {exc})") from None
    shape = tuple(int(s) for s in img.shape)
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and len(shape) not in allowed:
        want = " or ".join(str(a) for a in allowed)
        raise InputError(path, f"expected {want} dimensions, got {len(shape)} with shape {shape}")
    if not shape or any(s <= 0 for s in shape):
        raise InputError(path, f"empty image (shape {shape}); the header's dim field declares no voxels")
    stored = img.get_data_dtype()
    if stored.kind not in "biuf":
        raise InputError(path, f"data type {stored} is not a real-valued image (complex or RGB data); "
                               "store the magnitude or a greyscale image")
    # Size in memory: nibabel loads scaled (scl_slope/inter) data as float64.
    scaled = getattr(img.dataobj, "slope", 1.0) != 1.0 or getattr(img.dataobj, "inter", 0.0) != 0.0
    loaded_itemsize = 8 if scaled else stored.itemsize
    out_itemsize = np.dtype(dtype).itemsize if dtype is not None else loaded_itemsize
    check_declared_size(path, shape, max(out_itemsize, loaded_itemsize))
    if path.name.lower().endswith((".nii", ".nii.gz")):  # single-file NIfTI: header and data in one file
        _check_data_present(path, int(getattr(img.dataobj, "offset", 0)),
                            int(np.prod(shape, dtype=np.int64)) * stored.itemsize)
    try:
        data = np.asanyarray(img.dataobj)
    except Exception as exc:
        raise InputError(path, f"image data could not be read ({type(exc).__name__}: {exc})") from None
    with np.errstate(over="ignore", invalid="ignore"):  # overflow becomes inf, refused below
        if dtype is not None:
            data = data.astype(dtype, copy=False)
    if np.issubdtype(data.dtype, np.floating) and not np.all(np.isfinite(data)):
        raise InputError(path, f"contains {int(np.sum(~np.isfinite(data)))} NaN or infinite values")
    given = [float(z) for z in img.header.get_zooms()[:3]]
    zooms = (*given, *(1.0,) * (3 - len(given)))
    zooms = (zooms[0], zooms[1], zooms[2])
    if any(not np.isfinite(z) or z <= 0 for z in zooms):
        raise InputError(path, f"invalid voxel size in header: {zooms}")
    affine = np.asarray(img.affine, dtype=np.float64)
    if not np.all(np.isfinite(affine)):
        raise InputError(path, "the header's orientation (qform/sform) holds NaN or infinite values; repair "
                               "the header (e.g. with nibabel or fslorient) or re-export the image")
    meta: dict = {"format": "nifti"}
    if len(shape) == 4:
        step = _time_step_ms(img.header)
        if step is not None:
            meta["time_step_ms"] = step
    return ImageVolume(np.asarray(data), spacing=zooms, affine=affine, source=path, meta=meta)


def _check_data_present(path: Path, offset: int, n_bytes: int) -> None:
    """Refuse a file holding fewer bytes than its header declares, before any buffer is allocated.

    nibabel allocates the whole declared array before it finds out that the file is short. For ``.gz``
    files the gzip trailer's size field is trusted when it is large enough (the usual single-member
    case); otherwise the stream is decompressed in chunks and counted, without keeping the data.
    """
    needed = offset + n_bytes
    if path.name.lower().endswith(".gz"):
        available = _gzip_size(path, needed)
    else:
        available = path.stat().st_size
    if available < needed:
        raise InputError(path, f"file is truncated or corrupt: the header declares {n_bytes} bytes of image "
                               f"data from byte {offset}, but the file holds {max(available - offset, 0)}; "
                               "copy or export the image again")


def _gzip_size(path: Path, needed: int) -> int:
    """Decompressed size of a gzip file, counted up to ``needed`` bytes (less when damaged)."""
    import gzip
    import zlib

    with open(path, "rb") as fh:
        fh.seek(0, 2)
        if fh.tell() >= 4:
            fh.seek(-4, 2)
            if int.from_bytes(fh.read(4), "little") >= needed:  # ISIZE: size mod 2**32 of the last member
                return needed
    count = 0
    try:
        with gzip.open(path, "rb") as stream:
            while count < needed:
                chunk = stream.read(min(1 << 20, needed - count))
                if not chunk:
                    break
                count += len(chunk)
    except (OSError, EOFError, zlib.error):
        pass  # a damaged stream holds what was decompressed before the damage
    return count


def _time_step_ms(header) -> float | None:  # noqa: ANN001 - a nibabel header
    """The time between phases from ``pixdim[4]``, when the header states a time unit."""
    zooms = header.get_zooms()
    try:
        unit = header.get_xyzt_units()[1]
    except Exception:  # header types without units
        return None
    if len(zooms) < 4 or unit not in _TIME_UNIT_TO_MS or not np.isfinite(zooms[3]) or zooms[3] <= 0:
        return None
    return float(zooms[3]) * _TIME_UNIT_TO_MS[unit]


def write_nifti(path: str | Path, array: np.ndarray, *, spacing: tuple[float, float, float] | None = None,
                affine: np.ndarray | None = None, time_step_ms: float | None = None) -> None:
    """Write ``array`` as NIfTI, atomically.

    Args:
        path: target file (``.nii.gz`` compresses).
        array: 3D or 4D data.
        spacing: voxel size (mm) used when ``affine`` is not given; also written to the header zooms.
        affine: voxel-to-world matrix; default is diagonal from ``spacing``.
        time_step_ms: for 4D data, the time between phases recorded in the header.
    """
    import nibabel as nib

    if affine is None:
        affine = affine_from_spacing(spacing or (1.0, 1.0, 1.0))
    img = nib.Nifti1Image(np.asarray(array), np.asarray(affine, dtype=np.float64))
    if spacing is not None:
        zooms = list(spacing) + ([time_step_ms or 1.0] if np.ndim(array) == 4 else [])
        img.header.set_zooms(tuple(float(z) for z in zooms[: np.ndim(array)]))
    if np.ndim(array) == 4:
        img.header.set_xyzt_units(xyz="mm", t="msec")
    else:
        img.header.set_xyzt_units(xyz="mm")
    with atomic_path(path) as tmp:
        nib.save(img, str(tmp))
