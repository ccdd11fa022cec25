from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from pscgan.config.presets import PRESETS, get_preset
from pscgan.config.schema import BottleneckInput
from pscgan.models.factory import (
    build_discriminator,
    build_generator,
    count_parameters,
    format_parameter_table,
    parameter_table,
)
from pscgan.models.phase import Phase

DOCS = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_parameter_table_matches_the_built_networks_and_the_config(preset):
    cfg = get_preset(preset)
    m = cfg.model
    rows = {(r.network, r.phase): r for r in parameter_table(cfg)}
    s4, t, f = m.bottleneck_size, m.encoded_frames, m.bottleneck_features
    for phase in (Phase.COARSE, Phase.SYNTHESIS, Phase.SEGMENTATION):
        row = rows[("generator", phase.value)]
        assert sum(row.parts.values()) == row.total
        with torch.device("meta"):
            assert count_parameters(build_generator(cfg, phase)) == row.total
            d_total = rows[("discriminator", phase.value)].total
            assert count_parameters(build_discriminator(cfg, phase)) == d_total
        # the two dense layers, from the config alone
        fc1_in = m.widths[3] * s4 * s4 * (t if m.bottleneck_input is BottleneckInput.FLATTEN else 1)
        cond = phase.condition_channels(m.classes) * (m.image_size // m.condition_pool) ** 2
        fc2_out = m.decoder_start_channels * s4 * s4
        expected = (fc1_in + 1) * f + (f + cond + 1) * fc2_out
        expected += t if m.bottleneck_input is BottleneckInput.TIME_WEIGHTED else 0
        assert row.parts["bottleneck FC"] == expected


def test_paper_bottleneck_is_the_papers_dense_layer():
    row = parameter_table(get_preset("paper"))[0]
    assert row.parts["bottleneck FC"] == (25 * 4 * 4 * 128 + 1) * 4096 + (4096 + 1) * 4096


def test_docs_parameter_table_is_current():
    text = DOCS.read_text(encoding="utf-8")
    for preset in sorted(PRESETS):
        table = format_parameter_table(get_preset(preset))
        assert table.strip() in text, f"docs/architecture.md: regenerate the {preset} table " \
                                      "(pscgan bench models --params)"
    assert re.search(r"pscgan bench models --params", text)
