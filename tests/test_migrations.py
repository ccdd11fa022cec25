"""Every stored format of an older version loads through :mod:`pscgan.migrations`, which fills what that
version meant (never today's defaults) and says so: an old record in, today's values out, a note."""

from __future__ import annotations

import json
import logging

import pytest

from pscgan import migrations
from pscgan.config.presets import get_preset
from pscgan.config.schema import (
    SCHEMA_VERSION,
    PscganConfig,
    apply_overrides,
    config_from_dict,
    config_from_record,
    load_config,
)
from pscgan.errors import InputError, OutputExistsError
from pscgan.migrations import (
    BASELINE_CONFIGURATION,
    BASELINE_TRAINING_STATE,
    CONFIGURATION,
    EXPERIMENT_PLAN,
    PREDICTION_RECORD,
    TRAINING_STATE,
    V1_PREPROCESSING,
    migrate,
)


@pytest.fixture
def notes(caplog):
    """The migration notes logged while a test runs."""
    caplog.set_level(logging.INFO, logger="pscgan.migrations")
    return caplog


# configuration ------------------------------------------------------------------------------------------

def _v1(preset: str = "cpu", *, drop: tuple[tuple[str, str], ...] = ()) -> dict:
    """``preset`` as schema 1 stored it: no preprocessing section, ``drop``ped fields absent."""
    data = get_preset(preset).model_dump(mode="json")
    data["schema_version"] = 1
    del data["preprocessing"]
    for section, field in drop:
        del data[section][field]
    return data


def test_schema_1_gets_the_preprocessing_it_was_trained_with(notes):
    cfg = config_from_dict(_v1(), source="w.safetensors")
    assert cfg.schema_version == SCHEMA_VERSION == CONFIGURATION.current
    assert cfg.preprocessing.model_dump(mode="json") == V1_PREPROCESSING
    assert cfg.train.register_lge is True and cfg.loss.mask_to_discriminator.value == "one_hot"  # as stored
    assert "w.safetensors" in notes.text and "preprocessing: filled" in notes.text


def test_fields_absent_from_schema_1_mean_what_they_meant_then(tmp_path):
    data = _v1(drop=(("train", "register_lge"), ("loss", "mask_to_discriminator")))
    migrated, said = migrate(CONFIGURATION, data)
    assert len(said) == 3 and all(n.startswith("configuration 1 -> 2: ") for n in said)
    assert "register_lge" not in data["train"]  # the input is not modified
    assert data["schema_version"] == 1 and "preprocessing" not in data
    (tmp_path / "old.json").write_text(json.dumps(data))
    old = load_config(tmp_path / "old.json")
    assert old.train.register_lge is False and old.loss.mask_to_discriminator.value == "softmax"
    assert old.model == get_preset("cpu").model


def test_schema_2_trained_at_a_constant_learning_rate(notes):
    data = get_preset("cpu").model_dump(mode="json") | {"schema_version": 2}
    del data["train"]["lr_schedule"]
    migrated, said = migrate(CONFIGURATION, data)
    assert migrated["train"]["lr_schedule"] == "constant" and migrated["schema_version"] == 6
    assert said == ["configuration 2 -> 3: train.lr_schedule: absent, so trained at a constant learning "
                    "rate (constant)"]
    # an experiment plan's base_config of schema 2 is complete without the field
    assert config_from_record(data, source="plan.json").train.lr_schedule.value == "constant"
    assert "lr_schedule" not in data["train"]  # the input is not modified


def test_schema_3_without_the_options_added_since_had_them_off(notes):
    data = get_preset("cpu").model_dump(mode="json") | {"schema_version": 3}
    for section, key in [("train", "phase_lr_factors"), ("train", "ed_shift_augmentation"),
                         ("model", "bottleneck_skip"), ("model", "decoder_residual")]:
        del data[section][key]
    del data["loss"]["segmentation_dice_reduction"], data["model"]["generator_norm"]
    del data["loss"]["synthesis_ssim_weight"], data["loss"]["segmentation_count_weight"]
    migrated, said = migrate(CONFIGURATION, data)
    assert migrated["schema_version"] == 6 and len(said) == 8
    assert all(line.startswith("configuration 3 -> 4: ") and "absent, so" in line for line in said[:4])
    assert said[4].startswith("configuration 4 -> 5: loss.segmentation_dice_reduction: absent")
    assert said[5].startswith("configuration 4 -> 5: loss.synthesis_ssim_weight: absent")
    assert said[6].startswith("configuration 4 -> 5: model.generator_norm: absent")
    assert said[7].startswith("configuration 5 -> 6: loss.segmentation_count_weight: absent")
    # an experiment plan of schema 3 (e.g. one to continue or to reuse runs from) reads as it trained
    config = config_from_record(data, source="plan.json")
    assert config.train.phase_lr_factors is None and config.train.ed_shift_augmentation == 0
    assert not config.model.bottleneck_skip and not config.model.decoder_residual
    # the two schema-5 options today's preset turns on read as off; everything else as stored
    assert config.model.generator_norm.value == "layer" and config.loss.synthesis_ssim_weight == 0
    off = ["model.generator_norm=layer", "loss.synthesis_ssim_weight=0"]
    assert config == apply_overrides(get_preset("cpu"), off).model_copy(update={"preset": "cpu"})
    assert "bottleneck_skip" not in data["model"]  # the input is not modified


@pytest.mark.parametrize("data", [get_preset("tiny").model_dump(mode="json"), {"preset": "custom"}, [], "x"])
def test_today_and_hand_written_configurations_are_not_migrated(data):
    assert migrate(CONFIGURATION, data) == (data, [])


def test_a_newer_schema_is_refused_not_migrated():
    data = PscganConfig().model_dump(mode="json") | {"schema_version": SCHEMA_VERSION + 1}
    with pytest.raises(Exception, match="schema_version"):
        config_from_dict(data)


# baseline configuration ---------------------------------------------------------------------------------

def _old_baseline_weights(tmp_path, **config_changes):
    """A baseline weights file whose stored configuration is edited as an older pscgan wrote it."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from pscgan.baselines.config import baseline_config
    from pscgan.baselines.networks import build_network
    from pscgan.baselines.weights import save_baseline_weights

    cfg = baseline_config("monai_unet", "tiny")
    path = tmp_path / "w.safetensors"
    save_baseline_weights(path, build_network(cfg), cfg)
    with safe_open(str(path), framework="pt") as fh:
        meta = dict(fh.metadata())
    stored = json.loads(meta["config"])
    for key, value in config_changes.items():
        if value is None:
            del stored[key]
        else:
            stored[key] = value
    meta["config"] = json.dumps(stored)
    save_file(load_file(str(path)), str(path), metadata=meta)
    return path, cfg


def test_a_baseline_of_version_1_gets_its_protocol_and_preprocessing(tmp_path, notes):
    from pscgan.baselines.weights import load_baseline_weights

    path, today = _old_baseline_weights(tmp_path, schema_version=None, register_lge=None, preprocessing=None)
    _, cfg = load_baseline_weights(path)
    assert cfg.register_lge is False  # trained on unregistered LGE, whatever today's default
    assert cfg.preprocessing.model_dump(mode="json") == V1_PREPROCESSING
    assert cfg.schema_version == BASELINE_CONFIGURATION.current
    assert cfg.model_copy(update={"register_lge": True}) == today
    assert "baseline configuration 1 -> 2: register_lge: absent" in notes.text
    assert str(path) in notes.text


def test_a_baseline_configuration_of_another_version_is_refused(tmp_path):
    from pscgan.baselines.weights import load_baseline_weights

    path, _ = _old_baseline_weights(tmp_path, schema_version=BASELINE_CONFIGURATION.current + 1)
    with pytest.raises(InputError, match="schema_version"):
        load_baseline_weights(path)


def test_a_baseline_run_of_an_older_pscgan_continues(tiny_ring_dataset, tmp_path):
    """A run folder whose plan holds a version-1 configuration is this very plan, read as it meant."""
    from pscgan.baselines.train import train_baseline

    split = {"train": ["ring_02", "ring_03"], "validation": [], "test": []}
    args = dict(steps=2, seed=0, device="cpu", split=split, preset="tiny", register_lge=False)
    train_baseline("monai_unet", tiny_ring_dataset, tmp_path / "run", stop_after=1, **args)
    plan_path = tmp_path / "run" / "config.json"
    plan = json.loads(plan_path.read_text())
    del plan["config"]["schema_version"], plan["config"]["preprocessing"], plan["config"]["register_lge"]
    plan_path.write_text(json.dumps(plan))
    assert train_baseline("monai_unet", tiny_ring_dataset, tmp_path / "run", **args).is_file()


# training state -----------------------------------------------------------------------------------------

def test_a_checkpoint_before_divergence_recovery_resumes_with_none_recorded(notes):
    from pscgan.training.trainer import TrainState

    old = {"phase_index": 1, "phase_step": 7, "stream": {"epoch": 2, "position": 3}, "best": {}}
    state = TrainState.from_dict(old)
    assert (state.phase_index, state.phase_step, state.stream) == (1, 7, {"epoch": 2, "position": 3})
    assert (state.divergence.lr_scale, state.divergence.retries, state.divergence.events) == (1.0, 0, [])
    assert state.log_window.sums == {} and state.log_window.counts == {}
    assert "training state 1 -> 2: divergence: absent" in notes.text and "log_window: absent" in notes.text
    today = state.to_dict()
    assert today["version"] == TRAINING_STATE.current and migrate(TRAINING_STATE, today) == (today, [])
    assert TrainState.from_dict(today) == state


def test_a_baseline_checkpoint_before_the_shared_loop_resumes_with_no_recovery_recorded(notes):
    from pscgan.training.loop_state import TaskLayout

    old = {"train": {"step": 5, "best": None}, "rng": {}, "stream": {"epoch": 0, "position": 2},
           "optimizers": {"net": {}}}
    state, optimizers = TaskLayout().unpack(old)
    assert (state.step, state.divergence.lr_scale, state.log_window.sums) == (5, 1.0, {})
    assert "baseline training state 1 -> 2: divergence: absent" in notes.text
    today = TaskLayout().pack(state, optimizers, rng={})
    assert today["train"]["version"] == BASELINE_TRAINING_STATE.current
    assert TaskLayout().unpack(today)[0] == state


# prediction record --------------------------------------------------------------------------------------

def test_a_prediction_record_of_version_1_gets_the_preprocessing_of_that_time(tmp_path, notes):
    from pscgan.data.predictions import read_prediction_record

    (tmp_path / "batch.json").write_text(json.dumps({"weights": {"file": "w", "sha256": "ab"}}))
    path, record = read_prediction_record(tmp_path, unreadable="x")
    assert path.name == "batch.json" and record["version"] == PREDICTION_RECORD.current
    assert record["preprocessing"] == V1_PREPROCESSING and record["weights"]["register_lge"] is None
    assert "prediction record 1 -> 2: preprocessing: not recorded" in notes.text
    assert "weights.register_lge: not recorded" in notes.text


# experiment plan ----------------------------------------------------------------------------------------

def test_an_experiment_plan_of_version_1_says_its_configuration_is_not_recorded(notes):
    migrated, said = migrate(EXPERIMENT_PLAN, {"format": "pscgan-experiment-plan", "version": 1,
                                               "request": {}})
    assert migrated["version"] == EXPERIMENT_PLAN.current and migrated["base_config"] is None
    assert said and said[0].startswith("experiment plan 1 -> 2: base_config: not recorded")
    kept = {"version": 1, "base_config": {"x": 1}}
    assert migrate(EXPERIMENT_PLAN, kept)[0]["base_config"] == {"x": 1}


# cascade weights ----------------------------------------------------------------------------------------

def _rewrite_header(path, **changes):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), framework="pt") as fh:
        meta = dict(fh.metadata())
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    save_file(load_file(str(path)), str(path), metadata=meta)


def test_cascade_weights_of_version_1_load_unverified_and_say_so(tmp_path, notes):
    from pscgan.models.factory import build_cascade
    from pscgan.models.weights import VERSION, load_weights, read_weights_metadata, save_weights

    cfg = get_preset("tiny")
    path = tmp_path / "w.safetensors"
    save_weights(path, build_cascade(cfg), cfg)
    assert read_weights_metadata(path)["version"] == VERSION == str(migrations.CASCADE_WEIGHTS.current)
    _rewrite_header(path, metadata_sha256=None)
    with pytest.raises(InputError, match="no metadata checksum"):
        read_weights_metadata(path)
    _rewrite_header(path, version="1")
    assert load_weights(path)[1] == cfg
    assert "cascade weights 1 -> 2: metadata_sha256: absent" in notes.text


# output folders -----------------------------------------------------------------------------------------

def test_a_prediction_folder_from_before_the_output_marker_resumes(tmp_path, notes):
    from pscgan.io.atomic import resume_output_dir, written_by_pscgan

    old, other = tmp_path / "old", tmp_path / "other"
    for folder in (old, other):
        folder.mkdir()
        (folder / "a.txt").write_text("x")
    (old / "summary.json").write_text("{}")
    resume_output_dir(old, records=("batch.json", "summary.json"))
    assert written_by_pscgan(old) and "no output marker; it holds summary.json" in notes.text
    with pytest.raises(OutputExistsError, match="did not write"):
        resume_output_dir(other, records=("batch.json", "summary.json"))


# every format -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", [CONFIGURATION, BASELINE_CONFIGURATION, TRAINING_STATE,
                                 BASELINE_TRAINING_STATE, PREDICTION_RECORD, EXPERIMENT_PLAN,
                                 migrations.CASCADE_WEIGHTS])
def test_today_and_newer_records_are_returned_as_they_are(fmt):
    for version in (fmt.current, fmt.current + 1):
        data = {fmt.key: version, "x": 1}
        assert migrate(fmt, data) == (data, [])
    assert all(v < fmt.current for v in fmt.steps) and set(fmt.steps) == set(range(1, fmt.current))
