"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

TESTS_DIR = Path(__file__).resolve().parent
EMIDEC_DIR = TESTS_DIR / "data" / "emidec-samples"


@pytest.fixture(scope="session")
def emidec_dir() -> Path:
    """The two real EMIDEC LGE cases shipped with the tests."""
    assert (EMIDEC_DIR / "samplePositive" / "lge.nii.gz").is_file(), "EMIDEC samples missing from tests/data"
    return EMIDEC_DIR
