"""The model's plan (the configuration's ``preprocessing`` section) reaches every consumer: training, the
training cache, prediction, the baselines (train and predict) and the evaluation reference. Each test
sets a value no default has and finds it where the data is prepared."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.config.presets import get_preset
from pscgan.config.schema import PreprocessingConfig, apply_overrides

runner = CliRunner()

#: Values that are no default: intensity percentiles and temporal resampling.
PLAN = ["preprocessing.intensity_percentiles=[2, 98]", "preprocessing.temporal_method=fourier"]


def _planned(options) -> tuple:
    return tuple(options.intensity_percentiles), getattr(options.temporal_method, "value",
                                                         options.temporal_method)


EXPECTED = ((2.0, 98.0), "fourier")


class _Captured(Exception):
    """Stops a run once its cache options are known."""


@pytest.fixture
def capture_cache(monkeypatch):
    """Replaces ``ensure_cache``: records the options a consumer asks the cache for, then stops it."""
    seen = []

    def fake(dataset, options, **_):
        seen.append(options)
        raise _Captured

    monkeypatch.setattr("pscgan.data.cache.ensure_cache", fake)
    return seen


def test_training_prepares_its_data_with_the_plan(tiny_ring_dataset, capture_cache, tmp_path):
    from pscgan.training.launch import TrainOptions, run_training

    cfg = apply_overrides(get_preset("tiny"), PLAN)
    with pytest.raises(_Captured):
        run_training(TrainOptions(run=tmp_path / "run", data=tiny_ring_dataset, config=cfg, progress=False))
    assert _planned(capture_cache[0]) == EXPECTED


def test_baseline_training_prepares_its_data_with_the_plan(tiny_ring_dataset, capture_cache, tmp_path):
    from pscgan.baselines import train_baseline

    split = {"train": ["ring_02", "ring_03"], "validation": [], "test": []}
    with pytest.raises(_Captured):
        train_baseline("monai_unet", tiny_ring_dataset, tmp_path / "run", steps=1, seed=0, device="cpu",
                       split=split, preset="tiny",
                       preprocessing=apply_overrides(get_preset("tiny"), PLAN).preprocessing)
    assert _planned(capture_cache[0]) == EXPECTED
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["config"]["preprocessing"]
    assert saved["intensity_percentiles"] == [2.0, 98.0]  # part of the run's plan


def test_an_experiment_gives_its_baselines_the_plan(monkeypatch, tmp_path):
    from pscgan.experiments.run import RunSpec, _train_baseline

    asked = {}
    monkeypatch.setattr("pscgan.baselines.train_baseline", lambda *a, **kw: asked.update(kw) or tmp_path)
    reference = apply_overrides(get_preset("tiny"), PLAN)
    _train_baseline(RunSpec(folder=tmp_path, data=tmp_path, split={}, baseline="pix2pix", preset="tiny",
                            reference=reference), "cpu", None)
    assert asked["preprocessing"] == reference.preprocessing


def _weights(tmp_path, overrides=PLAN):
    from pscgan.models.factory import build_cascade
    from pscgan.models.weights import save_weights

    cfg = apply_overrides(get_preset("tiny"), overrides)
    path = tmp_path / "w.safetensors"
    save_weights(path, build_cascade(cfg), cfg)
    return path


def test_prediction_prepares_its_input_with_the_weights_plan(tmp_path):
    from pscgan.inference.predictor import Predictor

    assert _planned(Predictor.from_weights(_weights(tmp_path), device="cpu").options) == EXPECTED


@pytest.mark.parametrize("source", ["preset", "weights", "baseline weights"])
def test_data_cache_builds_the_cache_of_a_plan(tiny_ring_dataset, tmp_path, source):
    from pscgan.data.cache import TrainingCache

    data = tmp_path / "data"
    shutil.copytree(tiny_ring_dataset, data, ignore=shutil.ignore_patterns("*.safetensors"))
    if source == "preset":
        args = ["--preset", "tiny", *[a for p in PLAN for a in ("--set", p)]]
    elif source == "weights":
        args = ["--weights", str(_weights(tmp_path))]
    else:
        from pscgan.baselines.config import baseline_config
        from pscgan.baselines.networks import build_network
        from pscgan.baselines.weights import save_baseline_weights

        cfg = baseline_config("monai_unet", "tiny",
                              preprocessing=apply_overrides(get_preset("tiny"), PLAN).preprocessing)
        save_baseline_weights(tmp_path / "b.safetensors", build_network(cfg), cfg)
        args = ["--weights", str(tmp_path / "b.safetensors")]
    res = runner.invoke(app, ["data", "cache", str(data), "--out", str(tmp_path / "c.safetensors"), *args])
    assert res.exit_code == 0, res.output
    options = TrainingCache(tmp_path / "c.safetensors").options
    assert (tuple(options["intensity_percentiles"]), options["temporal_method"]) == EXPECTED
    assert (options["n_phases"], options["crop_size"]) == (4, 16)  # the tiny preset's frames and crop


def test_data_cache_takes_one_plan(tiny_ring_dataset, tmp_path):
    res = runner.invoke(app, ["data", "cache", str(tiny_ring_dataset), "--preset", "tiny", "--weights",
                              str(tmp_path / "w.safetensors")])
    assert res.exit_code == 2 and "one of --preset, --config and --weights" in res.output


def test_baseline_prediction_prepares_and_records_the_baseline_plan(tiny_ring_dataset, tmp_path):
    from pscgan.baselines import predict_baseline
    from pscgan.baselines.config import baseline_config
    from pscgan.baselines.networks import build_network
    from pscgan.baselines.weights import save_baseline_weights

    plan = PreprocessingConfig(intensity_percentiles=(2.0, 98.0), temporal_method="fourier")
    cfg = baseline_config("monai_unet", "tiny", preprocessing=plan)
    save_baseline_weights(tmp_path / "b.safetensors", build_network(cfg), cfg)
    summary = predict_baseline(tmp_path / "b.safetensors", tiny_ring_dataset, tmp_path / "pred", split="test")
    recorded = json.loads((tmp_path / "pred" / "summary.json").read_text())["preprocessing"]
    assert summary["failures"] == []
    assert (tuple(recorded["intensity_percentiles"]), recorded["temporal_method"]) == EXPECTED


def test_the_evaluation_reference_is_prepared_with_the_predictions_plan(tmp_path):
    from pscgan.data.layout import DatasetManifest, write_manifest
    from pscgan.evaluation.reference import reference_protocol
    from pscgan.migrations import V1_PREPROCESSING

    plan = {**V1_PREPROCESSING, "intensity_percentiles": [2.0, 98.0], "temporal_method": "fourier",
            "max_registration_shift_mm": 4.0}
    (tmp_path / "pred").mkdir()
    (tmp_path / "pred" / "summary.json").write_text(json.dumps(
        {"version": 2, "weights": {"register_lge": True}, "preprocessing": plan}))
    write_manifest(tmp_path / "ref", DatasetManifest(name="d", subjects=[]))
    options = reference_protocol(tmp_path / "pred", tmp_path / "ref").options(frames=6, crop=32)
    assert _planned(options) == EXPECTED and options.max_registration_shift_mm == 4.0
    assert (options.n_phases, options.crop_size) == (6, 32)
