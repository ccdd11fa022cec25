"""Ischaemic scar patterns and the regional wall motion they cause (spec sections 2 and 5).

Every scar is a wavefront from the endocardium: on each ray it fills the wall from the endocardium to a
depth ``TEI(theta) * wall thickness``. ``TEI`` is a tapered-cosine (Tukey) angular profile centred in
the infarct's coronary territory, with +-10% smooth patchiness. The spec asks for a raised cosine; the
Tukey window (taper 0.5-1, where 1 is exactly the raised cosine) adds the flat-topped infarcts seen in
practice. Regional motion ``a(theta)`` follows the spec's TEI table (piecewise linear through the band
edges), remote myocardium is hyperkinetic, and a wrapped Gaussian smooths ``a`` over the border zone.

Angles here are *material* angles (degrees, display convention) at end-diastole, before rotation.

Example:
    >>> import numpy as np
    >>> x = np.array([0.0, 0.5, 0.9, 1.0])
    >>> tukey(x, taper=1.0).round(3).tolist()
    [1.0, 0.5, 0.024, 0.0]
    >>> motion_amplitude(np.array([0.0, 0.25, 1.0]), hyperkinesis=1.1, offset=0.0).round(2).tolist()
    [1.1, 0.75, -0.2]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pscgan.data.layout import SliceLevel
from pscgan.geometry.aha import Territory
from pscgan.phantom.params import FourierTerm, InfarctParams, SliceParams, SubjectParams

#: Nominal territory centre relative to the anterior RV insertion angle (AHA segment layout): LAD on the
#: anterior/anteroseptal junction, RCA on the inferoseptal/inferior junction, LCx on the lateral wall.
TERRITORY_CENTER_DEG = {
    SliceLevel.BASAL: {Territory.LAD: 0.0, Territory.RCA: 120.0, Territory.LCX: 240.0},
    SliceLevel.MID: {Territory.LAD: 0.0, Territory.RCA: 120.0, Territory.LCX: 240.0},
    SliceLevel.APICAL: {Territory.LAD: 15.0, Territory.RCA: 150.0, Territory.LCX: 240.0},
}
#: The spec's TEI -> a(theta) table as a piecewise-linear map through the band edges.
TEI_KNOTS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
A_KNOTS = np.array([1.0, 0.75, 0.45, 0.15, -0.2])


def tukey(x: np.ndarray, taper: float) -> np.ndarray:
    """Tukey window of ``x`` = |distance from centre| / half width: 1 on the plateau, cosine flanks."""
    x = np.abs(np.asarray(x, float))
    flat = 1.0 - taper
    out = np.where(x <= flat, 1.0, 0.5 * (1.0 + np.cos(np.pi * np.clip((x - flat) / max(taper, 1e-9), 0, 1))))
    return np.where(x >= 1.0, 0.0, out)


def fourier_series(theta_rad: np.ndarray, terms: list[FourierTerm]) -> np.ndarray:
    """``sum amplitude * cos(order * theta + phase)``."""
    out = np.zeros_like(theta_rad, dtype=float)
    for t in terms:
        out += t.amplitude * np.cos(t.order * theta_rad + t.phase_rad)
    return out


def _wrapped(delta_deg: np.ndarray) -> np.ndarray:
    return (np.asarray(delta_deg) + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class ScarProfile:
    """Per-angle scar description of one slice (material angles at ED)."""

    tei: np.ndarray          # transmural extent, fraction of the wall
    thinning: np.ndarray     # TEI * u of the dominant infarct: T_scar = T (1 - 0.5 thinning)
    mvo: np.ndarray          # MVO depth as a fraction of the wall (<= tei)
    border_zone_mm: float
    territories: list[Territory]


def infarct_center_deg(inf: InfarctParams, level: SliceLevel, theta_a_deg: float, shift_deg: float) -> float:
    return theta_a_deg + TERRITORY_CENTER_DEG[level][inf.territory] + inf.center_offset_deg + shift_deg


def scar_profile(params: SubjectParams, sl: SliceParams, theta_deg: np.ndarray) -> ScarProfile:
    """Transmurality, thinning and MVO depth on the angles ``theta_deg`` for slice ``sl``."""
    tei = np.zeros_like(theta_deg, dtype=float)
    thinning = np.zeros_like(tei)
    mvo = np.zeros_like(tei)
    territories: list[Territory] = []
    bz: list[float] = []
    theta_rad = np.deg2rad(theta_deg)
    for i, inf in enumerate(params.infarcts):
        scale = sl.scar_scale[i] if i < len(sl.scar_scale) else 0.0
        if scale <= 0.0:
            continue
        center = infarct_center_deg(inf, sl.level, params.anatomy.theta_a_deg, sl.scar_shift_deg[i])
        half = 0.5 * inf.width_deg * sl.scar_width_scale[i]
        delta = _wrapped(theta_deg - center)
        profile = tukey(delta / half, inf.taper)
        patches = 1.0 + fourier_series(theta_rad, inf.patchiness)
        t_i = np.clip(inf.tei_max * scale * profile * patches, 0.0, 1.0)
        thinning = np.where(t_i > tei, t_i * inf.thinning, thinning)
        tei = np.maximum(tei, t_i)
        if inf.mvo:
            core = tukey(delta / (half * inf.mvo_width_fraction), 1.0)
            mvo = np.maximum(mvo, t_i * inf.mvo_depth_fraction * core)
        territories.append(inf.territory)
        bz.append(inf.border_zone_mm)
    return ScarProfile(tei=tei, thinning=thinning, mvo=np.minimum(mvo, tei),
                       border_zone_mm=float(np.mean(bz)) if bz else 0.0, territories=territories)


def motion_amplitude(tei: np.ndarray, *, hyperkinesis: float, offset: float) -> np.ndarray:
    """``a(theta)`` from transmurality: remote ``hyperkinesis`` at TEI 0, the spec's table above."""
    knots = A_KNOTS + offset
    knots[0] = hyperkinesis
    return np.interp(tei, TEI_KNOTS, knots)


def wrapped_gaussian_smooth(values: np.ndarray, sigma_deg: float) -> np.ndarray:
    """Circular convolution of a full-circle profile with a Gaussian of ``sigma_deg`` (via FFT)."""
    n = values.shape[-1]
    freq = np.fft.rfftfreq(n, d=360.0 / n)  # cycles per degree
    kernel = np.exp(-2.0 * (np.pi * sigma_deg * freq) ** 2)
    return np.fft.irfft(np.fft.rfft(values) * kernel, n=n)


def regional_motion(params: SubjectParams, profile: ScarProfile) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed motion amplitude ``a(theta)`` and contraction delay (ms) on the profile's angles."""
    m = params.motion
    a = motion_amplitude(profile.tei, hyperkinesis=m.remote_hyperkinesis, offset=m.motion_offset)
    a = wrapped_gaussian_smooth(a, m.border_zone_sigma_deg)
    weight = wrapped_gaussian_smooth(np.clip(profile.tei / 0.5, 0.0, 1.0), m.border_zone_sigma_deg)
    return a, m.scar_delay_ms * np.clip(weight, 0.0, 1.0)
