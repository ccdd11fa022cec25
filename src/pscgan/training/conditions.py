"""Inputs each phase reads from the frozen phases before it, computed once per phase.

Phase II trains on phase I's predicted masks and phase III on phase II's synthesised LGE, exactly as
at inference (:func:`pscgan.models.phase.condition_from`). Earlier phases are frozen, evaluated in
eval mode and deterministic, so their outputs are computed once for every training and validation slice
instead of at every step: identical values, a fraction of the cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from pscgan.models.phase import Phase, condition_from


@torch.no_grad()
def upstream_conditions(
    phase: Phase,
    upstream: Mapping[Phase, nn.Module],
    dataset: Any,
    indices: Sequence[int],
    *,
    device: torch.device,
    batch_size: int = 16,
) -> dict[int, Tensor]:
    """Condition tensor (C, H, W) of ``phase`` for each cache index in ``indices`` (empty for
    unconditioned phases).

    Args:
        phase: the phase about to be trained.
        upstream: the trained generators of the phases before it, in cascade order.
        dataset: indexable by cache index, returning samples with ``"cine"`` (1, T, H, W).
    """
    if phase.condition_channels(1) == 0:
        return {}
    for g in upstream.values():
        g.eval()
    out: dict[int, Tensor] = {}
    order = list(upstream)
    for start in range(0, len(indices), batch_size):
        chunk = list(indices[start:start + batch_size])
        cine = torch.stack([dataset[i]["cine"] for i in chunk]).to(device)
        previous: dict[str, Tensor] = {}
        for p in order:
            previous = upstream[p](cine, condition_from(p, previous))
        cond = condition_from(phase, previous)
        if cond is None:
            raise ValueError(f"phase {phase.value} reads no condition from the phases before it")
        for i, c in zip(chunk, cond.cpu()):
            out[i] = c
    return out


class CacheSamples:
    """Samples by *cache index* (not position), with the phase's condition attached when it has one."""

    def __init__(self, cache: Any, conditions: Mapping[int, Tensor] | None = None) -> None:
        from pscgan.training.dataset import CineLgeDataset

        self.base = CineLgeDataset(cache, indices=None, require=())
        self.conditions = conditions or {}

    def __getitem__(self, index: int) -> dict[str, Any]:
        sample = self.base[index]
        if self.conditions:
            sample["condition"] = self.conditions[index]
        return sample


class Subset:
    """A list of cache indices viewed as a dataset of positions."""

    def __init__(self, samples: CacheSamples, indices: Sequence[int]) -> None:
        self.samples = samples
        self.indices = list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.samples[self.indices[i]]
