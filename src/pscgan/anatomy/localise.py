"""From the anatomy network's probabilities to one LV per slice: centre, size and confidence.

In each slice the LV is a connected region where blood pool or myocardium is the most probable class.
A stack shows one heart, so the regions are chosen together: first the stack's centre (the area-weighted
median of each slice's largest region, in mm), then in each slice the region that scores highest on area
x mean probability x closeness to that centre. A slice where no region is found (above the base, below
the apex, or a failure) gets the stack centre with confidence 0 and method ``detector-stack``.

The confidence of a slice is the mean LV probability inside its region, multiplied by how much of the
region's myocardium surrounds its blood pool (a closed ring scores 1). The size is the equivalent
diameter of the region (blood pool + myocardium: the epicardium).

Example:
    >>> import numpy as np
    >>> rr, cc = np.mgrid[:60, :60]
    >>> d = np.hypot(rr - 30, cc - 20)
    >>> probs = np.zeros((1, 3, 60, 60), np.float32)
    >>> probs[0, 1] = d < 8
    >>> probs[0, 2] = (d >= 8) & (d < 12)
    >>> probs[0, 0] = 1 - probs[0, 1] - probs[0, 2]
    >>> rec = locate_from_probabilities(probs, (1.0, 1.0))[0]
    >>> [round(v) for v in rec.centre_rc], rec.method, round(rec.confidence, 2), round(rec.size_mm)
    ([30, 20], 'detector', 1.0, 24)
"""

from __future__ import annotations

import numpy as np

from pscgan.anatomy.frames import AnatomyClass
from pscgan.preprocessing.record import LocalisationRecord

STACK_SIGMA_MM = 25.0
MIN_AREA_MM2 = 80.0  # about a 10 mm disc: smaller regions are noise, not an LV


def locate_from_probabilities(probs: np.ndarray, spacing_rc: tuple[float, float]) -> list[LocalisationRecord]:
    """LV of every slice of ``(slice, 3, rows, cols)`` probabilities (see the module docstring)."""
    from scipy import ndimage

    pix_area = float(spacing_rc[0] * spacing_rc[1])
    sp = np.asarray(spacing_rc, np.float64)
    per_slice = []
    for p in probs:
        lv = p.argmax(0) != AnatomyClass.OTHER
        labelled, n = ndimage.label(lv)
        regions = []
        for idx in range(1, n + 1):
            mask = labelled == idx
            area = float(mask.sum()) * pix_area
            if area < MIN_AREA_MM2:
                continue
            rows, cols = np.nonzero(mask)
            prob = float((p[AnatomyClass.BLOOD_POOL] + p[AnatomyClass.MYOCARDIUM])[mask].mean())
            regions.append({"mask": mask, "area": area, "prob": prob,
                            "centre": np.array([rows.mean(), cols.mean()])})
        per_slice.append(regions)
    largest = [max(r, key=lambda x: x["area"] * x["prob"]) for r in per_slice if r]
    if not largest:
        shape = probs.shape[-2:]
        centre = ((shape[0] - 1) / 2, (shape[1] - 1) / 2)
        return [LocalisationRecord(method="detector-stack", centre_rc=centre, confidence=0.0) for _ in probs]
    stack_centre = _weighted_median(np.stack([r["centre"] for r in largest]),
                                    np.array([r["area"] for r in largest]))
    out = []
    for p, regions in zip(probs, per_slice):
        best, best_score = None, 0.0
        for r in regions:
            offset = (r["centre"] - stack_centre) * sp
            score = r["area"] * r["prob"] * float(np.exp(-0.5 * offset @ offset / STACK_SIGMA_MM**2))
            if score > best_score:
                best, best_score = r, score
        if best is None:
            out.append(LocalisationRecord(method="detector-stack", centre_rc=tuple(map(float, stack_centre)),
                                          confidence=0.0))
            continue
        ring = ring_closure(p.argmax(0) * best["mask"])
        out.append(LocalisationRecord(
            method="detector", centre_rc=(float(best["centre"][0]), float(best["centre"][1])),
            score=float(best_score), confidence=float(np.clip(best["prob"] * ring, 0.0, 1.0)),
            size_mm=float(2.0 * np.sqrt(best["area"] / np.pi))))
    return out


def ring_closure(labels: np.ndarray) -> float:
    """Fraction of directions from the blood pool's centre along which myocardium surrounds it (0-1).

    ``labels`` holds anatomy classes. 1 for a closed myocardial ring around the blood pool; lower where
    the ring is open; 0 without blood pool. 72 rays, 5 degrees apart.
    """
    pool = labels == AnatomyClass.BLOOD_POOL
    if not pool.any():
        return 0.0
    myo = labels == AnatomyClass.MYOCARDIUM
    r0, c0 = (float(v.mean()) for v in np.nonzero(pool))
    reach = int(np.hypot(*labels.shape)) + 1
    radii = np.arange(reach, dtype=np.float64)
    hits = 0
    for angle in np.linspace(0.0, 2 * np.pi, 72, endpoint=False):
        rr = np.rint(r0 - radii * np.sin(angle)).astype(int)
        cc = np.rint(c0 + radii * np.cos(angle)).astype(int)
        ok = (rr >= 0) & (rr < labels.shape[0]) & (cc >= 0) & (cc < labels.shape[1])
        hits += bool(myo[rr[ok], cc[ok]].any())
    return hits / 72.0


def _weighted_median(points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-axis weighted median of ``(n, 2)`` points."""
    out = []
    for axis in range(points.shape[1]):
        order = np.argsort(points[:, axis])
        cum = np.cumsum(weights[order])
        out.append(points[order, axis][int(np.searchsorted(cum, cum[-1] / 2.0))])
    return np.array(out)
