"""Fixtures of the benchmark tests (the ``tiny`` preset comes from ``tests/conftest.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every benchmark test runs with one torch thread."""
