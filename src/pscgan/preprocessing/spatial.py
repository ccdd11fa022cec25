"""In-plane resampling, and putting an LGE or label volume on the cine's slice grid.

Resampling keeps the physical field of view: the new matrix is ``round(n * spacing / target)`` and the
pixel edges of the first and last pixels stay where they were (scikit-image ``resize``, which aligns
pixel edges), so the actual new spacing is ``spacing * n / new_n`` (recorded). Images are interpolated
linearly (with Gaussian anti-aliasing when shrinking), labels by nearest neighbour. The paper keeps the
native spacing, which is also the default here (``target_spacing_mm=None``).

Example:
    >>> import numpy as np
    >>> img = np.zeros((100, 80), np.float32)
    >>> out, rec = resample_inplane(img, (1.0, 1.0), 2.0)
    >>> out.shape, rec.spacing_mm
    ((50, 40), (2.0, 2.0))
"""

from __future__ import annotations

import numpy as np

from pscgan.errors import InputError
from pscgan.io.image import MAX_ARRAY_BYTES, ImageVolume
from pscgan.preprocessing.record import GridMappingRecord, InPlaneRecord


def resize_2d(array: np.ndarray, shape: tuple[int, int], *, order: int) -> np.ndarray:
    """Resize the last two axes of ``array`` to ``shape`` with pixel edges aligned.

    ``order=0`` (labels) keeps the dtype and the set of values; ``order=1`` (images) returns float32 and
    anti-aliases when shrinking.
    """
    from skimage.transform import resize

    shape = (int(shape[0]), int(shape[1]))
    if array.shape[-2:] == shape:
        return array
    flat = array.reshape((-1,) + array.shape[-2:])
    shrinking = shape[0] < array.shape[-2] or shape[1] < array.shape[-1]
    frames = [resize(frame, shape, order=order, mode="edge", preserve_range=True,
                     anti_aliasing=bool(order > 0 and shrinking)) for frame in flat]
    out = np.stack(frames).reshape(array.shape[:-2] + shape)
    return out.astype(array.dtype if order == 0 else np.float32)


def resample_inplane(array: np.ndarray, spacing_rc: tuple[float, float], target_spacing_mm: float | None,
                     *, order: int = 1) -> tuple[np.ndarray, InPlaneRecord | None]:
    """Resample the last two axes (row, col) of ``array`` to ``target_spacing_mm`` (isotropic).

    Args:
        array: ``(..., rows, cols)`` image(s) or label map(s).
        spacing_rc: current (row, col) spacing in mm.
        target_spacing_mm: wanted spacing; ``None`` keeps the native grid.
        order: 1 for images, 0 for labels.

    Returns:
        The resampled array and the record (``None`` when nothing was done).
    """
    if target_spacing_mm is None:
        return array, None
    if target_spacing_mm <= 0:
        raise ValueError(f"target spacing must be positive, got {target_spacing_mm}")
    shape = array.shape[-2:]
    new_shape = target_shape(shape, spacing_rc, target_spacing_mm)
    n_bytes = int(np.prod(array.shape[:-2], dtype=np.int64)) * new_shape[0] * new_shape[1] * 4
    if n_bytes > MAX_ARRAY_BYTES:
        raise ValueError(f"resampling {tuple(shape)} pixels of {tuple(spacing_rc)} mm to {target_spacing_mm} "
                         f"mm would make {new_shape} images ({n_bytes / 1024**3:.1f} GiB); check the voxel "
                         "size")
    record = InPlaneRecord(original_shape=shape, original_spacing_mm=tuple(float(s) for s in spacing_rc),
                           shape=new_shape,
                           spacing_mm=tuple(float(s) * n / m
                                            for s, n, m in zip(spacing_rc, shape, new_shape)))
    if new_shape == tuple(shape):
        return array, record
    return resize_2d(array, new_shape, order=order), record


def target_shape(shape: tuple[int, int], spacing_rc: tuple[float, float],
                 target_spacing_mm: float) -> tuple[int, int]:
    """The (rows, cols) matrix that covers the same field of view at ``target_spacing_mm``."""
    rows, cols = (max(1, int(round(n * s / target_spacing_mm))) for n, s in zip(shape, spacing_rc))
    return rows, cols


def apply_inplane(array: np.ndarray, record: InPlaneRecord | None, *, order: int) -> np.ndarray:
    """Resample ``array`` exactly as described by ``record`` (a no-op for ``None``)."""
    if record is None:
        return array
    return resize_2d(array, record.shape, order=order)


def on_reference_grid(volume: ImageVolume, reference: ImageVolume, *,
                      order: int) -> tuple[np.ndarray, GridMappingRecord | None]:
    """``volume``'s ``(x, y, slice)`` data on the in-plane grid of ``reference`` (slice k stays slice k).

    Volumes already on the reference grid (same in-plane shape, spacing and affine) are returned as they
    are. Otherwise each slice is resampled through the two affines (the in-plane part of
    ``inverse(volume.affine) @ reference.affine``); this needs trustworthy affines.

    Raises:
        InputError: naming ``volume.source``: different slice counts, or grids that differ while an affine
            disagrees with its voxel size (files such as the EMIDEC cases carry a unit affine).
    """
    from scipy.ndimage import map_coordinates

    arr, ref = volume.array, reference.array
    if arr.shape[2] != ref.shape[2]:
        raise InputError(volume.source, f"has {arr.shape[2]} slices but the cine has {ref.shape[2]}; "
                                        "slice k of the LGE and labels must match slice k of the cine")
    same_grid = (arr.shape[:2] == ref.shape[:2]
                 and np.allclose(volume.spacing[:2], reference.spacing[:2], rtol=1e-3)
                 and np.allclose(np.asarray(volume.affine), np.asarray(reference.affine), atol=1e-3))
    if same_grid:
        return arr, None
    for vol in (volume, reference):
        norms = np.linalg.norm(np.asarray(vol.affine)[:3, :2], axis=0)
        if not np.allclose(norms, vol.spacing[:2], rtol=0.01):
            raise InputError(volume.source,
                             f"grid {arr.shape[:2]} x {volume.spacing[:2]} mm differs from the cine's "
                             f"{ref.shape[:2]} x {reference.spacing[:2]} mm and the affine of {vol.source} "
                             "does not match its voxel size, so the two cannot be aligned; resample it onto "
                             "the cine grid first")
    if abs(np.linalg.det(np.asarray(volume.affine, dtype=np.float64))) < 1e-12:
        raise InputError(volume.source, "the affine (voxel-to-world matrix) is singular, so the volume "
                                        "cannot be put on the cine grid; fix the header's orientation")
    voxel_map = np.linalg.inv(np.asarray(volume.affine)) @ np.asarray(reference.affine)
    ii, jj = np.meshgrid(np.arange(ref.shape[0]), np.arange(ref.shape[1]), indexing="ij")
    coords = voxel_map[:2, :2] @ np.stack([ii.ravel(), jj.ravel()]).astype(np.float64)
    out = np.empty(ref.shape[:2] + (arr.shape[2],), dtype=arr.dtype if order == 0 else np.float32)
    for k in range(arr.shape[2]):
        # In-plane position only: where the LGE's slice k lies through-plane is ignored (k pairs with k).
        xy = coords + (voxel_map[:2, 2] * k + voxel_map[:2, 3])[:, None]
        out[:, :, k] = map_coordinates(arr[:, :, k], xy, order=order, mode="nearest").reshape(ref.shape[:2])
    record = GridMappingRecord(source_shape=arr.shape, source_spacing_mm=volume.spacing,
                               voxel_map=voxel_map.tolist())
    return out, record
