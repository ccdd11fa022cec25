"""Synthetic subjects for the report tests: a ring myocardium with a scar sector, a beating-disc cine,
an LGE-like image (bright scar, dark myocardium), predicted labels with the scar sector shifted."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from pscgan.clinical.quantify import quantify_labels
from pscgan.report import SliceView, SubjectReportData

LEVELS = ("basal", "mid", "apical")
SPACING = (1.5, 1.5)
THICKNESS_MM = 8.0


def ring_labels(
    size: int = 64, *, scar_deg: tuple[float, float] | None = (40.0, 110.0), transmural: float = 1.0
) -> np.ndarray:
    """Display-orientation labels: blood pool disc, myocardial ring, scar in a sector (angles in the
    display convention: counter-clockwise from +col, up = decreasing row) from the endocardium outwards."""
    rows, cols = np.indices((size, size))
    c = (size - 1) / 2
    r = np.hypot(rows - c, cols - c) * 64 / size
    r_in, r_out = 10.0, 16.0
    theta = np.degrees(np.arctan2(-(rows - c), cols - c)) % 360
    lab = np.where(r < r_in, 1, np.where(r < r_out, 2, 0)).astype(np.uint8)
    if scar_deg is not None:
        lo, hi = scar_deg
        in_sector = ((theta - lo) % 360) < ((hi - lo) % 360)
        lab[in_sector & (r >= r_in) & (r < r_in + transmural * (r_out - r_in))] = 3
    return lab


def beating_cine(size: int = 64, frames: int = 25, *, seed: int = 0) -> np.ndarray:
    """A bright blood-pool disc whose radius contracts and relaxes once over the frames, in a grey ring."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices((size, size))
    c = (size - 1) / 2
    r = np.hypot(rows - c, cols - c) * 64 / size
    out = np.empty((frames, size, size))
    for t in range(frames):
        squeeze = 0.5 * (1 - np.cos(2 * np.pi * t / frames))  # 0 at ED, 1 at mid-cycle (ES)
        r_in, r_out = 10.0 - 4.0 * squeeze, 16.0 - 1.5 * squeeze
        out[t] = np.where(r < r_in, 900.0, np.where(r < r_out, 300.0, 120.0 + 60 * np.sin(cols / 5.0)))
    return out + rng.normal(0, 20, out.shape)


def lge_image(labels: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """LGE-like image in [-1, 1]: bright scar, dark (nulled) myocardium, grey blood pool."""
    rng = np.random.default_rng(seed)
    values = np.array([-0.4, 0.2, -0.85, 0.8])[labels]
    return np.clip(values + rng.normal(0, 0.06, labels.shape), -1, 1)


def make_subject(
    subject_id: str = "S01",
    *,
    n_slices: int = 3,
    size: int = 64,
    frames: int = 25,
    with_reference: bool = True,
    scar_deg: tuple[float, float] | None = (40.0, 110.0),
    shift_deg: float = 15.0,
    seed: int = 0,
    details: dict[str, str] | None = None,
) -> SubjectReportData:
    """A subject whose predicted scar sector is shifted by ``shift_deg`` and ``shift_deg`` wider."""
    ref_slices = [ring_labels(size, scar_deg=scar_deg, transmural=1.0 - 0.3 * k) for k in range(n_slices)]
    pred_deg = None if scar_deg is None else (scar_deg[0] + shift_deg, scar_deg[1] + 2 * shift_deg)
    pred_slices = [ring_labels(size, scar_deg=pred_deg, transmural=1.0 - 0.3 * k) for k in range(n_slices)]
    levels = list(LEVELS[:n_slices]) if n_slices <= 3 else [None] * n_slices
    views = [
        SliceView(
            index=k,
            level=levels[k],
            spacing_mm=SPACING,
            cine=beating_cine(size, frames, seed=seed + k),
            lge_synthetic=lge_image(pred_slices[k], seed=seed + 10 + k),
            lge_reference=lge_image(ref_slices[k], seed=seed + 20 + k) if with_reference else None,
            labels_predicted=pred_slices[k],
            labels_reference=ref_slices[k] if with_reference else None,
        )
        for k in range(n_slices)
    ]

    def quantify(stack: list[np.ndarray]):
        vol = np.stack([s.T for s in stack], axis=-1)  # display (row, col) -> layout (x, y, slice)
        return quantify_labels(vol, (*SPACING, THICKNESS_MM), levels=levels, rv_angles_deg=[120.0] * n_slices)

    metrics = (
        {
            "dice_overall": 0.9 - 0.01 * shift_deg / 5,
            "dice_scar": max(0.0, 1 - shift_deg / 70),
            "ssim": 0.8,
            "psnr_db": 24.5,
        }
        if with_reference
        else None
    )
    return SubjectReportData(
        subject_id=subject_id,
        slices=views,
        predicted=quantify(pred_slices),
        reference=quantify(ref_slices) if with_reference else None,
        imaging_metrics=metrics,
        details=details if details is not None else {"scanner": "phantom", "field strength": "1.5 T"},
    )


def make_cohort() -> list[SubjectReportData]:
    """Six subjects (small, one slice each): different scar errors, one without reference."""
    subjects = [
        make_subject(
            f"C{i:02d}",
            n_slices=1,
            size=32,
            frames=4,
            shift_deg=s,
            seed=i,
            scar_deg=(40.0 + 15 * i, 100.0 + 25 * i),
        )
        for i, s in enumerate([5.0, 40.0, 0.0, 20.0, 60.0])
    ]
    subjects.append(make_subject("C99-noref", n_slices=1, size=32, frames=4, with_reference=False))
    return subjects


@pytest.fixture(scope="session")
def synth() -> SimpleNamespace:
    """The builders above, for tests that need their own variant (tests import no helper modules)."""
    return SimpleNamespace(
        ring_labels=ring_labels,
        beating_cine=beating_cine,
        lge_image=lge_image,
        make_subject=make_subject,
        make_cohort=make_cohort,
    )


@pytest.fixture(scope="session")
def subject() -> SubjectReportData:
    return make_subject()


@pytest.fixture(scope="session")
def cohort() -> list[SubjectReportData]:
    return make_cohort()
