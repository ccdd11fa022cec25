"""Rigid in-plane registration of the LGE to the cine end-diastolic frame.

Cine (bSSFP: bright blood, grey myocardium) and LGE (inversion recovery: nulled myocardium, bright scar)
have different contrasts, so the similarity is normalised mutual information (NMI, scikit-image), which
only asks that one image's intensities predict the other's. The search is bounded (default 10 mm,
10 degrees: breath-hold differences between the two acquisitions are a few mm, section 4 of the phantom
specification) and runs on a window around the LV:

1. for each rotation on a coarse grid (2.5 degree steps) the translation is estimated by phase
   correlation (``skimage.registration.phase_cross_correlation``) of gradient-magnitude images (edges sit
   at the same places in both contrasts), clipped to the bound, and the pose is scored by NMI;
2. the two best poses are refined by a compass search on NMI (steps of rotation and translation halved from
   1 degree / 1 pixel down to 1/8);
3. the result is kept only when it beats the identity's NMI and lies inside the bounds: a best pose on
   the shift or rotation bound means the search ran into its limit (a larger real motion, or a spurious
   optimum), so the images are kept as they were. Either way the record says why
   (:class:`~pscgan.preprocessing.record.RegistrationOutcome`).

Rotation is about the LV centre, counter-clockwise in the display (up = decreasing row).

Example:
    >>> import numpy as np
    >>> rr, cc = np.mgrid[:96, :96]
    >>> disc, diamond = np.hypot(rr - 48, cc - 48) < 15, np.abs(rr - 30) + np.abs(cc - 70) < 8
    >>> fixed = (disc + 2 * diamond).astype(float)
    >>> moving = apply_rigid(fixed, rigid_record((48.0, 48.0), 4.0, (2.0, -3.0)), order=1)
    >>> rec = register_rigid(moving, fixed, (48.0, 48.0))
    >>> round(rec.rotation_deg), [round(v) for v in rec.shift_rc_px]
    (-4, [-2, 3])
"""

from __future__ import annotations

import numpy as np

from pscgan.preprocessing.record import RegistrationOutcome, RegistrationRecord


def rotation_matrix(angle_deg: float) -> np.ndarray:
    """(row, col) matrix of a counter-clockwise display rotation (up = decreasing row)."""
    a = np.deg2rad(angle_deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def rigid_record(centre_rc: tuple[float, float], rotation_deg: float, shift_rc_px: tuple[float, float],
                 spacing_rc: tuple[float, float] = (1.0, 1.0), *, metric_before: float | None = None,
                 metric_after: float | None = None, applied: bool = True) -> RegistrationRecord:
    """A :class:`RegistrationRecord` for a known transform."""
    return RegistrationRecord(rotation_deg=float(rotation_deg),
                              shift_rc_px=tuple(float(s) for s in shift_rc_px),
                              shift_mm=tuple(float(s) * float(p) for s, p in zip(shift_rc_px, spacing_rc)),
                              centre_rc=tuple(float(c) for c in centre_rc), metric_before=metric_before,
                              metric_after=metric_after, applied=applied)


def transform_points(points_rc: np.ndarray, record: RegistrationRecord) -> np.ndarray:
    """Where the record's transform sends ``(n, 2)`` (row, col) points of the moving image."""
    centre = np.asarray(record.centre_rc)
    moved = (np.asarray(points_rc, dtype=np.float64) - centre) @ rotation_matrix(record.rotation_deg).T
    return moved + centre + np.asarray(record.shift_rc_px)


def apply_rigid(image: np.ndarray, record: RegistrationRecord, *, order: int = 1,
                fill: float | None = None) -> np.ndarray:
    """Move ``image`` (``(..., rows, cols)``) by the record's transform; order 0 for labels.

    Pixels coming from outside the image get ``fill`` (default: the image minimum; 0 for labels).
    """
    from scipy.ndimage import affine_transform

    if not record.applied:
        return image
    rot = rotation_matrix(record.rotation_deg)
    centre = np.asarray(record.centre_rc)
    # affine_transform maps output to input coordinates: p_in = R^T (p_out - c - s) + c.
    matrix = rot.T
    offset = centre - matrix @ (centre + np.asarray(record.shift_rc_px))
    if fill is None:
        fill = 0.0 if order == 0 else float(np.min(image))
    flat = image.reshape((-1,) + image.shape[-2:])
    out = [affine_transform(frame.astype(np.float64) if order else frame, matrix, offset, order=order,
                            mode="constant", cval=fill) for frame in flat]
    return np.stack(out).reshape(image.shape).astype(image.dtype if order == 0 else np.float32)


def register_rigid(moving: np.ndarray, fixed: np.ndarray, centre_rc: tuple[float, float],
                   spacing_rc: tuple[float, float] = (1.0, 1.0), *, max_shift_mm: float = 10.0,
                   max_angle_deg: float = 10.0, window_mm: float = 140.0,
                   bins: int = 32) -> RegistrationRecord:
    """Rigid transform (rotation about ``centre_rc``, then shift) that moves ``moving`` onto ``fixed``.

    Args:
        moving: the LGE slice ``(rows, cols)``.
        fixed: the cine end-diastolic frame, same grid.
        centre_rc: LV centre (rotation centre and window centre).
        spacing_rc: pixel spacing in mm.
        max_shift_mm: bound on the translation length.
        max_angle_deg: bound on the rotation.
        window_mm: side of the square window around the centre that is compared.
        bins: histogram bins of the NMI.
    """
    from pscgan.preprocessing.crop import crop_array, crop_box

    if moving.shape != fixed.shape or moving.ndim != 2:
        raise ValueError(f"moving {moving.shape} and fixed {fixed.shape} must be 2D images on one grid")
    spacing = np.asarray(spacing_rc, dtype=np.float64)
    max_shift_px = max_shift_mm / spacing
    size = int(min(np.ceil(window_mm / spacing.min()), max(fixed.shape)))  # no window beyond the image
    box = crop_box(centre_rc, fixed.shape, size)
    fixed_w = _normalise(crop_array(fixed.astype(np.float64), box, float(fixed.min())))
    moving_w = _normalise(crop_array(moving.astype(np.float64), box, float(moving.min())))
    local_centre = (centre_rc[0] - box.row0, centre_rc[1] - box.col0)
    # Compare only where no pose can pull in pixels from outside the window.
    rr, cc = np.mgrid[:size, :size]
    inner = (size / 2 - np.hypot(*max_shift_px)) * 0.9
    mask = np.hypot(rr - (size - 1) / 2, cc - (size - 1) / 2) < max(inner, size / 4)
    fixed_edges = _edges(fixed_w)

    def score(angle: float, shift: np.ndarray) -> float:
        moved = apply_rigid(moving_w, rigid_record(local_centre, angle, tuple(shift)), order=1)
        return _nmi(fixed_w[mask], moved[mask], bins)

    def with_phase_shift(angle: float) -> tuple[float, np.ndarray, float]:
        rotated = apply_rigid(moving_w, rigid_record(local_centre, angle, (0.0, 0.0)), order=1)
        shift = _clip_shift(_phase_shift(fixed_edges, _edges(rotated)), max_shift_px)
        return score(angle, shift), shift, angle

    identity = _nmi(fixed_w[mask], moving_w[mask], bins)
    coarse = np.arange(-max_angle_deg, max_angle_deg + 1e-9, 2.5)
    starts = sorted((with_phase_shift(a) for a in coarse), key=lambda r: r[0], reverse=True)[:2]
    refined = [_pattern_search(score, start, max_angle_deg, max_shift_px) for start in starts]
    best = max(refined, key=lambda r: r[0])
    value, shift, angle = best
    # NMI is undefined (NaN) when the window holds no structure (e.g. absurd voxel sizes): keep the
    # images as they are and record the similarity as not defined, never as NaN.
    if not (np.isfinite(value) and np.isfinite(identity)):
        outcome = RegistrationOutcome.UNDEFINED_SIMILARITY
    elif value <= identity + 1e-6:
        outcome = RegistrationOutcome.NO_IMPROVEMENT
    elif _at_bound(angle, shift, max_angle_deg, max_shift_px):
        outcome = RegistrationOutcome.AT_BOUND
    else:
        outcome = RegistrationOutcome.APPLIED
    applied = outcome is RegistrationOutcome.APPLIED
    if not applied:
        value, shift, angle = identity, np.zeros(2), 0.0
    finite = lambda v: float(v) if np.isfinite(v) else None  # noqa: E731
    rec = rigid_record(centre_rc, angle, tuple(shift), spacing_rc, metric_before=finite(identity),
                       metric_after=finite(value), applied=applied)
    return rec.model_copy(update={"outcome": outcome})


def _at_bound(angle: float, shift: np.ndarray, max_angle_deg: float, max_shift_px: np.ndarray) -> bool:
    """Whether a pose lies on the rotation bound or on the ellipse of allowed shifts (within rounding)."""
    on_angle = max_angle_deg > 0 and abs(angle) >= max_angle_deg - 1e-6
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.hypot(*(np.asarray(shift) / max_shift_px))
    on_shift = bool(np.all(max_shift_px > 0)) and np.isfinite(norm) and norm >= 1.0 - 1e-6
    return bool(on_angle or on_shift)


def _pattern_search(score, start: tuple[float, np.ndarray, float], max_angle_deg: float,  # noqa: ANN001
                    max_shift_px: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Compass search of (angle, shift) from ``start``: try +-step on each parameter, halve on failure."""
    value, shift, angle = start
    angle_step, shift_step = 1.0, 1.0
    while angle_step >= 0.125:
        moves = [(angle + d, shift) for d in (-angle_step, angle_step)]
        moves += [(angle, shift + np.array(d)) for d in ((-shift_step, 0), (shift_step, 0), (0, -shift_step),
                                                          (0, shift_step))]
        trials = [(score(a, s), s, a) for a, s in moves
                  if abs(a) <= max_angle_deg and np.hypot(*(s / max_shift_px)) <= 1.0]
        candidate = max(trials, key=lambda r: r[0], default=None)
        if candidate is not None and candidate[0] > value + 1e-9:
            value, shift, angle = candidate
        else:
            angle_step, shift_step = angle_step / 2, shift_step / 2
    return value, shift, angle


def _normalise(image: np.ndarray) -> np.ndarray:
    """Smooth and scale to [0, 1]; smoothing keeps interpolation (which smooths) from biasing NMI."""
    from scipy.ndimage import gaussian_filter

    image = gaussian_filter(image, sigma=1.0)
    lo, hi = np.percentile(image, (0.5, 99.5))
    return np.clip((image - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(image)


def _edges(image: np.ndarray) -> np.ndarray:
    from scipy.ndimage import gaussian_gradient_magnitude

    return gaussian_gradient_magnitude(image, sigma=1.0)


def _phase_shift(fixed: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """Shift (rows, cols) that moves ``moving`` onto ``fixed``."""
    from skimage.registration import phase_cross_correlation

    window = np.outer(np.hanning(fixed.shape[0]), np.hanning(fixed.shape[1]))  # no wrap-around edges
    shift, _, _ = phase_cross_correlation(fixed * window, moving * window, upsample_factor=4,
                                          normalization=None)
    return np.asarray(shift, dtype=np.float64)


def _clip_shift(shift: np.ndarray, max_shift_px: np.ndarray) -> np.ndarray:
    """Scale ``shift`` back onto the ellipse of allowed shifts (the bound is a length in mm)."""
    norm = np.hypot(*(shift / max_shift_px))
    return shift / norm if norm > 1 else shift


def _nmi(a: np.ndarray, b: np.ndarray, bins: int) -> float:
    from skimage.metrics import normalized_mutual_information

    return float(normalized_mutual_information(a, b, bins=bins))
