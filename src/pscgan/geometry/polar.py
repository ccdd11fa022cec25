"""The LV centre of a short-axis slice and polar coordinates around it, in the display convention.

Orientation (the project's contract, see :mod:`pscgan.data.layout`): a 2D slice is an array indexed
``[row, col]`` (the display image ``volume[:, :, k].T``), row 0 at the top. Angles are in degrees,
counter-clockwise from the +column direction with "up" meaning decreasing row::

    theta = atan2(-(row - cy) * row_spacing, (col - cx) * col_spacing)

so that for a short axis seen from the apex (anterior up, lateral right, RV left) the anterior wall is
near 90 degrees, the septum near 180, the inferior wall near 270 and the lateral wall near 0. Angles
are physical (pixel spacing is taken into account), radii are in mm.

The LV centre is the centroid of the LV cavity (largest connected blood-pool component, papillary
muscles included since they are labelled blood pool); when the cavity is missing or tiny (an apical
slice at end-systole) the centroid of the filled LV (cavity + myocardium) is used instead.

Example:
    >>> import numpy as np
    >>> labels = np.zeros((9, 9), np.uint8)
    >>> labels[3:6, 3:6] = 2
    >>> labels[4, 4] = 1
    >>> lv_center(labels)
    (4.0, 4.0)
    >>> theta, radius = polar_coordinates(labels.shape, (4.0, 4.0))
    >>> float(theta[0, 4]), float(radius[0, 4])
    (90.0, 4.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from pscgan.labels import Tissue

#: Classes forming the myocardial wall (healthy myocardium and scar).
MYOCARDIAL_CLASSES = (int(Tissue.MYOCARDIUM), int(Tissue.SCAR))
#: Classes forming the LV (cavity and wall).
LV_CLASSES = (int(Tissue.BLOOD_POOL), *MYOCARDIAL_CLASSES)


def display_spacing(pixel_spacing_xy: Sequence[float]) -> tuple[float, float]:
    """Convert the layout's ``(x, y)`` pixel spacing to ``(row, col)`` spacing of the display array.

    The display image of a slice is ``volume[:, :, k].T``: rows follow y and columns follow x.

    Example:
        >>> display_spacing((1.4, 1.5))
        (1.5, 1.4)
    """
    sx, sy = (float(s) for s in pixel_spacing_xy[:2])
    return sy, sx


def _largest_component(mask: np.ndarray) -> np.ndarray:
    components, n = ndimage.label(mask)
    if n <= 1:
        return mask.astype(bool)
    sizes = np.bincount(components.ravel())[1:]
    return components == (int(np.argmax(sizes)) + 1)


def _centroid(mask: np.ndarray) -> tuple[float, float]:
    rows, cols = np.nonzero(mask)
    return float(rows.mean()), float(cols.mean())


def lv_center_from_myocardium(myocardium: np.ndarray, *, min_cavity_pixels: int = 5) -> tuple[float, float]:
    """LV centre ``(row, col)`` from a myocardium mask alone: centroid of the enclosed cavity.

    The cavity is what :func:`scipy.ndimage.binary_fill_holes` adds to the (largest) myocardial ring;
    with no enclosed cavity the centroid of the myocardium is returned.

    Raises:
        ValueError: if the mask is empty.
    """
    wall = np.asarray(myocardium, bool)
    if wall.ndim != 2:
        raise ValueError(f"expected a 2D mask, got shape {wall.shape}")
    if not wall.any():
        raise ValueError("the myocardium mask is empty: no LV centre")
    wall = _largest_component(wall)
    cavity = ndimage.binary_fill_holes(wall) & ~wall
    if cavity.sum() >= min_cavity_pixels:
        return _centroid(cavity)
    return _centroid(wall)


def lv_center(labels: np.ndarray, *, min_cavity_pixels: int = 5) -> tuple[float, float]:
    """LV centre ``(row, col)`` in pixels from a 2D label map in the pscgan encoding.

    Args:
        labels: 2D integer array (0 other, 1 LV blood pool, 2 healthy myocardium, 3 scar).
        min_cavity_pixels: below this many blood-pool pixels the cavity is considered missing and the
            centroid of the filled LV is used.

    Raises:
        ValueError: if the map holds no LV pixels.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"expected a 2D label map, got shape {labels.shape}")
    blood = labels == Tissue.BLOOD_POOL
    if blood.sum() >= min_cavity_pixels:
        return _centroid(_largest_component(blood))
    lv = np.isin(labels, LV_CLASSES)
    if not lv.any():
        raise ValueError("the label map holds no LV pixels (classes 1-3): no LV centre")
    return _centroid(ndimage.binary_fill_holes(_largest_component(lv)))


def angle_deg(rows: np.ndarray | float, cols: np.ndarray | float, center: tuple[float, float],
              spacing: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """Display-convention angle in ``[0, 360)`` degrees of pixel positions around ``center``."""
    cy, cx = center
    sr, sc = spacing
    theta = np.degrees(np.arctan2(-(np.asarray(rows, float) - cy) * sr, (np.asarray(cols, float) - cx) * sc))
    return np.mod(theta, 360.0)


def polar_coordinates(shape: tuple[int, int], center: tuple[float, float],
                      spacing: tuple[float, float] = (1.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """Angle (degrees in ``[0, 360)``) and radius (mm) of every pixel centre of a ``shape`` grid.

    Args:
        shape: ``(rows, cols)``.
        center: ``(row, col)`` of the origin, in pixels (fractional allowed).
        spacing: ``(row, col)`` pixel spacing in mm (see :func:`display_spacing`).

    Returns:
        ``(theta_deg, radius_mm)``, each of ``shape``.
    """
    rows, cols = np.indices(shape, dtype=float)
    theta = angle_deg(rows, cols, center, spacing)
    radius = np.hypot((rows - center[0]) * spacing[0], (cols - center[1]) * spacing[1])
    return theta, radius


def ray_points(center: tuple[float, float], angles_deg: np.ndarray, radii_mm: np.ndarray,
               spacing: tuple[float, float] = (1.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates ``(rows, cols)`` of points at ``radii_mm`` along rays at ``angles_deg``.

    Returns arrays of shape ``(len(angles_deg), len(radii_mm))``; the inverse of :func:`polar_coordinates`.
    """
    t = np.radians(np.asarray(angles_deg, float))[:, None]
    r = np.asarray(radii_mm, float)[None, :]
    rows = center[0] - r * np.sin(t) / spacing[0]
    cols = center[1] + r * np.cos(t) / spacing[1]
    return rows, cols
