"""Hand-made short-axis label maps: rings with known geometry."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from pscgan.geometry.polar import angle_deg


def ring_labels(shape: tuple[int, int] = (64, 64), center: tuple[float, float] = (31.5, 31.5),
                r_endo_mm: float = 18.0, thickness_mm: float = 9.0, spacing: tuple[float, float] = (1.5, 1.5),
                scar_depth_mm: float = 0.0, scar_sector_deg: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """A ring in physical space (circular in mm, elliptical in pixels when the spacing is anisotropic),
    with an optional subendocardial scar of ``scar_depth_mm`` over the ccw sector ``[start, end)``."""
    rows, cols = np.indices(shape, dtype=float)
    r = np.hypot((rows - center[0]) * spacing[0], (cols - center[1]) * spacing[1])
    labels = np.zeros(shape, np.uint8)
    labels[r < r_endo_mm] = 1
    labels[(r >= r_endo_mm) & (r < r_endo_mm + thickness_mm)] = 2
    start, end = scar_sector_deg
    theta = angle_deg(rows, cols, center, spacing)
    in_sector = np.mod(theta - start, 360.0) < np.mod(end - start, 360.0)
    labels[in_sector & (r >= r_endo_mm) & (r < r_endo_mm + scar_depth_mm)] = 3
    return labels


@pytest.fixture
def make_ring() -> Callable[..., np.ndarray]:
    return ring_labels
