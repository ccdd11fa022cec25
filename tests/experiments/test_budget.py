"""Budgets: step arithmetic and the timing calibration."""

from __future__ import annotations

import pytest

from pscgan.config.presets import get_preset
from pscgan.config.schema import apply_overrides
from pscgan.errors import ConfigError
from pscgan.experiments.budget import (
    Budget,
    BudgetKind,
    budget_from_options,
    busy_calibration,
    calibrate,
    steps_for_budget,
)


def test_minutes_become_steps_per_phase():
    cal = {"seconds_per_iteration": {"a": 0.5, "b": 0.25, "c": 0.25}, "seconds_per_step_all_phases": 1.0}
    assert steps_for_budget(Budget(BudgetKind.MINUTES, 2), cal, n_phases=3) == 120
    assert steps_for_budget(Budget(BudgetKind.MINUTES, 0.001), cal, n_phases=3) == 1  # never zero
    assert steps_for_budget(Budget(BudgetKind.STEPS, 7), None, n_phases=3) == 7
    with pytest.raises(ValueError, match="covers 3 phases"):
        steps_for_budget(Budget(BudgetKind.MINUTES, 2), cal, n_phases=1)


def test_budget_options():
    assert budget_from_options(None, None) is None
    assert budget_from_options(1.5, None) == Budget(BudgetKind.MINUTES, 1.5)
    assert budget_from_options(None, 10) == Budget(BudgetKind.STEPS, 10)
    for minutes, steps in ((1.0, 10), (0.0, None), (None, 0)):
        with pytest.raises(ConfigError):
            budget_from_options(minutes, steps)


@pytest.mark.parametrize("progressive", [True, False])
def test_calibration_times_every_phase(progressive):
    cfg = apply_overrides(get_preset("tiny"), [f"model.progressive={str(progressive).lower()}"])
    cal = calibrate(cfg, iterations=1, device="cpu")
    phases = cal["seconds_per_iteration"]
    assert len(phases) == (3 if progressive else 1)
    assert all(s > 0 for s in phases.values())
    assert cal["seconds_per_step_all_phases"] == pytest.approx(sum(phases.values()))
    assert cal["cpu_count"] >= 1 and (cal["load_average_1min"] is None or cal["load_average_1min"] >= 0)


def test_busy_calibration_is_named_only_above_the_cpu_count():
    assert busy_calibration([]) is None
    assert busy_calibration([{"load_average_1min": None, "cpu_count": 2}]) is None
    assert busy_calibration([{"load_average_1min": 1.9, "cpu_count": 2}]) is None
    note = busy_calibration(
        [{"load_average_1min": 2.5, "cpu_count": 2}, {"load_average_1min": 3.25, "cpu_count": 2}]
    )
    assert note is not None and "up to 3.25 on 2 CPUs" in note
