"""The distributions of the phantom parameters (the random step behind ``sample_subject``).

Each draw carries its source tag from the phantom specification: [S] value read from a source,
[R] recalled value, [E] estimate or derivation. Values not in the specification are marked [E] and
explained in ``docs/phantom.md``. Draw order is fixed, so a seed always gives the same subject.

Example:
    >>> p = draw_subject(3, normal=True, n_slices=1, cine_scar_contrast=True, subject_id="s",
    ...                  lge_reconstruction=LgeReconstruction.MAGNITUDE)
    >>> p.infarcts, p.slices[0].level.value
    ([], 'mid')
"""

from __future__ import annotations

import numpy as np

from pscgan.data.layout import SliceLevel
from pscgan.geometry.aha import Territory
from pscgan.phantom.params import (
    MODEL_VERSION,
    AcquisitionParams,
    AnatomyParams,
    BandingParams,
    ContrastParams,
    FourierTerm,
    InfarctParams,
    LgeReconstruction,
    MotionParams,
    SliceParams,
    SubjectParams,
    TissueName,
    TissueRelaxation,
)

LEVEL_ORDER = (SliceLevel.BASAL, SliceLevel.MID, SliceLevel.APICAL)
#: Slice levels chosen when fewer than three slices are asked for (mid first).
LEVEL_PRIORITY = (SliceLevel.MID, SliceLevel.BASAL, SliceLevel.APICAL)
#: Slice centre below the mitral plane as a fraction of the LV cavity length [E]: chosen so that the
#: truncated-ellipsoid cavity gives basal R x1.10 and apical R x0.55-0.75 of mid (spec section 1).
DEPTH_FRACTION = {SliceLevel.BASAL: (0.13, 0.22), SliceLevel.MID: (0.40, 0.50),
                  SliceLevel.APICAL: (0.74, 0.86)}
TERRITORY_P = {Territory.LAD: 0.45, Territory.RCA: 0.35, Territory.LCX: 0.20}  # [S/E] spec section 5
MULTI_TERRITORY_P = 0.15  # [E] spec: 0.10-0.20
#: Probability that an infarct spares a slice level [E], tuned so that ~25% of IHD slices are scar-free
#: (spec section 5: 20-30%); LAD infarcts favour the apex, RCA/LCx the base and mid.
SPARED_P = {Territory.LAD: {SliceLevel.BASAL: 0.50, SliceLevel.MID: 0.20, SliceLevel.APICAL: 0.15},
            Territory.RCA: {SliceLevel.BASAL: 0.20, SliceLevel.MID: 0.20, SliceLevel.APICAL: 0.55},
            Territory.LCX: {SliceLevel.BASAL: 0.20, SliceLevel.MID: 0.20, SliceLevel.APICAL: 0.50}}
MVO_P = 0.03  # [E] chronic cases, spec: p <= 0.05


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _clipped_normal(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float) -> float:
    return float(np.clip(rng.normal(mean, sd), lo, hi))


def _fourier(rng: np.random.Generator, orders: list[int], max_amplitude: float) -> list[FourierTerm]:
    return [FourierTerm(order=int(k), amplitude=_u(rng, 0.0, max_amplitude),
                        phase_rad=_u(rng, 0.0, 2 * np.pi)) for k in orders]


def _levels(n_slices: int) -> list[SliceLevel]:
    chosen = set(LEVEL_PRIORITY[:n_slices])
    return [lv for lv in LEVEL_ORDER if lv in chosen]


def _anatomy(rng: np.random.Generator, normal: bool) -> AnatomyParams:
    return AnatomyParams(
        r_endo_mid_mm=_clipped_normal(rng, 24.0, 2.0, 19.0, 30.0),        # [S] LV diameter 46-50 mm
        remodelling=1.0 if normal else _u(rng, 1.0, 1.2),                   # [E]
        wall_thickness_mm=_clipped_normal(rng, 7.0, 1.0, 5.0, 10.0),       # [S] MESA SSFP
        basal_extra_thickness_mm=_u(rng, 0.0, 1.0),                          # [E]
        apical_thinning_mm=1.0,                                              # [E]
        lv_length_mm=_u(rng, 75.0, 90.0),                                    # [E]
        ellipticity=_u(rng, 1.0, 1.1), ellipse_angle_deg=_u(rng, 0.0, 180.0),  # [E]
        endo_fourier=_fourier(rng, [2, 3, 4], 1.0 / 3.0),                    # [E] +-1 mm in total
        thickness_fourier=_fourier(rng, [1, 2, 3], 0.05),                    # [E] +-15% thickness
        papillary_angles_deg=(_u(rng, 20.0, 50.0), _u(rng, 260.0, 290.0)),   # [E] spec section 1
        papillary_diameters_mm=(_u(rng, 6.0, 12.0), _u(rng, 6.0, 12.0)),     # [E]
        theta_a_deg=_u(rng, 110.0, 130.0),                                   # [E]
        septal_span_deg=_u(rng, 100.0, 140.0),                               # [E]
        rv_depth_mm=_u(rng, 14.0, 24.0),                                     # [E] from the RV ellipse
        rv_shape_exponent=_u(rng, 0.5, 0.8),                                 # [E]
        rv_wall_mm=_u(rng, 3.0, 5.0),                                        # [E]
        rv_level_scale=(_u(rng, 1.0, 1.2), _u(rng, 0.5, 0.8)),               # [E]
        fat_mm=_u(rng, 0.0, 3.0), fat_rv_mm=_u(rng, 0.0, 3.0),               # [E] 0-4 mm
        fat_groove_mm=(_u(rng, 3.0, 8.0), _u(rng, 3.0, 8.0)),                # [E] grooves 3-8 mm
        fat_groove_width_deg=_u(rng, 10.0, 20.0),                            # [E]
        lung_sector_deg=(_u(rng, -90.0, -60.0), _u(rng, 60.0, 100.0)),       # [E]
        lung_gap_mm=_u(rng, 3.0, 10.0),                                      # [E]
        liver_gap_mm=_u(rng, 5.0, 15.0), liver_angle_deg=_u(rng, 255.0, 285.0),  # [E]
        chest_wall_mm=_u(rng, 40.0, 70.0), chest_wall_angle_deg=_u(rng, 80.0, 130.0),  # [E]
        chest_muscle_mm=_u(rng, 8.0, 15.0), subcutaneous_fat_mm=_u(rng, 5.0, 20.0),    # [E]
    )


def _motion(rng: np.random.Generator, normal: bool) -> MotionParams:
    return MotionParams(
        t_es_factor=_u(rng, 0.36, 0.40),                                     # [E]
        filling_fraction=_u(rng, 0.60, 0.75) if normal else _u(rng, 0.35, 0.55),  # [E]
        isovolumic_relaxation_ms=70.0,                                       # [E]
        rapid_filling_ms=_u(rng, 150.0, 200.0),                              # [E]
        diastasis_gain=_u(rng, 0.05, 0.10),                                  # [E]
        atrial_kick_ms=_u(rng, 120.0, 150.0),                                # [E]
        rotation_deg=(_u(rng, -4.0, -2.0), _u(rng, 2.0, 5.0), _u(rng, 6.0, 12.0)),  # [S] Young & Cowan
        basal_descent_mm=_u(rng, 10.0, 16.0),                                # [E/S]
        translation_mm=_u(rng, 1.0, 3.0), translation_angle_deg=_u(rng, 0.0, 360.0),  # [S]
        rv_shortening=_u(rng, 0.20, 0.30),                                   # [E]
        remote_hyperkinesis=1.0 if normal else _u(rng, 1.0, 1.15),           # [S] Pahlm ~+17%
        motion_offset=0.0 if normal else _u(rng, -0.05, 0.05),               # [E] within the table's bands
        scar_delay_ms=_u(rng, 20.0, 60.0),                                   # [E]
        border_zone_sigma_deg=_u(rng, 8.0, 15.0),                            # [E]
        temporal_window_ms=_u(rng, 30.0, 45.0),                              # [S] <= 45 ms
    )


def _tissues(rng: np.random.Generator, field: float) -> dict[TissueName, TissueRelaxation]:
    high = field > 2.0
    myo_t1 = _u(rng, 1120.0, 1190.0) if high else _u(rng, 950.0, 1050.0)    # [S]
    myo_t2 = _u(rng, 45.0, 52.0) if high else _u(rng, 50.0, 56.0)            # [S]
    scar_t1 = myo_t1 * (_u(rng, 1.28, 1.36) if high else _u(rng, 1.10, 1.25))  # [E/S]
    t = {
        TissueName.MYOCARDIUM: TissueRelaxation(t1_ms=myo_t1, t2_ms=myo_t2, pd=0.80, partition=None),
        TissueName.SCAR: TissueRelaxation(t1_ms=scar_t1, t2_ms=myo_t2 + _u(rng, -5.0, 5.0),
                                          pd=_u(rng, 0.80, 0.85), partition=None),
        TissueName.BLOOD: TissueRelaxation(                                   # [R]
            t1_ms=_u(rng, 1850.0, 1950.0) if high else _u(rng, 1450.0, 1650.0),
            t2_ms=_u(rng, 200.0, 275.0) if high else _u(rng, 250.0, 290.0),  # [R] 3T: upper part, see docs
            pd=0.95, partition=None),
        TissueName.FAT: TissueRelaxation(                                     # [S/R], lambda ~0
            t1_ms=382.0 * _u(rng, 0.95, 1.05) if high else _u(rng, 300.0, 350.0),
            t2_ms=68.0 * _u(rng, 0.95, 1.05) if high else _u(rng, 58.0, 80.0), pd=_u(rng, 0.70, 0.90),
            partition=0.0),
        TissueName.LIVER: TissueRelaxation(                                   # [S/R]; lambda [E]
            t1_ms=(809.0 if high else 580.0) * _u(rng, 0.95, 1.05),
            t2_ms=(34.0 if high else 46.0) * _u(rng, 0.95, 1.05),
            pd=_u(rng, 0.85, 0.90), partition=_u(rng, 0.35, 0.50)),
        TissueName.MUSCLE: TissueRelaxation(                                  # [S/R]; lambda [E] 0.2-0.3
            t1_ms=898.0 * _u(rng, 0.95, 1.05) if high else _u(rng, 950.0, 1050.0),
            t2_ms=29.0 * _u(rng, 0.95, 1.05) if high else _u(rng, 30.0, 44.0), pd=0.80,
            partition=_u(rng, 0.2, 0.3)),
        TissueName.LUNG: TissueRelaxation(                                    # [E]; T2 holds T2*
            t1_ms=(1300.0 if high else 1200.0) * _u(rng, 0.95, 1.05), t2_ms=_u(rng, 1.0, 2.0),
            pd=_u(rng, 0.05, 0.15), partition=0.5),
        TissueName.OTHER: TissueRelaxation(                                   # [E] mediastinal soft tissue
            t1_ms=(1.2 if high else 1.0) * _u(rng, 900.0, 1100.0), t2_ms=_u(rng, 40.0, 50.0), pd=0.75,
            partition=_u(rng, 0.25, 0.40)),
    }
    return t


def _contrast(rng: np.random.Generator, field: float, cine_scar_contrast: bool,
              lge: LgeReconstruction) -> ContrastParams:
    high = field > 2.0
    tissues = _tissues(rng, field)
    tr = _u(rng, 2.8, 3.4)                                                   # [S] 1.5T; [E] 3T
    flip = _u(rng, 40.0, 50.0) if high else _u(rng, 50.0, 70.0)              # [E] spec 3T 35-50, see docs
    b1 = _u(rng, 0.85, 1.1) if high else 1.0                                 # [E] spec 0.7-1.1, see docs
    inflow = _u(rng, 1.1, 1.3) if high else _u(rng, 1.0, 1.15)            # [E] spec 1.0-1.3, see docs
    scar_c = _u(rng, -0.08, 0.02)                                            # [E]
    hct = _u(rng, 0.36, 0.46)                                                # [E]
    ecv_myo = _clipped_normal(rng, 0.254, 0.025, 0.18, 0.35)                 # [S] Kellman 2012
    ecv_scar = _clipped_normal(rng, 0.685, 0.086, 0.5, 0.85)                 # [S] Kellman 2012
    mvo_lambda = _u(rng, 0.0, 0.2)                                           # [E]
    t1_post = _u(rng, 250.0, 380.0) if high else _u(rng, 200.0, 330.0)       # [E]/[R]
    if rng.uniform() < 0.10:                                                 # [E] mis-nulled cases
        ti_err = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.10, 0.15))
    else:
        ti_err = float(rng.normal(0.0, 0.05))
    return ContrastParams(tissues=tissues, tr_ms=tr, flip_deg=flip, b1_scale=b1, inflow_gain=inflow,
                          cine_scar_contrast=scar_c if cine_scar_contrast else 0.0,
                          cine_scar_contrast_sampled=scar_c, hematocrit=hct, ecv_myocardium=ecv_myo,
                          ecv_scar=ecv_scar, mvo_partition=mvo_lambda, t1_blood_post_ms=t1_post,
                          ti_error=ti_err, lge_reconstruction=lge)


def _acquisition(rng: np.random.Generator, field: float) -> AcquisitionParams:
    shift = np.clip(rng.normal(0.0, 1.5, 2), -4.0, 4.0)                      # [S/E]
    banding = None
    if field > 2.0:                                                          # [E]
        banding = BandingParams(depth=_u(rng, 0.3, 0.8), period_mm=_u(rng, 200.0, 500.0),
                                angle_deg=_u(rng, 0.0, 360.0), phase_rad=_u(rng, 0.0, 2 * np.pi),
                                lung_phase_rad=_u(rng, 1.5, 3.0))
    return AcquisitionParams(
        pixel_spacing_mm=_u(rng, 1.3, 1.6),                                  # [S]
        cine_slice_mm=_u(rng, 6.0, 8.0), lge_slice_mm=_u(rng, 6.0, 10.0),   # [S]
        cine_acquired_mm=_u(rng, 1.6, 2.2), lge_acquired_mm=_u(rng, 1.4, 1.8),  # [S]
        n_coils=int(rng.integers(8, 33)),                                    # [S]
        coil_shading=_u(rng, 0.1, 0.4), coil_angle_deg=_u(rng, 70.0, 110.0),  # [E]
        snr_cine=_u(rng, 15.0, 40.0), snr_lge=_u(rng, 12.0, 35.0),           # [S] / [E/S]
        gain_cine=float(np.exp(rng.uniform(np.log(0.5), np.log(2.0)))),      # [E]
        gain_lge=float(np.exp(rng.uniform(np.log(0.5), np.log(2.0)))),
        blur_px=_u(rng, 0.0, 0.5),                                           # [E]
        ghost_cine=_u(rng, 0.0, 0.03), ghost_lge=_u(rng, 0.0, 0.03),         # [E]
        ghost_shift_px=int(rng.choice([-1, 1]) * rng.integers(12, 33)),
        phase_encode_axis=int(rng.integers(0, 2)),
        misregistration_mm=(float(shift[0]), float(shift[1])),
        misregistration_deg=float(rng.normal(0.0, 2.0)),                     # [S/E]
        misregistration_through_mm=float(rng.normal(0.0, 2.5)),              # [S/E]
        lge_radius_scale=_u(rng, 0.95, 1.0),                                 # [E]
        banding=banding,
        noise_seed=int(rng.integers(0, 2**31 - 1)),
    )


def _infarct(rng: np.random.Generator, territory: Territory) -> InfarctParams:
    orders = sorted(int(k) for k in rng.choice(np.arange(3, 9), size=3, replace=False))
    mvo = bool(rng.uniform() < MVO_P)
    return InfarctParams(
        territory=territory, center_offset_deg=_u(rng, -30.0, 30.0), width_deg=_u(rng, 40.0, 150.0),  # [E]
        tei_max=_u(rng, 0.4, 1.0), taper=_u(rng, 0.2, 0.6), thinning=_u(rng, 0.3, 1.0),  # [E] see docs
        border_zone_mm=_u(rng, 1.0, 3.0),                                                         # [E]
        patchiness=_fourier(rng, orders, 0.10 / 3.0),                                             # [E] +-10%
        mvo=mvo, mvo_depth_fraction=_u(rng, 0.3, 0.6), mvo_width_fraction=_u(rng, 0.3, 0.5))


def _territories(rng: np.random.Generator) -> list[Territory]:
    names = list(TERRITORY_P)
    p = np.array([TERRITORY_P[t] for t in names])
    first = names[int(rng.choice(len(names), p=p))]
    if rng.uniform() >= MULTI_TERRITORY_P:
        return [first]
    rest = [t for t in names if t is not first]
    q = np.array([TERRITORY_P[t] for t in rest])
    return [first, rest[int(rng.choice(len(rest), p=q / q.sum()))]]


def _slices(rng: np.random.Generator, levels: list[SliceLevel],
            infarcts: list[InfarctParams]) -> list[SliceParams]:
    out = []
    for k, level in enumerate(levels):
        lo, hi = DEPTH_FRACTION[level]
        scale = [0.0 if rng.uniform() < SPARED_P[inf.territory][level] else _u(rng, 0.8, 1.0)
                 for inf in infarcts]
        out.append(SliceParams(index=k, level=level, depth_fraction=_u(rng, lo, hi),
                               crop_jitter_mm=(_u(rng, -4.0, 4.0), _u(rng, -4.0, 4.0)),   # [E] spec +-3-5 mm
                               scar_scale=scale,
                               scar_shift_deg=[_u(rng, -10.0, 10.0) for _ in infarcts],
                               scar_width_scale=[_u(rng, 0.8, 1.2) for _ in infarcts]))
    if infarcts and not any(s for sl in out for s in sl.scar_scale):
        # An IHD subject shows its infarct on at least one slice: the least often spared level.
        best = min(range(len(out)), key=lambda i: SPARED_P[infarcts[0].territory][out[i].level])
        out[best].scar_scale[0] = _u(rng, 0.8, 1.0)
    return out


def draw_subject(seed: int, *, normal: bool, n_slices: int, cine_scar_contrast: bool, subject_id: str,
                 lge_reconstruction: LgeReconstruction) -> SubjectParams:
    """Draw one subject; see :func:`pscgan.phantom.params.sample_subject`."""
    rng = np.random.default_rng(seed)
    field = 3.0 if rng.uniform() < 0.3 else 1.5                              # [E] 1.5T 0.7 / 3T 0.3
    heart_rate = _u(rng, 50.0, 95.0)                                         # [S]
    ef = _u(rng, 0.58, 0.72) if normal else _u(rng, 0.30, 0.55)             # [S] Hudsmith / [E]
    gls = _u(rng, 0.15, 0.20) if normal else _u(rng, 0.08, 0.14)            # [S] / [E]
    anatomy = _anatomy(rng, normal)
    motion = _motion(rng, normal)
    contrast = _contrast(rng, field, cine_scar_contrast, lge_reconstruction)
    acquisition = _acquisition(rng, field)
    infarcts = [] if normal else [_infarct(rng, t) for t in _territories(rng)]
    slices = _slices(rng, _levels(n_slices), infarcts)
    large_anterior = any(i.territory is Territory.LAD and i.tei_max * i.width_deg >= 50.0 for i in infarcts)
    if large_anterior:  # [E] rotation reduced 30-50% in large anterior infarcts
        factor = _u(rng, 0.5, 0.7)
        motion = motion.model_copy(update={"rotation_deg": tuple(r * factor for r in motion.rotation_deg)})
    return SubjectParams(
        model_version=MODEL_VERSION,
        subject_id=subject_id,
        seed=int(seed),
        normal=normal,
        field_strength_t=field,
        heart_rate_bpm=heart_rate,
        ef=ef,
        gls=gls,
        slices=slices,
        anatomy=anatomy,
        motion=motion,
        infarcts=infarcts,
        contrast=contrast,
        acquisition=acquisition,
    )
