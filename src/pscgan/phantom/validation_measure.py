"""Per-slice measurements of a dataset in the canonical layout, taken from the images and label maps.

Everything here is measured from the written files (cine, LGE, labels, per-phase cine labels), the way a
user would measure real data; the phantom's recorded ground truth (``subject.json`` ``phantom.truth``)
is only read beside it for the consistency checks. Intensity ratios use medians over tissue *interiors*
(pixels whose eight neighbours all belong to the same tissue group: blood pool, or the myocardial wall of
healthy myocardium and scar) so that partial volume with a neighbouring tissue and Gibbs ringing at the
boundaries do not dilute them; slices with fewer than :data:`MIN_PIXELS` interior pixels of a tissue give
no value for that tissue. Cine ratios are corrected for receive-coil shading first: a plane fitted to the
healthy-myocardium interior (least squares in row and column) is divided out, so that a scar on the
anterior wall is compared with myocardium as bright as it would be there, not with a darker posterior wall.
The LGE is not corrected (its nulled myocardium carries no shading information).

Example:
    >>> import numpy as np
    >>> labels = np.zeros((9, 9), np.uint8); labels[2:7, 2:7] = 1
    >>> int(interior(labels == 1).sum())
    9
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from pscgan.data.layout import Subject
from pscgan.geometry.polar import LV_CLASSES, MYOCARDIAL_CLASSES, display_spacing, lv_center
from pscgan.geometry.thickness import wall_rays
from pscgan.geometry.thickness import segment_thickening, segment_wall_thickness
from pscgan.geometry.transmurality import scar_positive_segments, segment_scar
from pscgan.labels import Tissue

#: Fewest interior pixels of a tissue for an intensity measurement on a slice.
MIN_PIXELS = 5


@dataclass
class SliceMeasurement:
    """What was measured on one slice (``None``: not measurable on this slice or no truth recorded).

    Areas are in mm^2, thicknesses in mm, fractions and ratios are unitless.
    """

    subject_id: str
    slice_index: int
    level: str
    normal: bool | None
    # geometry at ED, from the per-phase cine labels (LGE-grid labels without them)
    r_endo_mm: float | None = None
    wall_thickness_mm: float | None = None
    touches_border: bool = False
    center_rc: tuple[float, float] | None = None
    # function, from the per-phase cine labels
    blood_area_ed_mm2: float | None = None
    blood_area_es_mm2: float | None = None
    es_phase: int | None = None
    fac: float | None = None
    thickness_ed_mm: dict[int, float] = field(default_factory=dict)
    thickness_es_mm: dict[int, float] = field(default_factory=dict)
    thickening: dict[int, float] = field(default_factory=dict)
    # contrast
    cine_blood_myo: float | None = None
    cine_scar_rel_contrast: float | None = None
    lge_scar_myo: float | None = None
    lge_scar_blood: float | None = None
    lge_blood_myo: float | None = None
    # scar, from the LGE-grid label map
    scar_area_mm2: float = 0.0
    myocardium_area_mm2: float = 0.0
    transmurality: dict[int, float] = field(default_factory=dict)
    scar_fraction: dict[int, float] = field(default_factory=dict)
    scar_segments: list[int] = field(default_factory=list)
    # recorded parameters and truth
    truth: dict[str, Any] = field(default_factory=dict)
    ef_param: float | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (NaN -> None, segment keys as strings)."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if key == "truth":
                continue
            if isinstance(value, dict):
                out[key] = {str(k): _finite(v) for k, v in value.items()}
            else:
                out[key] = _finite(value) if isinstance(value, float) else value
        return out


def _finite(v: Any) -> Any:
    return None if isinstance(v, float) and not np.isfinite(v) else v


def interior(mask: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
    """Pixels of ``mask`` whose 8 neighbours all lie in ``group`` (default ``mask`` itself)."""
    group = mask if group is None else group
    return mask & ndimage.binary_erosion(group, structure=np.ones((3, 3), bool), border_value=0)


def _median(image: np.ndarray, mask: np.ndarray) -> float | None:
    return float(np.median(image[mask])) if mask.sum() >= MIN_PIXELS else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b is not None and b > 0 else None


def shading_plane(image: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """Least-squares plane ``a + b row + c col`` through the intensities of ``mask`` (None: too few)."""
    rows, cols = np.nonzero(mask)
    if rows.size < 3 * MIN_PIXELS:
        return None
    design = np.column_stack([np.ones(rows.size), rows, cols])
    coef, *_ = np.linalg.lstsq(design, image[mask].astype(np.float64), rcond=None)
    grid_r, grid_c = np.indices(image.shape)
    return coef[0] + coef[1] * grid_r + coef[2] * grid_c


def shading_corrected(image: np.ndarray, labels: np.ndarray) -> np.ndarray | None:
    """``image`` divided by the plane through its healthy-myocardium interior (None when not possible)."""
    myo = interior(labels == Tissue.MYOCARDIUM, np.isin(labels, MYOCARDIAL_CLASSES))
    plane = shading_plane(image, myo)
    if plane is None or np.any(plane[np.isin(labels, LV_CLASSES)] <= 0):
        return None
    return image / plane


def tissue_medians(image: np.ndarray, labels: np.ndarray) -> dict[str, float | None]:
    """Median intensity of the interiors of blood pool, healthy myocardium and scar on one slice."""
    wall = np.isin(labels, MYOCARDIAL_CLASSES)
    blood = labels == Tissue.BLOOD_POOL
    return {"blood": _median(image, interior(blood)),
            "myocardium": _median(image, interior(labels == Tissue.MYOCARDIUM, wall)),
            "scar": _median(image, interior(labels == Tissue.SCAR, wall))}


def _truth_slices(subject: Subject) -> list[dict[str, Any]]:
    """Per-slice truth, each with the subject-level noise-free tissue signals (``cine_signal``,
    ``lge_signal``) when recorded."""
    truth = (subject.info.phantom or {}).get("truth") or {}
    slices = truth.get("slices") or []
    if len(slices) != len(subject.info.slices):
        return [{} for _ in subject.info.slices]
    shared = {k: truth[k] for k in ("cine_signal", "lge_signal") if isinstance(truth.get(k), dict)}
    return [{**shared, **sl} for sl in slices]


def _ef_param(subject: Subject) -> float | None:
    params = (subject.info.phantom or {}).get("params") or {}
    for key in ("ef", "ejection_fraction"):
        if isinstance(params.get(key), (int, float)):
            return float(params[key])
    return None


def _function(m: SliceMeasurement, phases: np.ndarray, ed: int, level: str, theta_a: float | None,
              spacing: tuple[float, float]) -> None:
    """Area change and segmental thickening from the per-phase labels ``phases`` (time, row, col)."""
    pixel_area = spacing[0] * spacing[1]
    areas = (phases == Tissue.BLOOD_POOL).reshape(len(phases), -1).sum(1) * pixel_area
    es = int(np.argmin(areas))
    m.blood_area_ed_mm2, m.blood_area_es_mm2, m.es_phase = float(areas[ed]), float(areas[es]), es
    m.fac = float(1.0 - areas[es] / areas[ed]) if areas[ed] > 0 else None
    walls = [np.isin(phases[t], MYOCARDIAL_CLASSES) for t in (ed, es)]
    if theta_a is None or not all(w.any() for w in walls):
        return
    thickness = [segment_wall_thickness(w, level, theta_a, spacing=spacing, center=lv_center(phases[t]))
                 for w, t in zip(walls, (ed, es))]
    m.thickness_ed_mm, m.thickness_es_mm = thickness
    m.thickening = segment_thickening(*thickness)


def _geometry(m: SliceMeasurement, labels: np.ndarray, spacing: tuple[float, float]) -> None:
    """ED cavity radius (of the area-equivalent circle), mean wall thickness, LV centre, and whether the LV
    reaches the image border (then the crop cuts the heart)."""
    lv = np.isin(labels, LV_CLASSES)
    if not lv.any():
        return
    m.touches_border = bool(lv[0].any() or lv[-1].any() or lv[:, 0].any() or lv[:, -1].any())
    m.center_rc = lv_center(labels)
    m.r_endo_mm = float(np.sqrt(np.sum(labels == Tissue.BLOOD_POOL) * spacing[0] * spacing[1] / np.pi))
    wall = np.isin(labels, MYOCARDIAL_CLASSES)
    if wall.any():
        thickness = wall_rays(wall, spacing=spacing, center=m.center_rc).thickness_mm
        m.wall_thickness_mm = float(np.nanmean(thickness)) if np.isfinite(thickness).any() else None


def measure_subject(subject: Subject) -> list[SliceMeasurement]:
    """Measure every slice of a loaded subject (needs ``lge`` and ``labels``; ``cine_labels`` for function).

    Per slice: blood-pool fractional area change (ED vs the phase of smallest blood pool) and segmental
    wall thickening from the per-phase cine labels; cine blood/myocardium and scar/myocardium contrast on
    the ED frame with the ED labels; LGE scar/myocardium/blood ratios with the LGE-grid labels; scar and
    myocardial area, transmurality and scar fraction per AHA segment from the LGE-grid labels.
    """
    info = subject.info
    if subject.labels is None or subject.lge is None:
        raise ValueError(f"{info.subject_id}: a phantom subject has labels and an LGE")
    spacing = display_spacing(info.pixel_spacing_mm)
    pixel_area = spacing[0] * spacing[1]
    ed = info.ed_phase
    truths = _truth_slices(subject)
    out = []
    for k, slice_info in enumerate(info.slices):
        level, theta_a = slice_info.level.value, slice_info.rv_insertion_angle_deg
        m = SliceMeasurement(subject.info.subject_id, k, level, info.normal, truth=truths[k],
                             ef_param=_ef_param(subject))
        labels = subject.labels.array[:, :, k].T
        cine_ed = subject.cine.array[:, :, k, ed].T
        if subject.cine_labels is not None:
            phases = np.moveaxis(subject.cine_labels.array[:, :, k, :], -1, 0).transpose(0, 2, 1)
            _function(m, phases, ed, level, theta_a, spacing)
            ed_labels = phases[ed]
        else:
            ed_labels = labels
        _geometry(m, ed_labels, spacing)
        corrected = shading_corrected(cine_ed, ed_labels)
        cine = tissue_medians(corrected if corrected is not None else cine_ed, ed_labels)
        m.cine_blood_myo = _ratio(cine["blood"], cine["myocardium"])
        scar_myo = _ratio(cine["scar"], cine["myocardium"])
        m.cine_scar_rel_contrast = scar_myo - 1.0 if scar_myo is not None else None
        lge = tissue_medians(subject.lge.array[:, :, k].T, labels)
        m.lge_scar_myo = _ratio(lge["scar"], lge["myocardium"])
        m.lge_scar_blood = _ratio(lge["scar"], lge["blood"])
        m.lge_blood_myo = _ratio(lge["blood"], lge["myocardium"])
        m.scar_area_mm2 = float(np.sum(labels == Tissue.SCAR) * pixel_area)
        m.myocardium_area_mm2 = float(np.sum(np.isin(labels, MYOCARDIAL_CLASSES)) * pixel_area)
        if theta_a is not None and m.myocardium_area_mm2 > 0:
            segs = segment_scar(labels, level, theta_a, spacing=spacing)
            m.transmurality = {s: v.transmurality for s, v in segs.items()}
            m.scar_fraction = {s: v.scar_fraction for s, v in segs.items()}
            m.scar_segments = scar_positive_segments(segs)
        out.append(m)
    return out
