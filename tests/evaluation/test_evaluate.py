"""`pscgan evaluate` on predictions of the tiny model against the tiny ring dataset."""

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
    out = tmp_path_factory.mktemp("eval") / "pred"
    res = runner.invoke(
        app, ["predict", str(tiny_ring_dataset), "--weights", str(tiny_weights), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    return out


def test_evaluate_writes_paper_tables(predictions, tiny_ring_dataset, tmp_path):
    out = tmp_path / "ev"
    res = runner.invoke(app, ["evaluate", str(predictions), str(tiny_ring_dataset), "--out", str(out)])
    assert res.exit_code == 0, res.output
    t1 = (out / "table1.md").read_text()
    for row in ("Overall", "Scar", "Healthy myocardium", "Blood pool", "SSIM", "PSNR"):
        assert row in t1
    t2 = (out / "table2.md").read_text()
    assert "Scar segment-level localization" in t2 and "Scar ratio (%)" in t2
    data = json.loads((out / "evaluation.json").read_text())
    assert data["n_subjects"] == 8
    assert data["imaging"]["segmentation"]["overall"]["dice"]["n"] == 16
    assert "NaN" not in (out / "evaluation.json").read_text()
    assert (out / "per_subject.csv").read_text().count("\n") == 9


def test_mismatched_subjects_are_explained(predictions, tiny_ring_dataset, tmp_path):
    ref = tmp_path / "ref"
    shutil.copytree(tiny_ring_dataset, ref)
    shutil.rmtree(ref / "ring_03")
    (ref / "dataset.json").unlink()
    with pytest.raises(InputError, match="ring_03"):
        evaluate(predictions, ref, tmp_path / "e1")
    with pytest.raises(InputError, match="no finished subject"):
        evaluate(tmp_path, ref, tmp_path / "e2")


def test_evaluation_refuses_to_overwrite(predictions, tiny_ring_dataset, tmp_path):
    out = tmp_path / "ev"
    evaluate(predictions, tiny_ring_dataset, out)
    res = runner.invoke(app, ["evaluate", str(predictions), str(tiny_ring_dataset), "--out", str(out)])
    assert res.exit_code == 2 and "--overwrite" in res.output
