"""Scar read from the phantom's motion: oracle segmentations that bound what a cine can tell about scar.

In the phantom (spec section 2, :mod:`pscgan.phantom.scar`) a ray's transmural scar extent ``TEI`` sets
its motion amplitude ``a(theta)`` through a piecewise-linear table (1 remote, 0.75 at TEI 0.25, 0.45,
0.15, -0.2 at full transmurality); each subject shifts the table by ``motion_offset`` (U(-0.05, 0.05)
for IHD subjects) and sets the remote value ``remote_hyperkinesis`` (U(1.0, 1.15)), and a wrapped
Gaussian of ``border_zone_sigma_deg`` (8-15 degrees) smooths ``a`` over the angles. The cine shows
``a`` (times the global shortening and the contraction curve) as reduced endocardial excursion and wall
thickening on each ray; it never shows ``TEI`` directly, only through that table.

:func:`motion_tei` inverts the table: the transmurality a ray's motion amplitude implies.
:func:`oracle_tei` gives, per slice and ray, the transmurality an oracle reads:

* ``truth``: the recorded transmurality (the label map itself; a check of the scoring, Dice 1);
* ``motion``: the smoothed motion amplitude of every ray, exactly as the phantom moves the wall, read
  through the subject's own table (its ``motion_offset`` and ``remote_hyperkinesis``);
* ``motion_prior``: the same amplitude read through a table the priors give, not the subject's: offset
  0 (the prior's mean) and remote amplitude 1.0 (the prior's lowest, a normal subject's, so that no wall
  moving at least normally reads as scar; the prior's mean 1.075 reads a normal wall as a thin
  subendocardial scar). The subject's own table is the phantom's randomness in the TEI-to-motion
  mapping, which the cine cannot reveal without the LGE.
* ``motion_measured``: the amplitude *measured* at the cine's pixel size (:func:`measured_motion`): in
  each of ``SECTORS`` angular sectors, the LV cavity's area at ED and at ES from the written-grid area
  fractions of the cine's label maps (what a perfect, noise-free endocardial tracker on the cine's
  pixels sees), turned into an amplitude with the subject's true global motion (shortening, contraction
  at ES, rotation, through-plane scale), then read through the subject's own table.

:func:`scar_labels` paints such a transmurality into the subject's own geometry, through the phantom's
own rasteriser: the wall's boundaries are the true ones, scar fills each ray from the endocardium to
``TEI * wall thickness`` (the phantom's wavefront), rays with less than the phantom's thinnest scar
layer (``MIN_SCAR_DEPTH_MM``) carry none, and the label is the argmax of the written-grid area
fractions, as for the recorded labels (so a boundary pixel may turn from wall to blood pool or background,
or back, when the scar splits its wall fraction differently). With the recorded transmurality it reproduces
``labels.nii.gz``.

Example:
    >>> from pscgan.phantom.params import sample_subject
    >>> from pscgan.phantom.render import render_subject
    >>> motion_tei(np.array([1.1, 0.75, 0.45, -0.3]), hyperkinesis=1.1, offset=0.0).round(2).tolist()
    [0.0, 0.25, 0.5, 1.0]
    >>> p = sample_subject(3, normal=False, n_slices=1)
    >>> truth = scar_labels(p, oracle_tei(p, OracleScar.TRUTH))
    >>> bool((truth == render_subject(p).labels).all())
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from enum import Enum

import numpy as np

from pscgan.phantom.anatomy import MIN_SCAR_DEPTH_MM, slice_anatomy
from pscgan.phantom.contrast import layer_signals
from pscgan.phantom.motion import N_PHASES, frame_boundaries
from pscgan.phantom.params import SubjectParams
from pscgan.phantom.raster import make_grid, rasterise
from pscgan.phantom.render import MARGIN, _labels, crop_jitter, lv_reach_mm, written_spacing
from pscgan.phantom.scar import A_KNOTS, TEI_KNOTS, regional_motion

#: The TEI-to-motion table read without the subject's own (:mod:`pscgan.phantom.priors`): remote amplitude
#: at the prior's lowest value (normal subjects'; IHD U(1.0, 1.15)), offset at its mean (U(-0.05, 0.05)).
PRIOR_HYPERKINESIS = 1.0
PRIOR_MOTION_OFFSET = 0.0


#: Angular sectors of the measured motion (10 degrees: about 3 written pixels at a 25 mm radius).
SECTORS = 36
#: Sub-pixels per written-pixel side spreading a pixel's cavity fraction over the angles it covers.
_SUBPIXELS = 4


class OracleScar(str, Enum):
    """What an oracle knows about a subject's scar."""

    TRUTH = "truth"
    MOTION = "motion"
    MOTION_PRIOR = "motion_prior"
    MOTION_MEASURED = "motion_measured"


def motion_tei(a: np.ndarray, *, hyperkinesis: float, offset: float) -> np.ndarray:
    """The transmurality that motion amplitude ``a`` implies: the inverse of
    :func:`pscgan.phantom.scar.motion_amplitude` (0 at or above the remote amplitude, 1 at or below the
    akinetic end of the table)."""
    knots = A_KNOTS + offset
    knots[0] = hyperkinesis
    if np.any(np.diff(knots) >= 0):
        raise ValueError(f"the table {knots.round(3).tolist()} does not fall with TEI, so it has no inverse")
    return np.interp(np.asarray(a, float), knots[::-1], TEI_KNOTS[::-1])


def oracle_tei(params: SubjectParams, kind: OracleScar | str) -> list[np.ndarray]:
    """Per slice, the transmurality on the phantom's angle bins (material angles at ED) that oracle
    ``kind`` reads (see the module docstring)."""
    kind = OracleScar(kind)
    if kind is OracleScar.MOTION_MEASURED:
        own = {"hyperkinesis": params.motion.remote_hyperkinesis, "offset": params.motion.motion_offset}
        return [motion_tei(a, **own) for a in measured_motion(params)]
    out = []
    for sl in params.slices:
        anatomy = slice_anatomy(params, sl)
        if kind is OracleScar.TRUTH:
            out.append(anatomy.scar.tei)
            continue
        a, _ = regional_motion(params, anatomy.scar)
        if kind is OracleScar.MOTION:
            hyper, offset = params.motion.remote_hyperkinesis, params.motion.motion_offset
        else:
            hyper, offset = PRIOR_HYPERKINESIS, PRIOR_MOTION_OFFSET
        out.append(motion_tei(a, hyperkinesis=hyper, offset=offset))
    return out


def _slice_geometry(params: SubjectParams, matrix: int) -> tuple[float, list[tuple]]:
    """The written spacing and, per slice, its parameters, ED anatomy and frame boundaries (as
    :func:`pscgan.phantom.render.render_subject` derives them)."""
    geometry = []
    for sl in params.slices:
        anatomy = slice_anatomy(params, sl)
        geometry.append((sl, anatomy, frame_boundaries(params, sl, anatomy)))
    return written_spacing(params, max(lv_reach_mm(params, fb) for *_, fb in geometry), matrix), geometry


def measured_motion(params: SubjectParams, *, matrix: int = 64, sectors: int = SECTORS) -> list[np.ndarray]:
    """Per slice, the motion amplitude ``a`` on the angle bins as the cine's pixels show it.

    The cavity's area in each angular sector at ED and at ES comes from the written-grid area fractions
    of the cine's blood pool (each pixel's fraction spread evenly over its sub-pixels, so a pixel counts
    in the sectors it covers); the sector's mean endocardial radius is ``sqrt(2 area / width)``. With the
    phantom's ``R_ES = R_ED (1 - a c p_ES) s_ES`` (``c`` the global shortening, ``p_ES`` the global
    contraction at ES, ``s_ES`` the central plane's through-plane radius scale; the LV's rotation at ES
    moves the sectors back to material angles), each sector's ``a`` is interpolated periodically onto the
    angle bins. Noise-free, so only the pixel size, the slice thickness and the sector width limit it.
    """
    from pscgan.phantom.anatomy import ANGLE_BINS, ANGLES_DEG
    from pscgan.phantom.motion import es_phase

    signals = layer_signals(params)
    spacing, geometry = _slice_geometry(params, matrix)
    es = es_phase(params)
    shortening = 1.0 - np.sqrt((1.0 - params.ef) / (1.0 - params.gls))
    n_out = matrix + 2 * MARGIN
    f = _SUBPIXELS
    sub = (np.arange(n_out * f) - (n_out * f - 1) / 2.0) * spacing / f
    width = 2 * np.pi / sectors
    out = []
    for sl, anatomy, fb in geometry:
        jitter = crop_jitter(sl, lv_reach_mm(params, fb), spacing, matrix)
        grid = make_grid(n_out, spacing, jitter)
        raster = rasterise(grid, fb, anatomy, signals.cine, signals.lge, np.zeros((2, grid.n * grid.n)))
        x = (sub[None, :] - jitter[0]).repeat(n_out * f, 0)
        y = (-sub[:, None] - jitter[1]).repeat(n_out * f, 1)
        angle = np.mod(np.arctan2(y, x), 2 * np.pi)
        radii = []
        for phase, turn in ((0, fb.lv_rotation_bins[0]), (es, fb.lv_rotation_bins[es])):
            cavity = np.kron(raster.labels[0, phase], np.ones((f, f))) * (spacing / f) ** 2
            material = np.mod(angle - turn * 2 * np.pi / ANGLE_BINS, 2 * np.pi)
            k = np.minimum((material / width).astype(int), sectors - 1)
            area = np.bincount(k.ravel(), weights=cavity.ravel(), minlength=sectors)
            radii.append(np.sqrt(2.0 * area / width))
        ratio = radii[1] / np.maximum(radii[0], 1e-9) / (fb.center_scale[es, 0] / fb.center_scale[0, 0])
        a = (1.0 - ratio) / (shortening * fb.contraction[es])
        centres = (np.arange(sectors) + 0.5) * 360.0 / sectors
        out.append(np.interp(ANGLES_DEG, centres, a, period=360.0))
    return out


def scar_labels(params: SubjectParams, tei: Sequence[np.ndarray], *, matrix: int = 64) -> np.ndarray:
    """The subject's ED label map (``(x, y, slice)`` uint8, as ``labels.nii.gz``) with each slice's scar
    painted from ``tei[k]`` (transmurality on the angle bins, material angles) instead of its own.

    The wall motion, and so the geometry of every frame, stays the subject's own.
    """
    if len(tei) != len(params.slices):
        raise ValueError(f"{len(tei)} transmurality profiles for {len(params.slices)} slices")
    signals = layer_signals(params)
    spacing, geometry = _slice_geometry(params, matrix)
    slices = []
    for (sl, anatomy, fb_true), t in zip(geometry, tei):
        thickness = anatomy.r_epi - anatomy.r_endo
        t = np.clip(np.asarray(t, float), 0.0, 1.0)
        depth = np.where(t * thickness >= MIN_SCAR_DEPTH_MM, t * thickness, 0.0)
        label = anatomy.r_endo + depth
        # only the label boundary matters here; the scar profile (and so the motion) stays the true one
        painted = replace(anatomy, scar_radii={"mvo": anatomy.r_endo, "core": anatomy.r_endo,
                                               "label": label, "bz": label})
        fb = frame_boundaries(params, sl, painted)
        jitter = crop_jitter(sl, lv_reach_mm(params, fb_true), spacing, matrix)
        grid = make_grid(matrix + 2 * MARGIN, spacing, jitter)
        raster = rasterise(grid, fb, painted, signals.cine, signals.lge, np.zeros((2, grid.n * grid.n)))
        shift_px = np.stack([-fb.translation_mm[:, 1], fb.translation_mm[:, 0]], axis=1) / spacing
        labels = _labels(raster.labels, shift_px[:N_PHASES], slice(MARGIN, MARGIN + matrix))
        slices.append(labels[0])
    return np.ascontiguousarray(np.stack([s.T for s in slices], axis=2))
