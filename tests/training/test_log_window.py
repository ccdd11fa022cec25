"""Losses averaged over each logging interval, and the hinge discriminator's saturation."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from pscgan.training.log_window import LogWindow


def test_means_cover_every_step_since_the_last_record_and_clear_restarts_them():
    w = LogWindow()
    for d, g in [(0.0, 1.0), (2.0, 3.0), (0.0, 5.0)]:
        w.add_discriminator({"d_adversarial": d, "d_total": d + 1}, hinge=True)
        w.add({"g_total": g})
    assert w.means() == pytest.approx(
        {"d_adversarial": 2 / 3, "d_total": 5 / 3, "d_saturated": 2 / 3, "g_total": 3.0}
    )
    assert list(w.means()) == ["d_adversarial", "d_total", "d_saturated", "g_total"]  # log order
    w.clear()
    assert w.means() == {}


def test_saturation_is_only_counted_for_the_hinge_loss():
    w = LogWindow()
    w.add_discriminator({"d_adversarial": 0.0}, hinge=False)  # a least-squares loss of 0 is not a margin
    assert "d_saturated" not in w.means()


def test_a_window_survives_the_checkpoint_round_trip_exactly():
    w = LogWindow()
    w.add({"g_total": 0.1})
    w.add({"g_total": 0.2})
    back = LogWindow.from_dict(json.loads(json.dumps(asdict(w))))  # checkpoints keep the skeleton as JSON
    assert back == w and back.means() == w.means()
