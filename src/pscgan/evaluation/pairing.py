"""Pair a prediction folder with a reference dataset, subject by subject, on the network grid.

The paper's imaging metrics are computed on the 64x64 crops around the LV. The reference subject is
prepared on the geometry the prediction recorded for each slice (its in-plane resampling and crop box,
however the LV was found), so both sides cover the same pixels.
Its LGE (and labels drawn on the LGE) are registered to the cine end-diastolic frame as the model's
training targets were (:mod:`pscgan.evaluation.reference`); the clinical reference is quantified on the
label volume as stored (a rigid motion changes no area, ratio or transmurality).

A reference that annotates only some classes (:mod:`pscgan.data.annotation`: e.g. blood pool and
myocardium, no scar) pairs too: its label maps are checked to hold nothing else, and its clinical
reference has no scar quantities (``scar_annotated`` False). The reference is quantified over the slices
the prediction's quality check assessed (:mod:`pscgan.clinical.quality`), so that predicted and reference
scar totals cover the same slices.

A prediction that declares only some parts (:mod:`pscgan.evaluation.parts`, e.g. a baseline without a
synthetic LGE or without a segmentation) pairs too: what it does not define is ``None`` here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pscgan.data.annotation import DatasetAnnotation, check_labels, dataset_annotation
from pscgan.data.predictions import CLINICAL_FILE, NETWORK_FILE, RECORDS_FILE
from pscgan.errors import InputError
from pscgan.evaluation.parts import DefinedParts, prediction_done, read_parts
from pscgan.evaluation.reference import ReferenceProtocol, reference_protocol
from pscgan.preprocessing.record import RegistrationRecord, SliceRecord


@dataclass
class PairedSubject:
    """Prediction and reference of one subject, on the network grid and as clinical results."""

    subject_id: str
    labels_pred: np.ndarray | None   # (S, H, W); None when the prediction has no segmentation
    labels_ref: np.ndarray | None    # (S, H, W)
    lge_pred: np.ndarray | None      # (S, H, W) in [-1, 1]; None when it has no synthetic LGE
    lge_ref: np.ndarray | None       # (S, H, W) in [-1, 1]
    spacing_rc: list[tuple[float, float]]
    clinical_pred: dict[str, Any] | None  # None without a segmentation
    clinical_ref: dict[str, Any] | None
    cine: np.ndarray                 # (S, T, H, W) network input, for reports
    parts: DefinedParts = field(default_factory=DefinedParts)
    registration: list[RegistrationRecord | None] = field(default_factory=list)  # per slice of the reference
    scar_annotated: bool = True      # the reference labels tell scar from healthy myocardium

    @property
    def n_slices_not_assessed(self) -> int:
        """Slices the prediction's quality check did not assess."""
        slices = self.clinical_pred["slices"] if self.clinical_pred is not None else []
        return sum(1 for s in slices if s.get("quality") is not None and not s["quality"]["assessed"])


def _prediction_files(
    pred_dir: Path, sid: str
) -> tuple[dict[str, np.ndarray], list[dict[str, Any]], dict[str, Any] | None, DefinedParts]:
    folder = pred_dir / sid
    parts = read_parts(folder)
    needed = (NETWORK_FILE, RECORDS_FILE) + ((CLINICAL_FILE,) if parts.segmentation else ())
    for f in needed:
        if not (folder / f).is_file():
            raise InputError(folder / f, "prediction file missing (was `pscgan predict` interrupted?)")
    from pscgan.evaluation.prediction_files import read_clinical, read_network_arrays, read_records

    arrays = read_network_arrays(folder / NETWORK_FILE)
    for key, wanted in (("segmentation", parts.segmentation), ("lge_synthetic", parts.synthetic_lge)):
        if wanted and key not in arrays:
            raise InputError(folder / NETWORK_FILE, f"holds no {key!r} array, which the prediction declares")
    clinical = read_clinical(folder / CLINICAL_FILE) if parts.segmentation else None
    return arrays, read_records(folder / RECORDS_FILE), clinical, parts


def pair_subject(pred_dir: Path, ref_dir: Path, sid: str, *, frames: int, crop: int,
                 protocol: ReferenceProtocol | None = None, annotation: DatasetAnnotation | None = None
                 ) -> PairedSubject:
    """Load one subject's prediction and prepare its reference the same way.

    Args:
        protocol: how the reference is prepared (default: :func:`reference_protocol` of the folders).
        annotation: what the reference annotates (default: :func:`dataset_annotation` of ``ref_dir``).

    Raises:
        InputError: the files disagree, or the reference labels hold a class the dataset does not annotate.
    """
    from pscgan.clinical.quality import SliceQuality
    from pscgan.clinical.quantify import quantify_labels
    from pscgan.data.layout import LABELS_FILE, load_subject
    from pscgan.preprocessing.pipeline import prepare_subject

    protocol = protocol or reference_protocol(pred_dir, ref_dir)
    annotation = annotation or dataset_annotation(ref_dir)
    arrays, records, clinical_pred, parts = _prediction_files(pred_dir, sid)
    subject = load_subject(ref_dir / sid)
    if subject.labels is not None:
        check_labels(subject.labels.array, annotation, ref_dir / sid / LABELS_FILE)
    geometry = _recorded_geometry(pred_dir / sid, records)
    if subject.cine.array.shape[2] != len(geometry):
        raise InputError(ref_dir / sid, f"has {subject.cine.array.shape[2]} slices, the prediction "
                                        f"{len(geometry)}")
    shape_rc = (subject.cine.array.shape[1], subject.cine.array.shape[0])
    if any(tuple(g.original_shape_rc) != shape_rc for g in geometry):
        described = tuple(geometry[0].original_shape_rc)
        raise InputError(pred_dir / sid / RECORDS_FILE,
                         f"field original_shape_rc: the records describe slices of {described} pixels, the "
                         f"reference cine has {shape_rc}: not the cine this prediction was made from")
    prepared = prepare_subject(subject, protocol.options(frames=frames, crop=crop), geometry=geometry)
    labels_pred = arrays["segmentation"] if parts.segmentation else None
    lge_pred = arrays["lge_synthetic"] if parts.synthetic_lge else None
    for out in (labels_pred, lge_pred):
        if out is not None and out.shape != (len(prepared), crop, crop):
            raise InputError(pred_dir / sid, f"network outputs of shape {out.shape} do not match "
                                             f"{len(prepared)} slices of {crop}x{crop}")
    # every prepared slice has labels (an LGE) when the subject has them
    labels_ref = (np.stack([p.labels for p in prepared if p.labels is not None])
                  if subject.labels is not None else None)
    lge_ref = np.stack([p.lge for p in prepared if p.lge is not None]) if subject.lge is not None else None
    clinical_ref = None
    if subject.labels is not None:
        info = subject.info
        n = subject.labels.array.shape[2]
        levels, angles = info.slice_metadata(n)
        checked = {sl["index"]: sl.get("quality") for sl in (clinical_pred or {}).get("slices", [])}
        quality = [SliceQuality.from_dict(checked[k]) if checked.get(k) else None for k in range(n)]
        q = quantify_labels(subject.labels.array, subject.labels.spacing, quality=quality,
                            scar_annotated=annotation.scar, levels=levels, rv_angles_deg=angles,
                            slice_thickness_mm=info.slice_thickness_mm)
        clinical_ref = q.as_dict()
    return PairedSubject(sid, labels_pred, labels_ref, lge_pred, lge_ref,
                         [tuple(s) for s in arrays["spacing_mm"]], clinical_pred, clinical_ref,
                         arrays["cine"].astype(np.float32), parts, [p.record.registration for p in prepared],
                         scar_annotated=annotation.scar)


def _recorded_geometry(folder: Path, records: Any) -> list[SliceRecord]:
    """The prediction's slice records, validated and in slice order."""
    from pydantic import ValidationError

    try:
        out = [SliceRecord.model_validate(r) for r in records]
    except (ValidationError, TypeError) as exc:
        raise InputError(folder / RECORDS_FILE, f"not a list of slice records: {exc}") from None
    if [r.slice_index for r in out] != list(range(len(out))):
        raise InputError(folder / RECORDS_FILE, "slice records are not in slice order 0, 1, ...")
    return out


def subjects_to_pair(pred_dir: Path, ref_dir: Path) -> list[str]:
    """Subjects present on both sides; refuses folders that share none, and reports the difference."""
    from pscgan.data.layout import list_subject_folders

    if not pred_dir.is_dir():
        raise InputError(pred_dir, "prediction folder not found")
    ref = {f.name for f in list_subject_folders(ref_dir)}
    pred = {p.name for p in pred_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
            and prediction_done(pred_dir, p.name)}
    if not pred:
        raise InputError(pred_dir, "holds no finished subject predictions")
    both = sorted(pred & ref)
    if not both:
        raise InputError(pred_dir, f"no subject in common with {ref_dir} (predicted e.g. {sorted(pred)[:3]}, "
                                   f"reference e.g. {sorted(ref)[:3]})")
    missing = sorted(pred - ref)
    if missing:
        raise InputError(pred_dir, f"predicted subjects with no reference in {ref_dir}: {missing[:5]}")
    return both
