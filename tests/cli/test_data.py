"""`pscgan data check` and `pscgan train` on a dataset with partial labels (no scar class, no LGE)."""

from __future__ import annotations

from typer.testing import CliRunner

from pscgan.cli.main import app

runner = CliRunner()


def test_data_check_accepts_partial_labels_and_says_what_is_missing(ring_dataset, make_anatomy_only):
    make_anatomy_only(ring_dataset, annotated=["lv_blood_pool", "myocardium"])
    res = runner.invoke(app, ["data", "check", str(ring_dataset)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "no problems found" in text
    assert "annotated: lv_blood_pool, myocardium (dataset.json annotated)" in text
    assert "`pscgan train` cannot use it yet: no scar class" in text and "no LGE images (4 of 4" in text


def test_data_check_lists_scar_labels_the_dataset_says_it_has_not(ring_dataset):
    import json

    manifest = json.loads((ring_dataset / "dataset.json").read_text())
    manifest["annotated"] = ["lv_blood_pool", "myocardium"]
    (ring_dataset / "dataset.json").write_text(json.dumps(manifest))
    res = runner.invoke(app, ["data", "check", str(ring_dataset)])
    assert res.exit_code == 1 and "4 of 4 subjects have problems" in res.output
    assert "holds label values [3]" in " ".join(res.output.split())


def test_train_refuses_partial_labels_in_one_line(ring_dataset, make_anatomy_only, tmp_path):
    make_anatomy_only(ring_dataset, annotated=None)
    res = runner.invoke(app, ["train", "--data", str(ring_dataset), "--out", str(tmp_path / "run"),
                              "--preset", "tiny"])
    assert res.exit_code == 2
    assert "cannot train on this dataset yet" in " ".join(res.output.split())
    assert "Traceback" not in res.output and not (tmp_path / "run").exists()
