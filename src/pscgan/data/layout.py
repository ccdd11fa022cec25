"""The canonical dataset layout (one folder per subject, a root ``dataset.json``).

::

    DATASET/
      dataset.json            labels, subjects, split (DatasetManifest)
      SUBJECT_ID/
        cine.nii.gz           float32 (x, y, slice, time)  contrast-free bSSFP cine
        lge.nii.gz            float32 (x, y, slice)        LGE, same slices as the cine (see registration
        below)
        labels.nii.gz         uint8   (x, y, slice)        0 other, 1 LV blood pool, 2 healthy myo, 3 scar
        subject.json          SubjectInfo: spacing, thickness, slice levels, RV insertion angles, provenance
        cine_labels.nii.gz    optional uint8 (x, y, slice, time): per-phase labels (the phantom writes them)

``lge`` and ``labels`` are optional at prediction time.

Registration: the paper registers the LGE to the cine end-diastolic frame before training and scoring
(section 6.1); preprocessing does it per slice (``PreprocessOptions.register_lge``), so ``lge.nii.gz``
may hold the LGE as acquired. Whether the labels move with it depends on where they were drawn, which is
a property of the dataset: ``dataset.json`` ``labels_geometry`` (:class:`LabelGeometry`) is ``"lge"``
for labels drawn on the LGE (clinical practice, EMIDEC: they move with the LGE) or ``"cine"`` for labels
in the cine's end-diastolic geometry (the pscgan phantom: they stay). The field is optional; where a
dataset does not say, :func:`labels_geometry_of` resolves it: ``"cine"`` for a dataset the pscgan phantom
generator wrote, ``"lge"`` otherwise.

What the labels annotate is a property of the dataset too: ``dataset.json`` ``annotated``
(:class:`Annotated`) lists the classes its label maps tell apart. ``["lv_blood_pool", "myocardium"]``
(Sunnybrook, ACDC, anatomy-only contours) means label 2 is the whole myocardium, scar not distinguished,
and no label 3; ``["lv_blood_pool", "myocardium", "scar"]`` is the full encoding. Absent, it is resolved
from the data (:mod:`pscgan.data.annotation`).

In-plane display orientation: the 2D image of
slice ``k`` is ``volume[:, :, k].T`` (rows follow y, columns follow x), shown with row 0 at the top.
Network arrays use the same orientation, ``(time, row, col)``. Angles (RV insertion, AHA segments)
are measured counter-clockwise from the +column direction with "up" meaning decreasing row, i.e.
``theta = atan2(-(row - cy), col - cx)``; short axis seen from the apex, anterior up, lateral right.

Example:
    >>> ids = [f"s{i:03d}" for i in range(8)]
    >>> split = make_split(ids, test_fraction=0.25, seed=0)
    >>> len(split["train"]), len(split["test"])
    (6, 2)
"""

from __future__ import annotations

import os
import random
import shutil
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pscgan.errors import InputError, OutputExistsError
from pscgan.io.atomic import safe_child, write_json_atomic
from pscgan.io.image import ImageVolume
from pscgan.io.nifti import read_nifti, write_nifti
from pscgan.labels import LABEL_NAMES

SCHEMA_VERSION = 1
CINE_FILE = "cine.nii.gz"
LGE_FILE = "lge.nii.gz"
LABELS_FILE = "labels.nii.gz"
CINE_LABELS_FILE = "cine_labels.nii.gz"
SUBJECT_FILE = "subject.json"
MANIFEST_FILE = "dataset.json"


class SliceLevel(str, Enum):
    """Short-axis slice level (AHA model: basal segments 1-6, mid 7-12, apical 13-16)."""

    BASAL = "basal"
    MID = "mid"
    APICAL = "apical"


class LabelGeometry(str, Enum):
    """Where a dataset's label maps were drawn, i.e. whether they move when the LGE is registered."""

    LGE = "lge"    # drawn on the LGE (clinical practice, EMIDEC): registered together with it
    CINE = "cine"  # in the cine's end-diastolic geometry (the pscgan phantom): left where they are


class Annotated(str, Enum):
    """A class a dataset's label maps annotate (``dataset.json`` ``annotated``)."""

    LV_BLOOD_POOL = "lv_blood_pool"  # label 1
    MYOCARDIUM = "myocardium"        # label 2: the whole myocardium, unless scar is annotated too
    SCAR = "scar"                    # label 3, told from healthy myocardium (label 2)


class _Model(BaseModel):
    # numbers are finite; the typed ones below are strict too ("8" is not a number, true is not 1)
    model_config = ConfigDict(extra="forbid", use_enum_values=False, allow_inf_nan=False)


# Bounds far above any scanner's, so that no value sums or indexes to something silently wrong (a slice
# thickness of 1e308 makes every volume inf).
_MM = typing.Annotated[float, Field(strict=True, gt=0.0, le=1e3)]  # a pixel spacing or slice thickness
_INDEX = typing.Annotated[int, Field(strict=True, ge=0, le=100_000)]


class SliceInfo(_Model):
    """Per-slice metadata."""

    index: _INDEX = Field(description="slice index along the third axis of the volumes")
    level: SliceLevel
    rv_insertion_angle_deg: float | None = Field(
        default=None, strict=True, ge=-3600.0, le=3600.0,
        description="anterior RV insertion angle, degrees ccw from +column, up = -row")
    position_mm: float | None = Field(default=None, strict=True, ge=-1e5, le=1e5,
                                      description="position along the long axis, if known")


class Provenance(_Model):
    """Where a subject's data came from."""

    source: str = Field(description="'phantom', 'nifti', 'dicom', 'npz', ...")
    created_by: str = Field(description="software and version that wrote the folder")
    seed: int | None = Field(default=None, strict=True, ge=-(2**63), lt=2**64)
    details: dict[str, Any] = Field(default_factory=dict)


class SubjectInfo(_Model):
    """Content of ``subject.json``."""

    schema_version: int = Field(SCHEMA_VERSION, strict=True, ge=1, le=SCHEMA_VERSION)
    subject_id: str
    pixel_spacing_mm: tuple[_MM, _MM]
    slice_thickness_mm: _MM
    lge_slice_thickness_mm: _MM | None = None
    n_phases: int = Field(strict=True, ge=1, le=10_000)
    rr_interval_ms: float | None = Field(default=None, strict=True, gt=0.0, le=1e5)
    ed_phase: int = Field(default=0, strict=True, ge=0, le=10_000)
    field_strength_t: float | None = Field(default=None, strict=True, gt=0.0, le=100.0)
    normal: bool | None = Field(
        default=None, strict=True, description="True for a subject without ischaemic heart disease"
    )
    slices: list[SliceInfo]
    provenance: Provenance
    phantom: dict[str, Any] | None = Field(default=None, description="phantom parameters and ground truth")

    @field_validator("pixel_spacing_mm")
    @classmethod
    def _positive_spacing(cls, v: tuple[float, float]) -> tuple[float, float]:
        if any(not np.isfinite(s) or s <= 0 for s in v):
            raise ValueError(f"pixel spacing must be positive, got {v}")
        return v

    @model_validator(mode="after")
    def _ed_phase_within(self) -> SubjectInfo:
        if self.ed_phase >= self.n_phases:
            raise ValueError(f"ed_phase {self.ed_phase} is not one of the {self.n_phases} phases (0 to "
                             f"{self.n_phases - 1})")
        return self

    @field_validator("subject_id")
    @classmethod
    def _safe_id(cls, v: str) -> str:
        safe_child(Path("."), v)
        return v

    @field_validator("slices")
    @classmethod
    def _slices_by_index(cls, v: list[SliceInfo]) -> list[SliceInfo]:
        # readers look slices up by index; a file listing them out of order is sorted, never read by position
        indices = [s.index for s in v]
        duplicated = sorted({k for k in indices if indices.count(k) > 1})
        if duplicated:
            raise ValueError(f"slice indices must be unique, got {duplicated} more than once")
        return sorted(v, key=lambda s: s.index)

    def slice_metadata(self, n_slices: int) -> tuple[list[str | None], list[float | None]]:
        """The level and the RV insertion angle of slices ``0 .. n_slices - 1`` of the volumes, by slice
        index (None for a slice this file does not describe): the one way to read them.

        Example:
            >>> info = SubjectInfo(subject_id="s", pixel_spacing_mm=(1.5, 1.5), slice_thickness_mm=8.0,
            ...                    n_phases=25, provenance=Provenance(source="nifti", created_by="test"),
            ...                    slices=[SliceInfo(index=2, level="apical"),
            ...                            SliceInfo(index=0, level="basal")])
            >>> info.slice_metadata(3)
            (['basal', None, 'apical'], [None, None, None])
        """
        by_index = {s.index: s for s in self.slices}
        levels = [by_index[k].level.value if k in by_index else None for k in range(n_slices)]
        angles = [by_index[k].rv_insertion_angle_deg if k in by_index else None for k in range(n_slices)]
        return levels, angles


class DatasetManifest(_Model):
    """Content of the root ``dataset.json`` (in the spirit of nnU-Net's)."""

    schema_version: int = Field(SCHEMA_VERSION, strict=True, ge=1, le=SCHEMA_VERSION)
    name: str
    description: str = ""
    labels: dict[str, int] = Field(default_factory=lambda: dict(LABEL_NAMES))
    files: dict[str, str] = Field(default_factory=lambda: {
        "cine": CINE_FILE, "lge": LGE_FILE, "labels": LABELS_FILE, "subject": SUBJECT_FILE})
    subjects: list[str]
    split: dict[str, list[str]] = Field(default_factory=dict)
    provenance: dict[str, Any] = Field(default_factory=dict)
    labels_geometry: LabelGeometry | None = Field(
        default=None, description="where the labels were drawn ('lge' or 'cine'); None: resolved by "
                                  "labels_geometry_of (a dataset that does not say)")
    annotated: list[Annotated] | None = Field(
        default=None, description="the classes the label maps annotate, e.g. ['lv_blood_pool', 'myocardium'] "
                                  "(label 2 is the whole myocardium, no scar class); None: resolved from the "
                                  "data (pscgan.data.annotation)")

    @field_validator("annotated")
    @classmethod
    def _annotated_classes(cls, v: list[Annotated] | None) -> list[Annotated] | None:
        if v is None:
            return v
        if len(set(v)) != len(v):
            raise ValueError(f"lists a class twice: {[a.value for a in v]}")
        if Annotated.SCAR in v and Annotated.MYOCARDIUM not in v:
            raise ValueError("'scar' is told from healthy myocardium, so it needs 'myocardium' too")
        return sorted(v, key=list(Annotated).index)

    @field_validator("subjects")
    @classmethod
    def _safe_subjects(cls, v: list[str]) -> list[str]:
        for name in v:  # names become folder paths: ``../escape`` or ``/etc`` must not leave the dataset
            safe_child(Path("."), name)
        return v

    @field_validator("split")
    @classmethod
    def _split_by_subject(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for ids in v.values():
            cls._safe_subjects(ids)
        seen: set[str] = set()
        for part, ids in v.items():
            overlap = seen.intersection(ids)
            if overlap:
                raise ValueError(f"subjects in more than one split part (split must be by subject): "
                                 f"{sorted(overlap)[:5]} (part {part!r})")
            seen.update(ids)
        return v


@dataclass
class Subject:
    """A subject folder loaded into memory."""

    folder: Path
    info: SubjectInfo
    cine: ImageVolume
    lge: ImageVolume | None
    labels: ImageVolume | None
    cine_labels: ImageVolume | None = None


def make_split(subject_ids: list[str], *, test_fraction: float = 0.25, seed: int = 0) -> dict[str, list[str]]:
    """Subject-level random split into ``train`` and ``test`` (never by slice)."""
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError("test_fraction must be in [0, 1)")
    ids = sorted(subject_ids)
    random.Random(seed).shuffle(ids)
    n_test = int(round(len(ids) * test_fraction))
    return {"train": sorted(ids[n_test:]), "test": sorted(ids[:n_test])}


def _load_json(path: Path) -> Any:
    from pscgan.io.jsonfile import read_json

    return read_json(path, expect=dict, what=path.name)


def _format_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def read_subject_info(folder: str | Path) -> SubjectInfo:
    """Read and validate ``subject.json`` in ``folder``."""
    path = Path(folder) / SUBJECT_FILE
    try:
        return SubjectInfo.model_validate(_load_json(path))
    except ValidationError as exc:
        raise InputError(path, f"invalid subject metadata: {_format_validation(exc)}") from None


def read_manifest(root: str | Path) -> DatasetManifest:
    """Read and validate ``dataset.json`` in ``root``."""
    path = Path(root) / MANIFEST_FILE
    try:
        manifest = DatasetManifest.model_validate(_load_json(path))
    except ValidationError as exc:
        raise InputError(path, f"invalid dataset manifest: {_format_validation(exc)}") from None
    unknown = set(manifest.subjects).symmetric_difference(
        {s for ids in manifest.split.values() for s in ids}) if manifest.split else set()
    if unknown:
        raise InputError(path, f"split and subject list disagree on {sorted(unknown)[:5]}")
    return manifest


PHANTOM_SOURCE = "phantom"


def labels_geometry_of(
    manifest: DatasetManifest | None, subjects: Sequence[SubjectInfo] = ()
) -> LabelGeometry:
    """Where a dataset's labels were drawn: the manifest's ``labels_geometry``, or, when it has none
    (the field is optional), :attr:`LabelGeometry.CINE` for a dataset the pscgan
    phantom generator wrote (provenance source ``"phantom"`` in ``dataset.json``, or in every
    ``subject.json`` of a dataset without one) and :attr:`LabelGeometry.LGE` otherwise.

    Example:
        >>> labels_geometry_of(DatasetManifest(name="d", subjects=[], provenance={"source": "phantom"})).value
        'cine'
        >>> labels_geometry_of(DatasetManifest(name="d", subjects=[])).value
        'lge'
    """
    if manifest is not None:
        if manifest.labels_geometry is not None:
            return manifest.labels_geometry
        return (
            LabelGeometry.CINE if manifest.provenance.get("source") == PHANTOM_SOURCE else LabelGeometry.LGE
        )
    phantom = bool(subjects) and all(s.provenance.source == PHANTOM_SOURCE for s in subjects)
    return LabelGeometry.CINE if phantom else LabelGeometry.LGE


def dataset_labels_geometry(root: str | Path) -> LabelGeometry:
    """:func:`labels_geometry_of` a dataset folder (its ``dataset.json``, else its ``subject.json`` files)."""
    root = Path(root)
    if (root / MANIFEST_FILE).is_file():
        return labels_geometry_of(read_manifest(root))
    return labels_geometry_of(None, [read_subject_info(f) for f in list_subject_folders(root)])


def write_manifest(root: str | Path, manifest: DatasetManifest) -> None:
    """Write ``dataset.json`` atomically."""
    write_json_atomic(Path(root) / MANIFEST_FILE, manifest.model_dump(mode="json"))


def load_subject(folder: str | Path, *, require_lge: bool = False, require_labels: bool = False) -> Subject:
    """Load a subject folder and check that its files agree with each other and with ``subject.json``.

    Raises:
        InputError: naming the file and the problem (missing file, wrong dimensions, geometry mismatch).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "subject folder not found")
    info = read_subject_info(folder)
    cine = read_nifti(folder / CINE_FILE, ndim=4)
    x, y, n_slices, n_phases = cine.array.shape
    if n_phases < 2:
        raise InputError(
            folder / CINE_FILE, f"cine has {n_phases} phase; at least 2 are needed to see motion"
        )
    if n_phases != info.n_phases:
        raise InputError(folder / CINE_FILE, f"has {n_phases} phases but {SUBJECT_FILE} says {info.n_phases}")
    if len(info.slices) != n_slices:
        raise InputError(folder / SUBJECT_FILE,
                         f"describes {len(info.slices)} slices but {CINE_FILE} has {n_slices}")
    lge = _optional(folder / LGE_FILE, require_lge, ndim=3, dtype=np.float32)
    labels = _optional(folder / LABELS_FILE, require_labels, ndim=3, dtype=None)
    cine_labels = _optional(folder / CINE_LABELS_FILE, False, ndim=4, dtype=None)
    for name, vol in ((LGE_FILE, lge), (LABELS_FILE, labels)):
        if vol is not None and vol.array.shape != (x, y, n_slices):
            raise InputError(folder / name, f"shape {vol.array.shape} does not match the cine's "
                                            f"(x, y, slice) = {(x, y, n_slices)}")
    if labels is not None:
        arr = labels.array
        if np.issubdtype(arr.dtype, np.floating) and not np.all(arr == np.round(arr)):
            raise InputError(folder / LABELS_FILE, "label map holds non-integer values")
        if arr.min() < 0 or arr.max() > 3:
            raise InputError(
                folder / LABELS_FILE,
                f"label values must be 0..3, found {int(arr.min())}..{int(arr.max())}"
                " (EMIDEC maps: convert with pscgan.labels.from_emidec)",
            )
        labels.array = arr.astype(np.uint8)
    if cine_labels is not None:
        cine_labels.array = cine_labels.array.astype(np.uint8)
    return Subject(folder=folder, info=info, cine=cine, lge=lge, labels=labels, cine_labels=cine_labels)


def _optional(path: Path, required: bool, *, ndim: int, dtype: Any) -> ImageVolume | None:
    if path.is_file():
        return read_nifti(path, ndim=ndim, dtype=dtype)
    if required:
        raise InputError(path, "file not found (required here)")
    return None


def write_subject(root: str | Path, info: SubjectInfo, *, cine: np.ndarray, lge: np.ndarray | None = None,
                  labels: np.ndarray | None = None, cine_labels: np.ndarray | None = None,
                  affine: np.ndarray | None = None, overwrite: bool = False) -> Path:
    """Write one subject folder under ``root`` atomically (all files appear together or not at all).

    Args:
        root: dataset folder.
        info: the subject's metadata; ``info.subject_id`` names the folder.
        cine: ``(x, y, slice, time)`` float array.
        lge: ``(x, y, slice)`` float array.
        labels: ``(x, y, slice)`` integer array with values 0..3.
        cine_labels: ``(x, y, slice, time)`` per-phase labels.
        affine: voxel-to-world matrix; default diagonal from the spacing and slice thickness.
        overwrite: replace an existing subject folder.

    Returns:
        The subject folder.
    """
    root = Path(root)
    final = safe_child(root, info.subject_id)
    if final.exists() and not overwrite:
        raise OutputExistsError(final, "subject folder exists; pass --overwrite to replace it")
    if cine.ndim != 4:
        raise ValueError(f"cine must be (x, y, slice, time), got shape {cine.shape}")
    spacing = (*info.pixel_spacing_mm, info.slice_thickness_mm)
    step = info.rr_interval_ms / info.n_phases if info.rr_interval_ms else None
    tmp = root / f".{info.subject_id}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        write_nifti(
            tmp / CINE_FILE, cine.astype(np.float32), spacing=spacing, affine=affine, time_step_ms=step
        )
        if lge is not None:
            write_nifti(tmp / LGE_FILE, lge.astype(np.float32), spacing=spacing, affine=affine)
        if labels is not None:
            write_nifti(tmp / LABELS_FILE, labels.astype(np.uint8), spacing=spacing, affine=affine)
        if cine_labels is not None:
            write_nifti(tmp / CINE_LABELS_FILE, cine_labels.astype(np.uint8), spacing=spacing, affine=affine,
                        time_step_ms=step)
        write_json_atomic(tmp / SUBJECT_FILE, info.model_dump(mode="json"))
        if final.exists():
            old = root / f".{info.subject_id}.old"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def subject_id_problem(folder: Path, info: SubjectInfo) -> str | None:
    """Why ``folder`` cannot hold the subject ``info`` describes (its name must be the ``subject_id``:
    training and evaluation find subjects by id), or None."""
    if info.subject_id != folder.name:
        return (f"subject_id {info.subject_id!r} differs from its folder's name {folder.name!r}; rename the "
                "folder or correct subject_id")
    return None


def check_subject_ids(root: str | Path) -> None:
    """Refuse a dataset with a subject folder whose name is not its ``subject_id``.

    Raises:
        InputError: naming the subject's ``subject.json``.
    """
    for folder in list_subject_folders(root):
        problem = subject_id_problem(folder, read_subject_info(folder))
        if problem:
            raise InputError(folder / SUBJECT_FILE, problem)


def list_subject_folders(root: str | Path) -> list[Path]:
    """Subject folders of a dataset: those named in ``dataset.json`` if present, else every folder
    holding a ``subject.json``."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "dataset folder not found")
    if (root / MANIFEST_FILE).is_file():
        manifest = read_manifest(root)
        folders = [safe_child(root, s) for s in manifest.subjects]
        missing = [f.name for f in folders if not f.is_dir()]
        if missing:
            raise InputError(root / MANIFEST_FILE, f"lists subjects with no folder: {missing[:5]}")
        return folders
    folders = sorted(p for p in root.iterdir() if p.is_dir() and (p / SUBJECT_FILE).is_file())
    if not folders:
        raise InputError(root, f"no subject folders (folders holding {SUBJECT_FILE}) found")
    return folders
