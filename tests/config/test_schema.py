from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from pscgan.config.schema import (
    AttentionMode,
    PscganConfig,
    TrainConfig,
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


@pytest.mark.parametrize(("steps", "shares", "expected"), [
    (1500, None, (1500, 1500, 1500)),
    (1500, (2, 1, 2), (1800, 900, 1800)),
    (1000, (1, 1, 1), (1000, 1000, 1000)),
    (100, (1, 1, 1.5), (86, 86, 128)),
    (1, (100, 1, 1), (1, 1, 1)),  # no phase is left without a step
    (2, (100, 1, 1), (4, 1, 1)),
])
def test_phase_step_shares_keep_the_total(steps, shares, expected):
    train = TrainConfig(steps_per_phase=steps, phase_step_shares=shares)
    assert train.phase_steps(3) == expected and sum(expected) == 3 * steps
    assert train.phase_steps(1) == (steps,)  # the joint model trains steps_per_phase


@pytest.mark.parametrize("shares", ["[1,0,1]", "[1,-1,1]", "[1,1]", "[1,nan,1]"])
def test_phase_step_shares_must_be_three_positive_numbers(shares):
    with pytest.raises(ConfigError, match="phase_step_shares"):
        apply_overrides(PscganConfig(), [f"train.phase_step_shares={shares}"])


@pytest.mark.parametrize("factors", ["[1,0,1]", "[1,-1,1]", "[1,1]", "[1,inf,1]"])
def test_phase_lr_factors_must_be_three_positive_numbers(factors):
    with pytest.raises(ConfigError, match="phase_lr_factors"):
        apply_overrides(PscganConfig(), [f"train.phase_lr_factors={factors}"])


def test_phase_lr_scales_the_rate_of_each_phase():
    train = TrainConfig(lr=2e-3, phase_lr_factors=(1.0, 0.5, 0.25))
    assert [train.phase_lr(i) for i in range(3)] == [2e-3, 1e-3, 5e-4]
    assert TrainConfig(lr=2e-3).phase_lr(2) == 2e-3  # None: the paper's single rate


def test_configs_are_immutable():
    cfg = PscganConfig()
    with pytest.raises(ValidationError, match="frozen"):
        cfg.train.lr = 1.0


def test_defaults_are_the_recommended_values():
    """The schema's defaults are the paper preset: what a newcomer gets without a preset is what we advise."""
    from pscgan.config.presets import get_preset

    assert PscganConfig(preset="paper") == get_preset("paper")
    assert PscganConfig().train.register_lge is True
    assert PscganConfig().loss.mask_to_discriminator.value == "one_hot"


def test_preprocessing_section_is_validated_and_overridable():
    cfg = apply_overrides(PscganConfig(), ["preprocessing.fov_heart_ratio=1.45",
                                           "preprocessing.intensity_percentiles=[1, 99]"])
    assert cfg.preprocessing.fov_heart_ratio == 1.45 and cfg.preprocessing.intensity_percentiles == (
        1.0,
        99.0,
    )
    with pytest.raises(ConfigError, match="intensity_percentiles"):
        apply_overrides(PscganConfig(), ["preprocessing.intensity_percentiles=[99, 1]"])
    with pytest.raises(ConfigError, match="fov_heart_ratio"):
        apply_overrides(PscganConfig(), ["preprocessing.fov_heart_ratio=0.5"])
