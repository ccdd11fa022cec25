"""Writing prediction results: one folder per subject (atomically), plus cohort-level tables.

The folder's format (file names, what each holds) is :mod:`pscgan.data.predictions`'s.

Every slice's predicted segmentation passes the quality check of :mod:`pscgan.clinical.quality`
(a closed myocardial ring around a blood pool, plausible sizes, the LV inside the crop, the LV
detector's confidence when it gives one). A slice it flags is *not assessed*: in ``clinical.json`` its
``quality`` says why and its scar area and scar ratio are ``null``; in ``slices.csv`` ``assessed`` is
``no``, ``quality_flags`` lists the flags and ``quality_reasons`` the reasons, the scar cells are empty;
its scar is left out of the subject's totals (``subjects.csv`` ``n_slices_assessed``).

A subject folder appears only once complete, so a killed batch never leaves a half-written subject, and
``--resume`` keeps finished subjects and completes the rest, with the weights recorded in ``batch.json``
only (:func:`check_resume_weights`), so one folder never mixes the results of two models.

The DICOM outputs and ``identifiers.json`` are optional: when one cannot be written (a source image
moved away, a SEG that highdicom refuses, ...) the NIfTI results are still written, and ``outputs.json``
names the output and the reason (``{"failed": [{"output", "description", "error"}], "notes": [...]}``;
``notes`` are plain-language remarks about the input, such as a DICOM series whose UIDs break the rules).

Subject folders are named after the input file or folder (checked by
:func:`~pscgan.data.predictions.check_output_name`), never after DICOM tags. Without
``keep_identifiers`` no patient or study identifier of a DICOM input reaches any file written here.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np

from pscgan.data.predictions import (
    BATCH_FILE,
    CLINICAL_FILE,
    DICOM_FOLDER,
    IDENTIFIERS_FILE,
    LGE_FILE,
    NETWORK_FILE,
    OUTPUTS_FILE,
    RECORDS_FILE,
    SEG_FILE,
    SLICES_TABLE,
    SUBJECTS_TABLE,
    SUMMARY_FILE,
    output_failures,
    read_prediction_record,
    staged_subject,
    subject_folder,
)
from pscgan.errors import ConfigError, InputError
from pscgan.evaluation.tables import csv_table
from pscgan.inference.inputs import InputKind, LoadedInput, PredictInput
from pscgan.inference.predictor import Prediction
from pscgan.io.atomic import write_json_atomic, write_text_atomic
from pscgan.io.nifti import write_nifti
from pscgan.migrations import PREDICTION_RECORD

#: The optional outputs of a DICOM input: (path in the subject folder, what it is).
_DICOM_OUTPUTS = {"synthetic_lge": (f"{DICOM_FOLDER}/synthetic_lge", "synthetic LGE DICOM series"),
                  "segmentation": (f"{DICOM_FOLDER}/segmentation.dcm", "DICOM SEG")}








def source_file(item: LoadedInput) -> str:
    """The input's cine file (or DICOM series folder) as named in messages: ``SUBJECT/cine.nii.gz`` for a
    canonical subject folder, else the file or folder name."""
    from pscgan.data.layout import CINE_FILE

    path = item.source.path
    return f"{path.name}/{CINE_FILE}" if item.source.kind is InputKind.SUBJECT else path.name


def slice_quality(pred: Prediction) -> list[Any]:
    """The quality check of every predicted slice, in the original stack order (None: no crop)."""
    from pscgan.clinical.quality import check_slices

    checks = check_slices(pred.labels, [s.spacing_mm for s in pred.slices],
                          [s.record.localisation for s in pred.slices])
    n = pred.labels_original.shape[2]
    by_index: list[Any] = [None] * n
    for s, q in zip(pred.slices, checks):
        by_index[s.slice_index] = q
    return by_index


def quantify_prediction(item: LoadedInput, labels: np.ndarray, quality: list[Any] | None = None) -> Any:
    """Quantify a predicted segmentation ``labels`` in the original geometry of ``item`` (a prediction's
    ``labels_original``, or a baseline's); ``quality``: per slice of the stack, its :func:`slice_quality`
    (None: not checked)."""
    from pscgan.clinical.quantify import quantify_labels

    info = item.info
    levels = angles = None
    thickness = None
    if info is not None:
        levels, angles = info.slice_metadata(labels.shape[2])
        thickness = info.slice_thickness_mm
    return quantify_labels(labels, item.cine.spacing, levels=levels, rv_angles_deg=angles,
                           slice_thickness_mm=thickness, quality=quality)


def write_subject_result(out: Path, item: LoadedInput, pred: Prediction, *, keep_identifiers: bool = False
                         ) -> Path:
    """Write one subject's results into ``OUT/<name>`` (complete or not at all).

    Args:
        keep_identifiers: for a DICOM input, copy the patient and study identifiers into the DICOM
            outputs and write them to ``identifiers.json`` (default: neither).
    """
    name = item.source.name
    with staged_subject(out, name) as tmp:
        affine = np.asarray(item.cine.affine)
        write_nifti(tmp / LGE_FILE, pred.lge_original, spacing=item.cine.spacing, affine=affine)
        write_nifti(tmp / SEG_FILE, pred.labels_original, spacing=item.cine.spacing, affine=affine)
        quant = quantify_prediction(item, pred.labels_original, slice_quality(pred))
        ed = {"end_diastole": pred.end_diastole} if pred.end_diastole is not None else {}
        write_json_atomic(tmp / CLINICAL_FILE, {"subject_id": name, "input": item.source.kind.value,
                                                 "source": source_file(item), **ed, **quant.as_dict()})
        arrays: dict[str, np.ndarray] = {
            "cine": np.stack([s.cine for s in pred.slices]).astype(np.float16),
            "lge_synthetic": pred.lge.astype(np.float32), "segmentation": pred.labels,
            "spacing_mm": np.asarray([s.spacing_mm for s in pred.slices], np.float32)}
        if pred.coarse_labels is not None:
            arrays["coarse_mask"] = pred.coarse_labels
        buf = io.BytesIO()
        # numpy's stub reads **arrays as its allow_pickle argument
        np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
        (tmp / NETWORK_FILE).write_bytes(buf.getvalue())
        write_json_atomic(tmp / RECORDS_FILE, [s.record.model_dump(mode="json") for s in pred.slices])
        failed = (_write_dicom_outputs(tmp, item, pred, keep_identifiers)
                  if item.source.kind is InputKind.DICOM else [])
        write_json_atomic(tmp / OUTPUTS_FILE, {"failed": failed, "notes": input_notes(item)})
    return subject_folder(out, name)


def input_notes(item: LoadedInput) -> list[str]:
    """Plain-language remarks of the reader about the input (rule breaks it tolerated), if any."""
    return [str(note) for note in (item.cine.meta or {}).get("notes", [])]


def _failure(output: str, description: str, exc: BaseException | str) -> dict[str, str]:
    error = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return {"output": output, "description": description, "error": error}


def _write_dicom_outputs(tmp: Path, item: LoadedInput, pred: Prediction, keep_identifiers: bool
                         ) -> list[dict[str, str]]:
    """Write the optional DICOM outputs into the staged subject folder; returns the failures.

    Any failure is recorded, not raised: the prediction and its NIfTI results must not be lost because a
    DICOM object could not be built (the batch reports it and exits non-zero).
    """
    from pscgan.inference.dicom_export import export_dicom_parts, source_identifiers

    failed = []
    try:
        _, errors = export_dicom_parts(item.cine, pred.lge_original, pred.labels_original, tmp / DICOM_FOLDER,
                                       keep_identifiers=keep_identifiers)
        failed += [_failure(*_DICOM_OUTPUTS[key], error) for key, error in errors.items()]
    except Exception as exc:  # both outputs: e.g. the source images are no longer in place
        failed.append(_failure(f"{DICOM_FOLDER}/", "DICOM outputs", exc))
    if keep_identifiers:
        try:
            write_json_atomic(tmp / IDENTIFIERS_FILE, source_identifiers(item.cine))
        except Exception as exc:
            failed.append(_failure(IDENTIFIERS_FILE, "patient and study identifiers", exc))
    return failed




def failed_outputs(out: Path, item: PredictInput) -> list[dict[str, str]]:
    """The optional outputs of the finished subject ``OUT/<item.name>`` that are not written: those its
    ``outputs.json`` names, or, without that file (a pscgan from before it, or deleted), those missing on
    disk; ``--resume`` predicts such a subject again.

    Raises:
        InputError: the subject's ``outputs.json`` is damaged (naming it, and what to do).
    """
    recorded = output_failures(out, item.name)
    if recorded is not None:
        return recorded
    if item.kind is not InputKind.DICOM:  # only a DICOM input has optional outputs
        return []
    folder = subject_folder(out, item.name)
    return [_failure(path, description, f"not found in {item.name}, which has no {OUTPUTS_FILE}")
            for path, description in _DICOM_OUTPUTS.values() if not (folder / path).exists()]


def kept_on_resume(out: Path, item: PredictInput) -> bool:
    """Whether ``--resume`` keeps the subject ``OUT/<item.name>``: finished, every optional output written
    (:func:`failed_outputs`), and a ``clinical.json`` that reads (the tables are rebuilt from it).

    Raises:
        InputError: a record of the subject is damaged (naming it, and what to do).
    """
    from pscgan.data.predictions import subject_done
    from pscgan.evaluation.prediction_files import read_clinical

    if not subject_done(out, item.name) or failed_outputs(out, item):
        return False
    try:
        read_clinical(subject_folder(out, item.name) / CLINICAL_FILE)
    except InputError as exc:
        raise InputError(exc.path, f"{exc.problem}; delete the folder {item.name} to predict it again, or "
                                   "start over with --overwrite") from None
    return True


def failure_message(failure: dict[str, str]) -> str:
    """One line saying which optional output is missing and why.

    Example:
        >>> failure_message({"output": "dicom/segmentation.dcm", "description": "DICOM SEG", "error": "E"})
        'DICOM SEG (dicom/segmentation.dcm) not written: E; the NIfTI results are written'
    """
    return (f"{failure['description']} ({failure['output']}) not written: {failure['error']}; the NIfTI "
            "results are written")


def _fmt(x: Any) -> Any:
    return "" if x is None else x


def _assessed(quality: dict[str, Any] | None) -> str:
    return "" if quality is None else "yes" if quality["assessed"] else "no"


def write_tables(out: Path, names: list[str]) -> None:
    """Rewrite slices.csv and subjects.csv from every finished subject's clinical.json.

    Not defined or not assessed values are empty cells, never 0; ``assessed`` is empty for a slice the
    quality check did not see (a baseline's prediction has no quality check).
    """
    from pscgan.evaluation.prediction_files import read_clinical

    slice_rows, subject_rows = [], []
    for name in names:
        f = out / name / CLINICAL_FILE
        if not f.is_file():
            continue
        q = read_clinical(f)  # a kept subject's file is checked: --resume keeps what it finds
        s = q["subject"]
        scarred = [k for k, v in q["segments"].items() if v["scar_present"]]
        subject_rows.append([name, _fmt(s["scar_volume_ml"]), _fmt(s["myocardium_volume_ml"]),
                             _fmt(s["scar_ratio"]), " ".join(scarred), s.get("n_slices", len(q["slices"])),
                             _fmt(s.get("n_slices_assessed"))])
        for sl in q["slices"]:
            qq, check = sl["quantities"], sl.get("quality")
            slice_rows.append([name, sl["index"], _fmt(sl["level"]), _fmt(qq["scar_area_cm2"]),
                               _fmt(qq["myocardium_area_cm2"]), _fmt(qq["scar_ratio"]),
                               " ".join(str(g["segment"]) for g in sl["segments"] if g["scar_present"]),
                               _assessed(check), " ".join(check["flags"]) if check else "",
                               "; ".join(check["reasons"]) if check else "",
                               _fmt(check.get("localisation_confidence")) if check else ""])
    _write_csv(out / SUBJECTS_TABLE, ["subject", "scar_volume_ml", "myocardium_volume_ml", "scar_ratio",
                                      "scarred_segments", "n_slices", "n_slices_assessed"], subject_rows)
    _write_csv(out / SLICES_TABLE, ["subject", "slice", "level", "scar_area_cm2", "myocardium_area_cm2",
                                    "scar_ratio", "scarred_segments", "assessed", "quality_flags",
                                    "quality_reasons", "localisation_confidence"], slice_rows)


def quality_summary(out: Path, names: list[str]) -> dict[str, Any] | None:
    """The quality check over the finished subjects: counts per flag and every slice not assessed, with its
    subject, input file and reasons (None when no subject was checked)."""
    from collections import Counter

    from pscgan.evaluation.prediction_files import read_clinical

    checked, flagged = 0, []
    counts: Counter[str] = Counter()
    for name in names:
        f = out / name / CLINICAL_FILE
        if not f.is_file():
            continue
        q = read_clinical(f)  # a kept subject's file is checked: --resume keeps what it finds
        for sl in q["slices"]:
            check = sl.get("quality")
            if check is None:
                continue
            checked += 1
            if not check["assessed"]:
                counts.update(check["flags"])
                flagged.append({"subject": name, "source": q.get("source"), "slice": sl["index"],
                                "flags": check["flags"], "reasons": check["reasons"]})
    if not checked:
        return None
    return {"n_slices_checked": checked, "n_slices_not_assessed": len(flagged),
            "flags": dict(sorted(counts.items())), "not_assessed": flagged}


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    write_text_atomic(path, csv_table(header, rows))


def write_summary(out: Path, summary: dict[str, Any]) -> None:
    """Write ``summary.json``; adds ``quality`` (:func:`quality_summary` of ``summary["subjects"]``) to
    ``summary`` when the subjects were quality-checked."""
    quality = quality_summary(out, list(summary.get("subjects", [])))
    if quality is not None:
        summary["quality"] = quality
    write_json_atomic(out / SUMMARY_FILE, {PREDICTION_RECORD.key: PREDICTION_RECORD.current, **summary})


def weights_record(weights: Path | Sequence[Path]) -> dict[str, Any]:
    """What identifies the weights of a batch: file name, SHA-256, preset, and ``register_lge``: whether
    they were trained on LGE registered to the cine (``pscgan evaluate`` prepares its reference the same
    way; None when the stored configuration cannot be read).

    The SHA-256 is the checksum the file carries over its tensors (every weights file pscgan can load
    carries one). An ensemble (several files) is named by its files joined with ``+`` and identified by
    the SHA-256 of its members' checksums in order; ``members`` holds each member's own record, and its
    preset and ``register_lge`` are the first member's (the members must agree on the latter).
    """
    if not isinstance(weights, Path):
        members = [weights_record(w) for w in weights]
        if len(members) > 1:
            joined = hashlib.sha256("".join(str(m["sha256"]) for m in members).encode()).hexdigest()
            return {"file": " + ".join(m["file"] for m in members), "sha256": joined,
                    "preset": members[0]["preset"], "register_lge": members[0]["register_lge"],
                    "members": members}
        return members[0]
    from pscgan.config.schema import config_from_dict
    from pscgan.models.weights import read_weights_metadata

    meta = read_weights_metadata(weights)
    sha = meta.get("sha256")
    preset = register = None
    with suppress(ValueError, KeyError, TypeError):
        stored = json.loads(meta["config"])
        preset = stored.get("preset")
        with suppress(ValueError, KeyError, TypeError, ConfigError):
            register = config_from_dict(stored).train.register_lge
    return {"file": weights.name, "sha256": sha, "preset": preset, "register_lge": register}


def preprocessing_record(options: Any) -> dict[str, Any]:
    """The preprocessing a predictor applies (its ``PreprocessOptions``) as JSON: the weights' plan plus
    the predictor's own decisions (``localisation``, ``fov_heart_ratio`` with an anatomy network)."""
    from dataclasses import asdict

    return json.loads(json.dumps(asdict(options), default=lambda v: getattr(v, "value", str(v))))


def write_batch_record(
    out: Path, record: dict[str, Any], preprocessing: dict[str, Any] | None = None
) -> None:
    """Write ``batch.json``: the weights (``record``, :func:`weights_record`) and the preprocessing
    applied."""
    write_json_atomic(out / BATCH_FILE, {PREDICTION_RECORD.key: PREDICTION_RECORD.current, "weights": record}
                      | ({} if preprocessing is None else {"preprocessing": preprocessing}))


def check_resume_weights(out: Path, record: dict[str, Any]) -> None:
    """Refuse to resume ``out`` with other weights than those that predicted its finished subjects.

    The folder's prediction record (:func:`~pscgan.data.predictions.read_prediction_record`) names the
    weights; a folder with none has nothing to compare and is accepted.

    Raises:
        InputError: the record is unreadable.
        ConfigError: the folder was predicted with other weights.
    """
    found = read_prediction_record(out, unreadable=_CANNOT_TELL)
    if found is None:
        return
    path, before = found[0], found[1]["weights"]
    sha, file = _recorded_sha(path, before, "weights"), before.get("file")
    if sha != record["sha256"]:
        raise ConfigError(
            out,
            f"--resume: the finished subjects were predicted with {_shown(file)} (SHA-256 "
            f"{sha[:12]}...), not {record['file']} ({record['sha256'][:12]}...); resume "
            "with the same weights, or start over with --overwrite or a new folder",
        )
    # the anatomy network finds the LV and sizes the crop: one folder never mixes two either
    anatomy = before.get("anatomy")
    if anatomy is not None and not isinstance(anatomy, dict):
        raise InputError(path, f"field weights.anatomy: not an object; {_CANNOT_TELL}")
    was = None if anatomy is None else _recorded_sha(path, anatomy, "weights.anatomy")
    if was != (record.get("anatomy") or {}).get("sha256"):
        raise ConfigError(
            out,
            f"--resume: the finished subjects were predicted with {_anatomy_said(anatomy)}, not "
            f"{_anatomy_said(record.get('anatomy'))}; resume with the same --anatomy-weights (or "
            "--no-anatomy), or start over with --overwrite or a new folder",
        )


_CANNOT_TELL = ("cannot tell which weights predicted this folder; start over with --overwrite or predict "
                "into a new folder")


def _recorded_sha(path: Path, section: dict[str, Any], where: str) -> str:
    """The SHA-256 a prediction record gives for weights (64 hex digits), else an InputError naming the
    field: a record naming no weights cannot be compared with these."""
    sha = section.get("sha256")
    if not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        shown = repr(sha) if len(repr(sha)) <= 40 else f"{repr(sha)[:37]}..."
        raise InputError(path, f"field {where}.sha256: {shown} is not a SHA-256 (64 hex digits); "
                               f"{_CANNOT_TELL}")
    return sha


def _anatomy_said(anatomy: dict[str, Any] | None) -> str:
    if anatomy is None:
        return "no anatomy network"
    return f"the anatomy network {_shown(anatomy.get('file'))} ({anatomy['sha256'][:12]}...)"


def _shown(name: object) -> str:
    """A recorded file name as messages show it (any JSON value, cut short)."""
    text = name if isinstance(name, str) else "unnamed weights"
    return text if len(text) <= 60 else f"{text[:57]}..."
