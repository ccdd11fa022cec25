"""`pscgan evaluate` against a reference whose labels have no scar class and which has no LGE."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.errors import InputError
from pscgan.evaluation.evaluate import evaluate

runner = CliRunner()


@pytest.fixture(scope="module")
def predictions(tiny_ring_dataset, tiny_weights, tmp_path_factory):
    out = tmp_path_factory.mktemp("partial") / "pred"
    res = runner.invoke(app, ["predict", str(tiny_ring_dataset), "--weights", str(tiny_weights),
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture
def anatomy_reference(tiny_ring_dataset, make_anatomy_only, tmp_path):
    ref = tmp_path / "anatomy"
    shutil.copytree(tiny_ring_dataset, ref)
    return make_anatomy_only(ref, annotated=["lv_blood_pool", "myocardium"])


def test_scar_and_lge_metrics_are_not_defined_and_myocardium_is_scored_whole(predictions, anatomy_reference,
                                                                               tmp_path):
    out = tmp_path / "ev"
    res = runner.invoke(app, ["evaluate", str(predictions), str(anatomy_reference), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "reference annotated: lv_blood_pool, myocardium (dataset.json annotated)" in res.output
    data = json.loads((out / "evaluation.json").read_text())
    seg = data["imaging"]["segmentation"]
    assert seg["overall"] is None and seg["per_class"]["scar"] is None
    assert seg["per_class"]["healthy_myocardium"] is None
    assert seg["per_class"]["myocardium"]["dice"]["n"] == 16
    assert seg["per_class"]["lv_blood_pool"]["dice"]["n"] == 16
    assert data["imaging"]["synthesis"] is None
    reasons = data["imaging"]["not_defined_reasons"]
    assert "no LGE" in reasons["synthesis"]
    assert "do not annotate scar" in reasons["segmentation.per_class.scar"]
    clinical = data["clinical"]
    for key in ("scar_size_slice_cm2", "scar_volume_ml", "scar_ratio", "segment_localisation",
                "transmurality"):
        assert clinical[key] is None and key in clinical["not_defined"]
    assert data["reference_annotation"]["annotated"] == ["lv_blood_pool", "myocardium"]
    for row in data["per_subject"]:
        assert row["dice_scar"] is None and row["dice_overall"] is None and row["scar_volume_ml_ref"] is None
        assert row["dice_myocardium"] is not None and row["dice_blood_pool"] is not None
    t1 = (out / "table1.md").read_text()
    assert "| Scar | n/d | n/d | n/d | n/d | n/d |" in t1 and "| Myocardium (healthy + scar) | " in t1
    assert "Healthy myocardium" not in t1 and "the reference dataset has no LGE images" in t1
    assert "| Scar volume (ml) | n/d |" in (out / "table2.md").read_text()
    assert "0.00 ± 0.00" not in (out / "table2.md").read_text()


def test_scar_labels_in_a_dataset_that_annotates_none_are_refused(predictions, tiny_ring_dataset, tmp_path):
    ref = tmp_path / "wrong"
    shutil.copytree(tiny_ring_dataset, ref)
    manifest = json.loads((ref / "dataset.json").read_text())
    (ref / "dataset.json").write_text(json.dumps({**manifest, "annotated": ["lv_blood_pool", "myocardium"]}))
    with pytest.raises(InputError, match=r"ring_\d\d/labels.nii.gz: holds label values \[3\]"):
        evaluate(predictions, ref, tmp_path / "ev")


def test_sunnybrook_gives_blood_pool_and_myocardium_and_no_scar(sunnybrook_dir, tmp_path):
    pred = tmp_path / "pred"
    res = runner.invoke(app, ["predict", str(sunnybrook_dir), "--out", str(pred)])
    assert res.exit_code == 0, res.output
    data = evaluate(pred, sunnybrook_dir, tmp_path / "ev")
    seg = data["imaging"]["segmentation"]
    assert seg["per_class"]["scar"] is None and seg["per_class"]["myocardium"]["dice"].n == 18
    assert data["clinical"]["scar_volume_ml"] is None and data["imaging"]["synthesis"] is None
    assert data["reference_annotation"]["source"] == "inferred"
