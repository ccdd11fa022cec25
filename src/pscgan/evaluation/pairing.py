"""Pair a prediction folder with a reference dataset, subject by subject, on the network grid.

The paper's imaging metrics are computed on the 64x64 crops around the LV. The reference subject is
prepared with the same preprocessing as at prediction time (crop located from the cine), and the crop
boxes recorded by the prediction are checked to be the very same, so both sides cover the same pixels.
Its LGE (and labels drawn on the LGE) are registered to the cine end-diastolic frame as the model's
training targets were (:mod:`pscgan.evaluation.reference`); the clinical reference is quantified on the
label volume as stored (a rigid motion changes no area, ratio or transmurality).

A prediction that declares only some parts (:mod:`pscgan.evaluation.parts`, e.g. a baseline without a
synthetic LGE or without a segmentation) pairs too: what it does not define is ``None`` here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pscgan.errors import InputError
from pscgan.evaluation.parts import DefinedParts, partial_prediction_done, read_parts
from pscgan.evaluation.reference import ReferenceProtocol, reference_protocol
from pscgan.preprocessing.record import RegistrationRecord


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


def _prediction_files(pred_dir: Path, sid: str
                      ) -> tuple[dict[str, np.ndarray], list[dict[str, Any]], dict[str, Any] | None, DefinedParts]:
    from pscgan.inference.outputs import CLINICAL_FILE, NETWORK_FILE, RECORDS_FILE

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
                 protocol: ReferenceProtocol | None = None) -> PairedSubject:
    """Load one subject's prediction and prepare its reference the same way.

    Args:
        protocol: how the reference is prepared (default: :func:`reference_protocol` of the folders).
    """
    from pscgan.clinical.quantify import quantify_labels
    from pscgan.data.layout import load_subject
    from pscgan.preprocessing.pipeline import prepare_subject

    protocol = protocol or reference_protocol(pred_dir, ref_dir)
    arrays, records, clinical_pred, parts = _prediction_files(pred_dir, sid)
    subject = load_subject(ref_dir / sid)
    prepared = prepare_subject(subject, protocol.options(frames=frames, crop=crop))
    if len(prepared) != len(records):
        raise InputError(ref_dir / sid, f"has {len(prepared)} slices, the prediction {len(records)}")
    for p, r in zip(prepared, records):
        if p.record.crop.model_dump(mode="json") != r["crop"]:
            raise InputError(pred_dir / sid, f"slice {p.slice_index}: the prediction's crop differs from the "
                                             "reference's; was the cine changed after prediction?")
    labels_pred = arrays["segmentation"] if parts.segmentation else None
    lge_pred = arrays["lge_synthetic"] if parts.synthetic_lge else None
    for out in (labels_pred, lge_pred):
        if out is not None and out.shape != (len(prepared), crop, crop):
            raise InputError(pred_dir / sid, f"network outputs of shape {out.shape} do not match "
                                             f"{len(prepared)} slices of {crop}x{crop}")
    labels_ref = np.stack([p.labels for p in prepared]) if subject.labels is not None else None
    lge_ref = np.stack([p.lge for p in prepared]) if subject.lge is not None else None
    clinical_ref = None
    if subject.labels is not None:
        info = subject.info
        by_index = {s.index: s for s in info.slices}
        n = subject.labels.array.shape[2]
        q = quantify_labels(subject.labels.array, subject.labels.spacing,
                            levels=[by_index[k].level if k in by_index else None for k in range(n)],
                            rv_angles_deg=[by_index[k].rv_insertion_angle_deg if k in by_index else None
                                           for k in range(n)],
                            slice_thickness_mm=info.slice_thickness_mm)
        clinical_ref = q.as_dict()
    return PairedSubject(sid, labels_pred, labels_ref, lge_pred, lge_ref,
                         [tuple(s) for s in arrays["spacing_mm"]], clinical_pred, clinical_ref,
                         arrays["cine"].astype(np.float32), parts, [p.record.registration for p in prepared])


def subjects_to_pair(pred_dir: Path, ref_dir: Path) -> list[str]:
    """Subjects present on both sides; refuses folders that share none, and reports the difference."""
    from pscgan.data.layout import list_subject_folders
    from pscgan.inference.outputs import subject_done

    if not pred_dir.is_dir():
        raise InputError(pred_dir, "prediction folder not found")
    ref = {f.name for f in list_subject_folders(ref_dir)}
    pred = {p.name for p in pred_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
            and (subject_done(pred_dir, p.name) or partial_prediction_done(pred_dir, p.name))}
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
