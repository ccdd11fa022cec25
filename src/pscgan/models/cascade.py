"""The trained generators as one inference module: cine -> coarse mask -> LGE -> segmentation.

Each phase is fed exactly what it was trained on (:func:`pscgan.models.phase.condition_from`): phase
II reads phase I's softmax probabilities, phase III reads phase II's LGE. With the progressive
framework off, the single joint generator produces both outputs in one pass.

Example:
    >>> import torch
    >>> from pscgan.config.presets import get_preset
    >>> from pscgan.models.factory import build_cascade
    >>> cfg = get_preset("tiny")
    >>> out = build_cascade(cfg).eval()(torch.zeros(1, 1, cfg.model.frames, 16, 16))
    >>> sorted(out)
    ['coarse_mask_logits', 'lge', 'mask_logits']
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor, nn

from pscgan.models.generator import Generator
from pscgan.models.interfaces import COARSE_MASK_LOGITS, LGE, MASK_LOGITS
from pscgan.models.phase import Phase, condition_from, phases_for


class Cascade(nn.Module):
    """PSCGAN inference: ``forward(cine) -> {"coarse_mask_logits", "lge", "mask_logits"}``.

    Args:
        generators: one generator per phase of :func:`~pscgan.models.phase.phases_for` (the three
            progressive phases, or the joint one).
    """

    def __init__(self, generators: Mapping[Phase, Generator]) -> None:
        super().__init__()
        keys = tuple(generators)
        if keys not in (phases_for(progressive=True), phases_for(progressive=False)):
            raise ValueError(f"a cascade needs the phases coarse, synthesis, segmentation (or joint), got "
                             f"{[p.value for p in keys]}")
        self.progressive = keys != (Phase.JOINT,)
        self.generators = nn.ModuleDict({p.value: g for p, g in generators.items()})

    def forward(self, cine: Tensor) -> dict[str, Tensor]:
        """Run every phase on a cine (B, 1, T, H, W); the joint variant has no coarse mask."""
        if not self.progressive:
            return dict(self.generators[Phase.JOINT.value](cine))
        coarse = self.generators[Phase.COARSE.value](cine)
        synth = self.generators[Phase.SYNTHESIS.value](cine, condition_from(Phase.SYNTHESIS, coarse))
        seg = self.generators[Phase.SEGMENTATION.value](cine, condition_from(Phase.SEGMENTATION, synth))
        return {COARSE_MASK_LOGITS: coarse[MASK_LOGITS], LGE: synth[LGE], MASK_LOGITS: seg[MASK_LOGITS]}
