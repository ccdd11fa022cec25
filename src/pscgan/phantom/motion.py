"""Cardiac cycle and per-frame geometry: the boundaries of every layer at every cine phase and for the LGE.

Volume curve (spec section 2), normalised ``v = (V - ESV) / SV``: ejection ``v = 1 - (1 - cos(pi u^0.8)) / 2``
with ``u = t / t_ES``; isovolumic relaxation (``v = 0``); rapid filling adding ``f_E``; diastasis adding a
small gain; atrial kick back to 1 at the next R wave. When the diastolic phases do not fit into the RR
interval (fast heart rates) they are compressed proportionally and the diastasis vanishes (E/A fusion).
Contraction is ``p = 1 - v``.

Regional motion: ``R_endo = R_ED (1 - a(theta) c p(t - delay(theta)))`` with ``c = 1 - sqrt((1 - EF) /
(1 - GLS))`` (so that a normal slice's area shrinks by ``(1 - EF) / (1 - GLS)``), and every intramural
radius (scar layers, epicardium) by sector-area conservation
``R^2 = R_endo^2 + (1 + GLS a p) (R_ED^2 - R_endo,ED^2)``. The LV rotates rigidly by ``phi_ES p(t)``; the
RV crescent sits on the moving epicardium and shortens radially; the slice plane sees more basal
material as the base descends (``dz = descent x level factor x p``), which the through-slice partial
volume of :mod:`pscgan.phantom.raster` takes into account. The LGE "frame" is the ED shape contracted to
the sampled radius ratio (0.95-1.0, standing in for the mid-diastolic trigger), rotated, shifted and
moved through-plane by the cine-LGE misregistration.

Example:
    >>> from pscgan.phantom.params import sample_subject
    >>> p = sample_subject(2, normal=True)
    >>> t, v = volume_curve(p)
    >>> float(v[0]), float(v.min())
    (1.0, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pscgan.data.layout import SliceLevel
from pscgan.phantom.anatomy import ANGLE_BINS, SliceAnatomy, ellipsoid_profile
from pscgan.phantom.params import SliceParams, SubjectParams
from pscgan.phantom.scar import regional_motion

N_PHASES = 25
#: Sub-slices averaged across the slice thickness (spec: 5-7).
N_SUBSLICES = 7
DESCENT_LEVEL_FACTOR = {SliceLevel.BASAL: 1.0, SliceLevel.MID: 0.5, SliceLevel.APICAL: 0.1}
ROTATION_INDEX = {SliceLevel.BASAL: 0, SliceLevel.MID: 1, SliceLevel.APICAL: 2}
LV_KINDS = ("endo", "mvo", "core", "label", "bz", "epi")
_TABLE = 4096


def es_time_ms(params: SubjectParams) -> float:
    return params.motion.t_es_factor * np.sqrt(params.rr_ms / 1000.0) * 1000.0


def es_phase(params: SubjectParams) -> int:
    """Cine phase closest to end-systole."""
    return int(round(es_time_ms(params) / params.rr_ms * N_PHASES)) % N_PHASES


def volume_curve(params: SubjectParams, n: int = _TABLE) -> tuple[np.ndarray, np.ndarray]:
    """Normalised volume ``v`` on ``n`` times over one RR interval (ms)."""
    m = params.motion
    rr = params.rr_ms
    t = np.arange(n) * rr / n
    t_es = es_time_ms(params)
    ivr, fill, kick = m.isovolumic_relaxation_ms, m.rapid_filling_ms, m.atrial_kick_ms
    diastole = rr - t_es
    diastasis = diastole - ivr - fill - kick
    gain = m.diastasis_gain
    if diastasis < 0.0:
        scale = diastole / (ivr + fill + kick)
        ivr, fill, kick, diastasis, gain = ivr * scale, fill * scale, kick * scale, 0.0, 0.0
    f_e = m.filling_fraction
    gain = min(gain, 1.0 - f_e)
    v = np.empty(n)
    u = np.clip(t / t_es, 0.0, 1.0)
    ejection = 1.0 - (1.0 - np.cos(np.pi * u**0.8)) / 2.0
    s_fill = np.clip((t - t_es - ivr) / fill, 0.0, 1.0)
    s_dia = np.clip((t - t_es - ivr - fill) / diastasis, 0.0, 1.0) if diastasis > 0 else np.zeros(n)
    s_kick = np.clip((t - (rr - kick)) / kick, 0.0, 1.0)
    diastolic = (f_e * (1 - np.cos(np.pi * s_fill)) / 2 + gain * s_dia
                 + (1 - f_e - gain) * (1 - np.cos(np.pi * s_kick)) / 2)
    v = np.where(t <= t_es, ejection, diastolic)
    return t, v


def contraction(params: SubjectParams, t_ms: np.ndarray) -> np.ndarray:
    """``p = 1 - v`` at (periodic) times ``t_ms``."""
    t, v = volume_curve(params)
    rr = params.rr_ms
    return 1.0 - np.interp(np.mod(t_ms, rr), np.append(t, rr), np.append(v, v[0]))


@dataclass
class FrameBoundaries:
    """Boundaries of one slice for ``N_PHASES`` cine frames followed by one LGE frame.

    ``radii`` maps a layer boundary (``endo``, ``mvo``, ``core``, ``label``, ``bz``, ``epi``, ``rvc``, ``rv``,
    ``fat``) to a ``(frames, ANGLE_BINS)`` array of central-plane radii (mm) on spatial angles.
    ``endo_scales`` / ``epi_scales`` ``(frames, N_SUBSLICES)`` are the radius scales of the sub-slices
    relative to the central plane at ED (truncated ellipsoid, through-plane motion included).
    """

    radii: dict[str, np.ndarray]
    endo_scales: np.ndarray
    epi_scales: np.ndarray
    center_scale: np.ndarray        # (frames, 2): endo and epi scale of the central plane
    translation_mm: np.ndarray      # (frames, 2): (col, up) rigid shift of the whole image
    lv_rotation_bins: np.ndarray    # (frames,) rotation of the LV in angle bins
    contraction: np.ndarray         # (frames,) global p


def _subslice_scales(depth: float, length: float, thickness: float,
                     dz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    offsets = ((np.arange(N_SUBSLICES) + 0.5) / N_SUBSLICES - 0.5) * thickness
    ref = ellipsoid_profile(depth, length)
    scales = ellipsoid_profile(depth + offsets[None, :] - dz[:, None], length) / ref
    centre = ellipsoid_profile(depth - dz, length) / ref
    return scales, centre


def frame_boundaries(params: SubjectParams, sl: SliceParams, anatomy: SliceAnatomy) -> FrameBoundaries:
    """Per-frame boundaries of slice ``sl`` (25 cine phases, then the LGE)."""
    m, acq = params.motion, params.acquisition
    rr = params.rr_ms
    t_k = np.arange(N_PHASES) * rr / N_PHASES
    a, delay = regional_motion(params, anatomy.scar)
    shortening = 1.0 - np.sqrt((1.0 - params.ef) / (1.0 - params.gls))
    p_global = contraction(params, t_k)
    p_regional = contraction(params, t_k[:, None] - delay[None, :])
    p_lge = float(np.clip((1.0 - acq.lge_radius_scale) / shortening, 0.0, 1.0))
    p = np.vstack([p_regional, np.full((1, ANGLE_BINS), p_lge)])
    p_frame = np.append(p_global, p_lge)

    r0 = anatomy.r_endo
    r_endo = r0[None, :] * (1.0 - a[None, :] * shortening * p)
    growth = 1.0 + params.gls * a[None, :] * p
    material = {"endo": r_endo}
    for kind, r_ed in (*anatomy.scar_radii.items(), ("epi", anatomy.r_epi)):
        material[kind] = np.sqrt(r_endo**2 + growth * (r_ed**2 - r0**2)[None, :])

    phi = np.append(m.rotation_deg[ROTATION_INDEX[sl.level]] * p_global, acq.misregistration_deg)
    lv_bins = np.rint(phi / 360.0 * ANGLE_BINS).astype(int)
    rv_bins = np.append(np.zeros(N_PHASES, int), lv_bins[-1])
    frames = range(N_PHASES + 1)
    radii = {k: np.stack([np.roll(v[f], lv_bins[f]) for f in frames]) for k, v in material.items()}
    depth_rv = anatomy.rv_depth[None, :] * (1.0 - m.rv_shortening * p_frame[:, None])
    depth_rv = np.stack([np.roll(depth_rv[f], rv_bins[f]) for f in range(N_PHASES + 1)])
    fat = np.stack([np.roll(anatomy.fat, b) for b in rv_bins])
    epi = radii["epi"]
    radii["rvc"] = epi + np.maximum(depth_rv - anatomy.rv_wall_mm, 0.0)
    radii["rv"] = epi + depth_rv
    radii["fat"] = radii["rv"] + fat
    order = ("endo", "mvo", "core", "label", "bz", "epi", "rvc", "rv", "fat")
    for inner, outer in zip(order[:-1], order[1:]):  # nested layers, whatever rounding did
        radii[outer] = np.maximum(radii[outer], radii[inner])
    radii = {k: v.astype(np.float32) for k, v in radii.items()}

    dz = np.append(m.basal_descent_mm * DESCENT_LEVEL_FACTOR[sl.level] * p_global,
                   -acq.misregistration_through_mm)
    endo_s, endo_c, epi_s, epi_c = [], [], [], []
    for f in range(N_PHASES + 1):
        thick = acq.cine_slice_mm if f < N_PHASES else acq.lge_slice_mm
        s, c = _subslice_scales(anatomy.depth_mm, anatomy.lv_length_mm, thick, dz[f:f + 1])
        endo_s.append(s[0])
        endo_c.append(c[0])
        s, c = _subslice_scales(anatomy.depth_mm, anatomy.epi_length_mm, thick, dz[f:f + 1])
        epi_s.append(s[0])
        epi_c.append(c[0])
    angle = np.deg2rad(m.translation_angle_deg)
    direction = np.array([[np.cos(angle), np.sin(angle)]])
    translation = np.vstack([m.translation_mm * p_global[:, None] * direction,
                             np.array([acq.misregistration_mm])])
    return FrameBoundaries(radii=radii, endo_scales=np.array(endo_s), epi_scales=np.array(epi_s),
                           center_scale=np.stack([endo_c, epi_c], axis=1), translation_mm=translation,
                           lv_rotation_bins=lv_bins, contraction=p_frame)
