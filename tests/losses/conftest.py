"""Fixtures of the loss tests (the ``tiny`` preset comes from ``tests/conftest.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every loss test runs with one torch thread."""
