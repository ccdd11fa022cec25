"""The reader contract: an array plus the geometry needed to map results back.

Axes follow the canonical layout: ``(x, y, slice)`` for LGE and label maps and
``(x, y, slice, time)`` for cine. ``spacing`` holds one value per spatial axis in mm (x, y, slice);
``affine`` is the 4x4 voxel-to-world (RAS+, mm) matrix of the original file, kept so that outputs
can be written in the original geometry.

Example:
    >>> import numpy as np
    >>> vol = ImageVolume(np.zeros((64, 64, 3), np.float32), spacing=(1.5, 1.5, 8.0))
    >>> vol.spatial_shape, vol.n_phases
    ((64, 64, 3), None)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def affine_from_spacing(spacing: tuple[float, float, float]) -> np.ndarray:
    """A diagonal affine for data with no orientation information."""
    aff = np.eye(4)
    aff[0, 0], aff[1, 1], aff[2, 2] = spacing
    return aff


@dataclass
class ImageVolume:
    """An image or label volume with its geometry.

    Attributes:
        array: ``(x, y, slice)`` or ``(x, y, slice, time)`` data.
        spacing: voxel size in mm along x, y and slice.
        affine: 4x4 voxel-to-world matrix; defaults to a diagonal one built from ``spacing``.
        source: the file or folder the data was read from, if any.
        meta: reader-specific metadata (trigger times in ms for cine, DICOM UIDs, ...).
    """

    array: np.ndarray
    spacing: tuple[float, float, float]
    affine: np.ndarray | None = None
    source: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.spacing = tuple(float(s) for s in self.spacing)  # type: ignore[assignment]
        if self.affine is None:
            self.affine = affine_from_spacing(self.spacing)

    @property
    def spatial_shape(self) -> tuple[int, int, int]:
        x, y, z = self.array.shape[:3]
        return x, y, z

    @property
    def n_phases(self) -> int | None:
        return int(self.array.shape[3]) if self.array.ndim == 4 else None


#: Largest array (in bytes, after conversion to the working dtype) any reader accepts: 2 GiB. A short-axis
#: cine stack is typically 256 x 256 x 15 x 30 float32 = 112 MiB; anything far larger is a wrong file or a
#: corrupt/hostile header, refused before any data is read.
MAX_ARRAY_BYTES = 2 * 1024**3


def check_declared_size(path: str | Path | None, shape: tuple[int, ...], itemsize: int = 4) -> None:
    """Refuse an array whose declared ``shape`` would exceed :data:`MAX_ARRAY_BYTES`.

    Call it with the shape read from a header, before loading the data.

    Raises:
        InputError: naming ``path`` when the size is zero, negative or above the cap.
    """
    from pscgan.errors import InputError

    dims = tuple(int(s) for s in shape)
    if any(s <= 0 for s in dims):
        raise InputError(path, f"empty or invalid array shape {dims}")
    n_bytes = int(np.prod(dims, dtype=object)) * int(itemsize)
    if n_bytes > MAX_ARRAY_BYTES:
        raise InputError(path, f"declared array shape {dims} needs {n_bytes / 1024**3:.1f} GiB, above the "
                               f"{MAX_ARRAY_BYTES / 1024**3:.0f} GiB limit of the readers")
