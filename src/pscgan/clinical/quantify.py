"""Clinical quantification of a label volume: per slice and per subject.

For every slice: scar, myocardium and blood-pool areas, scar ratio, and per AHA segment the scar
fraction, transmurality (along radial rays, :mod:`pscgan.geometry.transmurality`) and scar presence.
For the subject: scar and myocardial volumes, scar ratio, and the 16-segment table, where a segment
seen on several slices of its level combines them weighted by myocardial area.

A slice whose scar is not assessed -- flagged by the per-slice quality check
(:mod:`pscgan.clinical.quality`), or of labels that do not tell scar from healthy myocardium
(``scar_annotated=False``) -- has no scar quantities and no AHA segments, and stays out of the
subject's scar volume, scar ratio and 16-segment table (:mod:`pscgan.clinical.quantities`).

Example:
    >>> import numpy as np
    >>> rows, cols = np.indices((48, 48)); r = np.hypot(rows - 24, cols - 24)
    >>> sl = np.where(r < 9, 1, np.where(r < 14, 2, 0)).astype(np.uint8)
    >>> sl[(r >= 9) & (r < 14) & (cols > 24)] = 3      # scar right of the centre column: 175 of 360 px
    >>> vol = np.stack([sl.T] * 3, axis=-1)               # (x, y, slice)
    >>> q = quantify_labels(vol, spacing=(1.5, 1.5, 8.0), levels=["basal", "mid", "apical"])
    >>> round(q.subject.scar_ratio, 2), q.segments[12].scar_present, q.segments[9].scar_present
    (0.49, True, False)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from pscgan.clinical.levels import DEFAULT_RV_INSERTION_DEG, infer_levels
from pscgan.clinical.quality import SliceQuality
from pscgan.clinical.quantities import SliceQuantities, StackQuantities, slice_quantities, stack_quantities
from pscgan.data.layout import SliceLevel
from pscgan.geometry.aha import SEGMENT_NAMES, territory_of_segment
from pscgan.geometry.polar import display_spacing
from pscgan.geometry.transmurality import DEFAULT_SCAR_FRACTION_THRESHOLD, segment_scar


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


@dataclass(frozen=True)
class SegmentResult:
    """One AHA segment (of a slice, or of the subject)."""

    segment: int
    name: str
    territory: str
    scar_fraction: float | None
    transmurality: float | None
    scar_present: bool
    scar_area_mm2: float
    myocardium_area_mm2: float


@dataclass(frozen=True)
class SliceResult:
    index: int
    level: str | None
    level_source: str            # "metadata" | "inferred"
    rv_insertion_angle_deg: float
    rv_angle_source: str         # "metadata" | "assumed"
    quantities: SliceQuantities
    segments: list[SegmentResult]
    quality: SliceQuality | None = None  # the per-slice quality check (None: not checked)

    @property
    def not_assessed_reason(self) -> str | None:
        """Why the slice's scar is not assessed (None when it is)."""
        if self.quality is not None and not self.quality.assessed:
            return self.quality.reason
        return "scar not annotated" if self.quantities.scar_area_cm2 is None else None


@dataclass(frozen=True)
class Quantification:
    """Everything measured on a label volume."""

    subject: StackQuantities
    slices: list[SliceResult]
    segments: dict[int, SegmentResult]
    spacing_mm: tuple[float, float, float]
    scar_fraction_threshold: float
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["segments"] = {str(k): v for k, v in d["segments"].items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Quantification:
        """Rebuild from :meth:`as_dict` output (e.g. a prediction's clinical.json); extra keys are ignored."""
        slices = [
            SliceResult(
                index=s["index"],
                level=s["level"],
                level_source=s["level_source"],
                rv_insertion_angle_deg=s["rv_insertion_angle_deg"],
                rv_angle_source=s["rv_angle_source"],
                quantities=SliceQuantities(**s["quantities"]),
                segments=[SegmentResult(**g) for g in s["segments"]],
                quality=SliceQuality.from_dict(s["quality"]) if s.get("quality") else None,
            )
            for s in d["slices"]
        ]
        return cls(subject=StackQuantities(**d["subject"]), slices=slices,
                   segments={int(k): SegmentResult(**v) for k, v in d["segments"].items()},
                   spacing_mm=tuple(d["spacing_mm"]), scar_fraction_threshold=d["scar_fraction_threshold"],
                   notes=list(d.get("notes", [])))


def quantify_labels(labels: np.ndarray, spacing: Sequence[float], *,
                    levels: Sequence[SliceLevel | str | None] | None = None,
                    rv_angles_deg: Sequence[float | None] | None = None,
                    slice_thickness_mm: float | None = None,
                    threshold: float = DEFAULT_SCAR_FRACTION_THRESHOLD,
                    quality: Sequence[SliceQuality | None] | None = None,
                    scar_annotated: bool = True) -> Quantification:
    """Quantify an ``(x, y, slice)`` label volume in the pscgan encoding.

    Args:
        labels: the label volume.
        spacing: ``(x, y, slice)`` voxel size in mm (the slice entry is used as thickness by default).
        levels: per-slice level; missing entries are inferred (:func:`~pscgan.clinical.levels.infer_levels`).
        rv_angles_deg: per-slice anterior RV insertion angle; missing entries assume
            :data:`~pscgan.clinical.levels.DEFAULT_RV_INSERTION_DEG`.
        slice_thickness_mm: slab thickness for volumes (default ``spacing[2]``).
        threshold: segment scar fraction above which a segment is scar-positive.
        quality: per-slice quality check; a slice it does not assess gets no scar quantities.
        scar_annotated: False for labels whose label 2 is the whole myocardium (no scar class): no
            slice's scar is assessed.
    """
    lab = np.asarray(labels)
    if lab.ndim == 2:
        lab = lab[:, :, None]
    if lab.ndim != 3:
        raise ValueError(f"expected an (x, y, slice) label volume, got shape {lab.shape}")
    n = lab.shape[2]
    notes: list[str] = []
    inferred = infer_levels(lab)
    given = list(levels) if levels is not None else [None] * n
    angles = list(rv_angles_deg) if rv_angles_deg is not None else [None] * n
    checks = list(quality) if quality is not None else [None] * n
    if len(given) != n or len(angles) != n or len(checks) != n:
        raise ValueError(f"{n} slices but {len(given)} levels, {len(angles)} RV angles and {len(checks)} "
                         "quality checks given")
    spacing_rc = display_spacing(spacing[:2])
    thickness = float(slice_thickness_mm if slice_thickness_mm is not None else spacing[2])
    slices: list[SliceResult] = []
    for k in range(n):
        disp = lab[:, :, k].T
        check = checks[k]
        assessed = scar_annotated and (check is None or check.assessed)
        q = slice_quantities(disp, spacing_rc, scar_assessed=assessed)
        level = SliceLevel(given[k]) if given[k] is not None else inferred[k]
        level_source = "metadata" if given[k] is not None else "inferred"
        given_angle = angles[k]
        angle = given_angle if given_angle is not None else DEFAULT_RV_INSERTION_DEG
        angle_source = "metadata" if given_angle is not None else "assumed"
        segs: list[SegmentResult] = []
        if assessed and level is not None and q.myocardium_area_cm2 > 0:
            for s in segment_scar(disp, level, angle, spacing=spacing_rc).values():
                frac = _finite(s.scar_fraction)
                segs.append(
                    SegmentResult(
                        segment=s.segment,
                        name=SEGMENT_NAMES[s.segment],
                        territory=territory_of_segment(s.segment).value,
                        scar_fraction=frac,
                        transmurality=_finite(s.transmurality),
                        scar_present=frac is not None and frac > threshold,
                        scar_area_mm2=float(s.scar_area_mm2),
                        myocardium_area_mm2=float(s.myocardium_area_mm2),
                    )
                )
        slices.append(SliceResult(k, level.value if level else None, level_source, float(angle), angle_source,
                                  q, segs, checks[k]))
    if any(s.rv_angle_source == "assumed" and s.segments for s in slices):
        notes.append(
            f"RV insertion angle not given: {DEFAULT_RV_INSERTION_DEG:g} deg assumed, so AHA segment "
            "numbers may be rotated by up to one segment"
        )
    if any(s.level_source == "inferred" and s.segments for s in slices):
        notes.append(
            "slice levels inferred from the stack (thirds of the myocardial slices, base = larger cavity)"
        )
    if not scar_annotated:
        notes.append("the labels do not tell scar from healthy myocardium: scar quantities are not defined")
    flagged = [s for s in slices if s.quality is not None and not s.quality.assessed]
    if flagged:
        notes.append(f"{len(flagged)} of {n} slices not assessed by the quality check (their scar is left "
                     "out of the subject's scar volume, scar ratio and AHA segments; each slice's quality "
                     "says why): " + ", ".join(f"slice {s.index + 1}" for s in flagged))
    subject = stack_quantities([s.quantities for s in slices], thickness)
    return Quantification(subject=subject, slices=slices, segments=_combine_segments(slices, threshold),
                          spacing_mm=(float(spacing[0]), float(spacing[1]), float(spacing[2])),
                          scar_fraction_threshold=threshold,
                          notes=notes)


def _combine_segments(slices: list[SliceResult], threshold: float) -> dict[int, SegmentResult]:
    by_seg: dict[int, list[SegmentResult]] = {}
    for s in slices:
        for part in s.segments:
            by_seg.setdefault(part.segment, []).append(part)
    out: dict[int, SegmentResult] = {}
    for seg, parts in sorted(by_seg.items()):
        myo = sum(p.myocardium_area_mm2 for p in parts)
        scar = sum(p.scar_area_mm2 for p in parts)
        tw = [(p.transmurality, p.myocardium_area_mm2) for p in parts if p.transmurality is not None]
        trans = (
            (sum(t * w for t, w in tw) / sum(w for _, w in tw)) if tw and sum(w for _, w in tw) > 0 else None
        )
        frac = scar / myo if myo > 0 else None
        out[seg] = SegmentResult(seg, parts[0].name, parts[0].territory, frac, trans,
                                 frac is not None and frac > threshold, scar, myo)
    return out
