"""Fixtures of the loss tests."""

from __future__ import annotations

import pytest
import torch

from pscgan.config.presets import get_preset
from pscgan.config.schema import PscganConfig


@pytest.fixture
def tiny() -> PscganConfig:
    return get_preset("tiny")


@pytest.fixture(autouse=True)
def one_thread():
    """The tiny networks gain nothing from a second thread, and the suite runs with ``-n 2``."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
