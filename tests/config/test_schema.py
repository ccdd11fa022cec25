from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from pscgan.config.schema import (
    AttentionMode,
    PscganConfig,
    apply_overrides,
    config_from_dict,
    load_config,
)
from pscgan.errors import ConfigError


def test_save_and_load_round_trip(tmp_path):
    cfg = apply_overrides(PscganConfig(), ["model.attention=factorised", "model.widths=[8,16,32,64]"])
    cfg.save(tmp_path / "config.json")
    loaded = load_config(tmp_path / "config.json")
    assert loaded == cfg
    assert loaded.model.attention is AttentionMode.FACTORISED and loaded.model.widths == (8, 16, 32, 64)


def test_unknown_keys_are_refused_with_the_file_name(tmp_path):
    data = PscganConfig().model_dump(mode="json")
    data["model"]["widthz"] = [1, 2, 3, 4]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=r"bad\.json.*model\.widthz"):
        load_config(path)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ConfigError, match="not a readable JSON"):
        load_config(tmp_path / "broken.json")


@pytest.mark.parametrize("model, message", [
    ({"image_size": 40}, "divisible by 16"),
    ({"dilations": [2, 4]}, "first dilation"),
    ({"encoder": "convlstm", "attention": "none"}, "scln encoder only"),
    ({"widths": [8, 16, 32]}, "widths"),
    ({"attention": "sparse"}, "attention"),
])
def test_invalid_model_values(model, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict({"model": model})


def test_content_and_auxiliary_need_a_discriminator():
    with pytest.raises(ConfigError, match="adversarial=none"):
        config_from_dict({"loss": {"adversarial": "none"}})
    cfg = config_from_dict({"loss": {"adversarial": "none", "content": False, "auxiliary": False}})
    assert cfg.loss.adversarial.value == "none"


def test_overrides():
    cfg = apply_overrides(PscganConfig(preset="cpu"), ["train.lr=0.0005", "loss.content=false"])
    assert cfg.train.lr == 0.0005 and cfg.loss.content is False and cfg.preset == "cpu+overrides"
    for bad in ["lr=1", "model.nope=1", "train.lr", "model.frames=-3"]:
        with pytest.raises(ConfigError):
            apply_overrides(cfg, [bad])


def test_configs_are_immutable():
    cfg = PscganConfig()
    with pytest.raises(ValidationError, match="frozen"):
        cfg.train.lr = 1.0


def test_a_stored_config_without_register_lge_means_unregistered(tmp_path):
    """Configs written before the field existed were trained on unregistered LGE, and must keep saying so."""
    from pscgan.config.presets import get_preset

    data = get_preset("cpu").model_dump(mode="json")
    assert data["train"].pop("register_lge") is True
    (tmp_path / "old.json").write_text(json.dumps(data))
    old = load_config(tmp_path / "old.json")
    assert old.train.register_lge is False and old.model == get_preset("cpu").model
    assert PscganConfig().train.register_lge is False
    assert apply_overrides(old, ["train.register_lge=true"]).train.register_lge is True
