"""Fixtures of the network tests: the tiny preset and small inputs."""

from __future__ import annotations

import pytest
import torch

from pscgan.config.presets import get_preset
from pscgan.config.schema import PscganConfig


@pytest.fixture
def tiny() -> PscganConfig:
    return get_preset("tiny")


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
def one_thread():
    """The tiny networks gain nothing from a second thread, and the suite runs with ``-n 2``."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
