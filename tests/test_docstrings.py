"""Every ``Example:`` block in the package runs as written, so a documented example cannot rot."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import pscgan

# Checked where their subject is tested (they need an optional dependency).
_ELSEWHERE = {"pscgan.inference.onnx_export", "pscgan.cli.export"}  # tests/inference/test_onnx_export.py


def _modules_with_examples() -> list[str]:
    finder = doctest.DocTestFinder()
    names = []
    for info in pkgutil.walk_packages(pscgan.__path__, "pscgan."):
        if info.name in _ELSEWHERE:
            continue
        if any(t.examples for t in finder.find(importlib.import_module(info.name))):
            names.append(info.name)
    return names


MODULES = _modules_with_examples()


def test_the_package_has_examples_to_run():
    assert len(MODULES) > 40


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS, report=True)
    assert result.attempted > 0 and result.failed == 0
