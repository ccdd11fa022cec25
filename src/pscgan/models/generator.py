"""The SCLN-based generator (section 4.2, figures 5-6): encoder, fully connected bottleneck, decoder, heads.

Input contract: ``cine`` is (B, 1, T, H, W) float in [-1, 1] (T = 25, H = W = 64 in the paper); the
condition, when the phase has one, is (B, C_cond, H, W) (see :mod:`pscgan.models.phase`).

Layout (paper widths)::

    cine 1x25x64x64 -> 4 encoder blocks -> 128x25x4x4 -> FC 4096 -> [concat flattened condition]
    -> FC 256*4*4 -> 4 x (Upsample x2, [concat skip], Conv 3x3, LN, LeakyReLU) -> 16x64x64 -> heads

The skips are the encoder's block 1-3 outputs with time collapsed by a learned weighting (the "dot
layer"), concatenated U-Net style in the upsampling block of matching size (8, 16, 32). Heads: a
3x3 convolution to ``classes`` logits (phases I, III) or to 1 channel with tanh (phase II); the joint
variant (progressive framework off) has both.

Named departures: ``bottleneck_input=time_weighted`` and ``condition_pool`` > 1 shrink the two dense
layers; ``condition_injection=decoder`` also feeds the condition image to every upsampling block, and
``condition_injection=encoder`` besides stacks it with the frames as the frame-stack encoder's input;
``skip_collapse=temporal_projection`` replaces the skips' dot layer by a learned channel-by-frame
projection; ``frame_stack_skip`` feeds the last upsampling block a convolution of the frames stacked as
channels (none in the paper; see :class:`pscgan.config.schema.ModelConfig`).

Example:
    >>> import torch
    >>> from pscgan.config.presets import get_preset
    >>> from pscgan.models.phase import Phase
    >>> cfg = get_preset("tiny").model
    >>> g = Generator(cfg, Phase.SYNTHESIS)
    >>> cine = torch.randn(2, 1, cfg.frames, cfg.image_size, cfg.image_size)
    >>> mask = torch.softmax(torch.randn(2, 4, cfg.image_size, cfg.image_size), 1)
    >>> tuple(g(cine, mask)["lge"].shape)
    (2, 1, 16, 16)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pscgan.config.schema import BottleneckInput, ConditionInjection, ModelConfig, SkipCollapse
from pscgan.models.encoders import build_encoder
from pscgan.models.interfaces import LGE, MASK_LOGITS
from pscgan.models.layers import TemporalProjection, TimeWeighting, image_norm
from pscgan.models.phase import Phase


class UpBlock(nn.Module):
    """Upsample x2 (nearest) -> concat skip -> Conv 3x3 -> layer norm -> LeakyReLU.

    With ``residual``, a second Conv 3x3 -> layer norm -> LeakyReLU follows, added to its input.
    """

    def __init__(self, in_ch: int, out_ch: int, slope: float, residual: bool = False,
                 norm: str = "layer") -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.norm = image_norm(norm, out_ch)
        self.act = nn.LeakyReLU(slope)
        self.refine = None
        if residual:
            self.refine = nn.Sequential(nn.Conv2d(out_ch, out_ch, 3, padding=1), image_norm(norm, out_ch),
                                        nn.LeakyReLU(slope))

    def forward(self, x: Tensor, skip: Tensor | None = None) -> Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        x = self.act(self.norm(self.conv(x)))
        return x if self.refine is None else x + self.refine(x)


class Generator(nn.Module):
    """One phase's generator: ``forward(cine, condition=None) -> {"mask_logits": ..., "lge": ...}``.

    Args:
        config: model config.
        phase: which phase (decides the heads and the condition).
    """

    def __init__(self, config: ModelConfig, phase: Phase) -> None:
        super().__init__()
        self.config = config
        self.phase = phase
        s4, widths = config.bottleneck_size, config.widths
        t = config.encoded_frames
        self.condition_channels = phase.condition_channels(config.classes)
        # condition_injection=encoder: the condition is stacked with the frames at the input
        self.input_condition = (config.condition_injection is ConditionInjection.ENCODER
                                and self.condition_channels > 0)
        input_ch = self.condition_channels if self.input_condition else 0
        self.encoder = build_encoder(config, input_ch)
        if config.skip_collapse is SkipCollapse.TEMPORAL_PROJECTION:
            self.skip_weights = nn.ModuleList(TemporalProjection(c, t) for c in widths[:3])
        else:
            self.skip_weights = nn.ModuleList(TimeWeighting(t) for _ in range(3))
        flatten = config.bottleneck_input is BottleneckInput.FLATTEN
        self.bottleneck_weights = None if flatten else TimeWeighting(t)
        self.fc1 = nn.Linear(widths[3] * s4 * s4 * (t if flatten else 1), config.bottleneck_features)
        cond_size = config.image_size // config.condition_pool
        self.fc2 = nn.Linear(config.bottleneck_features + self.condition_channels * cond_size * cond_size,
                             config.decoder_start_channels * s4 * s4)
        self.act = nn.LeakyReLU(config.leaky_slope)
        # the paper's decoder has no skip at full resolution; frame_stack_skip gives it the frames
        self.frame_stack = None
        if config.frame_stack_skip:
            self.frame_stack = nn.Sequential(nn.Conv2d(config.frames + input_ch, widths[0], 3, padding=1),
                                             image_norm(config.generator_norm.value, widths[0]),
                                             nn.LeakyReLU(config.leaky_slope))
        skip_channels = (widths[2], widths[1], widths[0], widths[0] if config.frame_stack_skip else 0)
        self.decoder_condition = (
            config.condition_injection in (ConditionInjection.DECODER, ConditionInjection.ENCODER)
            and self.condition_channels > 0
        )
        cond_ch = self.condition_channels if self.decoder_condition else 0
        # bottleneck_skip: the decoder start also reads the last stage's features, where they are
        self.bottleneck_skip = TimeWeighting(t) if config.bottleneck_skip else None
        blocks, prev = [], config.decoder_start_channels + (widths[3] if config.bottleneck_skip else 0)
        for skip_ch, out_ch in zip(skip_channels, config.decoder_widths, strict=True):
            blocks.append(UpBlock(prev + skip_ch + cond_ch, out_ch, config.leaky_slope,
                                  residual=config.decoder_residual, norm=config.generator_norm.value))
            prev = out_ch
        self.up = nn.ModuleList(blocks)
        heads = {}
        if MASK_LOGITS in phase.outputs:
            heads[MASK_LOGITS] = nn.Conv2d(prev, config.classes, 3, padding=1)
        if LGE in phase.outputs:
            heads[LGE] = nn.Conv2d(prev, 1, 3, padding=1)
        self.heads = nn.ModuleDict(heads)

    def forward(self, cine: Tensor, condition: Tensor | None = None) -> dict[str, Tensor]:
        """Map a cine (and the phase's condition) to the phase's outputs.

        Args:
            cine: (B, 1, T, H, W) in [-1, 1].
            condition: (B, C_cond, H, W) for phases II and III (see :mod:`pscgan.models.phase`), else None.

        Returns:
            ``mask_logits`` (B, classes, H, W) and/or ``lge`` (B, 1, H, W) in [-1, 1].
        """
        self._check_inputs(cine, condition)
        b = cine.shape[0]
        stacked = condition if self.input_condition else None
        enc = self.encoder(cine, stacked) if stacked is not None else self.encoder(cine)
        feat = enc.bottleneck if self.bottleneck_weights is None else self.bottleneck_weights(enc.bottleneck)
        z = self.act(self.fc1(feat.reshape(b, -1)))
        if condition is not None:
            flat = condition
            if self.config.condition_pool > 1:
                flat = F.avg_pool2d(condition, self.config.condition_pool)
            z = torch.cat([z, flat.reshape(b, -1)], dim=1)
        s4 = self.config.bottleneck_size
        x = self.act(self.fc2(z)).view(b, self.config.decoder_start_channels, s4, s4)
        if self.bottleneck_skip is not None:
            x = torch.cat([x, self.bottleneck_skip(enc.bottleneck)], dim=1)
        full = None
        if self.frame_stack is not None:
            frames = cine[:, 0] if stacked is None else torch.cat([cine[:, 0], stacked], dim=1)
            full = self.frame_stack(frames)
        skips = [weigh(s) for weigh, s in zip(self.skip_weights, enc.skips, strict=True)][::-1] + [full]
        for i, (block, skip) in enumerate(zip(self.up, skips, strict=True)):
            if self.decoder_condition:
                if condition is None:
                    raise ValueError("this generator reads a condition in its decoder; none was given")
                factor = 2 ** (len(self.up) - 1 - i)  # blocks output 8, 16, 32, 64 for a 64x64 input
                cond = F.avg_pool2d(condition, factor) if factor > 1 else condition
                skip = cond if skip is None else torch.cat([skip, cond], dim=1)
            x = block(x, skip)
        out = {}
        if MASK_LOGITS in self.heads:
            out[MASK_LOGITS] = self.heads[MASK_LOGITS](x)
        if LGE in self.heads:
            out[LGE] = torch.tanh(self.heads[LGE](x))
        return out

    def _check_inputs(self, cine: Tensor, condition: Tensor | None) -> None:
        cfg = self.config
        want = (1, cfg.frames, cfg.image_size, cfg.image_size)
        if cine.dim() != 5 or tuple(cine.shape[1:]) != want:
            raise ValueError(f"cine must be (B, {', '.join(map(str, want))}), got {tuple(cine.shape)}")
        if self.condition_channels == 0:
            if condition is not None:
                raise ValueError(f"the {self.phase.value} generator takes no condition")
            return
        want_c = (cine.shape[0], self.condition_channels, cfg.image_size, cfg.image_size)
        if condition is None or tuple(condition.shape) != want_c:
            got = None if condition is None else tuple(condition.shape)
            raise ValueError(f"the {self.phase.value} generator needs a condition of shape {want_c}, "
                             f"got {got}")
