"""Prediction with several weights: their ensemble, recorded as such, evaluated like one model."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.data.predictions import BATCH_FILE, LGE_FILE, SEG_FILE
from pscgan.errors import ConfigError
from pscgan.inference.batch import predict_batch
from pscgan.inference.outputs import weights_record

runner = CliRunner()


@pytest.fixture(scope="module")
def second_weights(tiny_ring_dataset, tmp_path_factory):
    """A second ``tiny`` model, trained like ``tiny_weights`` with another seed."""
    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides
    from pscgan.training.launch import TrainOptions, run_training

    cfg = apply_overrides(get_preset("tiny"), ["train.steps_per_phase=2", "train.seed=1"])
    run = tmp_path_factory.mktemp("tiny-run-seed1") / "run"
    return run_training(TrainOptions(run=run, data=tiny_ring_dataset, config=cfg, progress=False))


def _labels(folder, subject="ring_00"):  # noqa: ANN001, ANN202
    return np.asarray(nib.load(str(folder / subject / SEG_FILE)).dataobj)


def test_ensemble_is_recorded_and_evaluated(tiny_ring_dataset, tiny_weights, second_weights, tmp_path):
    out = tmp_path / "pred"
    res = runner.invoke(app, ["predict", str(tiny_ring_dataset), "--no-anatomy", "--weights",
                              str(tiny_weights), "--weights", str(second_weights), "--out", str(out)])
    assert res.exit_code == 0, res.output
    record = json.loads((out / BATCH_FILE).read_text())["weights"]
    members = [weights_record(tiny_weights), weights_record(second_weights)]
    assert record["members"] == members
    assert record["file"] == f"{tiny_weights.name} + {second_weights.name}"
    assert len(record["sha256"]) == 64 and record["sha256"] not in {m["sha256"] for m in members}
    assert record["register_lge"] == members[0]["register_lge"]
    res = runner.invoke(app, ["evaluate", str(out), str(tiny_ring_dataset), "--out", str(tmp_path / "ev")])
    assert res.exit_code == 0, res.output


def test_the_same_weights_twice_predict_as_once(tiny_ring_dataset, tiny_weights, tmp_path):
    once = predict_batch([tiny_ring_dataset / "ring_00"], tmp_path / "once", weights=tiny_weights)
    twice = predict_batch([tiny_ring_dataset / "ring_00"], tmp_path / "twice",
                          weights=[tiny_weights, tiny_weights])
    assert once["failures"] == twice["failures"] == []
    assert np.array_equal(_labels(tmp_path / "once"), _labels(tmp_path / "twice"))
    lge = [np.asarray(nib.load(str(tmp_path / f / "ring_00" / LGE_FILE)).dataobj)
           for f in ("once", "twice")]
    np.testing.assert_allclose(lge[0], lge[1], atol=1e-6)


def test_resume_with_another_ensemble_is_refused(tiny_ring_dataset, tiny_weights, second_weights, tmp_path):
    out = tmp_path / "pred"
    predict_batch([tiny_ring_dataset / "ring_00"], out, weights=[tiny_weights, second_weights])
    predict_batch([tiny_ring_dataset / "ring_00", tiny_ring_dataset / "ring_01"], out,
                  weights=[tiny_weights, second_weights], resume=True)
    for other in ([tiny_weights], [second_weights, tiny_weights]):
        with pytest.raises(ConfigError, match="--resume"):
            predict_batch([tiny_ring_dataset / "ring_01"], out, weights=other, resume=True)


def test_missing_member_is_named(tiny_ring_dataset, tiny_weights, tmp_path):
    missing = tmp_path / "nowhere.safetensors"
    res = runner.invoke(app, ["predict", str(tiny_ring_dataset), "--weights", str(tiny_weights),
                              "--weights", str(missing), "--out", str(tmp_path / "pred")])
    assert res.exit_code == 2 and "nowhere.safetensors" in res.output
    assert not (tmp_path / "pred").exists()
