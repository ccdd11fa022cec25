"""Datasets for the phantom validation tests.

``generated_cohort``: a small cohort from the phantom generator, made once per test session.

``toy_dataset`` / ``make_toy``: a hand-made dataset in the canonical layout with analytically known
geometry, motion and contrast (rings whose endocardium moves radially, an akinetic subendocardial scar
sector, piecewise-constant intensities plus a little noise), so that the validation's measurements can be
checked against known values independently of the phantom generator.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from pscgan.data.layout import (
    DatasetManifest,
    Provenance,
    SliceInfo,
    SliceLevel,
    SubjectInfo,
    write_manifest,
    write_subject,
)

SPACING = 1.5
N_PHASES = 25
ES_PHASE = 12
THETA_A = 120.0
SCAR_SECTOR = (THETA_A, THETA_A + 100.0)  # all of mid segment 8, two thirds of 9
SCAR_DEPTH = 0.6                          # fraction of the wall, from the endocardium
GAMMA = 0.15
TOY_CONTRAST = {"cine": {"other": 60.0, "blood": 300.0, "myo": 100.0, "scar": 95.0},
                "lge": {"other": 30.0, "blood": 100.0, "myo": 5.0, "scar": 125.0}}
GEOMETRY = {"basal": (26.0, 7.5), "mid": (24.0, 7.0), "apical": (15.0, 6.0)}  # R_endo ED, wall (mm)


def _phase_labels(level: str, normal: bool, p: float, center: tuple[float, float]) -> np.ndarray:
    """Display-orientation label map of a slice at contraction ``p`` (0 at ED, 1 at ES)."""
    r_ed, wall = GEOMETRY[level]
    area_ratio = 0.45 if normal else 0.60  # blood-pool area ES / ED of moving wall
    rows, cols = np.indices((64, 64), dtype=float)
    theta = np.mod(np.degrees(np.arctan2(-(rows - center[0]), cols - center[1])), 360.0)
    r = np.hypot(rows - center[0], cols - center[1]) * SPACING
    in_sector = np.mod(theta - SCAR_SECTOR[0], 360.0) < SCAR_SECTOR[1] - SCAR_SECTOR[0]
    scarred = (not normal) and level != "apical"
    a = np.where(in_sector & scarred, 0.0, 1.0)  # akinetic scar, normal motion elsewhere
    r_endo = r_ed - a * p * r_ed * (1.0 - np.sqrt(area_ratio))
    r_epi = np.sqrt(r_endo**2 + (1.0 + GAMMA * a * p) * ((r_ed + wall) ** 2 - r_ed**2))
    labels = np.zeros((64, 64), np.uint8)
    labels[r < r_epi] = 2
    labels[r < r_endo] = 1
    if scarred:
        labels[in_sector & (r >= r_endo) & (r < r_endo + SCAR_DEPTH * (r_epi - r_endo))] = 3
    return labels


def _render(labels: np.ndarray, table: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    values = np.array([table["other"], table["blood"], table["myo"], table["scar"]])
    return np.clip(values[labels] + rng.normal(0.0, 3.0, labels.shape), 0.0, None)


def _truth(level: str, normal: bool, labels_ed: np.ndarray, labels_es: np.ndarray) -> dict:
    area = SPACING**2
    segs = {"basal": range(1, 7), "mid": range(7, 13), "apical": range(13, 17)}[level]
    trans = {str(s): 0.0 for s in segs}
    if not normal and level != "apical":
        first = 2 if level == "basal" else 8
        trans[str(first)], trans[str(first + 1)] = SCAR_DEPTH, SCAR_DEPTH * 40.0 / 60.0
    r_ed, wall = GEOMETRY[level]
    return {"scar_area_mm2": float(np.sum(labels_ed == 3) * area),
            "myocardium_area_mm2": float(np.sum(labels_ed >= 2) * area),
            "blood_pool_area_mm2_ed": float(np.sum(labels_ed == 1) * area),
            "blood_pool_area_mm2_es": float(np.sum(labels_es == 1) * area),
            "es_phase": ES_PHASE, "transmurality_by_segment": trans,
            "scar_segments": sorted(int(s) for s, v in trans.items() if v > 0),
            "cine_scar_contrast": TOY_CONTRAST["cine"]["scar"] / TOY_CONTRAST["cine"]["myo"] - 1.0,
            "wall_thickness_mm_ed": {s: wall for s in trans}}


def make_toy_dataset(root: Path, n_subjects: int = 4, *, seed: int = 0, contrast: dict | None = None) -> Path:
    """Write ``n_subjects`` toy subjects (every other one normal) with basal, mid and apical slices."""
    contrast = contrast or TOY_CONTRAST
    rng = np.random.default_rng(seed)
    levels = ("basal", "mid", "apical")
    ids = []
    for i in range(n_subjects):
        normal = i % 2 == 1
        sid = f"toy{i:02d}"
        cine = np.zeros((64, 64, 3, N_PHASES), np.float32)
        cine_labels = np.zeros((64, 64, 3, N_PHASES), np.uint8)
        lge = np.zeros((64, 64, 3), np.float32)
        truths = []
        for k, level in enumerate(levels):
            center = (31.5 + rng.uniform(-2, 2), 31.5 + rng.uniform(-2, 2))
            frames = [_phase_labels(level, normal, float(np.sin(np.pi * t / N_PHASES) ** 2 / np.sin(
                np.pi * ES_PHASE / N_PHASES) ** 2), center) for t in range(N_PHASES)]
            for t, lab in enumerate(frames):
                cine_labels[:, :, k, t] = lab.T
                cine[:, :, k, t] = _render(lab, contrast["cine"], rng).T
            lge[:, :, k] = _render(frames[0], contrast["lge"], rng).T
            truths.append(_truth(level, normal, frames[0], frames[ES_PHASE]))
        info = SubjectInfo(subject_id=sid, pixel_spacing_mm=(SPACING, SPACING), slice_thickness_mm=8.0,
                           n_phases=N_PHASES, rr_interval_ms=1000.0, field_strength_t=1.5, normal=normal,
                           slices=[SliceInfo(index=k, level=SliceLevel(lv), rv_insertion_angle_deg=THETA_A)
                                   for k, lv in enumerate(levels)],
                           provenance=Provenance(source="phantom", created_by="tests"),
                           phantom={"params": {"ef": 0.65 if normal else 0.45}, "truth": {"slices": truths}})
        write_subject(root, info, cine=cine, lge=lge, labels=cine_labels[:, :, :, 0], cine_labels=cine_labels)
        ids.append(sid)
    write_manifest(root, DatasetManifest(name="toy", subjects=ids))
    return root


@pytest.fixture(scope="session")
def toy_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four toy subjects (two normal), written once per session."""
    return make_toy_dataset(tmp_path_factory.mktemp("toy"))


@pytest.fixture
def make_toy() -> Callable[..., Path]:
    return make_toy_dataset


@pytest.fixture
def toy_contrast() -> dict:
    return TOY_CONTRAST


@pytest.fixture(scope="session")
def generated_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small cohort from the phantom generator (10 subjects, two of them normal), made once per session."""
    from pscgan.phantom.cohort import CohortOptions, generate_cohort

    out = tmp_path_factory.mktemp("cohort") / "phantom"
    generate_cohort(out, CohortOptions(n_subjects=10, seed=0), workers=1, progress=False)
    return out
