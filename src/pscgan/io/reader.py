"""One entry point for every supported input format, chosen by the path.

* a ``.nii`` / ``.nii.gz`` file: NIfTI (:func:`pscgan.io.nifti.read_nifti`);
* a ``.npz`` file: numpy archive, the array named after ``kind`` (:func:`pscgan.io.npz.read_npz`);
* a folder (or a single ``.dcm`` file): a DICOM series (:func:`pscgan.io.dicom.read_dicom_series`).

Whatever the format, the result satisfies the same checks: a cine is ``(x, y, slice, time)`` with at
least 2 phases, an LGE or label map is ``(x, y, slice)``, values are finite, label maps hold non-negative
integers (returned as uint8; their encoding is the caller's business, see :mod:`pscgan.labels`).

Error contract (all readers in :mod:`pscgan.io`): whatever the bytes of the input, a reader returns a valid
:class:`~pscgan.io.image.ImageVolume` (non-empty real array with finite values, positive finite voxel
sizes, finite affine) or raises :class:`~pscgan.errors.InputError` whose ``path`` is the file or folder at
fault and whose message says what is wrong and, where possible, what to do. Truncated or corrupt files,
malformed headers and tags, non-finite values and inconsistent series all end there; any other exception
escaping a reader is a bug. Memory is bounded by the header: the declared array size is checked against
:data:`~pscgan.io.image.MAX_ARRAY_BYTES` (and, for NIfTI and NPZ, against the bytes the file actually
holds) before any data buffer is allocated. The property-based tests ``tests/io/test_fuzz_*.py`` check
this contract on generated hostile inputs. (:func:`pscgan.io.npz.read_npz` also raises ``ValueError`` for
a ``key`` outside ``NPZ_KEYS``: a programming error, not bad input.)

Example:
    >>> import tempfile, numpy as np
    >>> from pscgan.io.nifti import write_nifti
    >>> path = Path(tempfile.mkdtemp()) / "cine.nii.gz"
    >>> write_nifti(path, np.ones((32, 32, 2, 25), np.float32), spacing=(1.5, 1.5, 8.0))
    >>> vol = read_image(path, kind="cine")
    >>> vol.array.shape, vol.spacing
    ((32, 32, 2, 25), (1.5, 1.5, 8.0))
    >>> read_image(path, kind="lge")
    Traceback (most recent call last):
    ...
    pscgan.errors.InputError: ...cine.nii.gz: expected 2 or 3 dimensions, got 4 with shape (32, 32, 2, 25)
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import numpy as np

from pscgan.errors import InputError
from pscgan.io.image import ImageVolume


class ImageKind(str, Enum):
    """What an input file holds."""

    CINE = "cine"
    LGE = "lge"
    LABELS = "labels"


def format_by_name(path: str | Path) -> str | None:
    """``"nifti"`` or ``"npz"`` when the file's name says so (any case), else ``None``.

    Example:
        >>> format_by_name("cine.NII.gz"), format_by_name("a.npz"), format_by_name("IM0001")
        ('nifti', 'npz', None)
    """
    name = Path(path).name.lower()
    if name.endswith((".nii", ".nii.gz")):
        return "nifti"
    if name.endswith(".npz"):
        return "npz"
    return None


def input_format(path: str | Path) -> str:
    """``"nifti"``, ``"npz"`` or ``"dicom"`` for ``path``, judged by its name and type.

    Raises:
        InputError: the path does not exist or its format is not recognised.
    """
    path = Path(path)
    name = path.name.lower()
    if path.is_dir():
        return "dicom"
    if not path.exists():
        raise InputError(path, "file or folder not found")
    by_name = format_by_name(path)
    if by_name is not None:
        return by_name
    if name.endswith((".dcm", ".ima")) or _has_dicom_preamble(path):
        return "dicom"
    raise InputError(path, "unrecognised input format; expected a .nii/.nii.gz or .npz file or a folder "
                           "holding one DICOM series")


def read_image(path: str | Path, kind: ImageKind | str = ImageKind.CINE) -> ImageVolume:
    """Read a cine, LGE or label volume from a NIfTI file, an NPZ archive or a DICOM folder.

    Args:
        path: the file or DICOM folder.
        kind: ``"cine"``, ``"lge"`` or ``"labels"``.

    Returns:
        An :class:`ImageVolume` in canonical axes (float32; uint8 for labels).

    Raises:
        InputError: naming the file: missing, unreadable, wrong dimensions, a single cine phase,
            non-finite values, invalid labels, oversized data.
    """
    kind = ImageKind(kind)
    path = Path(path)
    fmt = input_format(path)
    if fmt == "nifti":
        from pscgan.io.nifti import read_nifti

        ndim = 4 if kind is ImageKind.CINE else (2, 3)
        vol = read_nifti(path, ndim=ndim, dtype=None if kind is ImageKind.LABELS else np.float32)
        if vol.array.ndim == 2:  # a single LGE/label slice stored as a 2D image
            vol.array = vol.array[:, :, None]
    elif fmt == "npz":
        from pscgan.io.npz import read_npz

        vol = read_npz(path, kind.value)
    else:
        if kind is ImageKind.LABELS:
            raise InputError(path, "label maps cannot be read from DICOM (DICOM SEG is not supported); "
                                   "provide them as NIfTI or NPZ")
        from pscgan.io.dicom import read_dicom_series

        vol = read_dicom_series(path, kind="cine" if kind is ImageKind.CINE else "image")
    return _validate(path, kind, vol)


def _validate(path: Path, kind: ImageKind, vol: ImageVolume) -> ImageVolume:
    arr = vol.array
    want = 4 if kind is ImageKind.CINE else 3
    if arr.ndim != want:
        raise InputError(path, f"expected a {kind.value} with {want} dimensions, got shape {arr.shape}")
    if kind is ImageKind.CINE and arr.shape[3] < 2:
        raise InputError(path, f"cine has {arr.shape[3]} phase; at least 2 are needed to see motion")
    if kind is ImageKind.LABELS:
        if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            raise InputError(path, "label map contains NaN or infinite values")
        if not np.all(arr == np.round(arr)) or arr.min() < 0 or arr.max() > 255:
            raise InputError(path, f"label map must hold non-negative integers, found values "
                                   f"{float(arr.min()):g}..{float(arr.max()):g}")
        vol.array = arr.astype(np.uint8, copy=False)
    elif not np.all(np.isfinite(arr)):
        raise InputError(path, "contains NaN or infinite values")
    vol.meta.setdefault("kind", kind.value)
    return vol


def _has_dicom_preamble(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b"DICM"
