"""Write a baseline's prediction of one subject in the layout of ``pscgan predict``, with only its parts.

The files, names and geometry are those of :mod:`pscgan.inference.outputs`; what the baseline does
not produce is absent (no ``synthetic_lge.nii.gz`` without LGE; no ``segmentation.nii.gz`` or
``clinical.json`` without a segmentation), and ``parts.json`` (:mod:`pscgan.evaluation.parts`) says
what is defined. For a scar-only segmentation, ``clinical.json`` keeps the scar sizes and sets what
needs the myocardium (myocardial and blood-pool sizes, scar ratio, AHA segments) to ``null``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from pscgan.data.predictions import (
    CLINICAL_FILE,
    LGE_FILE,
    NETWORK_FILE,
    RECORDS_FILE,
    SEG_FILE,
    staged_subject,
    subject_folder,
)
from pscgan.evaluation.parts import DefinedParts, write_parts
from pscgan.inference.inputs import LoadedInput
from pscgan.io.atomic import write_json_atomic
from pscgan.io.nifti import write_nifti
from pscgan.preprocessing.pipeline import PreparedSlice
from pscgan.preprocessing.record import to_original_volume

SCAR_ONLY_NOTE = ("scar-only segmentation: myocardium and blood pool are not segmented, so their sizes, the "
                  "scar ratio and the AHA segments are not defined")


def scar_only_clinical(quantification: dict[str, Any]) -> dict[str, Any]:
    """A quantification dict with everything that needs the myocardium set to ``None``."""
    q = dict(quantification)
    q["subject"] = {**q["subject"], "myocardium_volume_ml": None, "blood_pool_volume_ml": None,
                    "scar_ratio": None, "n_slices_with_myocardium": None}
    q["slices"] = [{**s, "segments": [],
                    "quantities": {**s["quantities"], "myocardium_area_cm2": None,
                                   "healthy_myocardium_area_cm2": None, "blood_pool_area_cm2": None,
                                   "scar_ratio": None}} for s in q["slices"]]
    q["segments"] = {}
    q["notes"] = [SCAR_ONLY_NOTE]
    return q


def write_baseline_subject(
    out: Path,
    item: LoadedInput,
    slices: list[PreparedSlice],
    predicted: dict[str, np.ndarray],
    parts: DefinedParts,
) -> Path:
    """Write one subject into ``OUT/<name>`` (complete or not at all).

    Args:
        out: prediction folder.
        item: the loaded input (for the original geometry and the subject's metadata).
        slices: its prepared slices (network crops and preprocessing records).
        predicted: ``labels`` (S, H, W) uint8 and/or ``lge`` (S, H, W) in [-1, 1], on the network grid.
        parts: what the baseline defines.
    """
    from pscgan.inference.outputs import quantify_prediction

    name = item.source.name
    with staged_subject(out, name) as tmp:
        records = [s.record for s in slices]
        affine = np.asarray(item.cine.affine)
        arrays: dict[str, np.ndarray] = {"cine": np.stack([s.cine for s in slices]).astype(np.float16),
                                         "spacing_mm": np.asarray([s.spacing_mm for s in slices], np.float32)}
        if parts.synthetic_lge:
            lge = predicted["lge"].astype(np.float32)
            lge01 = np.clip((lge + 1.0) / 2.0, 0.0, 1.0)  # relative units, as pscgan predict writes
            write_nifti(tmp / LGE_FILE, to_original_volume(list(lge01), records, "image", fill=0.0),
                        spacing=item.cine.spacing, affine=affine)
            arrays["lge_synthetic"] = lge
        if parts.segmentation:
            labels = predicted["labels"].astype(np.uint8)
            labels_original = to_original_volume(list(labels), records, "labels", fill=0)
            write_nifti(tmp / SEG_FILE, labels_original, spacing=item.cine.spacing, affine=affine)
            quant = quantify_prediction(item, labels_original).as_dict()
            if not parts.tissue_complete:
                quant = scar_only_clinical(quant)
            write_json_atomic(
                tmp / CLINICAL_FILE, {"subject_id": name, "input": item.source.kind.value, **quant}
            )
            arrays["segmentation"] = labels
        buf = io.BytesIO()
        # numpy's stub reads **arrays as its allow_pickle argument
        np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
        (tmp / NETWORK_FILE).write_bytes(buf.getvalue())
        write_json_atomic(tmp / RECORDS_FILE, [r.model_dump(mode="json") for r in records])
        write_parts(tmp, parts)
    return subject_folder(out, name)
