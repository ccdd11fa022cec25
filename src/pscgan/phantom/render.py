"""The deterministic step: render a subject's cine, LGE, labels and metadata from its parameters.

Per slice: ED anatomy (:mod:`~pscgan.phantom.anatomy`) -> per-frame boundaries for 25 cine phases and
the LGE (:mod:`~pscgan.phantom.motion`) -> fine-grid rendering with through-slice partial volume
(:mod:`~pscgan.phantom.raster`, :mod:`~pscgan.phantom.surroundings`) with the layer signals of
:mod:`~pscgan.phantom.contrast` -> k-space truncation, temporal blur, ghosts, 3T banding, coils, noise,
gain and quantisation (:mod:`~pscgan.phantom.acquisition`) -> crop to ``matrix`` x ``matrix``.

Labels: the fine-grid area fractions of each cine phase, block-averaged to the written grid, moved by
that phase's rigid translation, argmax over {other, LV blood pool (papillary muscles included), healthy
myocardium, scar (fibrosis fraction > 0.5)}. The ED labels (phase 0) double as the LGE-grid labels: the
LGE is co-registered to the cine ED frame up to the simulated misregistration, which the labels do not
follow (spec section 0, step 5).

The rendered region is the written crop plus a margin of ``MARGIN`` pixels on each side (absorbing
k-space wrap-around), centred on the LV up to the crop jitter; it is not the spec's >= 160 mm canvas,
which only matters for wrap-around and would cost 4-6x more (see docs/phantom.md).

Example:
    >>> from pscgan.phantom.params import sample_subject
    >>> out = render_subject(sample_subject(0, normal=False, n_slices=1))
    >>> out.cine.shape, out.lge.shape, out.labels.dtype.name
    ((64, 64, 1, 25), (64, 64, 1), 'uint8')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pscgan import __version__
from pscgan.data.layout import Provenance, SliceInfo, SubjectInfo
from pscgan.phantom import acquisition as acq
from pscgan.phantom.anatomy import SliceAnatomy, slice_anatomy
from pscgan.phantom.contrast import LayerSignals, layer_signals
from pscgan.phantom.motion import N_PHASES, FrameBoundaries, es_phase, frame_boundaries
from pscgan.phantom.params import LgeReconstruction, SliceParams, SubjectParams
from pscgan.phantom.raster import OVERSAMPLING, make_grid, rasterise
from pscgan.phantom.surroundings import static_background, static_fractions
from pscgan.phantom.truth import slice_truth

#: Extra written-grid pixels rendered on each side of the crop.
MARGIN = 8
#: Pixels kept free between the LV and the border of the written crop.
CROP_CLEARANCE_PX = 1.5


@dataclass
class RenderedSubject:
    """Arrays in the canonical layout (``volume[:, :, k].T`` is the display image) plus metadata."""

    cine: np.ndarray         # (x, y, slice, 25) float32
    lge: np.ndarray          # (x, y, slice) float32
    labels: np.ndarray       # (x, y, slice) uint8, ED on the LGE grid
    cine_labels: np.ndarray  # (x, y, slice, 25) uint8
    info: SubjectInfo


@dataclass
class _SliceImages:
    cine: np.ndarray         # (25, row, col)
    lge: np.ndarray          # (row, col)
    labels: np.ndarray       # (25, row, col)
    truth: dict


def _block_mean(fine: np.ndarray, n_out: int) -> np.ndarray:
    f = OVERSAMPLING
    return fine.reshape(n_out, f, n_out, f).mean(axis=(1, 3))


def shift_bilinear(image: np.ndarray, shift_rc: np.ndarray) -> np.ndarray:
    """Move the content of the last two axes by ``shift_rc`` pixels (bilinear, periodic edges: callers
    crop a margin wider than the shift)."""
    dr, dc = float(shift_rc[0]), float(shift_rc[1])
    r0, c0 = int(np.floor(dr)), int(np.floor(dc))
    fr, fc = dr - r0, dc - c0
    out = np.zeros_like(image)
    for rr, wr in ((r0, 1.0 - fr), (r0 + 1, fr)):
        for cc, wc in ((c0, 1.0 - fc), (c0 + 1, fc)):
            if wr * wc > 0:
                out += wr * wc * np.roll(image, (rr, cc), axis=(-2, -1))
    return out


def _labels(fractions: np.ndarray, shift_px: np.ndarray, crop: slice) -> np.ndarray:
    """Argmax labels of each phase from the (cavity, scar, LV outline) fractions, moved by ``shift_px``."""
    moved = np.empty_like(fractions)
    for t in range(fractions.shape[1]):
        moved[:, t] = shift_bilinear(fractions[:, t], shift_px[t]) if np.any(shift_px[t]) else fractions[:, t]
    cavity, scar, outline = np.clip(moved[:, :, crop, crop], 0.0, 1.0)
    myo = np.clip(outline - cavity - scar, 0.0, None)
    stack = np.stack([1.0 - outline, cavity, myo, scar])
    return np.argmax(stack, axis=0).astype(np.uint8)


def lv_reach_mm(params: SubjectParams, fb: FrameBoundaries) -> float:
    """Largest distance of the LV epicardium from the ED LV centre over the cine (sub-slices and
    translation included)."""
    outline = fb.radii["epi"][:N_PHASES] * fb.epi_scales[:N_PHASES].max(axis=1)[:, None]
    return float(outline.max()) + params.motion.translation_mm


def written_spacing(params: SubjectParams, reach_mm: float, matrix: int) -> float:
    """The sampled pixel spacing, increased for the rare heart that would not fit the crop otherwise."""
    return max(params.acquisition.pixel_spacing_mm, reach_mm / (matrix / 2.0 - CROP_CLEARANCE_PX))


def crop_jitter(sl: SliceParams, reach_mm: float, spacing: float, matrix: int) -> tuple[float, float]:
    """The slice's crop jitter (col, up) in mm, reduced where the LV would otherwise leave the crop."""
    room = max(0.0, (matrix / 2.0 - CROP_CLEARANCE_PX) * spacing - reach_mm)
    col, up = sl.crop_jitter_mm
    return float(np.clip(col, -room, room)), float(np.clip(up, -room, room))


def _render_slice(params: SubjectParams, sl: SliceParams, anatomy: SliceAnatomy, fb: FrameBoundaries,
                  spacing: float, signals: LayerSignals, matrix: int,
                  rng: np.random.Generator) -> _SliceImages:
    a = params.acquisition
    n_out = matrix + 2 * MARGIN
    jitter = crop_jitter(sl, lv_reach_mm(params, fb), spacing, matrix)
    grid = make_grid(n_out, spacing, jitter)
    fractions = static_fractions(params, sl.level, grid, fb)
    background = static_background(fractions, signals.cine, signals.lge)
    raster = rasterise(grid, fb, anatomy, signals.cine, signals.lge, background)

    shift_px = np.stack([-fb.translation_mm[:, 1], fb.translation_mm[:, 0]], axis=1) / spacing  # (row, col)
    acquired = np.array([a.cine_acquired_mm] * N_PHASES + [a.lge_acquired_mm])
    low = acq.kspace_resample(raster.images.reshape(-1, grid.n, grid.n), n_out, acquired, spacing, shift_px,
                              a.blur_px)
    cine = acq.temporal_blur(low[:N_PHASES], params.motion.temporal_window_ms, params.rr_ms / N_PHASES)
    lge = low[N_PHASES:]

    mid = (n_out - 1) / 2.0
    center = (mid - jitter[1] / spacing, mid + jitter[0] / spacing)
    crop = slice(MARGIN, MARGIN + matrix)
    shading = acq.coil_shading(n_out, spacing, center, a.n_coils, a.coil_angle_deg, a.coil_shading, crop)
    cine = acq.add_ghosts(cine, a.ghost_cine, a.ghost_shift_px, a.phase_encode_axis, pulsatile=True)
    lge = acq.add_ghosts(lge, a.ghost_lge, a.ghost_shift_px, a.phase_encode_axis, pulsatile=False)
    if a.banding is not None:
        b = a.banding
        lung = _block_mean(fractions["lung"].reshape(grid.n, grid.n), n_out)
        cine = cine * acq.banding_factor(n_out, spacing, center, b.depth, b.period_mm, b.angle_deg,
                                         b.phase_rad, b.lung_phase_rad, lung)
    sigma_cine = abs(signals.cine["myocardium"]) / a.snr_cine
    sigma_lge = abs(signals.lge["scar"]) / a.snr_lge
    psir = params.contrast.lge_reconstruction is LgeReconstruction.PSIR
    cine = acq.coil_combine(cine, shading, sigma_cine, rng)
    lge = acq.coil_combine(lge, shading, sigma_lge, rng, signed=psir)
    cine = acq.quantise(cine, a.gain_cine)
    lge = acq.quantise(lge[0], a.gain_lge, signed=psir)

    fractions_out = raster.labels
    labels = _labels(fractions_out, shift_px[:N_PHASES], crop)
    es = es_phase(params)
    lv_center = (center[0] - MARGIN, center[1] - MARGIN)
    truth = slice_truth(params, anatomy, fb, fractions_out, spacing, es, lv_center)
    return _SliceImages(cine=cine[:, crop, crop], lge=lge[crop, crop], labels=labels, truth=truth)


def render_subject(params: SubjectParams, *, matrix: int = 64) -> RenderedSubject:
    """Render every slice of ``params`` (deterministic: same parameters, bit-identical arrays).

    Args:
        params: the subject's parameters (:func:`pscgan.phantom.params.sample_subject`).
        matrix: written in-plane matrix (the crop around the LV).
    """
    if matrix < 16:
        raise ValueError(f"matrix must be at least 16, got {matrix}")
    signals = layer_signals(params)
    rng = np.random.default_rng(params.acquisition.noise_seed)
    geometry = []
    for sl in params.slices:
        anatomy = slice_anatomy(params, sl)
        geometry.append((anatomy, frame_boundaries(params, sl, anatomy)))
    spacing = written_spacing(params, max(lv_reach_mm(params, fb) for _, fb in geometry), matrix)
    slices = [_render_slice(params, sl, anatomy, fb, spacing, signals, matrix, rng)
              for sl, (anatomy, fb) in zip(params.slices, geometry)]
    # display (row, col) -> layout (x, y): transpose the in-plane axes
    cine = np.stack([s.cine.transpose(2, 1, 0) for s in slices], axis=2)
    cine_labels = np.stack([s.labels.transpose(2, 1, 0) for s in slices], axis=2)
    lge = np.stack([s.lge.T for s in slices], axis=2)
    labels = np.ascontiguousarray(cine_labels[:, :, :, 0])
    a = params.acquisition
    truth = {"slices": [s.truth for s in slices],
             "cine_signal": {k: round(v, 6) for k, v in signals.cine.items()},
             "lge_signal": {k: round(v, 6) for k, v in signals.lge.items()},
             "lge_ti_ms": round(signals.ti_ms, 3),
             "cine_scar_contrast_physical": round(signals.cine_scar_contrast_physical, 4)}
    info = SubjectInfo(
        subject_id=params.subject_id, pixel_spacing_mm=(spacing, spacing),
        slice_thickness_mm=a.cine_slice_mm, lge_slice_thickness_mm=a.lge_slice_mm, n_phases=N_PHASES,
        rr_interval_ms=params.rr_ms, ed_phase=0, field_strength_t=params.field_strength_t,
        normal=params.normal,
        slices=[SliceInfo(index=k, level=sl.level, rv_insertion_angle_deg=params.anatomy.theta_a_deg,
                          position_mm=round(sl.depth_fraction * params.anatomy.lv_length_mm, 3))
                for k, sl in enumerate(params.slices)],
        provenance=Provenance(source="phantom", created_by=f"pscgan {__version__}", seed=params.seed,
                              details={"model_version": params.model_version}),
        phantom={"params": params.model_dump(mode="json"), "truth": truth, "matrix": matrix})
    return RenderedSubject(cine=np.ascontiguousarray(cine, np.float32),
                           lge=np.ascontiguousarray(lge, np.float32), labels=labels,
                           cine_labels=np.ascontiguousarray(cine_labels), info=info)
