"""Cropping a fixed-size box around the LV centre, and putting a crop back.

The box is ``size`` x ``size`` pixels in the display orientation (rows, cols), its centre pixel at the
rounded LV centre (for an even size the centre falls on pixel ``size // 2`` of the box). A box that
would leave the image is shifted back inside it, so the LV stays off-centre rather than next to
padding the network never saw; only an image smaller than the box is padded (centred in it): images
with their minimum (which the intensity scaling maps to -1), labels with 0 (other). The box is
recorded so that :func:`uncrop_array` puts a crop back exactly.

Example:
    >>> import numpy as np
    >>> img = np.arange(100.0).reshape(10, 10)
    >>> box = crop_box((1.2, 8.6), img.shape, 4)       # centred on (1, 9) it would leave the image
    >>> (box.row0, box.col0)
    (0, 6)
    >>> crop = crop_array(img, box, fill=-1.0)
    >>> crop[0].tolist()
    [6.0, 7.0, 8.0, 9.0]
    >>> bool(np.array_equal(uncrop_array(crop, box, fill=0.0)[:4, 6:], img[:4, 6:]))
    True
    >>> small = crop_box((0.0, 0.0), (2, 3), 4)         # smaller than the box: centred and padded
    >>> crop_array(np.ones((2, 3)), small, fill=-1.0)[:, 3].tolist()
    [-1.0, -1.0, -1.0, -1.0]
"""

from __future__ import annotations

import numpy as np

from pscgan.preprocessing.record import CropRecord


def _start(centre: float, length: int, size: int) -> int:
    if length < size:  # an image smaller than the box sits in its middle
        return -((size - length) // 2)
    start = int(np.floor(centre + 0.5)) - size // 2
    # Shift the box back inside the image rather than padding: an LV near the border stays off-centre
    # in the crop, but the network never sees padding it was not trained on, and an image that is
    # already crop-sized is taken whole whatever the localisation says.
    return int(np.clip(start, 0, length - size))


def crop_box(centre_rc: tuple[float, float], grid_shape: tuple[int, int], size: int = 64) -> CropRecord:
    """The ``size`` x ``size`` box centred on ``centre_rc`` in a ``grid_shape`` image, shifted to lie
    inside the image when the image is at least ``size`` long on that axis (padding only for smaller
    images, which are centred in the box)."""
    if size <= 0:
        raise ValueError(f"crop size must be positive, got {size}")
    row0 = _start(centre_rc[0], int(grid_shape[0]), size)
    col0 = _start(centre_rc[1], int(grid_shape[1]), size)
    return CropRecord(row0=row0, col0=col0, size=size, grid_shape=(int(grid_shape[0]), int(grid_shape[1])))


def crop_array(array: np.ndarray, box: CropRecord, fill: float) -> np.ndarray:
    """Cut ``box`` out of the last two axes of ``array``, padding with ``fill`` where it leaves the image."""
    rows, cols = array.shape[-2:]
    if (rows, cols) != tuple(box.grid_shape):
        raise ValueError(f"array grid {(rows, cols)} does not match the crop record's {box.grid_shape}")
    out = np.full(array.shape[:-2] + (box.size, box.size), fill, dtype=array.dtype)
    src, dst = _overlap(box)
    out[..., dst[0], dst[1]] = array[..., src[0], src[1]]
    return out


def uncrop_array(array: np.ndarray, box: CropRecord, fill: float) -> np.ndarray:
    """Put a ``size`` x ``size`` crop back into its ``grid_shape`` image; the rest gets ``fill``."""
    if array.shape[-2:] != (box.size, box.size):
        raise ValueError(f"array of shape {array.shape} is not a {box.size}x{box.size} crop")
    out = np.full(array.shape[:-2] + tuple(box.grid_shape), fill, dtype=array.dtype)
    src, dst = _overlap(box)
    out[..., src[0], src[1]] = array[..., dst[0], dst[1]]
    return out


def _overlap(box: CropRecord) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
    """Slices of the grid (src) and of the crop (dst) that overlap."""
    spans = []
    for start, length in ((box.row0, box.grid_shape[0]), (box.col0, box.grid_shape[1])):
        lo, hi = max(start, 0), min(start + box.size, length)
        hi = max(hi, lo)  # a box entirely outside the image overlaps nowhere
        spans.append((slice(lo, hi), slice(lo - start, hi - start)))
    return (spans[0][0], spans[1][0]), (spans[0][1], spans[1][1])
