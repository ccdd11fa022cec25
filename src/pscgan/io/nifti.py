"""NIfTI reading and writing (nibabel).

Spacing comes from the header's zooms, not from the affine: some public files (the EMIDEC cases among
them) carry a unit affine with the true voxel size only in ``pixdim``. The affine is kept as found so that
outputs written with it overlay the input in any viewer. For 4D files the time between phases
(``pixdim[4]`` with the header's time unit) is reported as ``meta["time_step_ms"]``. The declared array
size is checked against :data:`~pscgan.io.image.MAX_ARRAY_BYTES` before any data is read.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.nii.gz"
    >>> write_nifti(p, np.ones((4, 4, 2), np.float32), spacing=(1.5, 1.5, 8.0))
    >>> read_nifti(p).spacing
    (1.5, 1.5, 8.0)
"""

from __future__ import annotations

from pathlib import Path

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
        InputError: missing file, unreadable file, wrong dimensionality or non-finite values.
    """
    import nibabel as nib

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        img = nib.load(str(path))
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise InputError(path, f"not a readable NIfTI file ({type(exc).__name__}: {exc})") from None
    shape = tuple(int(s) for s in img.shape)
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and len(shape) not in allowed:
        want = " or ".join(str(a) for a in allowed)
        raise InputError(path, f"expected {want} dimensions, got {len(shape)} with shape {shape}")
    if any(s == 0 for s in shape):
        raise InputError(path, f"empty image (shape {shape})")
    # Size in memory: nibabel loads scaled (scl_slope/inter) data as float64.
    scaled = getattr(img.dataobj, "slope", 1.0) != 1.0 or getattr(img.dataobj, "inter", 0.0) != 0.0
    loaded_itemsize = 8 if scaled else img.get_data_dtype().itemsize
    out_itemsize = np.dtype(dtype).itemsize if dtype is not None else loaded_itemsize
    check_declared_size(path, shape, max(out_itemsize, loaded_itemsize))
    try:
        data = np.asanyarray(img.dataobj)
    except Exception as exc:
        raise InputError(path, f"image data could not be read ({type(exc).__name__}: {exc})") from None
    if dtype is not None:
        data = data.astype(dtype, copy=False)
    if np.issubdtype(data.dtype, np.floating) and not np.all(np.isfinite(data)):
        raise InputError(path, f"contains {int(np.sum(~np.isfinite(data)))} NaN or infinite values")
    zooms = tuple(float(z) for z in img.header.get_zooms()[:3])
    zooms = zooms + (1.0,) * (3 - len(zooms))
    if any(not np.isfinite(z) or z <= 0 for z in zooms):
        raise InputError(path, f"invalid voxel size in header: {zooms}")
    affine = np.asarray(img.affine, dtype=np.float64)
    meta: dict = {"format": "nifti"}
    if len(shape) == 4:
        step = _time_step_ms(img.header)
        if step is not None:
            meta["time_step_ms"] = step
    return ImageVolume(np.asarray(data), spacing=zooms, affine=affine, source=path, meta=meta)


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
