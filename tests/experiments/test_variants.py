"""Every variant of every table is a valid configuration of every preset."""

from __future__ import annotations

import pytest

from pscgan.config.presets import PRESETS, get_preset
from pscgan.config.schema import AdversarialLoss, AttentionMode, EncoderKind
from pscgan.errors import ConfigError
from pscgan.experiments.runner import variant_config
from pscgan.config.schema import apply_overrides
from pscgan.experiments.variants import SCLN_TABLES, TABLES, ExperimentTable, check_table_applies, variants_of

SCLN_AS_BEFORE = ["model.encoder=scln", "model.attention=none", "model.full_attention_max_positions=1600"]


def _reference(table, preset):
    """The preset, with the SCLN where the table ablates it and the preset reads the frames stacked."""
    config = get_preset(preset)
    if table in SCLN_TABLES and config.model.encoder is not EncoderKind.SCLN:
        with pytest.raises(ConfigError, match="--set model.encoder=scln"):
            check_table_applies(table, config.model.encoder)
        config = apply_overrides(config, SCLN_AS_BEFORE)
    check_table_applies(table, config.model.encoder)
    return config


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("table", list(ExperimentTable))
def test_every_variant_validates(table, preset):
    variants = variants_of(table)
    assert len({v.name for v in variants}) == len(variants)
    for v in variants:
        if v.baseline is None:
            variant_config(_reference(table, preset), v)  # raises ConfigError when a combination is refused
        else:
            assert v.overrides is None


def test_reference_first_and_switches_reach_the_config():
    cpu = get_preset("cpu")
    for table in (
        ExperimentTable.TABLE3,
        ExperimentTable.TABLE4,
        ExperimentTable.TABLE5,
        ExperimentTable.TABLE6,
    ):
        assert variants_of(table)[0].overrides == ()
    scln = apply_overrides(cpu, SCLN_AS_BEFORE)
    by_name = {
        v.name: variant_config(scln, v)
        for v in TABLES[ExperimentTable.TABLE4] + TABLES[ExperimentTable.TABLE3]
    }
    assert by_name["conv3d"].model.encoder is EncoderKind.CONV3D
    assert by_name["attention_off"].model.attention is AttentionMode.NONE
    assert by_name["attention_off"].model.full_attention_max_positions == 0
    assert by_name["adversarial_off"].loss.adversarial is AdversarialLoss.NONE
    assert by_name["progressive_off"].model.progressive is False
    eff = {v.name: variant_config(scln, v) for v in variants_of("efficiency")}
    assert eff["full_attention"].model.attention is AttentionMode.FULL
    assert eff["factorised"].model.attention is AttentionMode.FACTORISED


def test_selection_and_unknown_names():
    assert [v.name for v in variants_of("table5", ["lsgan", "full"])] == ["full", "lsgan"]
    with pytest.raises(ConfigError, match="no variant nope"):
        variants_of("table5", ["nope"])
    with pytest.raises(ConfigError, match="unknown experiment"):
        variants_of("table9")


@pytest.mark.parametrize("preset, weight", [("paper", 1.0), ("cpu", 10.0)])
def test_adversarial_off_keeps_a_pixel_loss_for_the_lge(preset, weight):
    from pscgan.config.presets import get_preset
    from pscgan.experiments.runner import variant_config

    (variant,) = variants_of("table3", ["adversarial_off"])
    config = variant_config(get_preset(preset), variant)
    assert config.loss.adversarial.value == "none"
    assert config.loss.pixel_l1_weight == weight
