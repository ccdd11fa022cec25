"""Fixtures of the network tests: small inputs (the ``tiny`` preset comes from ``tests/conftest.py``)."""

from __future__ import annotations

import pytest
import torch

from pscgan.config.schema import PscganConfig


def cine_for(config: PscganConfig, batch: int = 2, seed: int = 0) -> torch.Tensor:
    m = config.model
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 1, m.frames, m.image_size, m.image_size, generator=g) * 2 - 1


def condition_for(config: PscganConfig, phase, batch: int = 2) -> torch.Tensor | None:
    m = config.model
    ch = phase.condition_channels(m.classes)
    if ch == 0:
        return None
    return torch.rand(batch, ch, m.image_size, m.image_size)


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every network test runs with one torch thread."""
