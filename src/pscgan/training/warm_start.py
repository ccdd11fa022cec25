"""Start one network from another's weights when their architectures differ only in extra inputs.

Phase III's generator (cine | LGE -> mask) is phase I's (cine -> mask) with more input channels: the
flattened condition appended to the second dense layer's input, and the condition image appended to
every upsampling block's input. :func:`warm_start` copies every tensor of the source into the target;
where the target's tensor is wider along its input dimension (dim 1), the source fills the leading
part and the rest is set to zero. The extra inputs are appended after the source's in both places (see
:class:`pscgan.models.generator.Generator`), so the target at the start computes exactly what the
source computes, whatever its condition, and training then learns how much to use it.

Example:
    >>> import torch
    >>> from pscgan.config.presets import get_preset
    >>> from pscgan.models.factory import build_generator
    >>> cfg = get_preset("tiny")
    >>> coarse, seg = build_generator(cfg, "coarse"), build_generator(cfg, "segmentation")
    >>> record = warm_start(seg, coarse)
    >>> record.kept
    []
    >>> cine = torch.randn(1, 1, cfg.model.frames, cfg.model.image_size, cfg.model.image_size)
    >>> lge = torch.rand(1, 1, cfg.model.image_size, cfg.model.image_size)
    >>> bool(torch.allclose(seg(cine, lge)["mask_logits"], coarse(cine)["mask_logits"], atol=1e-5))
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class WarmStart:
    """What :func:`warm_start` did, by state-dict key.

    Attributes:
        copied: tensors copied whole.
        widened: tensors whose leading input slice was copied and the rest zeroed.
        kept: target tensors left as initialised (absent from the source, or shapes that cannot match).
    """

    copied: list[str] = field(default_factory=list)
    widened: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.copied)} tensors copied, {len(self.widened)} widened with zeros, "
                f"{len(self.kept)} kept")


def _widens(target: torch.Size, source: torch.Size) -> bool:
    """Whether ``target`` is ``source`` with a larger input dimension (dim 1) and nothing else changed."""
    return (
        len(target) == len(source) >= 2
        and target[0] == source[0]
        and target[1] > source[1]
        and target[2:] == source[2:]
    )


@torch.no_grad()
def warm_start(target: nn.Module, source: nn.Module) -> WarmStart:
    """Load ``source``'s weights into ``target`` (see the module docstring); returns what was done."""
    record = WarmStart()
    src = source.state_dict()
    for key, tensor in target.state_dict().items():
        value = src.get(key)
        if value is None:
            record.kept.append(key)
        elif value.shape == tensor.shape:
            tensor.copy_(value)
            record.copied.append(key)
        elif _widens(tensor.shape, value.shape):
            tensor.zero_()
            tensor[:, : value.shape[1]].copy_(value)
            record.widened.append(key)
        else:
            record.kept.append(key)
    return record
