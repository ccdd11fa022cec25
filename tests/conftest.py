"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import numpy as np

from pscgan.data.layout import (
    DatasetManifest,
    Provenance,
    SliceInfo,
    SliceLevel,
    SubjectInfo,
    make_split,
    write_manifest,
    write_subject,
)

os.environ.setdefault("MPLBACKEND", "Agg")

TESTS_DIR = Path(__file__).resolve().parent
EMIDEC_DIR = TESTS_DIR / "data" / "emidec-samples"


@pytest.fixture(scope="session")
def emidec_dir() -> Path:
    """The two real EMIDEC LGE cases shipped with the tests."""
    assert (EMIDEC_DIR / "samplePositive" / "lge.nii.gz").is_file(), "EMIDEC samples missing from tests/data"
    return EMIDEC_DIR


def ring_subject(seed: int, size: int = 72, n_slices: int = 2, n_phases: int = 25, scale: float = 1.0):
    """Arrays (x, y, slice[, time]) of a beating LV ring with a lateral scar, plus noise."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices((size, size))
    cy, cx = size / 2 + rng.uniform(-3, 3) * scale, size / 2 + rng.uniform(-3, 3) * scale
    r = np.hypot(rows - cy, cols - cx) / scale
    cine = np.zeros((size, size, n_slices, n_phases), np.float32)
    labels = np.zeros((size, size, n_slices), np.uint8)
    lge = np.zeros((size, size, n_slices), np.float32)
    for k in range(n_slices):
        for t in range(n_phases):
            endo = 12 - 4 * np.sin(np.pi * t / n_phases) ** 2
            img = np.where(r < endo, 300.0, np.where(r < endo + 6, 100.0, 40.0))
            cine[:, :, k, t] = (img + rng.normal(0, 5, img.shape)).T
        lab = np.where(r < 12, 1, np.where(r < 18, 2, 0)).astype(np.uint8)
        lab[(lab == 2) & (cols > cx + 4)] = 3
        labels[:, :, k] = lab.T
        lge[:, :, k] = np.where(lab == 3, 500.0, np.where(lab == 1, 350.0, 30.0)).T
    return cine, lge, labels


def write_ring_dataset(root, n_subjects: int = 4, **kwargs):
    """A dataset of ring subjects with a seeded 3:1 split (``kwargs`` go to :func:`ring_subject`)."""
    ids = []
    for i in range(n_subjects):
        cine, lge, labels = ring_subject(i, **kwargs)
        sid = f"ring_{i:02d}"
        info = SubjectInfo(subject_id=sid, pixel_spacing_mm=(1.5, 1.5), slice_thickness_mm=8.0,
                           n_phases=cine.shape[3],
                           rr_interval_ms=900.0,
                           slices=[SliceInfo(index=k, level=SliceLevel.MID, rv_insertion_angle_deg=120.0)
                                   for k in range(cine.shape[2])],
                           provenance=Provenance(source="test", created_by="tests"))
        write_subject(root, info, cine=cine, lge=lge, labels=labels)
        ids.append(sid)
    write_manifest(root, DatasetManifest(name="rings", subjects=ids, split=make_split(ids, seed=0)))
    return ids


@pytest.fixture
def ring_dataset(tmp_path):
    """Four 72x72 ring subjects (2 slices, 25 phases) in the canonical layout."""
    root = tmp_path / "rings"
    write_ring_dataset(root)
    return root


@pytest.fixture(scope="session")
def tiny_ring_dataset(tmp_path_factory):
    """Eight small ring subjects (24x24, 2 slices, 6 phases) that the ``tiny`` preset trains on.
    Session-scoped and read-only: tests must not modify it."""
    root = tmp_path_factory.mktemp("tiny") / "rings"
    write_ring_dataset(root, n_subjects=8, size=24, n_phases=6, scale=0.35)
    return root


@pytest.fixture(scope="session")
def tiny_weights(tiny_ring_dataset, tmp_path_factory):
    """Weights of the ``tiny`` preset trained for a few steps on the tiny ring dataset (session-wide)."""
    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides
    from pscgan.training.launch import TrainOptions, run_training

    cfg = apply_overrides(get_preset("tiny"), ["train.steps_per_phase=2"])
    run = tmp_path_factory.mktemp("tiny-run") / "run"
    return run_training(TrainOptions(run=run, data=tiny_ring_dataset, config=cfg, progress=False))
