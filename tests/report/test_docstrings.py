"""The ``Example:`` blocks of the report modules run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "pscgan.report",
    "pscgan.report.animation",
    "pscgan.report.bullseye",
    "pscgan.report.cohort",
    "pscgan.report.data",
    "pscgan.report.figures",
    "pscgan.report.formatting",
    "pscgan.report.html",
    "pscgan.report.panels",
    "pscgan.report.subject",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
