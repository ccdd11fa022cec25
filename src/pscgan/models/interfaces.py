"""What the networks return: one shape for every encoder, generator and discriminator variant.

The trainer and the evaluation code only ever see these types, so an ablation or baseline never
needs a special case.

* Encoders return :class:`EncoderOutput`: the (B, C, T, h, w) features of blocks 1-3 (for the skips)
  and of block 4 (for the bottleneck).
* Generators return a ``dict`` with :data:`MASK_LOGITS` (B, classes, H, W) and/or :data:`LGE`
  (B, 1, H, W, tanh, in [-1, 1]).
* Discriminators return :class:`DiscriminatorOutput`.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

MASK_LOGITS = "mask_logits"
LGE = "lge"
COARSE_MASK_LOGITS = "coarse_mask_logits"


@dataclass
class EncoderOutput:
    """Features of a cine encoder.

    Attributes:
        skips: blocks 1-3, each (B, C_i, T, H/2^i, W/2^i).
        bottleneck: block 4, (B, C_4, T, H/16, W/16).
    """

    skips: list[Tensor]
    bottleneck: Tensor


@dataclass
class DiscriminatorOutput:
    """What a discriminator says about a batch.

    Attributes:
        score: (B,) realness score (unbounded; the adversarial loss decides how it is read).
        features: activations after conv 2, 3 and 4 (for the content loss of eq. 15).
        counts: (B, classes) pixel count per class read by the auxiliary head (phase III), else None.
            The head predicts class fractions with a softmax, so counts are >= 0 and sum to H*W.
    """

    score: Tensor
    features: list[Tensor]
    counts: Tensor | None = None
