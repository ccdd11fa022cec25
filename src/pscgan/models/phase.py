"""The three progressive phases (section 5) and the joint variant, with what each one reads and writes.

Conditioning contract (what training and inference both feed):

* phase II (synthesis) is conditioned on phase I's mask as **softmax probabilities** (B, classes, H, W);
* phase III (segmentation) is conditioned on phase II's LGE image (B, 1, H, W) in [-1, 1].

Example:
    >>> Phase.SYNTHESIS.outputs, Phase.SYNTHESIS.condition_channels(4)
    (('lge',), 4)
    >>> [p.value for p in phases_for(progressive=True)]
    ['coarse', 'synthesis', 'segmentation']
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

import torch
from torch import Tensor

from pscgan.models.interfaces import LGE, MASK_LOGITS


class Phase(str, Enum):
    """A generator/discriminator pair of the cascade."""

    COARSE = "coarse"  # I: priori generation GAN, cine -> coarse tissue mask
    SYNTHESIS = "synthesis"  # II: conditional synthesis GAN, cine | coarse mask -> LGE
    SEGMENTATION = "segmentation"  # III: enhanced segmentation GAN, cine | LGE -> tissue mask
    JOINT = "joint"  # progressive framework off: one generator, parallel mask and LGE heads

    @property
    def outputs(self) -> tuple[str, ...]:
        """Keys of the generator's output dict."""
        return {Phase.COARSE: (MASK_LOGITS,), Phase.SYNTHESIS: (LGE,), Phase.SEGMENTATION: (MASK_LOGITS,),
                Phase.JOINT: (MASK_LOGITS, LGE)}[self]

    def condition_channels(self, classes: int) -> int:
        """Channels of the condition image (0: unconditioned)."""
        return {Phase.SYNTHESIS: classes, Phase.SEGMENTATION: 1}.get(self, 0)

    def discriminator_channels(self, classes: int) -> int:
        """Channels of what the discriminator judges: masks (one-hot / softmax), LGE, or both."""
        return {Phase.COARSE: classes, Phase.SYNTHESIS: 1, Phase.SEGMENTATION: classes,
                Phase.JOINT: classes + 1}[self]

    @property
    def judges_masks(self) -> bool:
        """Whether the discriminator sees a mask (and can carry the pixel-count head)."""
        return self is not Phase.SYNTHESIS


def phases_for(*, progressive: bool) -> tuple[Phase, ...]:
    """The phases a config trains, in order."""
    return (Phase.COARSE, Phase.SYNTHESIS, Phase.SEGMENTATION) if progressive else (Phase.JOINT,)


def condition_from(phase: Phase, previous: Mapping[str, Tensor]) -> Tensor | None:
    """The condition ``phase`` reads, made from the previous phase's generator outputs.

    Args:
        phase: the phase about to run.
        previous: output dict of the previous phase's generator (ignored for unconditioned phases).
    """
    if phase is Phase.SYNTHESIS:
        return torch.softmax(previous[MASK_LOGITS], dim=1)
    if phase is Phase.SEGMENTATION:
        return previous[LGE]
    return None
