"""Finding the left-ventricle centre of a short-axis slice, in (row, col) pixels.

From labels: the centroid of blood pool + myocardium (scar included). From the cine alone: the heart is
the part of the image that beats. The amplitude of the first temporal harmonic (``|FFT along time|`` at one
cycle per RR interval) is large where the blood/myocardium border sweeps through a pixel and ~0 on static
tissue, however bright. Smoothed and thresholded it shows the LV as a ring; closing and hole filling turn
the ring into a disc. Each candidate blob is scored by its motion energy times its compactness (solidity
and minor/major axis ratio: the RV is a crescent) times a broad Gaussian weight on its distance from a
prior centre (the image centre, or the subject-level estimate over all slices). The centre returned is
that of the static cavity the winning ring encloses (the hole filled in), which structures attached to
the ring (the RV's beating septal border) do not displace; a blob without a hole gives its centroid.

Example:
    >>> import numpy as np
    >>> t = np.arange(25)[:, None, None]
    >>> rr, cc = np.mgrid[:64, :64]
    >>> radius = 8 - 3 * (1 - np.cos(2 * np.pi * t / 25)) / 2
    >>> frames = (np.hypot(rr - 20, cc - 40) < radius).astype(float)
    >>> found = locate_lv_from_cine(frames, (1.5, 1.5))
    >>> [round(v) for v in found.centre_rc]
    [20, 40]
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from pscgan.labels import Tissue
from pscgan.preprocessing.record import LocalisationRecord


class LocalisationMethod(str, Enum):
    """How the crop centre is chosen."""

    LABELS = "labels"  # label centroid (training data)
    CINE = "cine"  # motion of the cine only
    AUTO = "auto"  # labels when the slice has LV labels, else the cine
    CENTRE = "centre"  # the image centre (data already cropped around the LV)
    DETECTOR = "detector"  # a learned LV detector handed to the pipeline (pscgan.anatomy)


def centre_from_labels(labels: np.ndarray, spacing_rc: tuple[float, float] | None = None
                       ) -> LocalisationRecord | None:
    """Centroid of the blood pool and myocardium (incl. scar) of a ``(rows, cols)`` label map, or None.

    With ``spacing_rc`` the record also gives the LV's size (equivalent diameter of that area, in mm).
    """
    mask = np.isin(labels, (Tissue.BLOOD_POOL, Tissue.MYOCARDIUM, Tissue.SCAR))
    if not mask.any():
        return None
    rows, cols = np.nonzero(mask)
    size = (None if spacing_rc is None
            else float(2.0 * np.sqrt(mask.sum() * spacing_rc[0] * spacing_rc[1] / np.pi)))
    return LocalisationRecord(method="labels", centre_rc=(float(rows.mean()), float(cols.mean())),
                              score=float(mask.sum()), size_mm=size)


def image_centre(shape: tuple[int, int]) -> LocalisationRecord:
    """The geometric centre of a ``(rows, cols)`` grid."""
    return LocalisationRecord(method="centre", centre_rc=((shape[0] - 1) / 2, (shape[1] - 1) / 2))


def motion_map(frames: np.ndarray, spacing_rc: tuple[float, float] = (1.0, 1.0), *,
               smooth_mm: float = 2.0) -> np.ndarray:
    """Amplitude of the first temporal harmonic of ``(time, rows, cols)`` frames, Gaussian-smoothed.

    Intensities are first divided by the frames' 99th percentile so that maps of different slices and
    scanners are comparable.
    """
    from scipy.ndimage import gaussian_filter

    data = np.asarray(frames, dtype=np.float64)
    scale = np.percentile(np.abs(data), 99)
    if scale > 0:
        data = data / scale
    first = np.abs(np.fft.rfft(data, axis=0)[1]) * 2 / data.shape[0]
    # A kernel wider than the image smooths no further (and tiny voxel sizes would make it enormous).
    sigma = [min(smooth_mm / s, n) for s, n in zip(spacing_rc, first.shape)]
    return gaussian_filter(first, sigma=sigma)


def locate_lv_from_cine(frames: np.ndarray, spacing_rc: tuple[float, float] = (1.0, 1.0), *,
                        prior_rc: tuple[float, float] | None = None, threshold: float = 0.3,
                        prior_sigma_mm: float = 60.0,
                        map_: np.ndarray | None = None) -> LocalisationRecord | None:
    """LV centre of one cine slice from its motion, or None when nothing moves.

    Args:
        frames: ``(time, rows, cols)``.
        spacing_rc: pixel spacing (mm).
        prior_rc: where the LV is expected; default the image centre.
        threshold: fraction of the strongest motion that delimits the candidate blobs.
        prior_sigma_mm: width of the distance weight around ``prior_rc``.
        map_: a precomputed :func:`motion_map` of ``frames``.
    """
    motion = motion_map(frames, spacing_rc) if map_ is None else map_
    return locate_in_motion_map(motion, spacing_rc, prior_rc=prior_rc, threshold=threshold,
                                prior_sigma_mm=prior_sigma_mm)


def locate_in_motion_map(motion: np.ndarray, spacing_rc: tuple[float, float], *,
                         prior_rc: tuple[float, float] | None = None, threshold: float = 0.3,
                         prior_sigma_mm: float = 60.0) -> LocalisationRecord | None:
    """The LV centre in a motion map (see :func:`locate_lv_from_cine`)."""
    from scipy import ndimage
    from skimage.measure import regionprops
    from skimage.morphology import disk

    peak = float(motion.max())
    if not np.isfinite(peak) or peak <= 1e-6:
        return None
    mask = motion >= threshold * peak
    # Close gaps in the ring (akinetic scar moves little), then fill it into a disc.
    radius_px = max(1, min(int(round(4.0 / min(spacing_rc))), max(motion.shape)))
    mask = ndimage.binary_closing(np.pad(mask, radius_px), structure=disk(radius_px))[radius_px:-radius_px,
                                                                                     radius_px:-radius_px]
    filled = ndimage.binary_fill_holes(mask)
    labelled, n = ndimage.label(filled)
    if n == 0:
        return None
    holes, _ = ndimage.label(filled & ~mask)  # the static core of a beating ring: the LV cavity
    prior = np.asarray(prior_rc if prior_rc is not None else image_centre(motion.shape).centre_rc)
    best: tuple[float, tuple[float, float]] | None = None
    for region in regionprops(labelled, intensity_image=motion):
        energy = float(region.area * region.intensity_mean)
        major = region.axis_major_length
        axis_ratio = region.axis_minor_length / major if major > 0 else 1.0
        offset_mm = (np.asarray(region.centroid) - prior) * np.asarray(spacing_rc)
        weight = float(np.exp(-0.5 * float(offset_mm @ offset_mm) / prior_sigma_mm**2))
        score = energy * region.solidity * axis_ratio * weight
        if best is None or score > best[0]:
            best = (score, _centre(region, holes))
    assert best is not None
    return LocalisationRecord(method="cine", centre_rc=best[1], score=best[0])


def _centre(region, holes: np.ndarray) -> tuple[float, float]:  # noqa: ANN001 - a skimage RegionProperties
    """Centroid of the largest static hole inside ``region`` (the cavity), else of the region itself.

    Structures touching the LV (the RV's septal border beats too) pull the blob's centroid sideways but
    not the centroid of the cavity the LV's ring encloses.
    """
    r0, c0, r1, c1 = region.bbox
    inside = holes[r0:r1, c0:c1] * region.image
    ids, counts = np.unique(inside[inside > 0], return_counts=True)
    if ids.size == 0:
        return (float(region.centroid[0]), float(region.centroid[1]))
    rows, cols = np.nonzero(inside == ids[np.argmax(counts)])
    return (float(rows.mean() + r0), float(cols.mean() + c0))
