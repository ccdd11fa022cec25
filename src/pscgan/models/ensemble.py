"""Several trained cascades that predict as one: the mean of their class probabilities and of their LGEs.

Cascades trained alike but apart (other seeds, or the folds of ``pscgan cv``) make partly independent
errors, so their average is better than a typical member, as nnU-Net ensembles its cross-validation
folds. What is averaged is what each member would report: the softmax of each mask (returned as its
logarithm, so that ``argmax`` and ``softmax`` of the result read the mean probabilities) and the
synthetic LGE. Every member must read its input alike (frames, crop, preprocessing plan), which
:func:`check_members_agree` checks on their configurations.

Example:
    >>> import torch
    >>> from pscgan.config.presets import get_preset
    >>> from pscgan.models.factory import build_cascade
    >>> cfg = get_preset("tiny")
    >>> ensemble = CascadeEnsemble([build_cascade(cfg).eval(), build_cascade(cfg).eval()])
    >>> out = ensemble(torch.zeros(1, 1, cfg.model.frames, 16, 16))
    >>> sorted(out), bool(torch.allclose(out["mask_logits"].exp().sum(1), torch.ones(1, 16, 16)))
    (['coarse_mask_logits', 'lge', 'mask_logits'], True)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from pscgan.config.schema import PscganConfig
from pscgan.errors import InputError
from pscgan.models.interfaces import COARSE_MASK_LOGITS, MASK_LOGITS

#: Mask outputs averaged as probabilities; every other output is averaged as it is.
_MASKS = (MASK_LOGITS, COARSE_MASK_LOGITS)


class CascadeEnsemble(nn.Module):
    """``forward(cine)``: each member's outputs averaged (masks as probabilities, see the module).

    Args:
        members: trained cascades (:class:`~pscgan.models.cascade.Cascade`), at least one. An output
            that not every member gives (the joint variant has no coarse mask) is left out.
    """

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one cascade")
        self.members = nn.ModuleList(members)

    def forward(self, cine: Tensor) -> dict[str, Tensor]:
        outs = [member(cine) for member in self.members]
        keys = set.intersection(*(set(o) for o in outs))
        result: dict[str, Tensor] = {}
        for key in sorted(keys):
            if key in _MASKS:
                probs = torch.stack([o[key].float().softmax(1) for o in outs]).mean(0)
                result[key] = probs.clamp_min(torch.finfo(probs.dtype).tiny).log()
            else:
                result[key] = torch.stack([o[key].float() for o in outs]).mean(0)
        return result


def check_members_agree(configs: Sequence[PscganConfig], paths: Sequence[Path]) -> None:
    """Refuse members that would be fed differently or were trained against another reference.

    The crop, the phases, the preprocessing plan and ``train.register_lge`` (which reference LGE the
    synthesis learnt, and so how ``pscgan evaluate`` prepares it) must be equal; the networks may differ.

    Raises:
        InputError: naming the first member that differs from the first one, and what differs.
    """
    from pscgan.data.protocol import planned_options

    first = configs[0]
    for config, path in zip(configs[1:], paths[1:]):
        if planned_options(config) != planned_options(first):
            raise InputError(path, f"reads its input otherwise than {paths[0].name} (frames, crop or "
                                   "preprocessing plan); an ensemble's members must be fed alike")
        if config.train.register_lge != first.train.register_lge:
            raise InputError(path, f"was trained with train.register_lge={config.train.register_lge}, "
                                   f"{paths[0].name} with {first.train.register_lge}; an ensemble's members "
                                   "must learn the same reference LGE")
        if config.model.classes != first.model.classes:
            raise InputError(path, f"segments {config.model.classes} classes, {paths[0].name} "
                                   f"{first.model.classes}")
