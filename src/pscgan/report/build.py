"""Reports from a prediction folder (and, when given, the reference dataset).

``OUT/index.html`` is the cohort report; ``OUT/subjects/<id>.html`` one page per subject. With a
reference dataset the pages show the acquired LGE and the reference segmentation beside the
predictions, and the cohort page the agreement statistics; without one, predictions only.

Privacy: the pages show subject names (the prediction's folder names) and numbers, never patient
identifiers, unless ``keep_identifiers`` is asked for; then the identifiers a prediction kept
(``identifiers.json``, written by ``pscgan predict --keep-identifiers``) are shown in the subject pages.

Example:
    >>> # build_reports(Path("pred"), Path("phantom-test"), Path("report"))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pscgan.clinical.quantify import Quantification
from pscgan.data.predictions import CLINICAL_FILE, IDENTIFIERS_FILE, NETWORK_FILE
from pscgan.errors import InputError
from pscgan.evaluation.parts import prediction_done, read_parts
from pscgan.evaluation.prediction_files import read_clinical, read_network_arrays
from pscgan.io.atomic import prepare_output_dir, safe_child
from pscgan.report.data import SliceView, SubjectReportData


def _views(cine: np.ndarray, lge_pred: np.ndarray | None, labels_pred: np.ndarray | None, spacing: Any,
           clinical: dict[str, Any] | None, lge_ref: np.ndarray | None = None,
           labels_ref: np.ndarray | None = None) -> list[SliceView]:
    """One view per slice; a baseline's prediction may lack the synthetic LGE or the segmentation (and
    then its ``clinical.json``), which the pages show as absent."""
    levels = {s["index"]: s["level"] for s in clinical["slices"]} if clinical else {}

    def at(arr: np.ndarray | None, k: int) -> np.ndarray | None:
        return None if arr is None else arr[k]

    return [
        SliceView(index=k, level=levels.get(k), spacing_mm=tuple(spacing[k]), cine=cine[k],
                  lge_synthetic=at(lge_pred, k), lge_reference=at(lge_ref, k),
                  labels_predicted=at(labels_pred, k), labels_reference=at(labels_ref, k))
        for k in range(len(cine))
    ]


def _quantification(clinical: dict[str, Any] | None) -> Quantification | None:
    return None if clinical is None else Quantification.from_dict(clinical)


def _metrics(row: dict[str, Any]) -> dict[str, float | None]:
    keys = ("dice_overall", "dice_scar", "dice_myocardium", "dice_blood_pool", "ssim")
    return {key: row.get(key) for key in keys if key in row}


def reference_notes(annotation: Any) -> list[str]:
    """What a reader must know about a reference that annotates only part (:mod:`pscgan.data.annotation`)."""
    notes = []
    if not annotation.scar:
        notes.append("The reference labels do not annotate scar (their myocardium is healthy myocardium and "
                     "scar together): reference scar quantities, scar Dice and overall Dice are not defined; "
                     "the myocardium Dice compares the predicted healthy myocardium and scar together with "
                     "it.")
    if not annotation.any_lge:
        notes.append("The reference dataset has no LGE images: the synthetic LGE is not compared with any.")
    return notes


#: Identifiers shown in a subject page with ``keep_identifiers`` (DICOM keyword -> label).
_IDENTIFIER_LABELS = {
    "PatientName": "Patient name",
    "PatientID": "Patient ID",
    "PatientBirthDate": "Birth date",
    "PatientSex": "Sex",
    "StudyDate": "Study date",
    "AccessionNumber": "Accession number",
    "StudyDescription": "Study",
    "InstitutionName": "Institution",
    "SeriesDescription": "Series",
}


#: Longest identifier shown (a DICOM long string is 64 characters, a person name 5 x 64).
_MAX_IDENTIFIER = 1000


def _identifiers(folder: Path) -> dict[str, str]:
    """The identifiers ``identifiers.json`` keeps, as text: pscgan writes each DICOM value as text, so a
    number, a boolean or an array there is a damaged file, never shown as if it were the patient's."""
    from pscgan.io.jsonfile import read_json

    path = folder / IDENTIFIERS_FILE
    if not path.exists() and not path.is_symlink():
        return {}
    kept = read_json(path, expect=dict, what="record of DICOM keyword -> value")
    for keyword, value in kept.items():  # every field, shown or not: a damaged record is not half read
        if value is not None and (not isinstance(value, str) or len(value) > _MAX_IDENTIFIER):
            what = type(value).__name__ if not isinstance(value, str) else f"{len(value)} characters"
            raise InputError(path, f"field {str(keyword)[:60]}: must be the DICOM value as text (at most "
                                   f"{_MAX_IDENTIFIER} characters), not {what}; predict the subject again "
                                   "with --keep-identifiers")
    return {label: kept[k] for k, label in _IDENTIFIER_LABELS.items() if kept.get(k)}


def _end_diastole(clinical: dict[str, Any]) -> dict[str, str]:
    """The input phase read as end-diastole, as a detail line (the cascade's result depends on it);
    ``clinical`` was checked by :func:`pscgan.evaluation.prediction_files.read_clinical`."""
    ed = clinical.get("end_diastole")
    if ed is None:  # a prediction of an earlier pscgan
        return {}
    return {"end-diastole": f"input phase {ed['phase']} (counted from 0, of {ed['phases']}): {ed['from']}; "
                            "frame 1 below"}


def subjects_from_predictions(pred_dir: Path, ref_dir: Path | None, *,
                              keep_identifiers: bool = False) -> list[SubjectReportData]:
    """The report data of every finished subject (paired with the reference when ``ref_dir`` is given).

    Args:
        keep_identifiers: add the patient identifiers kept by ``pscgan predict --keep-identifiers`` to
            each subject's details (default: never read them).
    """
    def details(sid: str, clinical: dict[str, Any]) -> dict[str, str]:
        shown = {"input": str(clinical.get("input", ""))} | _end_diastole(clinical)
        return {**shown, **_identifiers(pred_dir / sid)} if keep_identifiers else shown

    out: list[SubjectReportData] = []
    if ref_dir is not None:
        from pscgan.data.annotation import dataset_annotation
        from pscgan.evaluation.cohort import per_subject_rows
        from pscgan.evaluation.evaluate import load_pairs

        annotation = dataset_annotation(ref_dir)
        pairs = load_pairs(pred_dir, ref_dir, annotation=annotation)
        rows = {r["subject"]: r for r in per_subject_rows(pairs)}
        for p in pairs:
            out.append(SubjectReportData(
                subject_id=p.subject_id,
                slices=_views(p.cine, p.lge_pred, p.labels_pred, p.spacing_rc, p.clinical_pred, p.lge_ref,
                              p.labels_ref),
                predicted=_quantification(p.clinical_pred),
                reference=Quantification.from_dict(p.clinical_ref) if p.clinical_ref else None,
                imaging_metrics=_metrics(rows[p.subject_id]),
                details=details(p.subject_id, p.clinical_pred or {}), notes=reference_notes(annotation)))
        return out
    for folder in sorted(p for p in pred_dir.iterdir() if p.is_dir() and prediction_done(pred_dir, p.name)):
        parts = read_parts(folder)
        arrays = read_network_arrays(folder / NETWORK_FILE)
        clinical = read_clinical(folder / CLINICAL_FILE) if parts.segmentation else None
        try:
            views = _views(arrays["cine"].astype(np.float32),
                           arrays["lge_synthetic"] if parts.synthetic_lge else None,
                           arrays["segmentation"] if parts.segmentation else None, arrays["spacing_mm"],
                           clinical)
        except (KeyError, ValueError, IndexError) as exc:  # arrays missing, or of the wrong shape
            raise InputError(folder / NETWORK_FILE, f"unusable prediction arrays ({exc})") from None
        out.append(SubjectReportData(subject_id=folder.name, slices=views,
                                     predicted=_quantification(clinical), reference=None,
                                     details=details(folder.name, clinical or {})))
    return out


def build_reports(pred_dir: str | Path, ref_dir: str | Path | None, out: str | Path, *,
                  overwrite: bool = False, title: str | None = None, keep_identifiers: bool = False) -> Path:
    """Write the cohort page and one page per subject; returns the cohort page's path.

    Args:
        keep_identifiers: show the patient identifiers kept by the prediction (see the module docstring).
    """
    from pscgan.report import write_cohort_report, write_subject_report

    pred_dir = Path(pred_dir)
    if not pred_dir.is_dir():
        raise InputError(pred_dir, "prediction folder not found")
    subjects = subjects_from_predictions(pred_dir, Path(ref_dir) if ref_dir is not None else None,
                                         keep_identifiers=keep_identifiers)
    if not subjects:
        raise InputError(pred_dir, "holds no finished subject predictions")
    out = prepare_output_dir(out, overwrite=overwrite)
    links = {}
    for s in subjects:
        try:
            page = safe_child(out / "subjects", f"{s.subject_id}.html")
        except ValueError as exc:  # a subject name that would write outside the report folder
            raise InputError(pred_dir, str(exc)) from None
        write_subject_report(s, page)
        links[s.subject_id] = f"subjects/{page.name}"
    return write_cohort_report(subjects, out / "index.html", subject_links=links, title=title)
