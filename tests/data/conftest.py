"""A tiny dataset in the canonical layout, made by the tests (beating rings with a scar sector)."""

from __future__ import annotations

import numpy as np
import pytest

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


def ring_subject(seed: int, size: int = 72, n_slices: int = 2, n_phases: int = 25):
    """Arrays (x, y, slice[, time]) of a beating LV ring with a lateral scar, plus noise."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices((size, size))
    cy, cx = size / 2 + rng.uniform(-3, 3), size / 2 + rng.uniform(-3, 3)
    r = np.hypot(rows - cy, cols - cx)
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


def write_ring_dataset(root, n_subjects: int = 4):
    ids = []
    for i in range(n_subjects):
        cine, lge, labels = ring_subject(i)
        sid = f"ring_{i:02d}"
        info = SubjectInfo(subject_id=sid, pixel_spacing_mm=(1.5, 1.5), slice_thickness_mm=8.0, n_phases=25,
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
    root = tmp_path / "rings"
    write_ring_dataset(root)
    return root
