"""MR signal equations and the per-layer signal values of the cine (bSSFP) and LGE (IR) images.

Implemented from the published equations (spec section 3), not from any simulator's code:

* balanced SSFP steady state (Wissmann et al., JCMR 2014, eq. for the bSSFP signal)::

      S = PD sin(a) (1 - E1) / (1 - (E1 - E2) cos(a) - E1 E2) exp(-TE / T2),  E = exp(-TR / T)

* inversion recovery with an inversion every second beat (T_IR = 2 RR)::

      M = PD (1 - 2 exp(-TI / T1) + exp(-T_IR / T1)),   TI_null = T1 ln(2 / (1 + exp(-T_IR / T1)))

* post-contrast T1 by the two-compartment partition model: R1_post = R1_pre + lambda dR1_blood with
  lambda = ECV / (1 - Hct) for myocardium and scar, 1 for blood.

The border zone is a mixture of scar and myocardium with fibrosis fraction 0.75 (inner half, labelled
scar) and 0.25 (outer half, labelled myocardium): its pre-contrast T1, PD and lambda are interpolated.

In cine the scar's physical contrast (5-12% darker) is replaced by the sampled relative contrast
``cine_scar_contrast`` (spec section 3), so that the model cannot rely on an intensity shortcut: scar
cine signal = myocardium signal x (1 + c), border zone x (1 + phi c).

Example:
    >>> round(float(ir_signal(1.0, 200.0, 276.0, 2000.0)), 2)   # spec worked example: scar
    0.5
    >>> round(float(ti_null(400.0, 2000.0)), 1)
    274.6
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pscgan.phantom.params import SubjectParams, TissueName

#: Fibrosis fraction of the inner and outer halves of the border zone.
BORDER_ZONE_FIBROSIS = (0.75, 0.25)
#: Layers of the rendered scene that carry a signal value.
LAYERS = ("blood", "myocardium", "scar", "bz_inner", "bz_outer", "mvo", "rv_blood", "rv_wall", "fat",
          "lung", "liver", "muscle", "other", "air")


def bssfp_signal(pd: float, t1: float, t2: float, flip_rad: float, tr: float, te: float) -> float:
    """Balanced SSFP steady-state signal (on resonance)."""
    e1, e2 = np.exp(-tr / t1), np.exp(-tr / t2)
    steady = (1 - e1) / (1 - (e1 - e2) * np.cos(flip_rad) - e1 * e2)
    return float(pd * np.sin(flip_rad) * steady * np.exp(-te / t2))


def ir_signal(pd: float, t1: float, ti: float, t_ir: float) -> float:
    """Signed longitudinal magnetisation at TI after an inversion every ``t_ir`` ms."""
    return float(pd * (1 - 2 * np.exp(-ti / t1) + np.exp(-t_ir / t1)))


def ti_null(t1: float, t_ir: float) -> float:
    """Inversion time that nulls a tissue of longitudinal relaxation ``t1``."""
    return float(t1 * np.log(2.0 / (1.0 + np.exp(-t_ir / t1))))


def post_contrast_t1(t1_pre: float, partition: float, t1_blood_pre: float, t1_blood_post: float) -> float:
    """Post-contrast T1 from the partition coefficient lambda (two-compartment fast exchange)."""
    return float(1.0 / (1.0 / t1_pre + partition * (1.0 / t1_blood_post - 1.0 / t1_blood_pre)))


@dataclass(frozen=True)
class LayerSignals:
    """Signal of each layer in the cine and in the LGE image (units of PD, before coils and gain)."""

    cine: dict[str, float]
    lge: dict[str, float]
    ti_ms: float
    cine_scar_contrast_physical: float


def _mix(a: float, b: float, phi: float) -> float:
    return a + phi * (b - a)


def layer_signals(params: SubjectParams) -> LayerSignals:
    """Signals of every layer for one subject."""
    c = params.contrast
    t = c.tissues
    myo, scar, blood = t[TissueName.MYOCARDIUM], t[TissueName.SCAR], t[TissueName.BLOOD]
    flip = np.deg2rad(c.flip_deg * c.b1_scale)
    tr, te = c.tr_ms, c.tr_ms / 2.0

    def cine_of(tissue: TissueName) -> float:
        x = t[tissue]
        return bssfp_signal(x.pd, x.t1_ms, x.t2_ms, flip, tr, te)

    s_myo = cine_of(TissueName.MYOCARDIUM)
    s_blood = cine_of(TissueName.BLOOD) * c.inflow_gain
    cine = {"blood": s_blood, "rv_blood": s_blood, "myocardium": s_myo, "rv_wall": s_myo,
            "scar": s_myo * (1 + c.cine_scar_contrast), "mvo": s_myo * (1 + c.cine_scar_contrast),
            "bz_inner": s_myo * (1 + BORDER_ZONE_FIBROSIS[0] * c.cine_scar_contrast),
            "bz_outer": s_myo * (1 + BORDER_ZONE_FIBROSIS[1] * c.cine_scar_contrast),
            "air": 0.0}
    for name in (TissueName.FAT, TissueName.LUNG, TissueName.LIVER, TissueName.MUSCLE, TissueName.OTHER):
        cine[name.value] = cine_of(name)
    physical = cine_of(TissueName.SCAR) / s_myo - 1.0

    t_ir = 2.0 * params.rr_ms
    lam_myo = c.ecv_myocardium / (1 - c.hematocrit)
    lam_scar = c.ecv_scar / (1 - c.hematocrit)

    def t1_post(t1_pre: float, lam: float) -> float:
        return post_contrast_t1(t1_pre, lam, blood.t1_ms, c.t1_blood_post_ms)

    ti = ti_null(t1_post(myo.t1_ms, lam_myo), t_ir) * (1 + c.ti_error)

    def lge_of(pd: float, t1_pre: float, lam: float) -> float:
        return ir_signal(pd, t1_post(t1_pre, lam), ti, t_ir)

    lge = {"blood": lge_of(blood.pd, blood.t1_ms, 1.0), "myocardium": lge_of(myo.pd, myo.t1_ms, lam_myo),
           "scar": lge_of(scar.pd, scar.t1_ms, lam_scar), "mvo": lge_of(scar.pd, scar.t1_ms, c.mvo_partition),
           "air": 0.0}
    for key, phi in zip(("bz_inner", "bz_outer"), BORDER_ZONE_FIBROSIS):
        lge[key] = lge_of(_mix(myo.pd, scar.pd, phi), _mix(myo.t1_ms, scar.t1_ms, phi),
                          _mix(lam_myo, lam_scar, phi))
    lge["rv_blood"], lge["rv_wall"] = lge["blood"], lge["myocardium"]
    for name in (TissueName.FAT, TissueName.LUNG, TissueName.LIVER, TissueName.MUSCLE, TissueName.OTHER):
        x = t[name]
        lge[name.value] = lge_of(x.pd, x.t1_ms, float(x.partition or 0.0))
    return LayerSignals(cine=cine, lge=lge, ti_ms=ti, cine_scar_contrast_physical=physical)
