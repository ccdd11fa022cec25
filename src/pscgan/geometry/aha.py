"""The AHA 16-segment model of the LV (Cerqueira et al., Circulation 2002) on short-axis slices.

Segments are defined by angle around the LV centre in the display convention of
:mod:`pscgan.geometry.polar` (degrees counter-clockwise from +column, up = decreasing row, short axis
seen from the apex) relative to the anterior RV insertion angle ``theta_a`` (typically 110-130 deg):

* basal (1-6) and mid (7-12): six 60-degree sectors counter-clockwise from ``theta_a``:
  2/8 anteroseptal ``[theta_a, theta_a + 60)``, 3/9 inferoseptal, 4/10 inferior, 5/11 inferolateral,
  6/12 anterolateral, 1/7 anterior ``[theta_a - 60, theta_a)``;
* apical (13-16): four 90-degree sectors, 14 septal centred on ``theta_a + 60`` (+-45 deg), then
  15 inferior, 16 lateral, 13 anterior.

Each sector is closed at its start angle and open at its end, so every angle maps to exactly one
segment. Coronary territories follow the usual assignment (LAD 1, 2, 7, 8, 13, 14; RCA 3, 4, 9, 10, 15;
LCx 5, 6, 11, 12, 16); individual anatomy varies (e.g. a wrap-around LAD supplies 15-16), so every
lookup takes an optional mapping.

Example:
    >>> segment_of_angle(150.0, "mid", theta_a_deg=120.0)
    8
    >>> segment_of_angle(100.0, "basal", theta_a_deg=120.0)
    1
    >>> segment_of_angle(185.0, "apical", theta_a_deg=120.0)
    14
    >>> territory_of_segment(8).value
    'LAD'
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

import numpy as np

from pscgan.data.layout import SliceLevel
from pscgan.geometry.polar import MYOCARDIAL_CLASSES, lv_center, polar_coordinates


class Territory(str, Enum):
    """Coronary artery territories."""

    LAD = "LAD"
    RCA = "RCA"
    LCX = "LCx"


SEGMENT_NAMES: dict[int, str] = {
    1: "basal anterior", 2: "basal anteroseptal", 3: "basal inferoseptal", 4: "basal inferior",
    5: "basal inferolateral", 6: "basal anterolateral",
    7: "mid anterior", 8: "mid anteroseptal", 9: "mid inferoseptal", 10: "mid inferior",
    11: "mid inferolateral", 12: "mid anterolateral",
    13: "apical anterior", 14: "apical septal", 15: "apical inferior", 16: "apical lateral",
}

LEVEL_SEGMENTS: dict[SliceLevel, tuple[int, ...]] = {
    SliceLevel.BASAL: (1, 2, 3, 4, 5, 6),
    SliceLevel.MID: (7, 8, 9, 10, 11, 12),
    SliceLevel.APICAL: (13, 14, 15, 16),
}

#: Usual coronary supply of each segment (Cerqueira 2002).
DEFAULT_TERRITORIES: dict[int, Territory] = {
    **{s: Territory.LAD for s in (1, 2, 7, 8, 13, 14)},
    **{s: Territory.RCA for s in (3, 4, 9, 10, 15)},
    **{s: Territory.LCX for s in (5, 6, 11, 12, 16)},
}

# Sector k (counter-clockwise from the sector start) -> segment offset within the level.
_SIX_SECTOR_ORDER = np.array([2, 3, 4, 5, 6, 1])  # starts at theta_a: anteroseptal first
_FOUR_SECTOR_ORDER = np.array([14, 15, 16, 13])   # starts at theta_a + 15: septal first


def _level(level: SliceLevel | str) -> SliceLevel:
    try:
        return SliceLevel(level)
    except ValueError:
        raise ValueError(f"unknown slice level {level!r}; expected one of "
                         f"{[lv.value for lv in SliceLevel]}") from None


def segments_of_level(level: SliceLevel | str) -> tuple[int, ...]:
    """The AHA segments of a slice level (basal 1-6, mid 7-12, apical 13-16)."""
    return LEVEL_SEGMENTS[_level(level)]


def segment_start_angle(segment: int, theta_a_deg: float) -> float:
    """Counter-clockwise start angle (degrees in ``[0, 360)``) of ``segment``'s sector."""
    if segment not in SEGMENT_NAMES:
        raise ValueError(f"AHA segment must be 1..16, got {segment}")
    if segment >= 13:
        k = int(np.flatnonzero(_FOUR_SECTOR_ORDER == segment)[0])
        return float(np.mod(theta_a_deg + 15.0 + 90.0 * k, 360.0))
    k = int(np.flatnonzero(_SIX_SECTOR_ORDER == (segment - 1) % 6 + 1)[0])
    return float(np.mod(theta_a_deg + 60.0 * k, 360.0))


def segment_width_deg(segment: int) -> float:
    """Angular width of a segment: 60 degrees for basal and mid, 90 for apical."""
    return 90.0 if segment >= 13 else 60.0


def segment_center_angle(segment: int, theta_a_deg: float) -> float:
    """Angle (degrees in ``[0, 360)``) at the middle of ``segment``'s sector."""
    return float(np.mod(segment_start_angle(segment, theta_a_deg) + segment_width_deg(segment) / 2, 360.0))


def segment_of_angle(theta_deg: np.ndarray | float, level: SliceLevel | str,
                     theta_a_deg: float) -> np.ndarray | int:
    """AHA segment of each angle (display convention, degrees) on a slice of ``level``.

    Args:
        theta_deg: angle(s) around the LV centre; any real value (wrapped modulo 360).
        level: ``basal``, ``mid`` or ``apical``.
        theta_a_deg: anterior RV insertion angle.

    Returns:
        An int for a scalar input, else an integer array of the input's shape.
    """
    lv = _level(level)
    theta = np.asarray(theta_deg, float)
    if lv is SliceLevel.APICAL:
        sector = np.floor(np.mod(theta - (theta_a_deg + 15.0), 360.0) / 90.0).astype(int) % 4
        seg = _FOUR_SECTOR_ORDER[sector]
    else:
        sector = np.floor(np.mod(theta - theta_a_deg, 360.0) / 60.0).astype(int) % 6
        seg = _SIX_SECTOR_ORDER[sector] + (6 if lv is SliceLevel.MID else 0)
    return int(seg) if seg.ndim == 0 else seg


def segment_map(labels: np.ndarray, level: SliceLevel | str, theta_a_deg: float, *,
                spacing: tuple[float, float] = (1.0, 1.0),
                center: tuple[float, float] | None = None) -> np.ndarray:
    """Assign every myocardial pixel (healthy myocardium or scar) of a 2D label map to its AHA segment.

    Args:
        labels: 2D label map in the pscgan encoding, display orientation ``[row, col]``.
        level: slice level.
        theta_a_deg: anterior RV insertion angle (display convention).
        spacing: ``(row, col)`` pixel spacing in mm (angles are physical).
        center: LV centre ``(row, col)``; default :func:`~pscgan.geometry.polar.lv_center`.

    Returns:
        ``uint8`` array of the map's shape: the segment number on myocardial pixels, 0 elsewhere.
    """
    labels = np.asarray(labels)
    if center is None:
        center = lv_center(labels)
    theta, _ = polar_coordinates(labels.shape, center, spacing)
    segments = np.asarray(segment_of_angle(theta, level, theta_a_deg), np.uint8)
    return np.where(np.isin(labels, MYOCARDIAL_CLASSES), segments, 0).astype(np.uint8)


def territory_of_segment(segment: int, mapping: Mapping[int, Territory] | None = None) -> Territory:
    """Coronary territory supplying ``segment`` (default :data:`DEFAULT_TERRITORIES`)."""
    mapping = DEFAULT_TERRITORIES if mapping is None else mapping
    if segment not in mapping:
        raise ValueError(f"AHA segment must be 1..16, got {segment}")
    return mapping[segment]


def segments_of_territory(territory: Territory | str, level: SliceLevel | str | None = None,
                          mapping: Mapping[int, Territory] | None = None) -> tuple[int, ...]:
    """Segments supplied by ``territory`` (optionally only those of one slice level)."""
    mapping = DEFAULT_TERRITORIES if mapping is None else mapping
    territory = Territory(territory)
    allowed = set(segments_of_level(level)) if level is not None else set(SEGMENT_NAMES)
    return tuple(s for s in sorted(mapping) if mapping[s] is territory and s in allowed)


def segment_means(angles_deg: np.ndarray, values: np.ndarray, level: SliceLevel | str,
                  theta_a_deg: float) -> dict[int, float]:
    """Mean of per-ray ``values`` (NaN ignored) for each segment of ``level``; NaN for a segment
    with no finite value."""
    segments = np.asarray(segment_of_angle(np.asarray(angles_deg, float), level, theta_a_deg))
    values = np.asarray(values, float)
    out: dict[int, float] = {}
    for seg in segments_of_level(level):
        v = values[(segments == seg) & np.isfinite(values)]
        out[seg] = float(v.mean()) if v.size else float("nan")
    return out
