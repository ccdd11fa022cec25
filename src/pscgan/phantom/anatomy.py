"""End-diastolic anatomy of one short-axis slice, as radial profiles around the LV centre.

The LV is described on ``ANGLE_BINS`` angles (display convention, counter-clockwise from +column, up =
decreasing row) by nested radii: endocardium, scar layers (:mod:`pscgan.phantom.scar`), epicardium; the
RV is a crescent on the epicardium between the two insertion points, then epicardial fat. The long-axis
shape is a truncated ellipsoid (cavity length ``L``, epicardium ``L + apical wall``): the radius at
depth ``z`` below the mitral plane scales as ``sqrt(1 - (z / L)^2)``, which sets the level radii
(basal x1.10, apical x0.55-0.75 of mid) and the through-slice partial volume.

Example:
    >>> from pscgan.phantom.params import sample_subject
    >>> p = sample_subject(1, normal=True)
    >>> geo = slice_anatomy(p, p.slices[1])
    >>> bool(np.all(geo.r_epi > geo.r_endo)), geo.r_endo.shape
    (True, (2048,))
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from pscgan.data.layout import SliceLevel
from pscgan.phantom.params import SliceParams, SubjectParams
from pscgan.phantom.scar import ScarProfile, fourier_series, scar_profile

ANGLE_BINS = 2048
#: Angle of each bin centre (degrees).
ANGLES_DEG = (np.arange(ANGLE_BINS) + 0.5) * 360.0 / ANGLE_BINS
#: Depth fraction of the nominal mid level (where ``r_endo_mid_mm`` is defined).
MID_DEPTH_FRACTION = 0.45
#: Papillary muscle diameter scale per level [E]: absent at the base (chordae), smaller at the apex.
PAPILLARY_LEVEL_SCALE = {SliceLevel.BASAL: 0.0, SliceLevel.MID: 1.0, SliceLevel.APICAL: 0.7}
#: Thinnest scar layer kept (mm) [E]; shallower tails of the angular profile are cut.
MIN_SCAR_DEPTH_MM = 0.5
#: Gap between a papillary muscle and the endocardium (mm) [E].
PAPILLARY_GAP_MM = 0.5


def ellipsoid_profile(depth_mm: np.ndarray | float, length_mm: float) -> np.ndarray:
    """Radius scale ``sqrt(1 - (z / L)^2)`` of a truncated ellipsoid; 1 above the mitral plane."""
    z = np.clip(np.asarray(depth_mm, float) / length_mm, 0.0, None)
    return np.sqrt(np.clip(1.0 - z**2, 0.0, None))


def ellipse_radius(theta_rad: np.ndarray, mean_radius: float, ratio: float, angle_rad: float) -> np.ndarray:
    """Polar radius of an area-preserving ellipse (axes ``R sqrt(ratio)``, ``R / sqrt(ratio)``)."""
    a, b = mean_radius * np.sqrt(ratio), mean_radius / np.sqrt(ratio)
    c, s = np.cos(theta_rad - angle_rad), np.sin(theta_rad - angle_rad)
    return a * b / np.sqrt((b * c) ** 2 + (a * s) ** 2)


def _wrapped(delta_deg: np.ndarray) -> np.ndarray:
    return (delta_deg + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class SliceAnatomy:
    """ED central-plane geometry of one slice (material angles for the LV, spatial for RV and fat)."""

    level: SliceLevel
    depth_mm: float              # slice centre below the mitral plane
    lv_length_mm: float          # cavity ellipsoid length
    epi_length_mm: float         # epicardial ellipsoid length
    r_endo: np.ndarray           # (ANGLE_BINS,) mm
    r_epi: np.ndarray
    scar_radii: dict[str, np.ndarray]  # mvo, core, label, bz outer radii (= r_endo where no scar)
    scar: ScarProfile
    rv_depth: np.ndarray         # radial RV depth beyond the epicardium (spatial angles)
    rv_wall_mm: float
    fat: np.ndarray              # epicardial fat thickness (spatial angles)
    papillary_angles_deg: tuple[float, float]
    papillary_radii_mm: tuple[float, float]


def level_thickness(params: SubjectParams, level: SliceLevel) -> float:
    a = params.anatomy
    extra = {SliceLevel.BASAL: a.basal_extra_thickness_mm, SliceLevel.MID: 0.0,
             SliceLevel.APICAL: -a.apical_thinning_mm}[level]
    return a.wall_thickness_mm + extra


def slice_anatomy(params: SubjectParams, sl: SliceParams) -> SliceAnatomy:
    """ED geometry of slice ``sl``."""
    a = params.anatomy
    theta = np.deg2rad(ANGLES_DEG)
    length = a.lv_length_mm
    depth = sl.depth_fraction * length
    epi_length = length + max(level_thickness(params, SliceLevel.APICAL), 2.0)
    radius = a.r_endo_mid_mm * a.remodelling * float(
        ellipsoid_profile(depth, length) / ellipsoid_profile(MID_DEPTH_FRACTION * length, length))
    r_endo = ellipse_radius(theta, radius, a.ellipticity, np.deg2rad(a.ellipse_angle_deg))
    r_endo = r_endo + fourier_series(theta, a.endo_fourier)

    scar = scar_profile(params, sl, ANGLES_DEG)
    thickness = level_thickness(params, sl.level) * (1.0 + fourier_series(theta, a.thickness_fourier))
    thickness = thickness * (1.0 - 0.5 * scar.thinning)
    # Scar thinner than MIN_SCAR_DEPTH_MM (the raised-cosine tails) does not exist: no tissue layer that thin.
    keep = scar.tei * thickness >= MIN_SCAR_DEPTH_MM
    scar = replace(scar, tei=np.where(keep, scar.tei, 0.0), mvo=np.where(keep, scar.mvo, 0.0))
    r_epi = r_endo + thickness

    depth_scar = scar.tei * thickness
    half_bz = 0.5 * scar.border_zone_mm
    scar_radii = {
        "mvo": r_endo + scar.mvo * thickness,
        "core": r_endo + np.maximum(depth_scar - half_bz, 0.0),
        "label": r_endo + depth_scar,
        "bz": np.minimum(r_endo + depth_scar + np.minimum(half_bz, depth_scar), r_epi),
    }
    scar_radii["mvo"] = np.minimum(scar_radii["mvo"], scar_radii["core"])

    level_scale = {SliceLevel.BASAL: a.rv_level_scale[0], SliceLevel.MID: 1.0,
                   SliceLevel.APICAL: a.rv_level_scale[1]}[sl.level]
    u = np.mod(ANGLES_DEG - a.theta_a_deg, 360.0) / a.septal_span_deg
    inside = u < 1.0
    crescent = np.sin(np.pi * np.clip(u, 0, 1)) ** a.rv_shape_exponent
    rv_depth = np.where(inside, a.rv_depth_mm * level_scale * crescent, 0.0)
    # Fat: thin over the LV and the RV free wall, thicker in the anterior and inferior grooves.
    in_rv = np.clip(np.sin(np.pi * np.clip(u, 0, 1)) * 4.0, 0.0, 1.0) * inside
    fat = a.fat_mm * (1.0 - in_rv) + a.fat_rv_mm * in_rv
    for amp, center in zip(a.fat_groove_mm, (a.theta_a_deg, a.theta_a_deg + a.septal_span_deg)):
        fat = fat + amp * np.exp(-0.5 * (_wrapped(ANGLES_DEG - center) / a.fat_groove_width_deg) ** 2)

    pm_scale = PAPILLARY_LEVEL_SCALE[sl.level]
    return SliceAnatomy(level=sl.level, depth_mm=depth, lv_length_mm=length, epi_length_mm=epi_length,
                        r_endo=r_endo, r_epi=r_epi, scar_radii=scar_radii, scar=scar, rv_depth=rv_depth,
                        rv_wall_mm=a.rv_wall_mm, fat=fat, papillary_angles_deg=a.papillary_angles_deg,
                        papillary_radii_mm=(0.5 * a.papillary_diameters_mm[0] * pm_scale,
                                            0.5 * a.papillary_diameters_mm[1] * pm_scale))
