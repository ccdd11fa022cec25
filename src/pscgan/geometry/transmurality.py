"""Scar transmurality and scar localisation per AHA segment of a short-axis label map.

Transmurality (method of the phantom spec, section 6): rays from the LV cavity centre
(:mod:`pscgan.geometry.rays`); per ray the wall thickness ``T`` (endocardium to epicardium of the
myocardial wall, healthy myocardium and scar together) and the scar length ``S`` along the ray inside the
wall; per-ray transmurality ``S / T``; a segment's transmurality is the mean over the rays in the segment,
so a segment with a half-thickness scar over half its width scores 0.25. For the ischaemic wavefront
(scar grows from the endocardium outwards) ``S`` is the scar depth from the endocardium.

Localisation: a segment's scar fraction is the share of its myocardial pixels (healthy myocardium and scar)
labelled scar; a segment is scar-positive when this fraction exceeds a stated threshold
(:data:`DEFAULT_SCAR_FRACTION_THRESHOLD` unless the caller states another).

Example:
    >>> import numpy as np
    >>> rows, cols = np.indices((64, 64))
    >>> r = np.hypot(rows - 32, cols - 32)
    >>> labels = np.where(r < 12, 1, np.where(r < 18, 2, 0)).astype(np.uint8)
    >>> labels[(r >= 12) & (r < 15) & (cols < 32)] = 3      # inner half of the left (septal) wall
    >>> res = segment_scar(labels, "mid", theta_a_deg=120.0)
    >>> round(res[9].transmurality, 1), round(res[12].transmurality, 1)
    (0.5, 0.0)
    >>> scar_positive_segments(res)  # 90-270 deg: part of 7 and 10, all of 8 and 9
    [7, 8, 9, 10]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pscgan.data.layout import SliceLevel
from pscgan.geometry.aha import segment_map, segment_means, segments_of_level
from pscgan.geometry.polar import MYOCARDIAL_CLASSES, lv_center
from pscgan.geometry.rays import RayProfiles, cast_rays
from pscgan.labels import Tissue

#: Default scar fraction above which a segment counts as scar-positive. A few percent rather than zero,
#: so that a single mislabelled pixel at a segment boundary does not make a segment positive.
DEFAULT_SCAR_FRACTION_THRESHOLD = 0.05


@dataclass(frozen=True)
class SegmentScar:
    """Scar measurements of one AHA segment on one slice.

    Attributes:
        segment: AHA segment number.
        transmurality: mean over the segment's rays of scar length / wall thickness (NaN: no wall met).
        scar_fraction: scar pixels / myocardial pixels of the segment (NaN: no myocardial pixel).
        wall_thickness_mm: mean wall thickness over the segment's rays.
        scar_area_mm2: scar area of the segment.
        myocardium_area_mm2: myocardial (healthy + scar) area of the segment.
    """

    segment: int
    transmurality: float
    scar_fraction: float
    wall_thickness_mm: float
    scar_area_mm2: float
    myocardium_area_mm2: float


def scar_rays(labels: np.ndarray, *, spacing: tuple[float, float] = (1.0, 1.0),
              center: tuple[float, float] | None = None, n_rays: int = 360) -> RayProfiles:
    """Per-ray wall and scar measurements of a pscgan label map (display orientation)."""
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"expected a 2D label map, got shape {labels.shape}")
    if center is None:
        center = lv_center(labels)
    return cast_rays(np.isin(labels, MYOCARDIAL_CLASSES), center, scar=labels == Tissue.SCAR,
                     spacing=spacing, n_rays=n_rays)


def segment_scar(labels: np.ndarray, level: SliceLevel | str, theta_a_deg: float, *,
                 spacing: tuple[float, float] = (1.0, 1.0), center: tuple[float, float] | None = None,
                 n_rays: int = 360) -> dict[int, SegmentScar]:
    """Transmurality, scar fraction, wall thickness and areas of every AHA segment of a slice.

    Args:
        labels: 2D label map in the pscgan encoding, display orientation ``[row, col]``.
        level: slice level (``basal``, ``mid``, ``apical``).
        theta_a_deg: anterior RV insertion angle (display convention).
        spacing: ``(row, col)`` pixel spacing in mm.
        center: LV centre ``(row, col)``; default :func:`~pscgan.geometry.polar.lv_center`.
        n_rays: rays over 360 degrees.

    Returns:
        ``{segment: SegmentScar}`` for the segments of ``level``.
    """
    labels = np.asarray(labels)
    if center is None:
        center = lv_center(labels)
    prof = scar_rays(labels, spacing=spacing, center=center, n_rays=n_rays)
    trans = segment_means(prof.angles_deg, prof.transmurality, level, theta_a_deg)
    thick = segment_means(prof.angles_deg, prof.thickness_mm, level, theta_a_deg)
    seg_map = segment_map(labels, level, theta_a_deg, spacing=spacing, center=center)
    pixel_area = float(spacing[0] * spacing[1])
    out: dict[int, SegmentScar] = {}
    for seg in segments_of_level(level):
        in_seg = seg_map == seg
        n_myo = int(in_seg.sum())
        n_scar = int((in_seg & (labels == Tissue.SCAR)).sum())
        out[seg] = SegmentScar(segment=seg, transmurality=trans[seg],
                               scar_fraction=n_scar / n_myo if n_myo else float("nan"),
                               wall_thickness_mm=thick[seg], scar_area_mm2=n_scar * pixel_area,
                               myocardium_area_mm2=n_myo * pixel_area)
    return out


def segment_transmurality(labels: np.ndarray, level: SliceLevel | str, theta_a_deg: float, *,
                          spacing: tuple[float, float] = (1.0, 1.0),
                          center: tuple[float, float] | None = None, n_rays: int = 360) -> dict[int, float]:
    """Mean transmurality (0 to 1) of each AHA segment of the slice; see :func:`segment_scar`."""
    prof = scar_rays(labels, spacing=spacing, center=center, n_rays=n_rays)
    return segment_means(prof.angles_deg, prof.transmurality, level, theta_a_deg)


def scar_positive_segments(segments: dict[int, SegmentScar], *,
                           threshold: float = DEFAULT_SCAR_FRACTION_THRESHOLD) -> list[int]:
    """Segments whose scar fraction exceeds ``threshold``, sorted."""
    return sorted(s for s, v in segments.items()
                  if np.isfinite(v.scar_fraction) and v.scar_fraction > threshold)

