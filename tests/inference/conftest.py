"""Fixtures of the inference tests: DICOM cine series built from the tiny ring subjects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import nibabel as nib
import numpy as np
import pytest


@pytest.fixture
def write_dicom_cine(tiny_ring_dataset: Path, dicom_kit: ModuleType) -> Callable[..., Path]:
    """``write(folder, tags={...})``: the cine of ring subject 3 as a DICOM series (one file per slice and
    phase), every file carrying ``tags`` (DICOM keyword -> value) and, if given, ``edit(ds)`` applied."""
    kit = dicom_kit
    cine = np.asarray(nib.load(str(tiny_ring_dataset / "ring_03" / "cine.nii.gz")).dataobj)

    def write(folder: Path, tags: dict[str, Any] | None = None,
              edit: Callable[[Any], None] | None = None) -> Path:
        folder.mkdir(parents=True)
        positions = kit.slice_positions(cine.shape[2])
        for k in range(cine.shape[2]):
            for t in range(cine.shape[3]):
                ds = kit.make_dataset(np.clip(cine[:, :, k, t].T, 0, 4000).astype(np.uint16),
                                      position=positions[k], spacing_rc=(1.5, 1.5), trigger_ms=t * 150.0,
                                      instance=k * cine.shape[3] + t + 1)
                for keyword, value in (tags or {}).items():
                    setattr(ds, keyword, value)
                if edit is not None:
                    edit(ds)
                ds.save_as(folder / f"IM{k:02d}{t:02d}.dcm", enforce_file_format=True)
        return folder

    return write
