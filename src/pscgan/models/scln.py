"""Sequential causal learning network (SCLN, section 4.1): four blocks of two pathways + attention unit.

Block i takes the previous block's spatial and temporal pathway outputs (block 1: two copies of the
cine), halves the in-plane size, and weighs both outputs with the multi-attention weighing unit. The
unit outputs of blocks 1-3 feed the generator's skips and block 4's feeds the bottleneck
(section 4.2); the pathway outputs, not the unit output, go on to the next block.

Example:
    >>> import torch
    >>> from pscgan.config.presets import get_preset
    >>> cfg = get_preset("tiny").model
    >>> enc = SCLNEncoder(cfg)
    >>> out = enc(torch.randn(2, 1, cfg.frames, cfg.image_size, cfg.image_size))
    >>> [tuple(s.shape) for s in out.skips], tuple(out.bottleneck.shape)
    ([(2, 4, 4, 8, 8), (2, 4, 4, 4, 4), (2, 8, 4, 2, 2)], (2, 8, 4, 1, 1))
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from pscgan.config.schema import AttentionMode, ModelConfig, Pathways
from pscgan.models.attention import MultiAttentionUnit
from pscgan.models.interfaces import EncoderOutput
from pscgan.models.pathways import SpatialPathway, TemporalPathway


def block_attention_mode(config: ModelConfig, positions: int) -> AttentionMode:
    """Attention of a block with ``positions`` = T*h*w tokens.

    Blocks with at most ``full_attention_max_positions`` tokens use full attention whatever
    ``attention`` says; the others use ``attention``. So ``attention=factorised`` with a threshold
    of 1600 is full attention at the two deepest blocks and factorised above, and ``attention=none``
    with the same threshold is "attention only where N is small". The default threshold (0) applies
    ``attention`` everywhere (``none`` then is table 4's "multi-attention weighing removed").
    """
    if positions <= config.full_attention_max_positions:
        return AttentionMode.FULL
    return config.attention


class SCLNBlock(nn.Module):
    """One SCLN: spatial pathway, temporal pathway and the multi-attention weighing unit.

    Args:
        config: model config (dilations, kernels, pathways, attention).
        in_ch, out_ch: channels.
        out_size: in-plane size of the outputs.
    """

    def __init__(self, config: ModelConfig, in_ch: int, out_ch: int, out_size: int) -> None:
        super().__init__()
        self.out_size = out_size
        use_s = config.pathways in (Pathways.BOTH, Pathways.SPATIAL)
        use_t = config.pathways in (Pathways.BOTH, Pathways.TEMPORAL)
        common: dict[str, Any] = dict(dilations=config.dilations,
                                      residual_dilations=config.residual_dilations, slope=config.leaky_slope)
        self.spatial = (SpatialPathway(in_ch, out_ch, out_size=out_size, kernel=config.spatial_kernel,
                                       **common) if use_s else None)
        self.temporal = (TemporalPathway(in_ch, out_ch, frames=config.frames, kernel=config.temporal_kernel,
                                         **common) if use_t else None)
        self.attention_mode = block_attention_mode(config, config.frames * out_size * out_size)
        self.unit = MultiAttentionUnit(out_ch, self.attention_mode, spatial=use_s, temporal=use_t,
                                       qk_reduction=config.attention_qk_reduction,
                                       value_reduction=config.attention_value_reduction)

    def forward(self, spatial: Tensor | None, temporal: Tensor | None, batch: int,
                in_size: tuple[int, int]) -> tuple[Tensor | None, Tensor | None, Tensor]:
        """Run both pathways and the unit.

        Args:
            spatial: previous spatial output in ``frames`` layout (B*T, C, H, W), or None.
            temporal: previous temporal output in ``sequence`` layout (B, C, T, H*W), or None.
            batch: B.
            in_size: (H, W) of the inputs.

        Returns:
            (spatial output, temporal output, unit output as (B, C, T, H/2, W/2)).
        """
        h, w = in_size[0] // 2, in_size[1] // 2
        s_out = self.spatial(spatial) if self.spatial is not None else None
        t_out = self.temporal(temporal, in_size) if self.temporal is not None else None
        ref = s_out if s_out is not None else t_out
        assert ref is not None  # a configuration has at least one pathway
        frames = ref.shape[0] // batch if s_out is not None else ref.shape[2]
        channels = ref.shape[1]
        s_tok = (s_out.view(batch, frames, channels, h * w).transpose(2, 3).reshape(batch, -1, channels)
                 if s_out is not None else None)
        t_tok = t_out.permute(0, 2, 3, 1).reshape(batch, -1, channels) if t_out is not None else None
        fused = self.unit(s_tok, t_tok, (frames, h * w))
        return s_out, t_out, fused.transpose(1, 2).reshape(batch, channels, frames, h, w)


class SCLNEncoder(nn.Module):
    """Four SCLN blocks: cine (B, 1, T, H, W) -> :class:`~pscgan.models.interfaces.EncoderOutput`."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        chans = (1, *config.widths)
        self.blocks = nn.ModuleList(
            SCLNBlock(config, chans[i], chans[i + 1], config.image_size // 2 ** (i + 1)) for i in range(4))

    def forward(self, cine: Tensor) -> EncoderOutput:
        b, _, t, h, w = cine.shape
        spatial: Tensor | None = cine.reshape(b * t, 1, h, w)  # C = 1: a view, no copy
        temporal: Tensor | None = cine.reshape(b, 1, t, h * w)
        size = (h, w)
        fused = []
        for block in self.blocks:
            spatial, temporal, out = block(spatial, temporal, b, size)
            fused.append(out)
            size = (size[0] // 2, size[1] // 2)
        return EncoderOutput(skips=fused[:3], bottleneck=fused[3])
