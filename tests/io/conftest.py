"""Synthetic DICOM series for the reader tests (pydicom), written to a temporary folder."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

#: An oblique short-axis orientation: row direction, column direction (unit vectors, LPS).
OBLIQUE_IOP = (0.8, 0.6, 0.0, -0.36, 0.48, 0.8)
PATIENT_NAME = "Doe^Jane"


def make_dataset(pixels: np.ndarray, *, position: np.ndarray, iop: tuple[float, ...] = OBLIQUE_IOP,
                 spacing_rc: tuple[float, float] = (1.5, 1.25), trigger_ms: float | None = None,
                 instance: int = 1, series_uid: str = "1.2.3.4", slope: float = 1.0, intercept: float = 0.0,
                 nominal_interval: float | None = 1000.0) -> Any:
    """One MR image dataset holding ``pixels`` (uint16, rows x cols) and patient identifiers to be dropped."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    sop_uid = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, sop_uid
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = PATIENT_NAME, "PID-4711", "19700101"
    ds.Modality = "MR"
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = "1.2.3", series_uid, "1.2.3.9"
    ds.SeriesDescription = "sax cine"
    ds.InstanceNumber = instance
    ds.Rows, ds.Columns = pixels.shape
    ds.PixelSpacing = [f"{v:g}" for v in spacing_rc]
    ds.SliceThickness = "8"
    ds.ImageOrientationPatient = [f"{v:g}" for v in iop]
    ds.ImagePositionPatient = [f"{v:.4f}" for v in position]
    if trigger_ms is not None:
        ds.TriggerTime = f"{trigger_ms:g}"
    if nominal_interval is not None:
        ds.NominalInterval = f"{nominal_interval:g}"
    ds.RescaleSlope, ds.RescaleIntercept = f"{slope:g}", f"{intercept:g}"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = np.ascontiguousarray(pixels, dtype=np.uint16).tobytes()
    return ds


def slice_positions(n_slices: int, *, iop: tuple[float, ...] = OBLIQUE_IOP, gap_mm: float = 10.0,
                    origin: tuple[float, float, float] = (-100.0, 20.0, 50.0)) -> list[np.ndarray]:
    normal = np.cross(np.asarray(iop[:3]), np.asarray(iop[3:]))
    return [np.asarray(origin) + k * gap_mm * normal for k in range(n_slices)]


@pytest.fixture
def write_series(tmp_path: Path) -> Callable[..., tuple[Path, np.ndarray]]:
    """Write a (slices, phases, rows, cols) uint16 stack as one file per image, in shuffled order.

    Returns the folder and the pixel stack. ``edit(ds, slice, phase)`` may alter each dataset.
    """

    def write(images: np.ndarray | None = None, *, folder: str = "series", phase_step_ms: float | None = 40.0,
              edit: Callable[[Any, int, int], Any] | None = None, seed: int = 0,
              **kwargs: Any) -> tuple[Path, np.ndarray]:
        if images is None:
            rng = np.random.default_rng(seed)
            images = rng.integers(0, 4000, size=(2, 20, 12, 10), dtype=np.uint16)
        out = tmp_path / folder
        out.mkdir(parents=True, exist_ok=True)
        n_slices, n_phases = images.shape[:2]
        positions = slice_positions(n_slices, iop=kwargs.get("iop", OBLIQUE_IOP))
        order = [(k, t) for k in range(n_slices) for t in range(n_phases)]
        random.Random(seed).shuffle(order)
        for i, (k, t) in enumerate(order):
            ds = make_dataset(images[k, t], position=positions[k],
                              trigger_ms=None if phase_step_ms is None else t * phase_step_ms,
                              instance=k * n_phases + t + 1, **kwargs)
            if edit is not None:
                ds = edit(ds, k, t)
                if ds is None:
                    continue
            ds.save_as(out / f"S{seed}IM{i:04d}.dcm", enforce_file_format=True)
        return out, images

    return write


@pytest.fixture
def dicom_kit() -> SimpleNamespace:
    """The helpers above, for tests that build datasets by hand."""
    return SimpleNamespace(make_dataset=make_dataset, slice_positions=slice_positions,
                           oblique_iop=OBLIQUE_IOP, patient_name=PATIENT_NAME)
