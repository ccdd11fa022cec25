"""Build the networks of a run from its config, and tabulate their parameter counts.

Example:
    >>> from pscgan.config.presets import get_preset
    >>> cfg = get_preset("tiny")
    >>> g = build_generator(cfg, Phase.COARSE)
    >>> d = build_discriminator(cfg, Phase.SEGMENTATION)
    >>> d.count is not None   # phase III carries the pixel-count head when the auxiliary loss is on
    True
    >>> rows = parameter_table(cfg)
    >>> [r.network for r in rows][:2]
    ['generator', 'discriminator']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from pscgan.config.schema import ModelConfig, PscganConfig
from pscgan.config.size import MAX_PARAMETERS
from pscgan.errors import ConfigError
from pscgan.models.cascade import Cascade
from pscgan.models.discriminator import Discriminator
from pscgan.models.generator import Generator
from pscgan.models.phase import Phase, phases_for


def _model(config: PscganConfig | ModelConfig) -> ModelConfig:
    return config.model if isinstance(config, PscganConfig) else config


def build_generator(config: PscganConfig | ModelConfig, phase: Phase | str) -> Generator:
    """The generator of ``phase``."""
    return Generator(_model(config), Phase(phase))


def build_discriminator(config: PscganConfig, phase: Phase | str) -> Discriminator:
    """The discriminator of ``phase``; phases III and joint get the count head if the auxiliary loss is on."""
    phase = Phase(phase)
    count_head = phase in (Phase.SEGMENTATION, Phase.JOINT) and config.loss.auxiliary
    return Discriminator(config.model, phase, count_head=count_head)


def build_cascade(config: PscganConfig | ModelConfig) -> Cascade:
    """All generators of the run (3 progressive phases, or the joint one) as one inference module."""
    model = _model(config)
    return Cascade({p: Generator(model, p) for p in phases_for(progressive=model.progressive)})


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@dataclass(frozen=True)
class ParameterRow:
    """Parameter counts of one network, split by part."""

    network: str
    phase: str
    total: int
    parts: dict[str, int]


def _generator_parts(g: Generator) -> dict[str, int]:
    attention = sum(count_parameters(m) for name, m in g.encoder.named_modules() if name.endswith("unit"))
    bottleneck = count_parameters(g.fc1) + count_parameters(g.fc2)
    if g.bottleneck_weights is not None:
        bottleneck += count_parameters(g.bottleneck_weights)
    decoder = count_parameters(g.up) + count_parameters(g.heads) + count_parameters(g.skip_weights)
    if g.frame_stack is not None:
        decoder += count_parameters(g.frame_stack)
    return {"encoder (excl. attention)": count_parameters(g.encoder) - attention, "attention": attention,
            "bottleneck FC": bottleneck, "decoder + heads": decoder}


def parameter_table(config: PscganConfig) -> list[ParameterRow]:
    """Parameter counts of every generator and discriminator of ``config`` (built on the meta device)."""
    rows = []
    with torch.device("meta"):
        for phase in phases_for(progressive=config.model.progressive):
            g = build_generator(config, phase)
            rows.append(ParameterRow("generator", phase.value, count_parameters(g), _generator_parts(g)))
            d = build_discriminator(config, phase)
            attn = count_parameters(d.attention) if d.attention is not None else 0
            heads = count_parameters(d.score) + (count_parameters(d.count) if d.count is not None else 0)
            parts = {"convolutions": count_parameters(d.convs), "attention": attn, "heads": heads}
            rows.append(ParameterRow("discriminator", phase.value, count_parameters(d), parts))
    return rows


def format_parameter_table(config: PscganConfig) -> str:
    """The parameter table as Markdown."""
    rows = parameter_table(config)
    lines = [f"Preset `{config.preset}`", "",
             "| network | phase | parameters | parts |", "| --- | --- | ---: | --- |"]
    for r in rows:
        parts = ", ".join(f"{k} {v:,}" for k, v in r.parts.items())
        lines.append(f"| {r.network} | {r.phase} | {r.total:,} | {parts} |")
    return "\n".join(lines) + "\n"


def check_parameter_count(config: PscganConfig, source: str | Path | None = None) -> int:
    """The cascade's exact parameter count, from networks built on the ``meta`` device (nothing is
    allocated); refused above :data:`~pscgan.config.size.MAX_PARAMETERS`.

    Raises:
        ConfigError: naming ``source`` and the count.
    """
    with torch.device("meta"):
        count = sum(p.numel() for p in build_cascade(config).parameters())
    if count > MAX_PARAMETERS:
        raise ConfigError(source, f"the configuration asks for networks of {count:.3g} parameters (at most "
                                  f"{MAX_PARAMETERS:.3g}, {MAX_PARAMETERS * 4 / 1e9:.0f} GB in float32)")
    return count
