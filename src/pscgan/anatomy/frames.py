"""Frames the anatomy network learns from and reads: a frame, a motion channel and (for training) labels.

The network reads two channels on a fixed in-plane grid (``spacing_mm``, 1.5 mm by default): the frame
to segment, scaled per slice so its 1st and 99th percentiles map to -1 and +1, and a motion channel,
``|frame - partner|`` of the two scaled frames, where the partner is the frame of the cycle most different
from it. For an ACDC stack the pair is (ED, ES); for a cine, (ED, the phase farthest from ED), found by
:func:`partner_phase`. Both directions are used in training, each with the labels of its first frame.

Labels are the anatomy classes :class:`AnatomyClass` (0 other, 1 LV blood pool, 2 myocardium, scar
included): the network does not tell scar from healthy myocardium.

Example:
    >>> import numpy as np
    >>> t = np.arange(20)[:, None, None]
    >>> rr, cc = np.mgrid[:40, :40]
    >>> cine = (np.hypot(rr - 20, cc - 20) < 8 - 3 * np.sin(np.pi * t / 20)).astype(float)
    >>> partner_phase(cine)
    10
    >>> pair = frame_pair(cine[0], cine[10], (1.5, 1.5), spacing_mm=3.0)
    >>> pair.shape, pair.dtype.name
    ((2, 20, 20), 'float32')
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import cast

import numpy as np

from pscgan.errors import InputError
from pscgan.labels import Tissue
from pscgan.preprocessing.intensity import ConstantImageError, scale_intensity
from pscgan.preprocessing.spatial import resample_inplane

PERCENTILES = (1.0, 99.0)


class AnatomyClass(IntEnum):
    """Classes of the anatomy network."""

    OTHER = 0
    BLOOD_POOL = 1
    MYOCARDIUM = 2  # healthy or scar: the anatomy network does not tell them apart


def anatomy_labels(tissue: np.ndarray) -> np.ndarray:
    """pscgan tissue labels (0-3, :class:`pscgan.labels.Tissue`) to anatomy classes (scar -> myocardium)."""
    out = np.zeros(tissue.shape, np.uint8)
    out[tissue == Tissue.BLOOD_POOL] = AnatomyClass.BLOOD_POOL
    out[np.isin(tissue, (Tissue.MYOCARDIUM, Tissue.SCAR))] = AnatomyClass.MYOCARDIUM
    return out


def acdc_labels(acdc: np.ndarray) -> np.ndarray:
    """ACDC label values (0 background, 1 RV cavity, 2 LV myocardium, 3 LV cavity) to anatomy classes."""
    out = np.zeros(acdc.shape, np.uint8)
    out[acdc == 3] = AnatomyClass.BLOOD_POOL
    out[acdc == 2] = AnatomyClass.MYOCARDIUM
    return out


def scale_frame(frame: np.ndarray) -> np.ndarray:
    """One frame scaled so that its percentiles :data:`PERCENTILES` map to -1 and +1 (clipped)."""
    try:
        scaled, _ = scale_intensity(np.asarray(frame, np.float32), PERCENTILES)
    except ConstantImageError:  # a blank frame: nothing to see, but not an error for the network
        return np.full(np.shape(frame), -1.0, np.float32)
    return scaled.astype(np.float32)


def partner_phase(frames: np.ndarray, ed_phase: int = 0) -> int:
    """The phase of ``(time, rows, cols)`` frames that differs most from ``ed_phase`` (end-systole, as a
    rule).

    Over a whole short-axis field of view in a breath-hold cine, the heart is what changes most, so the
    phase with the largest mean absolute difference from end-diastole is the end-systolic one or close to
    it, without knowing where the heart is.
    """
    scaled = np.stack([scale_frame(f) for f in np.asarray(frames)])
    diffs = np.abs(scaled - scaled[ed_phase]).mean(axis=(1, 2))
    diffs[ed_phase] = -1.0
    return int(np.argmax(diffs))


def frame_pair(frame: np.ndarray, partner: np.ndarray, spacing_rc: tuple[float, float], *,
               spacing_mm: float) -> np.ndarray:
    """The network's two input channels for ``frame`` ``(rows, cols)`` on the ``spacing_mm`` grid."""
    a, b = (frame_on_grid(f, spacing_rc, spacing_mm=spacing_mm) for f in (frame, partner))
    return pair_channels(a, b)


def frame_on_grid(frame: np.ndarray, spacing_rc: tuple[float, float], *, spacing_mm: float) -> np.ndarray:
    """One frame scaled (:func:`scale_frame`) and resampled onto the ``spacing_mm`` grid."""
    out, _ = resample_inplane(scale_frame(frame), spacing_rc, spacing_mm, order=1)
    return np.ascontiguousarray(out, dtype=np.float32)


def pair_channels(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(2, rows, cols)``: frame ``a`` and the motion channel ``|a - b| - 1`` (also in [-1, 1])."""
    return np.stack([a, np.abs(a - b) - 1.0]).astype(np.float32)


def labels_on_grid(labels: np.ndarray, spacing_rc: tuple[float, float], *, spacing_mm: float) -> np.ndarray:
    """Anatomy labels ``(rows, cols)`` resampled (nearest neighbour) onto the ``spacing_mm`` grid."""
    out, _ = resample_inplane(labels, spacing_rc, spacing_mm, order=0)
    return np.ascontiguousarray(out, dtype=np.uint8)


@dataclass
class TrainingFrame:
    """One training example: ``(2, rows, cols)`` inputs and ``(rows, cols)`` anatomy labels on the grid."""

    subject: str
    source: str
    inputs: np.ndarray
    labels: np.ndarray


@dataclass
class PairedSlice:
    """Two frames of one slice on the network's grid (scaled) and the labels of one or both.

    It gives one training example per labelled frame (:meth:`training_frames`).
    """

    subject: str
    source: str
    first: np.ndarray
    second: np.ndarray
    labels_first: np.ndarray
    labels_second: np.ndarray | None = None

    def training_frames(self) -> list[TrainingFrame]:
        """(first, second) with the first's labels, and (second, first) when the second is labelled."""
        out = [TrainingFrame(self.subject, f"{self.source}:a", pair_channels(self.first, self.second),
                             self.labels_first)]
        if self.labels_second is not None:
            out.append(TrainingFrame(self.subject, f"{self.source}:b", pair_channels(self.second, self.first),
                                     self.labels_second))
        return out


def training_frames(slices: list[PairedSlice]) -> list[TrainingFrame]:
    """Every training example of ``slices``."""
    return [frame for s in slices for frame in s.training_frames()]


def acdc_slices(root: str | Path, patients: list[str], *, spacing_mm: float) -> Iterator[PairedSlice]:
    """ED/ES slices of ACDC patients (the ``acdc-edes`` folder layout, see its README), both labelled.

    Slices whose labels hold no LV are kept: the network must also learn to find nothing.
    """
    import nibabel as nib

    root = Path(root)
    for patient in patients:
        folder = root / patient
        try:
            vols = {name: cast(nib.Nifti1Image, nib.load(folder / f"{name}.nii.gz"))
                    for name in ("ed", "es", "ed_labels", "es_labels")}
            ed, es = (vols[n].get_fdata(dtype=np.float32) for n in ("ed", "es"))
            lab = {n: np.asarray(vols[f"{n}_labels"].dataobj) for n in ("ed", "es")}
        except (OSError, ValueError) as exc:
            raise InputError(folder, f"cannot read the ACDC ED/ES stacks: {exc}") from None
        zooms = vols["ed"].header.get_zooms()
        spacing_rc = (float(zooms[1]), float(zooms[0]))  # arrays are (x, y, slice); display is (y, x)
        for k in range(ed.shape[2]):
            grid = {n: frame_on_grid(v[:, :, k].T, spacing_rc, spacing_mm=spacing_mm) for n, v in
                    (("ed", ed), ("es", es))}
            labels = {n: labels_on_grid(acdc_labels(lab[n][:, :, k].T), spacing_rc, spacing_mm=spacing_mm)
                      for n in ("ed", "es")}
            yield PairedSlice(patient, f"{patient}[{k}]", grid["ed"], grid["es"], labels["ed"], labels["es"])


def dataset_slices(root: str | Path, subjects: list[str], *, spacing_mm: float) -> Iterator[PairedSlice]:
    """Slices of subjects of a pscgan dataset (canonical layout) that have labels.

    The labelled end-diastolic frame with its partner phase (:func:`partner_phase`); where the dataset
    also has per-phase labels (the phantom's ``cine_labels``), the partner is labelled too.
    """
    from pscgan.data.layout import load_subject

    root = Path(root)
    for sid in subjects:
        subject = load_subject(root / sid, require_labels=True)
        assert subject.labels is not None  # required above
        labels = subject.labels.array
        cine = subject.cine.array  # (x, y, slice, time)
        ed = subject.info.ed_phase
        spacing_rc = (float(subject.cine.spacing[1]), float(subject.cine.spacing[0]))
        per_phase = _phase_labels(root / sid, cine.shape)
        for k in range(cine.shape[2]):
            frames = cine[:, :, k, :].T  # (time, rows, cols)
            partner = partner_phase(frames, ed)

            def grid_labels(tissue: np.ndarray) -> np.ndarray:
                return labels_on_grid(anatomy_labels(np.rint(tissue).astype(np.int16)), spacing_rc,
                                      spacing_mm=spacing_mm)

            yield PairedSlice(
                sid, f"{sid}[{k}]", frame_on_grid(frames[ed], spacing_rc, spacing_mm=spacing_mm),
                frame_on_grid(frames[partner], spacing_rc, spacing_mm=spacing_mm),
                grid_labels(labels[:, :, k].T),
                None if per_phase is None else grid_labels(per_phase[:, :, k, partner].T))


def _phase_labels(folder: Path, cine_shape: tuple[int, ...]) -> np.ndarray | None:
    """The phantom's per-phase labels ``(x, y, slice, time)``, when present and of the cine's shape."""
    import nibabel as nib

    path = folder / "cine_labels.nii.gz"
    if not path.is_file():
        return None
    arr = np.asarray(cast(nib.Nifti1Image, nib.load(path)).dataobj)
    return arr if arr.shape == tuple(cine_shape) else None


def save_slices(path: str | Path, slices: list[PairedSlice]) -> None:
    """Pack slices into one ``.npz`` (frames quantised to 8 bits, LZMA-compressed), written atomically.

    Frames lie in [-1, 1]; 8 bits keep them to within 0.004, below the noise of any MR frame.
    """
    import lzma

    from pscgan.io.atomic import atomic_path

    if not slices:
        raise ValueError("no slices to save")
    def packed(arrays: list[np.ndarray]) -> np.ndarray:
        raw = np.concatenate([a.ravel() for a in arrays]).tobytes()
        return np.frombuffer(lzma.compress(raw, preset=6), np.uint8)

    def q(a: np.ndarray) -> np.ndarray:
        return np.rint((a + 1.0) * 127.5).clip(0, 255).astype(np.uint8)

    arrays = {
        "shapes": np.array([s.labels_first.shape for s in slices], np.int32),
        "frames": packed([q(a) for s in slices for a in (s.first, s.second)]),
        "labels": packed([a for s in slices for a in (s.labels_first, s.labels_second
                                                      if s.labels_second is not None
                                                      else np.full(s.labels_first.shape, 255, np.uint8))]),
        "subjects": np.array([s.subject for s in slices]),
        "sources": np.array([s.source for s in slices]),
    }
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        # numpy's stub reads **arrays as its allow_pickle argument
        np.savez(fh, **arrays)  # type: ignore[arg-type]


def load_slices(path: str | Path) -> list[PairedSlice]:
    """Read slices written by :func:`save_slices`.

    Raises:
        InputError: naming the file when it is not such a pack.
    """
    import lzma
    import zipfile

    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            shapes = data["shapes"]
            frames = np.frombuffer(lzma.decompress(data["frames"].tobytes()), np.uint8)
            labels = np.frombuffer(lzma.decompress(data["labels"].tobytes()), np.uint8)
            subjects, sources = data["subjects"].tolist(), data["sources"].tolist()
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as exc:
        raise InputError(path, f"not a slice pack written by pscgan: {exc}") from None
    sizes = shapes.prod(axis=1) if shapes.ndim == 2 else np.zeros(0, np.int64)
    total = 2 * int(sizes.sum())
    if (shapes.ndim != 2 or frames.shape != (total,) or labels.shape != (total,)
            or len(subjects) != len(shapes) or len(sources) != len(shapes)):
        raise InputError(path, "inconsistent slice pack (array sizes disagree)")
    out, start = [], 0
    for (rows, cols), subject, source in zip(shapes.tolist(), subjects, sources):
        n = rows * cols
        f = frames[start:start + 2 * n].reshape(2, rows, cols).astype(np.float32) / 127.5 - 1.0
        lab = labels[start:start + 2 * n].reshape(2, rows, cols)
        out.append(PairedSlice(str(subject), str(source), f[0], f[1], lab[0].copy(),
                               None if (lab[1] == 255).all() else lab[1].copy()))
        start += 2 * n
    return out
