from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from pscgan.config.presets import PRESETS, get_preset
from pscgan.config.schema import (
    AttentionMode,
    BottleneckInput,
    LearningRateSchedule,
    ModelConfig,
    apply_overrides,
    config_from_dict,
)
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


def test_the_docs_override_gives_back_the_scln_preset_of_tables_3_to_6():
    # docs/results.md reruns Tables 3-6 as `--preset cpu` plus SCLN_CPU; each change of the cpu preset
    # must keep that override restoring the SCLN preset they were measured with, field for field
    text = (Path(__file__).resolve().parents[2] / "docs" / "results.md").read_text(encoding="utf-8")
    block = re.search(r'SCLN_CPU="(.*?)"', text, re.S)
    assert block is not None
    words = shlex.split(block.group(1).replace("\\\n", " "))
    overrides = [w for w in words if w != "--set"]
    assert len(overrides) == words.count("--set")
    cfg = apply_overrides(get_preset("cpu"), overrides)
    scln = get_preset("cpu").model_copy(update={
        "model": ModelConfig(
            widths=(8, 16, 32, 64), attention=AttentionMode.NONE, full_attention_max_positions=1600,
            bottleneck_input=BottleneckInput.TIME_WEIGHTED, bottleneck_features=256,
            decoder_start_channels=64, decoder_widths=(64, 32, 16, 16), condition_pool=4,
            condition_injection="decoder", discriminator_widths=(32, 64, 128, 256, 256),
        ),
        "loss": get_preset("cpu").loss.model_copy(update={"synthesis_ssim_weight": 0.0,
                                                          "segmentation_weight": 1.0}),
        "train": get_preset("cpu").train.model_copy(update={
            "lr": 2e-4, "d_steps_per_g_step": 2, "lr_schedule": LearningRateSchedule.CONSTANT,
            "steps_per_phase": 1500, "phase_step_shares": None, "adversarial_warmup_steps": 0,
            "dihedral_augmentation": 0.0}),
    })
    assert cfg.model_copy(update={"preset": "cpu"}) == scln
