"""Per-slice ground truth recorded in ``subject.json`` (``phantom.truth.slices``).

Areas come from the fine-grid area fractions block-averaged to the written grid at ED (the same
fractions the labels are the argmax of), so they are the exact areas of the rendered, through-slice
averaged object. Transmurality and wall thickness come from the central-plane geometry, per AHA segment
(display angles, ``theta_a`` at ED): transmurality is the mean over rays of scar depth / wall thickness,
wall thickness the mean over rays of epicardial minus endocardial radius.

Example:
    >>> import numpy as np
    >>> fractions = np.zeros((3, 25, 4, 4)); fractions[0, 0, 1:3, 1:3] = 1.0
    >>> areas_mm2(fractions, 1.5, es=12)["blood_pool_area_mm2_ed"]
    9.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pscgan.geometry.aha import segment_means
from pscgan.phantom.anatomy import ANGLES_DEG, SliceAnatomy
from pscgan.phantom.motion import FrameBoundaries
from pscgan.phantom.params import SubjectParams


def areas_mm2(fractions: np.ndarray, spacing_mm: float, es: int) -> dict[str, float]:
    """Areas from label channels ``(cavity, scar, LV outline) x phases x rows x cols``."""
    px = spacing_mm**2
    cavity, scar, outline = fractions[0], fractions[1], fractions[2]
    return {"scar_area_mm2": float(scar[0].sum() * px),
            "myocardium_area_mm2": float((outline[0] - cavity[0]).sum() * px),
            "blood_pool_area_mm2_ed": float(cavity[0].sum() * px),
            "blood_pool_area_mm2_es": float(cavity[es].sum() * px)}


def _by_segment(values: np.ndarray, level: str, theta_a: float, digits: int = 4) -> dict[str, float]:
    return {str(s): round(v, digits) for s, v in segment_means(ANGLES_DEG, values, level, theta_a).items()}


def slice_truth(params: SubjectParams, anatomy: SliceAnatomy, fb: FrameBoundaries, fractions: np.ndarray,
                spacing_mm: float, es: int, lv_center_rc: tuple[float, float]) -> dict[str, Any]:
    """Ground truth of one slice (keys relied on by the phantom validation)."""
    level, theta_a = anatomy.level.value, params.anatomy.theta_a_deg
    tei = np.clip(anatomy.scar.tei, 0.0, 1.0)
    transmurality = _by_segment(tei, level, theta_a)

    def thickness(frame: int) -> dict[str, float]:
        endo = fb.radii["endo"][frame] * fb.center_scale[frame, 0]
        epi = fb.radii["epi"][frame] * fb.center_scale[frame, 1]
        return _by_segment(epi - endo, level, theta_a, digits=3)

    truth: dict[str, Any] = {"level": level}
    truth.update(areas_mm2(fractions, spacing_mm, es))
    truth.update({
        "es_phase": es,
        "ef": params.ef,
        "transmurality_by_segment": transmurality,
        "scar_segments": sorted(int(s) for s, v in transmurality.items() if v > 0),
        "territory": sorted({t.value for t in anatomy.scar.territories}),
        "cine_scar_contrast": params.contrast.cine_scar_contrast,
        "wall_thickness_mm_ed": thickness(0),
        "wall_thickness_mm_es": thickness(es),
        "lv_center_rc": [round(float(lv_center_rc[0]), 3), round(float(lv_center_rc[1]), 3)],
        "max_transmurality": round(float(tei.max()), 4),
    })
    return truth
