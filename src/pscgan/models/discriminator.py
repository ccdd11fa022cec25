"""The discriminator (section 4.2): 5 stride-2 convolutions, self-attention after the 2nd, linear heads.

Each convolution (3x3, stride 2) is followed by layer norm and LeakyReLU (section 6.3). A SAGAN
self-attention layer sits between conv 2 and conv 3. The activations after conv 2, 3 and 4 are
returned for the content loss of eq. (15). A linear layer on the flattened conv 5 output gives the
score; phase III's discriminator (and the joint variant's, when the auxiliary loss is on) has a
second linear head that reads the pixel count of each class (eq. 17) -- as a softmax over classes
times H*W, so counts are non-negative and add up to the image size.

What each phase's discriminator judges (use :func:`real_input` / :func:`fake_input`):

* phases I and III: masks, one-hot for ground truth and softmax probabilities for generated ones;
* phase II: the LGE image;
* joint: mask channels and the LGE image stacked.

The paper lists "1x4 probability values" as phase I's output; we read it as one score per image (the
hinge loss of eq. 10 is defined on a scalar D) and say so here.

Example:
    >>> import torch
    >>> from pscgan.config.presets import get_preset
    >>> from pscgan.models.phase import Phase
    >>> cfg = get_preset("tiny").model
    >>> d = Discriminator(cfg, Phase.SEGMENTATION, count_head=True)
    >>> out = d(torch.softmax(torch.randn(2, 4, cfg.image_size, cfg.image_size), 1))
    >>> tuple(out.score.shape), len(out.features), round(float(out.counts.detach().sum(1)[0]))
    ((2,), 3, 256)
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pscgan.config.schema import MaskEncoding, ModelConfig
from pscgan.models.attention import SelfAttention
from pscgan.models.interfaces import LGE, MASK_LOGITS, DiscriminatorOutput
from pscgan.models.layers import ImageLayerNorm
from pscgan.models.phase import Phase


class _DownConv(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, slope: float) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, stride=2, padding=1)
        self.norm = ImageLayerNorm(out_ch)
        self.act = nn.LeakyReLU(slope)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.conv(x)))


class Discriminator(nn.Module):
    """``forward(x) -> DiscriminatorOutput(score, features, counts)``.

    Args:
        config: model config (widths, attention switch, image size, classes).
        phase: decides the input channels.
        count_head: add the pixel-count head of the auxiliary loss (needs a mask input).
    """

    def __init__(self, config: ModelConfig, phase: Phase, *, count_head: bool = False) -> None:
        super().__init__()
        if count_head and not phase.judges_masks:
            raise ValueError(f"the {phase.value} discriminator judges no mask: it cannot read pixel counts")
        self.phase = phase
        self.classes = config.classes
        self.image_size = config.image_size
        self.in_channels = phase.discriminator_channels(config.classes)
        chans = (self.in_channels, *config.discriminator_widths)
        self.convs = nn.ModuleList(_DownConv(chans[i], chans[i + 1], config.leaky_slope) for i in range(5))
        self.attention = SelfAttention(chans[2]) if config.discriminator_attention else None
        size = config.image_size
        for _ in range(5):
            size = (size + 1) // 2
        flat = chans[5] * size * size
        self.score = nn.Linear(flat, 1)
        self.count = nn.Linear(flat, config.classes) if count_head else None

    def forward(self, x: Tensor) -> DiscriminatorOutput:
        want = (self.in_channels, self.image_size, self.image_size)
        if x.dim() != 4 or tuple(x.shape[1:]) != want:
            raise ValueError(f"the {self.phase.value} discriminator takes (B, {', '.join(map(str, want))}), "
                             f"got {tuple(x.shape)}")
        features = []
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if i in (1, 2, 3):
                features.append(x)
            if i == 1 and self.attention is not None:
                b, c, h, w = x.shape
                tokens = self.attention(x.flatten(2).transpose(1, 2))
                x = tokens.transpose(1, 2).reshape(b, c, h, w)
        flat = x.flatten(1)
        counts = None
        if self.count is not None:
            counts = torch.softmax(self.count(flat), dim=1) * (self.image_size * self.image_size)
        return DiscriminatorOutput(score=self.score(flat).squeeze(1), features=features, counts=counts)


def real_input(phase: Phase, *, labels: Tensor | None = None, lge: Tensor | None = None,
               classes: int = 4) -> Tensor:
    """Ground truth as the ``phase`` discriminator sees it.

    Args:
        labels: (B, H, W) integer label map (phases I, III, joint).
        lge: (B, 1, H, W) LGE in [-1, 1] (phase II, joint).
    """
    parts = []
    if phase.judges_masks:
        if labels is None:
            raise ValueError(f"the {phase.value} discriminator needs the label map")
        parts.append(F.one_hot(labels.long(), classes).permute(0, 3, 1, 2).to(torch.get_default_dtype()))
    if phase in (Phase.SYNTHESIS, Phase.JOINT):
        if lge is None:
            raise ValueError(f"the {phase.value} discriminator needs the LGE image")
        parts.append(lge)
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)


def fake_input(phase: Phase, outputs: Mapping[str, Tensor], encoding: MaskEncoding = MaskEncoding.SOFTMAX
               ) -> Tensor:
    """A generator's outputs as the ``phase`` discriminator sees them.

    Mask logits become softmax probabilities, or with ``encoding=one_hot`` the one-hot of the most
    probable class, whose gradient is the softmax's (straight through): the discriminator then cannot
    tell a generated mask from the one-hot ground truth by its softness alone.
    """
    parts = []
    if phase.judges_masks:
        probs = torch.softmax(outputs[MASK_LOGITS], dim=1)
        if MaskEncoding(encoding) is MaskEncoding.ONE_HOT:
            hard = F.one_hot(probs.argmax(1), probs.shape[1]).permute(0, 3, 1, 2).to(probs.dtype)
            probs = hard + probs - probs.detach()
        parts.append(probs)
    if phase in (Phase.SYNTHESIS, Phase.JOINT):
        parts.append(outputs[LGE])
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
