"""Configurations of an older schema load through the one migration, which fills what they were trained
with (never today's defaults) and says so."""

from __future__ import annotations

import json
import logging

import pytest

from pscgan.config.migrations import V1_PREPROCESSING, migrate_config
from pscgan.config.presets import get_preset
from pscgan.config.schema import SCHEMA_VERSION, PscganConfig, config_from_dict, load_config


def _v1(preset: str = "cpu", *, drop: tuple[tuple[str, str], ...] = ()) -> dict:
    """``preset`` as schema 1 stored it: no preprocessing section, ``drop``ped fields absent."""
    data = get_preset(preset).model_dump(mode="json")
    data["schema_version"] = 1
    del data["preprocessing"]
    for section, field in drop:
        del data[section][field]
    return data


def test_schema_1_gets_the_preprocessing_it_was_trained_with(caplog):
    with caplog.at_level(logging.INFO, logger="pscgan.config"):
        cfg = config_from_dict(_v1(), source="w.safetensors")
    assert cfg.schema_version == SCHEMA_VERSION
    assert cfg.preprocessing.model_dump(mode="json") == {
        **V1_PREPROCESSING,
        "intensity_percentiles": [0.5, 99.5],
    }
    assert cfg.train.register_lge is True and cfg.loss.mask_to_discriminator.value == "one_hot"  # as stored
    assert "w.safetensors" in caplog.text and "preprocessing: filled" in caplog.text


def test_fields_absent_from_schema_1_mean_what_they_meant_then(tmp_path):
    data = _v1(drop=(("train", "register_lge"), ("loss", "mask_to_discriminator")))
    migrated, notes = migrate_config(data)
    assert len(notes) == 3 and all(n.startswith("schema 1 -> 2: ") for n in notes)
    assert "register_lge" not in data["train"]  # the input is not modified
    assert data["schema_version"] == 1 and "preprocessing" not in data
    (tmp_path / "old.json").write_text(json.dumps(data))
    old = load_config(tmp_path / "old.json")
    assert old.train.register_lge is False and old.loss.mask_to_discriminator.value == "softmax"
    assert old.model == get_preset("cpu").model


@pytest.mark.parametrize("data", [get_preset("tiny").model_dump(mode="json"), {"preset": "custom"}, [], "x"])
def test_today_and_hand_written_configurations_are_not_migrated(data):
    assert migrate_config(data) == (data, [])


def test_a_newer_schema_is_refused_not_migrated():
    data = PscganConfig().model_dump(mode="json") | {"schema_version": SCHEMA_VERSION + 1}
    with pytest.raises(Exception, match="schema_version"):
        config_from_dict(data)
