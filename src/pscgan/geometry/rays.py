"""Radial rays from the LV centre through the myocardial wall: the engine behind thickness and transmurality.

Method: ``n_rays`` rays at equally spaced angles (display convention, see :mod:`pscgan.geometry.polar`;
ray ``i`` points at ``(i + 0.5) * 360 / n_rays`` degrees so that rays never sit on an integer sector
boundary) are sampled every ``step_px`` pixels (a twentieth of a pixel by default) from the centre to just
beyond the farthest wall pixel. The wall and scar masks are sampled with bilinear interpolation and
thresholded at 0.5, so boundaries fall half-way between an inside and an outside pixel centre, as for the
pixelated region. Along each ray the wall is the first run of wall samples met from the centre (gaps
shorter than ``max_gap_mm`` -- one pixel by default -- are bridged so that a stray background pixel inside
a predicted wall does not cut it); its entry is the endocardium and its exit the epicardium (a ray whose
wall is cut by the image border is not measured). Scar is
measured only inside that wall run: ``scar_mm`` is the length of scar along the ray and ``scar_depth_mm``
the distance from the endocardium to the outer edge of the scar. For the ischaemic wavefront (scar grows
from the endocardium outwards) both are equal; transmurality uses ``scar_mm`` because it is not inflated
by an isolated scar pixel near the epicardium in a predicted map.

Example:
    >>> import numpy as np
    >>> rows, cols = np.indices((41, 41))
    >>> r = np.hypot(rows - 20, cols - 20)
    >>> wall = (r >= 8) & (r < 14)
    >>> prof = cast_rays(wall, (20.0, 20.0), n_rays=72)
    >>> bool(abs(np.nanmean(prof.thickness_mm) - 6.0) < 0.5)
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from pscgan.geometry.polar import ray_points


@dataclass(frozen=True)
class RayProfiles:
    """Per-ray wall measurements of one slice. Rays that meet no wall hold NaN.

    Attributes:
        angles_deg: ray angles (display convention).
        r_endo_mm: distance from the centre to the endocardial (inner) wall boundary.
        r_epi_mm: distance from the centre to the epicardial (outer) wall boundary.
        scar_mm: length of scar along the ray inside the wall (0 where no scar).
        scar_depth_mm: distance from the endocardium to the outer edge of the scar (0 where no scar).
    """

    angles_deg: np.ndarray
    r_endo_mm: np.ndarray
    r_epi_mm: np.ndarray
    scar_mm: np.ndarray
    scar_depth_mm: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        """Rays that crossed a wall."""
        return np.isfinite(self.r_endo_mm)

    @property
    def thickness_mm(self) -> np.ndarray:
        """Wall thickness along each ray (epicardium minus endocardium)."""
        return self.r_epi_mm - self.r_endo_mm

    @property
    def transmurality(self) -> np.ndarray:
        """Scar length over wall thickness, per ray (0 to 1; NaN where no wall)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.clip(self.scar_mm / self.thickness_mm, 0.0, 1.0)


def ray_angles(n_rays: int) -> np.ndarray:
    """Angles (degrees) of ``n_rays`` equally spaced rays, offset by half a step from 0."""
    if n_rays < 4:
        raise ValueError(f"need at least 4 rays, got {n_rays}")
    return (np.arange(n_rays) + 0.5) * (360.0 / n_rays)


def first_runs(inside: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``inside`` (rays x samples), ``[start, end)`` of the first run of True after bridging
    gaps of at most ``max_gap`` False samples. Rows without any True get ``start = end = 0``; a run that
    reaches the last sample gets ``end = n_samples``."""
    n = inside.shape[1]
    idx = np.arange(n)
    prev_true = np.maximum.accumulate(np.where(inside, idx, -1), axis=1)
    next_true = np.minimum.accumulate(np.where(inside, idx, n)[:, ::-1], axis=1)[:, ::-1]
    bridged = inside | ((prev_true >= 0) & (next_true < n) & (next_true - prev_true - 1 <= max_gap))
    start = np.where(bridged.any(axis=1), bridged.argmax(axis=1), 0)
    outside_after = ~bridged & (idx[None, :] >= start[:, None])
    end = np.where(outside_after.any(axis=1), outside_after.argmax(axis=1), n)
    end = np.where(bridged.any(axis=1), end, 0)
    return start, end


def cast_rays(wall: np.ndarray, center: tuple[float, float], *, scar: np.ndarray | None = None,
              spacing: tuple[float, float] = (1.0, 1.0), n_rays: int = 360, step_px: float = 0.05,
              max_gap_mm: float | None = None) -> RayProfiles:
    """Measure the wall (and scar) along radial rays from ``center``.

    Args:
        wall: 2D boolean mask of the myocardial wall (healthy myocardium and scar), display orientation.
        center: ``(row, col)`` of the LV centre in pixels.
        scar: optional 2D boolean scar mask of the same shape.
        spacing: ``(row, col)`` pixel spacing in mm.
        n_rays: number of rays over 360 degrees.
        step_px: sampling step along the rays, in pixels of the smaller spacing.
        max_gap_mm: largest gap in the wall that is bridged; default one pixel.

    Returns:
        The per-ray :class:`RayProfiles`.
    """
    wall = np.asarray(wall, bool)
    if wall.ndim != 2:
        raise ValueError(f"expected a 2D wall mask, got shape {wall.shape}")
    if scar is not None and np.shape(scar) != wall.shape:
        raise ValueError(f"scar mask shape {np.shape(scar)} differs from the wall's {wall.shape}")
    step_mm = step_px * min(spacing)
    wall_rows, wall_cols = np.nonzero(wall)
    # Rays need to reach just past the farthest wall pixel; sampling beyond is wasted work.
    extent = (np.hypot((wall_rows - center[0]) * spacing[0], (wall_cols - center[1]) * spacing[1]).max()
              + 2 * max(spacing)) if wall_rows.size else 0.0
    radii = np.arange(0.0, extent, step_mm)
    angles = ray_angles(n_rays)
    if radii.size == 0:  # an empty wall: nothing to measure
        nan = np.full(n_rays, np.nan)
        return RayProfiles(angles, nan, nan.copy(), nan.copy(), nan.copy())
    rows, cols = ray_points(center, angles, radii, spacing)
    inside = ndimage.map_coordinates(wall.astype(np.float32), [rows, cols], order=1, mode="constant") >= 0.5
    in_scar = (ndimage.map_coordinates(np.asarray(scar, np.float32), [rows, cols], order=1, mode="constant")
               >= 0.5) if scar is not None else np.zeros_like(inside)
    max_gap = int(round((max_gap_mm if max_gap_mm is not None else max(spacing)) / step_mm))

    start, end = first_runs(inside, max_gap)
    # No wall, a wall running past the sampled extent, or a wall cut by the image border (its exit point
    # lies outside the pixel centres) is not measured.
    exit_idx = np.minimum(end, radii.size - 1)[:, None]
    exit_r = np.take_along_axis(rows, exit_idx, axis=1)[:, 0]
    exit_c = np.take_along_axis(cols, exit_idx, axis=1)[:, 0]
    in_image = (exit_r >= 0) & (exit_r <= wall.shape[0] - 1) & (exit_c >= 0) & (exit_c <= wall.shape[1] - 1)
    valid = (end > start) & (end < radii.size) & in_image
    idx = np.arange(radii.size)[None, :]
    run = (idx >= start[:, None]) & (idx < end[:, None])
    # Boundaries half a step outside the first and last wall sample; a wall at the centre starts at 0.
    r_endo = np.where(valid, np.maximum(start * step_mm - step_mm / 2, 0.0), np.nan)
    r_epi = np.where(valid, (end - 1) * step_mm + step_mm / 2, np.nan)
    scar_in_run = in_scar & run
    scar_len = np.where(valid, scar_in_run.sum(axis=1) * step_mm, np.nan)
    last = np.where(scar_in_run, idx, -1).max(axis=1)
    scar_depth = np.where(valid, np.where(last >= 0, last * step_mm + step_mm / 2 - r_endo, 0.0), np.nan)
    return RayProfiles(angles, r_endo, r_epi, scar_len, scar_depth)
