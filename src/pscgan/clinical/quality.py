"""Per-slice quality check: is a slice's predicted segmentation something the model plausibly knows?

The model was trained on one kind of data; on a slice unlike it (another scanner, a slice without a
heart, a crop that missed the LV) its segmentation can be nonsense, and scar measured on nonsense must
not be reported. :func:`check_slice` looks at the predicted label map of one network crop and at what
preprocessing recorded about the slice, cheaply (numpy/scipy only):

* **heart present**: some LV blood pool or myocardium at all (else: no heart found in this slice);
* **topology**: a blood pool, a myocardium, each one piece (pieces smaller than
  :attr:`QualityLimits.min_piece_mm2` and 5 % of the class are ignored), and the myocardium a closed
  ring around the blood pool (at least :attr:`QualityLimits.min_enclosed` of the blood pool inside the
  filled ring). The basal-most slice through the outflow tract legitimately fails this; its scar is
  then not assessed either, which is the cautious side;
* **size**: mean wall thickness (of the annulus with the measured areas) and LV diameter (equivalent
  diameter of blood pool + myocardium) within plausible adult ranges, in mm from the pixel spacing;
* **crop**: the LV touches the edge of the network crop (the localisation was off, or the heart is
  larger than the crop): the segmentation is cut;
* **LV detector** (when it reports one): confidence below :attr:`QualityLimits.min_confidence`, or
  an LV size that disagrees with the segmentation's by more than a factor
  :attr:`QualityLimits.max_size_ratio`. ``None`` (a localisation that gives no confidence) is "not
  available", never a failure.

A slice with any flag is *not assessed*: its scar quantities are not defined and stay out of the
subject's totals (:func:`pscgan.clinical.quantify.quantify_labels`).

Example:
    >>> import numpy as np
    >>> rows, cols = np.indices((64, 64)); r = np.hypot(rows - 32, cols - 32)
    >>> ring = np.where(r < 10, 1, np.where(r < 16, 2, 0)).astype(np.uint8)
    >>> q = check_slice(ring, (1.5, 1.5))
    >>> q.assessed, q.flags, round(q.wall_thickness_mm, 1)
    (True, [], 9.1)
    >>> broken = ring.copy(); broken[:, 30:34] = np.where(ring[:, 30:34] == 2, 0, ring[:, 30:34])
    >>> check_slice(broken, (1.5, 1.5)).flags
    ['myocardium_fragmented', 'ring_not_closed']
    >>> check_slice(np.zeros((64, 64), np.uint8), (1.5, 1.5)).flags
    ['no_heart']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

import numpy as np
from scipy import ndimage

from pscgan.labels import Tissue

QUALITY_VERSION = 1


class QualityFlag(str, Enum):
    """Why a slice is not assessed."""

    NO_HEART = "no_heart"
    NO_BLOOD_POOL = "no_blood_pool"
    NO_MYOCARDIUM = "no_myocardium"
    BLOOD_POOL_FRAGMENTED = "blood_pool_fragmented"
    MYOCARDIUM_FRAGMENTED = "myocardium_fragmented"
    RING_NOT_CLOSED = "ring_not_closed"
    WALL_TOO_THIN = "wall_too_thin"
    WALL_TOO_THICK = "wall_too_thick"
    LV_TOO_SMALL = "lv_too_small"
    LV_TOO_LARGE = "lv_too_large"
    AT_CROP_EDGE = "lv_at_crop_edge"
    LOW_CONFIDENCE = "low_localisation_confidence"
    SIZE_DISAGREES = "detector_size_disagrees"


@dataclass(frozen=True)
class QualityLimits:
    """Thresholds of the check (adult LV at end-diastole; generous, to flag nonsense, not disease)."""

    min_wall_mm: float = 3.0
    max_wall_mm: float = 30.0
    min_lv_diameter_mm: float = 15.0
    max_lv_diameter_mm: float = 120.0
    min_piece_mm2: float = 10.0
    min_enclosed: float = 0.9
    min_confidence: float = 0.5
    max_size_ratio: float = 2.0


@dataclass(frozen=True)
class SliceQuality:
    """The check's result for one slice (``None``: not measurable or not available).

    Attributes:
        assessed: no flag: the slice's scar is quantified.
        flags: :class:`QualityFlag` values, in check order.
        reasons: one sentence per flag.
        localisation_confidence: the LV detector's confidence (None: the localisation gives none).
        detector_size_mm: the LV detector's LV diameter (None: not available).
        lv_diameter_mm: equivalent diameter of blood pool + myocardium.
        wall_thickness_mm: mean wall thickness of the annulus with the measured areas.
        blood_pool_pieces: blood-pool pieces (ignoring specks).
        myocardium_pieces: myocardium pieces (healthy + scar, ignoring specks).
        blood_pool_enclosed: share of the blood pool inside the filled myocardial ring.
    """

    assessed: bool
    flags: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    localisation_confidence: float | None = None
    detector_size_mm: float | None = None
    lv_diameter_mm: float | None = None
    wall_thickness_mm: float | None = None
    blood_pool_pieces: int = 0
    myocardium_pieces: int = 0
    blood_pool_enclosed: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SliceQuality:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)

    @property
    def reason(self) -> str:
        """The reasons as one sentence (empty when assessed)."""
        return "; ".join(self.reasons)


def _pieces(mask: np.ndarray, min_px: float) -> int:
    """Connected pieces (8-connected) of at least ``min_px`` pixels and 5 % of the mask."""
    lab, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return 0
    sizes = np.bincount(lab.ravel())[1:]
    return int(np.sum(sizes >= max(min_px, 0.05 * sizes.sum())))


def check_slice(labels: np.ndarray, spacing_mm: Sequence[float], *, confidence: float | None = None,
                detector_size_mm: float | None = None,
                limits: QualityLimits = QualityLimits()) -> SliceQuality:
    """Check one predicted label map (a network crop, display orientation).

    Args:
        labels: ``(rows, cols)`` labels in the pscgan encoding (0 other, 1 blood pool, 2 healthy
            myocardium, 3 scar).
        spacing_mm: ``(row, col)`` pixel size in mm.
        confidence: the LV detector's confidence for this slice (0-1), None when not available.
        detector_size_mm: the LV detector's LV (epicardial) diameter in mm, None when not available.
        limits: the thresholds.
    """
    lab = np.asarray(labels)
    if lab.ndim != 2:
        raise ValueError(f"expected a 2D label map, got shape {lab.shape}")
    px_mm2 = float(spacing_mm[0]) * float(spacing_mm[1])
    blood = lab == Tissue.BLOOD_POOL
    myo = (lab == Tissue.MYOCARDIUM) | (lab == Tissue.SCAR)
    flags: list[tuple[QualityFlag, str]] = []
    known = {"localisation_confidence": confidence, "detector_size_mm": detector_size_mm}
    if confidence is not None and confidence < limits.min_confidence:
        flags.append((QualityFlag.LOW_CONFIDENCE, f"LV detector confidence {confidence:.2f} is below "
                                                  f"{limits.min_confidence:.2f}"))
    if not blood.any() and not myo.any():
        flags.insert(0, (QualityFlag.NO_HEART, "no heart found: no LV blood pool or myocardium segmented"))
        return _result(flags, **known)
    a_blood, a_myo = blood.sum() * px_mm2, myo.sum() * px_mm2
    diameter = 2.0 * math.sqrt((a_blood + a_myo) / math.pi)
    wall = diameter / 2.0 - math.sqrt(a_blood / math.pi)
    min_px = limits.min_piece_mm2 / px_mm2
    n_blood, n_myo = _pieces(blood, min_px), _pieces(myo, min_px)
    enclosed = None
    if not blood.any():
        flags.append((QualityFlag.NO_BLOOD_POOL, "no LV blood pool segmented"))
    if not myo.any():
        flags.append((QualityFlag.NO_MYOCARDIUM, "no myocardium segmented"))
    if n_blood > 1:
        flags.append((QualityFlag.BLOOD_POOL_FRAGMENTED, f"blood pool in {n_blood} pieces"))
    if n_myo > 1:
        flags.append((QualityFlag.MYOCARDIUM_FRAGMENTED, f"myocardium in {n_myo} pieces"))
    if blood.any() and myo.any():
        enclosed = float(ndimage.binary_fill_holes(myo)[blood].mean())
        if enclosed < limits.min_enclosed:
            flags.append((QualityFlag.RING_NOT_CLOSED, "myocardium is not a closed ring around the blood "
                                                       f"pool ({100 * enclosed:.0f} % enclosed)"))
        if wall < limits.min_wall_mm:
            flags.append((QualityFlag.WALL_TOO_THIN, f"mean wall thickness {wall:.1f} mm is below "
                                                     f"{limits.min_wall_mm:g} mm"))
        elif wall > limits.max_wall_mm:
            flags.append((QualityFlag.WALL_TOO_THICK, f"mean wall thickness {wall:.1f} mm is above "
                                                      f"{limits.max_wall_mm:g} mm"))
    if diameter < limits.min_lv_diameter_mm:
        flags.append((QualityFlag.LV_TOO_SMALL, f"LV diameter {diameter:.0f} mm is below "
                                                f"{limits.min_lv_diameter_mm:g} mm"))
    elif diameter > limits.max_lv_diameter_mm:
        flags.append((QualityFlag.LV_TOO_LARGE, f"LV diameter {diameter:.0f} mm is above "
                                                f"{limits.max_lv_diameter_mm:g} mm"))
    heart = blood | myo
    if heart[0].any() or heart[-1].any() or heart[:, 0].any() or heart[:, -1].any():
        flags.append((QualityFlag.AT_CROP_EDGE, "the LV touches the edge of the crop (localisation off, or "
                                                "the heart larger than the crop)"))
    if detector_size_mm is not None and diameter > 0:
        ratio = diameter / detector_size_mm
        if not 1.0 / limits.max_size_ratio <= ratio <= limits.max_size_ratio:
            flags.append((QualityFlag.SIZE_DISAGREES, f"segmented LV diameter {diameter:.0f} mm disagrees "
                                                      f"with the LV detector's {detector_size_mm:.0f} mm"))
    return _result(flags, **known, lv_diameter_mm=diameter,
                   wall_thickness_mm=wall if blood.any() and myo.any() else None,
                   blood_pool_pieces=n_blood, myocardium_pieces=n_myo, blood_pool_enclosed=enclosed)


def _result(flags: list[tuple[QualityFlag, str]], **measures: Any) -> SliceQuality:
    rounded: dict[str, Any] = {k: round(float(v), 4) if isinstance(v, float) else v
                               for k, v in measures.items()}
    return SliceQuality(assessed=not flags, flags=[f.value for f, _ in flags], reasons=[r for _, r in flags],
                        **rounded)


def check_slices(labels: np.ndarray, spacings_mm: Sequence[Sequence[float]],
                 localisations: Sequence[Any | None] | None = None,
                 limits: QualityLimits = QualityLimits()) -> list[SliceQuality]:
    """:func:`check_slice` for a stack of network crops.

    Args:
        labels: ``(S, rows, cols)`` predicted labels.
        spacings_mm: per slice ``(row, col)`` pixel size.
        localisations: per slice a :class:`~pscgan.preprocessing.record.LocalisationRecord` (its
            ``confidence`` and ``size_mm`` are used when set), or None.
        limits: the thresholds.
    """
    locs = list(localisations) if localisations is not None else [None] * len(labels)
    if not len(labels) == len(spacings_mm) == len(locs):
        raise ValueError(f"{len(labels)} slices, {len(spacings_mm)} spacings, {len(locs)} localisations")
    return [check_slice(lab, sp, confidence=getattr(loc, "confidence", None),
                        detector_size_mm=getattr(loc, "size_mm", None), limits=limits)
            for lab, sp, loc in zip(labels, spacings_mm, locs)]
