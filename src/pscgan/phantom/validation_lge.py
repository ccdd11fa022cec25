"""LGE intensity distributions of the phantom beside real LGE cases (EMIDEC layout).

Normalisation: each slice is mapped affinely so that the median of its healthy-myocardium interior
becomes 0 and the median of its blood-pool interior becomes 1, ``(I - m_myo) / (m_blood - m_myo)``.
An affine map is needed because real files need not store zero signal at zero: the shipped EMIDEC
samples are phase-sensitive reconstructions stored with an offset (air and nulled myocardium near 2050
of 4095), so a plain ratio to the blood pool would compare offsets, not contrast. The two anchors are the
tissues present on every short-axis LGE slice. Per tissue (blood pool, healthy myocardium, scar), the
normalised intensities of all pixels of every slice are pooled and compared with the 1-Wasserstein
distance (:func:`scipy.stats.wasserstein_distance`) and medians. For scale, the same distance between
the reference cases themselves is reported: two real patients differ too.

Reference layout: one folder per case holding ``lge.nii.gz`` and ``labels.nii.gz`` with the EMIDEC label
encoding (0 background, 1 cavity, 2 normal myocardium, 3 infarction, 4 no-reflow; no-reflow counts as scar).
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
from scipy.stats import wasserstein_distance

from pscgan.errors import InputError
from pscgan.io.nifti import read_nifti
from pscgan.labels import Tissue, from_emidec
from pscgan.phantom.validation_measure import MIN_PIXELS, interior

TISSUES = {"blood": Tissue.BLOOD_POOL, "myocardium": Tissue.MYOCARDIUM, "scar": Tissue.SCAR}
Samples = dict[str, np.ndarray]


def slice_samples(image: np.ndarray, labels: np.ndarray) -> Samples | None:
    """Normalised intensities per tissue of one slice (myocardium median 0, blood median 1); ``None`` when the
    slice lacks enough blood-pool or myocardium interior, or its blood is not brighter than its myocardium."""
    wall = np.isin(labels, (Tissue.MYOCARDIUM, Tissue.SCAR))
    blood = interior(labels == Tissue.BLOOD_POOL)
    myo = interior(labels == Tissue.MYOCARDIUM, wall)
    if blood.sum() < MIN_PIXELS or myo.sum() < MIN_PIXELS:
        return None
    zero, one = float(np.median(image[myo])), float(np.median(image[blood]))
    if one <= zero:
        return None
    return {name: (image[labels == value].astype(np.float64) - zero) / (one - zero)
            for name, value in TISSUES.items()}


def merge_samples(parts: list[Samples]) -> Samples:
    """Concatenate per-slice samples tissue by tissue."""
    return {name: np.concatenate([p[name] for p in parts]) if parts else np.empty(0) for name in TISSUES}


def volume_samples(lge: np.ndarray, labels: np.ndarray) -> Samples:
    """Samples of every usable slice of an ``(x, y, slice)`` LGE volume with pscgan labels."""
    parts = [slice_samples(lge[:, :, k], labels[:, :, k]) for k in range(lge.shape[2])]
    return merge_samples([p for p in parts if p is not None])


def _reference_cases(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise InputError(folder, "reference folder not found")
    cases = sorted(p for p in folder.iterdir()
                   if (p / "lge.nii.gz").is_file() and (p / "labels.nii.gz").is_file())
    if not cases:
        raise InputError(folder, "no reference cases (sub-folders holding lge.nii.gz and labels.nii.gz) "
                                 "found")
    return cases


def reference_samples(folder: str | Path) -> dict[str, Samples]:
    """Normalised LGE samples of each reference case, by case name."""
    out = {}
    for case in _reference_cases(Path(folder)):
        lge = read_nifti(case / "lge.nii.gz").array
        raw = read_nifti(case / "labels.nii.gz", dtype=None).array
        try:
            labels = from_emidec(raw)
        except ValueError as exc:
            raise InputError(case / "labels.nii.gz", f"not an EMIDEC label map ({exc})") from None
        if lge.shape != labels.shape:
            raise InputError(case / "labels.nii.gz",
                             f"shape {labels.shape} differs from the LGE's {lge.shape}")
        out[case.name] = volume_samples(lge, labels)
    return out


def _distance(a: np.ndarray, b: np.ndarray) -> float | None:
    return float(wasserstein_distance(a, b)) if a.size >= MIN_PIXELS and b.size >= MIN_PIXELS else None


def _median(a: np.ndarray) -> float | None:
    return float(np.median(a)) if a.size else None


def compare_lge(phantom: Samples, reference: dict[str, Samples]) -> dict:
    """Per tissue: medians (phantom, pooled reference, each case), the phantom-reference 1-Wasserstein
    distance, and the largest distance between two reference cases for scale."""
    pooled = merge_samples(list(reference.values()))
    out: dict = {"normalisation": "(I - myocardium median) / (blood median - myocardium median) per slice",
                 "cases": sorted(reference), "tissues": {}}
    for name in TISSUES:
        pairs = combinations(reference.values(), 2)
        between = [d for a, b in pairs if (d := _distance(a[name], b[name])) is not None]
        out["tissues"][name] = {
            "phantom_median": _median(phantom[name]), "reference_median": _median(pooled[name]),
            "phantom_pixels": int(phantom[name].size), "reference_pixels": int(pooled[name].size),
            "reference_case_medians": {c: _median(s[name]) for c, s in reference.items()},
            "wasserstein_phantom_vs_reference": _distance(phantom[name], pooled[name]),
            "wasserstein_between_reference_cases": max(between) if between else None,
        }
    return out
