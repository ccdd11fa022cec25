"""Evaluation of predictions that define only some parts (no synthetic LGE, scar-only or no segmentation)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.errors import InputError
from pscgan.evaluation.evaluate import evaluate
from pscgan.evaluation.parts import PARTS_FILE, DefinedParts, read_parts, write_parts

runner = CliRunner()


@pytest.fixture(scope="module")
def full_prediction(tiny_ring_dataset, tiny_weights, tmp_path_factory):
    out = tmp_path_factory.mktemp("parts") / "pred"
    res = runner.invoke(
        app, ["predict", str(tiny_ring_dataset), "--weights", str(tiny_weights), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    return out


def _subjects(pred):
    return sorted(p for p in pred.iterdir() if p.is_dir())


def _strip(pred, tmp_path, parts: DefinedParts, subjects=None):
    """A copy of ``pred`` whose subjects (all, or the given names) keep only ``parts``."""
    out = tmp_path / "partial"
    shutil.copytree(pred, out)
    for folder in _subjects(out):
        if subjects is not None and folder.name not in subjects:
            continue
        with np.load(folder / "network.npz") as z:
            arrays = {k: z[k] for k in z.files}
        if not parts.synthetic_lge:
            del arrays["lge_synthetic"]
            (folder / "synthetic_lge.nii.gz").unlink()
        if not parts.segmentation:
            del arrays["segmentation"]
            for f in ("segmentation.nii.gz", "clinical.json"):
                (folder / f).unlink()
        else:
            keep = np.isin(arrays["segmentation"], parts.segmentation_classes)
            arrays["segmentation"] = np.where(keep, arrays["segmentation"], 0).astype(np.uint8)
        np.savez_compressed(folder / "network.npz", **arrays)
        write_parts(folder, parts)
    return out


def test_parts_declaration_round_trip_and_validation(tmp_path):
    parts = DefinedParts(producer="x", synthetic_lge=False, segmentation_classes=(3, 3, 1))
    assert parts.segmentation_classes == (1, 3) and not parts.tissue_complete and parts.scar
    write_parts(tmp_path, parts)
    assert read_parts(tmp_path) == parts
    assert read_parts(tmp_path / "elsewhere") == DefinedParts()  # no declaration: everything defined
    with pytest.raises(ValidationError):
        DefinedParts(segmentation_classes=(4,))
    (tmp_path / PARTS_FILE).write_text("{not json")
    with pytest.raises(InputError, match="parts.json"):
        read_parts(tmp_path)


def test_no_synthetic_lge_gives_nd_synthesis_and_full_segmentation(
    full_prediction, tiny_ring_dataset, tmp_path
):
    full = evaluate(full_prediction, tiny_ring_dataset, tmp_path / "full")
    pred = _strip(full_prediction, tmp_path, DefinedParts(producer="seg", synthetic_lge=False))
    result = evaluate(pred, tiny_ring_dataset, tmp_path / "ev")
    data = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    assert data["imaging"]["synthesis"] is None and data["imaging"]["not_defined"] == ["synthesis"]
    assert "| n/d | n/d | n/d |" in (tmp_path / "ev" / "table1.md").read_text()
    # the segmentation side is untouched by the missing LGE
    assert result["tables"]["table1"][1] == full["tables"]["table1"][1]
    assert result["tables"]["table2"] == full["tables"]["table2"]
    assert all("ssim" not in r for r in data["per_subject"])


def test_no_segmentation_gives_nd_segmentation_and_clinical(full_prediction, tiny_ring_dataset, tmp_path):
    pred = _strip(full_prediction, tmp_path, DefinedParts(producer="syn", segmentation_classes=()))
    evaluate(pred, tiny_ring_dataset, tmp_path / "ev")
    data = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    assert data["imaging"]["segmentation"] is None and data["imaging"]["synthesis"]["ssim"]["n"] == 16
    assert data["clinical"]["scar_volume_ml"] is None and "scar_volume_ml" in data["clinical"]["not_defined"]
    assert data["per_subject"][0]["scar_volume_ml_pred"] is None
    table2 = (tmp_path / "ev" / "table2.md").read_text()
    assert "| Scar size per slice (cm²) | n/d |" in table2 and "not defined -- the method" in table2


def test_one_scar_only_subject_makes_the_cohort_scar_only(full_prediction, tiny_ring_dataset, tmp_path):
    """A cohort metric is defined only where every subject defines it; never averaged over a subset."""
    first = _subjects(full_prediction)[0].name
    pred = _strip(full_prediction, tmp_path, DefinedParts(producer="scar", segmentation_classes=(3,)),
                  subjects={first})
    evaluate(pred, tiny_ring_dataset, tmp_path / "ev")
    data = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    seg = data["imaging"]["segmentation"]
    assert seg["overall"] is None and seg["per_class"]["lv_blood_pool"] is None
    assert seg["per_class"]["scar"]["dice"]["n"] + seg["per_class"]["scar"]["dice"]["n_undefined"] == 16
    assert data["clinical"]["scar_ratio"] is None and data["clinical"]["scar_volume_ml"] is not None
    assert data["imaging"]["defined_parts"]["producer"] == "pscgan+scar"


def test_declared_but_missing_array_is_refused(full_prediction, tiny_ring_dataset, tmp_path):
    pred = _strip(full_prediction, tmp_path, DefinedParts(producer="seg", synthetic_lge=False))
    folder = _subjects(pred)[0]
    write_parts(folder, DefinedParts(producer="seg"))  # claims an LGE the folder does not hold
    with pytest.raises(InputError, match="lge_synthetic"):
        evaluate(pred, tiny_ring_dataset, tmp_path / "ev")
