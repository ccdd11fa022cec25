"""Static surroundings of the heart: lung, liver, chest wall and mediastinal soft tissue (spec section 1).

These do not follow the heart's contraction (the whole image, surroundings included, follows the
rigid cardiac translation, see :mod:`pscgan.phantom.acquisition`). All shapes are anchored on the
heart's largest outline (fat boundary over all frames and sub-slices) so the heart never overlaps
them:

* lung: beyond the outline plus a 3-10 mm gap, in a lateral/posterolateral sector with soft ends;
* liver (mid and apical levels): below a diaphragm line at the outline's inferior support plus a gap;
* chest wall: a line 40-70 mm anteriorly (moved out to clear the heart if needed), then skeletal
  muscle, subcutaneous fat and air;
* everything else: mediastinal soft tissue.

Edges are anti-aliased with the same pixel-area ramp as the heart.

Example:
    >>> import numpy as np
    >>> round(support_distance(np.full(360, 30.0), 90.0), 2)
    30.0
"""

from __future__ import annotations

import numpy as np

from pscgan.data.layout import SliceLevel
from pscgan.phantom.anatomy import ANGLES_DEG
from pscgan.phantom.motion import FrameBoundaries
from pscgan.phantom.params import SubjectParams
from pscgan.phantom.raster import FineGrid

#: Soft angular edge of the lung sector (degrees) [E].
LUNG_EDGE_DEG = 10.0
#: Minimum clearance between the heart and the chest wall (mm) [E].
CHEST_CLEARANCE_MM = 2.0


def support_distance(outline: np.ndarray, direction_deg: float) -> float:
    """Largest extent of a star-shaped outline (radii on equally spaced angles) along a direction."""
    angles = (np.arange(outline.size) + 0.5) * 360.0 / outline.size
    return float(np.max(outline * np.cos(np.deg2rad(angles - direction_deg))))


def _ramp(signed_mm: np.ndarray, h: float) -> np.ndarray:
    return np.clip(signed_mm / h + 0.5, 0.0, 1.0)


def static_fractions(params: SubjectParams, level: SliceLevel, grid: FineGrid,
                     fb: FrameBoundaries) -> dict[str, np.ndarray]:
    """Coverage (painter's order: later layers cover earlier ones) of lung, liver, chest-wall muscle,
    subcutaneous fat and air on the fine grid."""
    a = params.anatomy
    outline = (fb.radii["fat"] * fb.epi_scales.max(axis=1)[:, None]).max(axis=0)
    start, end = a.lung_sector_deg
    width = np.mod(end - start, 360.0)
    pos = np.mod(ANGLES_DEG - start, 360.0)
    sector = np.clip(np.minimum(pos, width - pos) / LUNG_EDGE_DEG + 0.5, 0.0, 1.0) * (pos <= width)
    lung_r = outline + a.lung_gap_mm
    lung = _ramp(grid.r - lung_r[grid.bins], grid.h) * sector[grid.bins]
    out = {"lung": lung.astype(np.float32)}
    if level is not SliceLevel.BASAL:
        d = np.deg2rad(a.liver_angle_deg)
        along = grid.x * np.cos(d) + grid.y * np.sin(d)
        out["liver"] = _ramp(along - support_distance(outline, a.liver_angle_deg) - a.liver_gap_mm, grid.h)
    d = np.deg2rad(a.chest_wall_angle_deg)
    along = grid.x * np.cos(d) + grid.y * np.sin(d)
    wall = max(a.chest_wall_mm, support_distance(outline, a.chest_wall_angle_deg) + CHEST_CLEARANCE_MM)
    out["muscle"] = _ramp(along - wall, grid.h)
    out["subcutaneous_fat"] = _ramp(along - wall - a.chest_muscle_mm, grid.h)
    out["air"] = _ramp(along - wall - a.chest_muscle_mm - a.subcutaneous_fat_mm, grid.h)
    return out


def static_background(fractions: dict[str, np.ndarray], cine: dict[str, float],
                      lge: dict[str, float]) -> np.ndarray:
    """``(2, pixels)`` background signal for cine and LGE, painted in the order of ``fractions``."""
    n = next(iter(fractions.values())).size
    out = np.empty((2, n), np.float32)
    for g, table in enumerate((cine, lge)):
        b = np.full(n, table["other"], np.float32)
        for name, frac in fractions.items():
            value = table["fat" if name == "subcutaneous_fat" else name]
            b += frac * (value - b)
        out[g] = b
    return out
