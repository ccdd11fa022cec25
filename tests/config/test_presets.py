from __future__ import annotations

import pytest

from pscgan.config.presets import PRESETS, get_preset
from pscgan.config.schema import AttentionMode, BottleneckInput, config_from_dict
from pscgan.errors import ConfigError


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_valid_and_named(name):
    cfg = get_preset(name)
    assert cfg.preset == name
    assert config_from_dict(cfg.model_dump(mode="json")) == cfg


def test_paper_preset_is_the_paper():
    cfg = get_preset("paper")
    m, t = cfg.model, cfg.train
    assert (m.frames, m.image_size, m.widths) == (25, 64, (16, 32, 64, 128))
    assert m.dilations == (1, 1, 2, 4, 6, 8) and m.attention is AttentionMode.FULL
    assert m.bottleneck_input is BottleneckInput.FLATTEN and m.bottleneck_features == 4096
    assert m.decoder_start_channels == 256 and m.attention_qk_reduction == 8
    assert (t.lr, t.batch_size, t.d_steps_per_g_step) == (1e-3, 1, 2)
    assert cfg.loss.adversarial.value == "hinge"


def test_unknown_preset():
    with pytest.raises(ConfigError, match="choose one of cpu, paper, tiny"):
        get_preset("gpu")
