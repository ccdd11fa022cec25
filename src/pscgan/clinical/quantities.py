"""Scar and myocardium sizes of one slice or one stack of slices.

Definitions (architecture notes, "Metrics"):

* scar area (cm^2) per slice: scar pixels x pixel area;
* myocardium = healthy myocardium + scar;
* scar ratio ("MI ratio"): scar / myocardium. It is **not defined** for a slice or subject without
  myocardium, and is then ``None``, never 0 or NaN;
* volumes (ml) per subject: sum over slices of area x slice thickness (1 cm^2 x 1 cm = 1 ml). Slices are
  treated as contiguous slabs of the stated thickness (gaps between slices are not interpolated);
* a slice whose scar is *not assessed* (the per-slice quality check flagged it, or the labels do not
  tell scar from healthy myocardium) has scar area and scar ratio ``None``: the subject's scar volume
  and scar ratio cover the assessed slices only (scar ratio: their scar over their myocardium), and are
  ``None`` when no slice is assessed.

Example:
    >>> import numpy as np
    >>> lab = np.zeros((10, 10), np.uint8); lab[2:6, 2:6] = 2; lab[2:4, 2:6] = 3
    >>> q = slice_quantities(lab, spacing_mm=(1.0, 1.0))
    >>> q.scar_area_cm2, q.myocardium_area_cm2, q.scar_ratio
    (0.08, 0.16, 0.5)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from pscgan.labels import Tissue


@dataclass(frozen=True)
class SliceQuantities:
    """Sizes measured on one 2D label map."""

    scar_area_cm2: float | None  # None: scar not assessed on this slice
    myocardium_area_cm2: float
    healthy_myocardium_area_cm2: float
    blood_pool_area_cm2: float
    scar_ratio: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StackQuantities:
    """Sizes of a stack of slices (a subject)."""

    scar_volume_ml: float | None  # over the assessed slices; None when none is
    myocardium_volume_ml: float
    blood_pool_volume_ml: float
    scar_ratio: float | None
    n_slices: int
    n_slices_with_myocardium: int
    n_slices_assessed: int | None = None  # slices whose scar is assessed (None: from before pscgan counted)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def slice_quantities(labels: np.ndarray, spacing_mm: Sequence[float], *, scar_assessed: bool = True
                     ) -> SliceQuantities:
    """Areas and scar ratio of a 2D label map in the pscgan encoding.

    Args:
        labels: ``(rows, cols)`` integer map, values 0..3.
        spacing_mm: pixel size (any order: only the product is used).
        scar_assessed: False leaves scar area and scar ratio ``None`` (not assessed); the myocardium
            area still counts healthy myocardium and scar.
    """
    lab = np.asarray(labels)
    if lab.ndim != 2:
        raise ValueError(f"expected a 2D label map, got shape {lab.shape}")
    px_cm2 = float(spacing_mm[0]) * float(spacing_mm[1]) / 100.0
    counts = np.bincount(lab.ravel().astype(np.int64), minlength=4)
    if counts.size > 4:
        raise ValueError(f"label values must be 0..3, found {counts.size - 1}")
    scar = counts[Tissue.SCAR] * px_cm2
    healthy = counts[Tissue.MYOCARDIUM] * px_cm2
    myo = scar + healthy
    if not scar_assessed:
        return SliceQuantities(scar_area_cm2=None, myocardium_area_cm2=round(float(myo), 10),
                               healthy_myocardium_area_cm2=round(float(healthy), 10),
                               blood_pool_area_cm2=round(float(counts[Tissue.BLOOD_POOL] * px_cm2), 10),
                               scar_ratio=None)
    return SliceQuantities(scar_area_cm2=round(float(scar), 10), myocardium_area_cm2=round(float(myo), 10),
                           healthy_myocardium_area_cm2=round(float(healthy), 10),
                           blood_pool_area_cm2=round(float(counts[Tissue.BLOOD_POOL] * px_cm2), 10),
                           scar_ratio=_ratio(float(counts[Tissue.SCAR]), float(counts[Tissue.SCAR]
                                                                              + counts[Tissue.MYOCARDIUM])))


def stack_quantities(slices: Sequence[SliceQuantities], slice_thickness_mm: float) -> StackQuantities:
    """Volumes and subject-level scar ratio from per-slice areas."""
    if slice_thickness_mm <= 0:
        raise ValueError("slice thickness must be positive")
    cm = slice_thickness_mm / 10.0
    assessed = [s for s in slices if s.scar_area_cm2 is not None]
    scar_areas = [s.scar_area_cm2 for s in slices if s.scar_area_cm2 is not None]
    scar = sum(scar_areas) * cm if assessed else None
    myo = sum(s.myocardium_area_cm2 for s in slices) * cm
    blood = sum(s.blood_pool_area_cm2 for s in slices) * cm
    myo_assessed = sum(s.myocardium_area_cm2 for s in assessed) * cm
    return StackQuantities(scar_volume_ml=scar, myocardium_volume_ml=myo, blood_pool_volume_ml=blood,
                           scar_ratio=None if scar is None else _ratio(scar, myo_assessed),
                           n_slices=len(slices),
                           n_slices_with_myocardium=sum(s.myocardium_area_cm2 > 0 for s in slices),
                           n_slices_assessed=len(assessed))
