from __future__ import annotations

import pytest

from pscgan.phantom.validation_checks import Check, Rule, Status


def test_rules():
    assert Check.summarise("k", "g", "d", [1, 2, 10], low=0, high=5, rule=Rule.MEDIAN).status is Status.PASS
    assert Check.summarise("k", "g", "d", [1, 2, 10], low=0, high=5, rule=Rule.ALL).status is Status.FAIL
    assert Check.summarise("k", "g", "d", [], low=0, high=5).status is Status.NO_DATA
    assert Check.summarise("k", "g", "d", [3.0]).status is Status.INFO
    # 2 of 10 is consistent with 25-30 % at 95 % confidence, 0 of 100 is not
    assert Check.proportion("k", "g", "d", 2, 10, low=0.25, high=0.30).status is Status.PASS
    assert Check.proportion("k", "g", "d", 0, 100, low=0.25, high=0.30).status is Status.FAIL


def test_text_and_json():
    c = Check.summarise("k", "g", "d", [1.0, 2.0, 3.0], low=2.5, rule=Rule.MEDIAN, unit="mm", source="spec")
    assert c.status is Status.FAIL and c.range_text() == ">= 2.5" and c.spread_text().startswith("5-95%")
    doc = c.to_json()
    assert doc["range"] == [2.5, None] and doc["status"] == "fail" and doc["value"] == pytest.approx(2.0)
    assert Check.summarise("k", "g", "d", [1.0], high=3.0).range_text() == "<= 3"
