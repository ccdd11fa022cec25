"""Parameters of one phantom subject: the record of the random step, enough to re-render it exactly.

Generation is split like TorchIO's random transforms: :func:`sample_subject` draws every parameter
from the distributions of the phantom specification (seeded numpy ``Generator``; the distributions and
their sources live in :mod:`pscgan.phantom.priors`), and :func:`pscgan.phantom.render.render_subject`
turns the parameters into images deterministically (the noise realisation is part of the parameters
through ``acquisition.noise_seed``). :class:`SubjectParams` round-trips through JSON
(``model_dump(mode="json")`` / ``model_validate``), which is how ``subject.json`` records it.

Angles are in degrees in the display convention of :mod:`pscgan.data.layout` (counter-clockwise from
+column, up = decreasing row, short axis seen from the apex); lengths in mm, times in ms.

Example:
    >>> p = sample_subject(7, normal=False)
    >>> back = SubjectParams.model_validate(p.model_dump(mode="json"))
    >>> back.model_dump(mode="json") == p.model_dump(mode="json")
    True
    >>> [s.level.value for s in p.slices]
    ['basal', 'mid', 'apical']
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from pscgan.data.layout import SliceLevel
from pscgan.geometry.aha import Territory

#: Version of the rendering model; bumped when the same parameters would render differently.
MODEL_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TissueName(str, Enum):
    """Tissues with their own relaxation parameters."""

    BLOOD = "blood"
    MYOCARDIUM = "myocardium"
    SCAR = "scar"
    FAT = "fat"
    LIVER = "liver"
    MUSCLE = "muscle"  # skeletal muscle of the chest wall
    LUNG = "lung"
    OTHER = "other"    # mediastinal soft tissue filling the rest


class LgeReconstruction(str, Enum):
    """How the inversion-recovery LGE image is reconstructed."""

    MAGNITUDE = "magnitude"  # |signal|, Rician-like noise (the default on scanners)
    PSIR = "psir"            # phase-sensitive: signed signal, Gaussian noise


class FourierTerm(_Model):
    """One term ``amplitude * cos(order * theta + phase)`` of an angular perturbation."""

    order: int = Field(ge=1)
    amplitude: float
    phase_rad: float


class TissueRelaxation(_Model):
    """Pre-contrast relaxation times, proton density and (for tissues not derived from ECV) the
    gadolinium partition coefficient lambda."""

    t1_ms: float = Field(gt=0)
    t2_ms: float = Field(gt=0)
    pd: float = Field(ge=0)
    partition: float | None = Field(default=None, ge=0, description="lambda; None: derived (blood 1, "
                                    "myocardium and scar from ECV / (1 - Hct))")


class SliceParams(_Model):
    """Per-slice parameters."""

    index: int = Field(ge=0)
    level: SliceLevel
    depth_fraction: float = Field(gt=0, lt=1,
                                  description="slice centre below the mitral plane / LV cavity length")
    crop_jitter_mm: tuple[float, float] = Field(
        description="LV centre offset in the written image (col, up); reduced where the LV would leave "
        "the crop"
    )
    scar_scale: list[float] = Field(default_factory=list,
                                    description="per infarct: transmurality scale here (0: not involved)")
    scar_shift_deg: list[float] = Field(default_factory=list,
                                        description="per infarct: centre shift on this slice")
    scar_width_scale: list[float] = Field(default_factory=list,
                                          description="per infarct: width scale on this slice")


class InfarctParams(_Model):
    """One ischaemic scar (wavefront from the endocardium) in a coronary territory."""

    territory: Territory
    center_offset_deg: float = Field(description="offset from the territory's nominal centre")
    width_deg: float = Field(gt=0, le=360)
    tei_max: float = Field(ge=0, le=1, description="peak transmural extent (fraction of the wall)")
    taper: float = Field(gt=0, le=1, description="Tukey taper fraction (1: pure raised cosine)")
    thinning: float = Field(ge=0, le=1, description="u in T_scar = T (1 - 0.5 TEI u)")
    border_zone_mm: float = Field(ge=0)
    patchiness: list[FourierTerm] = Field(default_factory=list, description="relative TEI modulation")
    mvo: bool = False
    mvo_depth_fraction: float = Field(default=0.5, ge=0, le=1)
    mvo_width_fraction: float = Field(default=0.4, ge=0, le=1)


class AnatomyParams(_Model):
    """End-diastolic anatomy (mid level unless stated)."""

    r_endo_mid_mm: float = Field(gt=0)
    remodelling: float = Field(ge=1.0, description="IHD cavity dilation factor")
    wall_thickness_mm: float = Field(gt=0)
    basal_extra_thickness_mm: float
    apical_thinning_mm: float
    lv_length_mm: float = Field(gt=0, description="ED cavity length, mitral plane to endocardial apex")
    ellipticity: float = Field(ge=1.0)
    ellipse_angle_deg: float
    endo_fourier: list[FourierTerm]
    thickness_fourier: list[FourierTerm]
    papillary_angles_deg: tuple[float, float] = Field(description="anterolateral, posteromedial")
    papillary_diameters_mm: tuple[float, float]
    theta_a_deg: float = Field(description="anterior RV insertion angle")
    septal_span_deg: float = Field(gt=0, description="anterior to inferior RV insertion")
    rv_depth_mm: float = Field(gt=0, description="largest radial depth of the RV beyond the LV epicardium")
    rv_shape_exponent: float = Field(gt=0)
    rv_wall_mm: float = Field(gt=0)
    rv_level_scale: tuple[float, float] = Field(description="RV depth scale at the basal and apical levels")
    fat_mm: float = Field(ge=0, description="epicardial fat over the LV")
    fat_rv_mm: float = Field(ge=0, description="epicardial fat over the RV free wall")
    fat_groove_mm: tuple[float, float] = Field(description="extra fat in the anterior and inferior grooves")
    fat_groove_width_deg: float = Field(gt=0)
    lung_sector_deg: tuple[float, float] = Field(description="start and end (ccw) of the lung sector")
    lung_gap_mm: float = Field(ge=0)
    liver_gap_mm: float = Field(ge=0)
    liver_angle_deg: float
    chest_wall_mm: float = Field(gt=0, description="distance of the chest wall from the LV centre")
    chest_wall_angle_deg: float
    chest_muscle_mm: float = Field(gt=0)
    subcutaneous_fat_mm: float = Field(gt=0)


class MotionParams(_Model):
    """Cardiac cycle and wall motion."""

    t_es_factor: float = Field(gt=0, description="t_ES = factor * sqrt(RR in s)")
    filling_fraction: float = Field(gt=0, lt=1, description="f_E: rapid filling share of the stroke volume")
    isovolumic_relaxation_ms: float = Field(ge=0)
    rapid_filling_ms: float = Field(gt=0)
    diastasis_gain: float = Field(ge=0)
    atrial_kick_ms: float = Field(gt=0)
    rotation_deg: tuple[float, float, float] = Field(description="rigid rotation at ES: basal, mid, apical")
    basal_descent_mm: float = Field(ge=0)
    translation_mm: float = Field(ge=0)
    translation_angle_deg: float
    rv_shortening: float = Field(ge=0, lt=1)
    remote_hyperkinesis: float = Field(gt=0)
    motion_offset: float = Field(description="shift of the TEI -> a(theta) table")
    scar_delay_ms: float = Field(ge=0)
    border_zone_sigma_deg: float = Field(gt=0)
    temporal_window_ms: float = Field(ge=0)


class ContrastParams(_Model):
    """Sequence parameters and tissue properties of the cine (bSSFP) and LGE (IR) images."""

    tissues: dict[TissueName, TissueRelaxation]
    tr_ms: float = Field(gt=0)
    flip_deg: float = Field(gt=0, lt=180)
    b1_scale: float = Field(gt=0)
    inflow_gain: float = Field(gt=0)
    cine_scar_contrast: float = Field(description="relative cine scar contrast used (0 when switched off)")
    cine_scar_contrast_sampled: float = Field(description="value drawn before the switch was applied")
    hematocrit: float = Field(gt=0, lt=1)
    ecv_myocardium: float = Field(gt=0, lt=1)
    ecv_scar: float = Field(gt=0, lt=1)
    mvo_partition: float = Field(ge=0)
    t1_blood_post_ms: float = Field(gt=0)
    ti_error: float = Field(gt=-1, description="relative error of TI against the myocardial null point")
    lge_reconstruction: LgeReconstruction = LgeReconstruction.MAGNITUDE


class BandingParams(_Model):
    """Off-resonance dark bands of bSSFP at 3T: a smooth field map (linear gradient plus a term near the
    lung) whose phase crosses pi on a band."""

    depth: float = Field(ge=0, le=1)
    period_mm: float = Field(gt=0, description="distance between bands of the linear field gradient")
    angle_deg: float = Field(description="direction of the field gradient")
    phase_rad: float
    lung_phase_rad: float = Field(description="extra off-resonance phase next to the lung")


class AcquisitionParams(_Model):
    """Geometry, resolution, coils, noise and scanner effects."""

    pixel_spacing_mm: float = Field(gt=0, description="written (interpolated) in-plane spacing")
    cine_slice_mm: float = Field(gt=0)
    lge_slice_mm: float = Field(gt=0)
    cine_acquired_mm: float = Field(gt=0, description="acquired in-plane resolution (k-space extent)")
    lge_acquired_mm: float = Field(gt=0)
    n_coils: int = Field(ge=1)
    coil_shading: float = Field(ge=0, lt=1, description="peak-to-peak shading across the image, relative")
    coil_angle_deg: float = Field(description="direction of the brightest (anterior) coil array")
    snr_cine: float = Field(gt=0, description="myocardial SNR of the cine")
    snr_lge: float = Field(gt=0, description="scar SNR of the LGE")
    gain_cine: float = Field(gt=0)
    gain_lge: float = Field(gt=0)
    blur_px: float = Field(ge=0)
    ghost_cine: float = Field(ge=0)
    ghost_lge: float = Field(ge=0)
    ghost_shift_px: int
    phase_encode_axis: int = Field(ge=0, le=1, description="0: rows, 1: columns")
    misregistration_mm: tuple[float, float] = Field(description="LGE vs cine ED in-plane shift (col, up)")
    misregistration_deg: float
    misregistration_through_mm: float
    lge_radius_scale: float = Field(gt=0)
    banding: BandingParams | None = Field(default=None, description="3T bSSFP dark bands (None at 1.5T)")
    noise_seed: int = Field(ge=0)


class SubjectParams(_Model):
    """Every sampled parameter of one subject (the random step's output)."""

    model_version: int = MODEL_VERSION
    subject_id: str
    seed: int
    normal: bool
    field_strength_t: float = Field(gt=0)
    heart_rate_bpm: float = Field(gt=0)
    ef: float = Field(gt=0, lt=1, description="ejection fraction")
    gls: float = Field(ge=0, lt=1, description="absolute global longitudinal strain (gamma)")
    slices: list[SliceParams]
    anatomy: AnatomyParams
    motion: MotionParams
    infarcts: list[InfarctParams]
    contrast: ContrastParams
    acquisition: AcquisitionParams

    @property
    def rr_ms(self) -> float:
        return 60000.0 / self.heart_rate_bpm


def sample_subject(seed: int, *, normal: bool, n_slices: int = 3, cine_scar_contrast: bool = True,
                   subject_id: str = "phantom", lge_reconstruction: LgeReconstruction | str = "magnitude",
                   ) -> SubjectParams:
    """Draw all parameters of one subject (the random step).

    Args:
        seed: seeds a ``numpy.random.Generator``; same seed and options, same parameters.
        normal: a subject without ischaemic heart disease (no scar, normal function).
        n_slices: 1-3 slice levels; the mid level comes first, then basal, then apical.
        cine_scar_contrast: when false the scar is exactly iso-intense to myocardium in cine (the
            drawn value is still recorded as ``cine_scar_contrast_sampled``).
        subject_id: folder name of the subject.
        lge_reconstruction: ``magnitude`` (default) or ``psir``.
    """
    from pscgan.phantom.priors import draw_subject

    if not 1 <= n_slices <= 3:
        raise ValueError(f"n_slices must be 1..3, got {n_slices}")
    return draw_subject(seed, normal=normal, n_slices=n_slices, cine_scar_contrast=cine_scar_contrast,
                        subject_id=subject_id, lge_reconstruction=LgeReconstruction(lge_reconstruction))
