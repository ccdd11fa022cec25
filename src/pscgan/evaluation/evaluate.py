"""``pscgan evaluate PRED_DIR REF_DIR``: Tables 1 and 2 of the paper for a prediction folder.

Writes into ``OUT`` (default ``PRED_DIR/evaluation``): ``evaluation.json`` (every value),
``table1.md``/``table1_segmentation.csv``/``table1_synthesis.csv``, ``table2.md``/``table2_diagnostic.csv``/
``table2_agreement.csv``, ``per_subject.csv`` (worst scar-ratio error first) and, when the reference LGE
was registered to the cine (:mod:`pscgan.evaluation.reference`), ``reference_registration.csv`` (per slice:
outcome, rotation, shift, similarity); ``evaluation.json`` ``reference_registration`` holds the same and
how the choice was made.

What the reference does not annotate (:mod:`pscgan.data.annotation`: no scar class, no LGE) is not defined
(``null`` in ``evaluation.json``, ``n/d`` in the tables, each table saying why), never 0;
``evaluation.json`` ``reference_annotation`` says what the reference annotates and how that was decided,
``quality`` how many predicted slices the quality check did not assess (:mod:`pscgan.clinical.quality`).
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from pscgan.data.annotation import DatasetAnnotation, dataset_annotation
from pscgan.data.predictions import NETWORK_FILE
from pscgan.evaluation.cohort import clinical_agreement, imaging_metrics, per_subject_rows
from pscgan.evaluation.pairing import PairedSubject, pair_subject, subjects_to_pair
from pscgan.evaluation.reference import (
    ReferenceProtocol,
    reference_protocol,
    registration_rows,
    registration_summary,
)
from pscgan.evaluation.summary import Summary
from pscgan.evaluation.tables import csv_table, markdown_table, not_defined_notes, table1, table2
from pscgan.io.atomic import prepare_output_dir, write_json_atomic, write_text_atomic


def jsonable(obj: Any) -> Any:
    """Summaries and dataclasses as plain JSON values (None stays None: 'not defined')."""
    if isinstance(obj, Summary):
        return obj.as_dict()
    if is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, float) and obj != obj:  # NaN never reaches the JSON
        return None
    return obj


def load_pairs(pred_dir: Path, ref_dir: Path, protocol: ReferenceProtocol | None = None,
               annotation: DatasetAnnotation | None = None) -> list[PairedSubject]:
    """Every subject of ``pred_dir`` paired with its reference, prepared with ``protocol`` (default:
    :func:`~pscgan.evaluation.reference.reference_protocol` of the two folders) and read as ``annotation``
    says (default: :func:`~pscgan.data.annotation.dataset_annotation` of ``ref_dir``)."""
    ids = subjects_to_pair(pred_dir, ref_dir)
    protocol = protocol or reference_protocol(pred_dir, ref_dir)
    annotation = annotation or dataset_annotation(ref_dir)
    from pscgan.evaluation.prediction_files import read_network_arrays

    _, frames, crop, _ = read_network_arrays(pred_dir / ids[0] / NETWORK_FILE)["cine"].shape
    return [pair_subject(pred_dir, ref_dir, sid, frames=frames, crop=crop, protocol=protocol,
                         annotation=annotation) for sid in ids]


def quality_counts(pairs: list[PairedSubject]) -> dict[str, Any]:
    """How many predicted slices the quality check did not assess (their scar is left out of Table 2)."""
    n = sum(len(p.cine) for p in pairs)
    return {"n_slices": n, "n_slices_not_assessed": sum(p.n_slices_not_assessed for p in pairs),
            "per_subject": {p.subject_id: p.n_slices_not_assessed for p in pairs}}


def evaluate(pred_dir: str | Path, ref_dir: str | Path, out: str | Path | None = None, *,
             overwrite: bool = False, register_lge: bool | None = None) -> dict[str, Any]:
    """Evaluate predictions against a reference dataset and write the tables.

    Args:
        register_lge: register the reference LGE to the cine end-diastolic frame; None: as the
            predictions' weights were trained (recorded in the folder), else yes (the paper's protocol).
    """
    pred_dir, ref_dir = Path(pred_dir), Path(ref_dir)
    out = Path(out) if out is not None else pred_dir / "evaluation"
    protocol = reference_protocol(pred_dir, ref_dir, register_lge)
    annotation = dataset_annotation(ref_dir)
    pairs = load_pairs(pred_dir, ref_dir, protocol, annotation)
    registration = registration_rows(pairs)
    imaging = imaging_metrics(pairs)
    clinical = clinical_agreement(pairs)
    rows = per_subject_rows(pairs)
    rows.sort(key=lambda r: -(r.get("scar_ratio_abs_error") or 0.0))
    out = prepare_output_dir(out, overwrite=overwrite)
    result: dict[str, Any] = {"prediction": str(pred_dir), "reference": str(ref_dir),
              "n_subjects": len(pairs),
              "imaging": {k: v for k, v in imaging.items() if not k.startswith("per_slice")},
              "clinical": clinical, "per_subject": rows, "reference_annotation": annotation.as_dict(),
              "quality": quality_counts(pairs),
              "reference_registration": registration_summary(protocol, registration)}
    write_json_atomic(out / "evaluation.json", jsonable(result))
    h1, r1, hs, rs = table1(imaging)
    h2, r2, ha, ra = table2(clinical)
    note1, note2 = not_defined_notes(imaging), not_defined_notes(clinical)
    write_text_atomic(out / "table1.md", "## Table 1: segmentation and synthesis\n\n" + markdown_table(h1, r1)
                      + "\n\n" + markdown_table(hs, rs) + "\n" + note1)
    write_text_atomic(out / "table2.md", "## Table 2: clinical metrics\n\n" + markdown_table(h2, r2) + "\n\n"
                      + markdown_table(ha, ra) + "\n" + note2)
    write_text_atomic(out / "table1_segmentation.csv", csv_table(h1, r1))
    write_text_atomic(out / "table1_synthesis.csv", csv_table(hs, rs))
    write_text_atomic(out / "table2_diagnostic.csv", csv_table(h2, r2))
    write_text_atomic(out / "table2_agreement.csv", csv_table(ha, ra))
    keys = sorted({k for r in rows for k in r}, key=lambda k: (k != "subject", k))
    write_text_atomic(out / "per_subject.csv", csv_table(keys, [[("" if r.get(k) is None else r.get(k))
                                                                 for k in keys] for r in rows]))
    if registration:
        keys = list(registration[0])
        write_text_atomic(out / "reference_registration.csv", csv_table(
            keys, [["" if r[k] is None else r[k] for k in keys] for r in registration]))
    result["protocol"] = protocol
    result["annotation"] = annotation
    quality = result["quality"]
    result["notes"] = [f"reference {annotation.describe()}",
                       *[line for line in dict.fromkeys((note1 + note2).split("\n")) if line]]
    if quality["n_slices_not_assessed"]:
        result["notes"].append(f"{quality['n_slices_not_assessed']} of {quality['n_slices']} predicted "
                               "slices not assessed by the quality check: their scar is left out of Table 2")
    result["tables"] = {"table1": (h1, r1, hs, rs), "table2": (h2, r2, ha, ra)}
    result["out"] = str(out)
    result["pairs"] = pairs
    return result
