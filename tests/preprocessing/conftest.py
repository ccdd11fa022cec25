"""A small synthetic beating short-axis slice: LV ring, RV crescent, a static bright structure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

# Tissue intensities: the static structure is brighter than blood in both contrasts, on purpose.
_CINE = {"bg": 0.1, "blood": 1.0, "myo": 0.3, "scar": 0.28, "rv": 0.9, "static": 1.3}
_LGE = {"bg": 0.05, "blood": 0.5, "myo": 0.03, "scar": 0.95, "rv": 0.45, "static": 0.7}


@dataclass
class SyntheticSlice:
    cine: np.ndarray  # (time, rows, cols)
    lge: np.ndarray  # (rows, cols)
    labels: np.ndarray  # (rows, cols) uint8, at end-diastole
    centre_rc: tuple[float, float]  # LV centre
    spacing_rc: tuple[float, float]


def synthetic_slice(shape: tuple[int, int] = (96, 96), centre_rc: tuple[float, float] = (40.0, 55.0),
                    spacing_rc: tuple[float, float] = (1.5, 1.5), n_phases: int = 25, *, rv: bool = True,
                    static_rc: tuple[float, float] | None = (75.0, 20.0), noise: float = 0.02,
                    seed: int = 0) -> SyntheticSlice:
    """A slice whose LV endocardial radius shrinks from 20 to 14 mm at end-systole (phase n/2)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices(shape, dtype=np.float64)
    dy, dx = (rows - centre_rc[0]) * spacing_rc[0], (cols - centre_rc[1]) * spacing_rc[1]
    r = np.hypot(dy, dx)
    theta = np.degrees(np.arctan2(-dy, dx))
    scar_sector = (theta > 20) & (theta < 80)
    frames, labels_ed, lge = [], None, None
    for t in range(n_phases):
        p = (1 - np.cos(2 * np.pi * t / n_phases)) / 2
        r_endo = 20.0 - 6.0 * p
        r_epi = np.sqrt(r_endo**2 + (28.0**2 - 20.0**2))  # myocardial area conserved
        tissue = np.full(shape, "bg", dtype=object)
        if static_rc is not None:
            tissue[np.hypot(rows - static_rc[0], (cols - static_rc[1]) / 1.5) < 8] = "static"
        if rv:
            rv_mask = np.hypot((dy + 2) / 22, (dx + 30 - 4 * p) / (30 - 6 * p)) < 1
            tissue[rv_mask & (r > r_epi)] = "rv"
        tissue[r < r_epi] = "myo"
        tissue[(r < r_epi) & (r >= r_endo) & scar_sector] = "scar"
        tissue[r < r_endo] = "blood"
        frames.append(np.vectorize(_CINE.get)(tissue).astype(np.float64))
        if t == 0:
            classes = [tissue == "blood", tissue == "myo", tissue == "scar"]
            labels_ed = np.select(classes, [1, 2, 3], 0).astype(np.uint8)
            lge = np.vectorize(_LGE.get)(tissue).astype(np.float64)
    cine = np.stack(frames) + rng.normal(0, noise, (n_phases, *shape))
    lge = lge + rng.normal(0, noise, shape)
    return SyntheticSlice(cine=cine.astype(np.float32), lge=lge.astype(np.float32), labels=labels_ed,
                          centre_rc=centre_rc, spacing_rc=spacing_rc)


@pytest.fixture
def make_slice() -> Callable[..., SyntheticSlice]:
    return synthetic_slice
