"""Equal training budgets: a fixed number of steps per phase, or a wall-clock budget per variant.

A wall-clock budget is turned into steps once, by timing a few training iterations of the variant
(:func:`calibrate`, on synthetic batches of the variant's shapes) and dividing; the calibration and
the resulting step count are stored in the experiment's ``plan.json``, so every later session (and
every seed) trains exactly the same number of steps. The calibration times the networks and
optimisers only, not data loading, validation or checkpoints, so a run's wall-clock time exceeds its
budget by that overhead; each run records its measured training time.

Example:
    >>> b = Budget(BudgetKind.MINUTES, 10)
    >>> steps_for_budget(b, {"seconds_per_step_all_phases": 1.5}, n_phases=3)
    400
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pscgan.config.schema import PscganConfig
from pscgan.errors import ConfigError


class BudgetKind(str, Enum):
    """``steps``: generator steps per phase; ``minutes``: training time per variant."""

    STEPS = "steps"
    MINUTES = "minutes"


@dataclass(frozen=True)
class Budget:
    """The training budget every variant gets."""

    kind: BudgetKind
    value: float

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "value": self.value}


def budget_from_options(minutes: float | None, steps: int | None) -> Budget | None:
    """The budget asked for on the command line (``None``: the preset's ``steps_per_phase``).

    Raises:
        ConfigError: both or a non-positive value were given.
    """
    if minutes is not None and steps is not None:
        raise ConfigError(None, "give --budget MINUTES or --budget-steps N, not both")
    if minutes is not None:
        if minutes <= 0:
            raise ConfigError(None, f"--budget must be positive, got {minutes}")
        return Budget(BudgetKind.MINUTES, float(minutes))
    if steps is not None:
        if steps < 1:
            raise ConfigError(None, f"--budget-steps must be at least 1, got {steps}")
        return Budget(BudgetKind.STEPS, int(steps))
    return None


def calibrate(config: PscganConfig, *, iterations: int = 3, device: str | None = None) -> dict[str, Any]:
    """Time training iterations of every phase of ``config`` (median of ``iterations`` after a warm-up).

    An iteration is what the trainer does per generator step: ``d_steps_per_g_step`` discriminator
    steps and one generator step (:mod:`pscgan.bench.workloads`).

    Returns:
        ``{"seconds_per_iteration": {phase: s}, "seconds_per_step_all_phases": s, "iterations": n,
        "device": ..., "threads": ...}``: one step of every phase together costs
        ``seconds_per_step_all_phases``.
    """
    import torch

    from pscgan.bench.workloads import build_workload
    from pscgan.models.phase import phases_for

    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if config.train.num_threads:
        torch.set_num_threads(config.train.num_threads)
    per_phase: dict[str, float] = {}
    previous = torch.get_default_device()
    torch.set_default_device(dev)
    try:
        for phase in phases_for(progressive=config.model.progressive):
            torch.manual_seed(0)
            step = build_workload(config, "iteration", phase).train_step
            assert step is not None
            step()  # warm-up: allocations and kernel selection
            times = []
            for _ in range(iterations):
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
                step()
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                times.append(time.perf_counter() - start)
            per_phase[phase.value] = sorted(times)[len(times) // 2]
    finally:
        torch.set_default_device(previous)
    return {"seconds_per_iteration": per_phase, "seconds_per_step_all_phases": sum(per_phase.values()),
            "iterations": iterations, "device": str(dev), "threads": torch.get_num_threads(),
            **machine_load()}


def machine_load() -> dict[str, Any]:
    """The 1-minute load average and CPU count at calibration (load ``None`` where the OS has none).

    A calibration on a busy machine times slower steps and so grants fewer steps for the same minutes;
    the tables say so (:func:`busy_calibration`).
    """
    try:
        load = round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        load = None
    return {"load_average_1min": load, "cpu_count": os.cpu_count()}


def busy_calibration(calibrations: list[dict[str, Any]]) -> str | None:
    """A sentence for the table when any calibration ran with a load above the machine's CPU count.

    Example:
        >>> busy_calibration([{"load_average_1min": 3.1, "cpu_count": 2}]) is not None
        True
        >>> busy_calibration([{"load_average_1min": 0.4, "cpu_count": 2}]) is None
        True
    """
    loads = [(c.get("load_average_1min"), c.get("cpu_count")) for c in calibrations]
    busy = [(lo, n) for lo, n in loads if lo is not None and n and lo > n]
    if not busy:
        return None
    worst = max(busy)
    return (f"The step counts were calibrated while the machine was busy (1-minute load average up to "
            f"{worst[0]:g} on {worst[1]} CPUs): they are fewer than an idle machine fits in the same "
            f"minutes, and calibrations made under different loads are not comparable across experiments; "
            f"use --budget-steps on a shared machine.")


def steps_for_budget(budget: Budget, calibration: dict[str, Any] | None, n_phases: int) -> int:
    """Generator steps per phase that fit ``budget`` (at least 1).

    A step budget is per phase already; a minute budget is divided by the calibrated cost of one step
    of every phase (``n_phases`` is only used to check the calibration covers the variant's phases).
    """
    if budget.kind is BudgetKind.STEPS:
        return int(budget.value)
    if calibration is None:
        raise ValueError("a minute budget needs a calibration")
    per_phase = calibration.get("seconds_per_iteration")
    if per_phase is not None and len(per_phase) != n_phases:
        raise ValueError(f"the calibration covers {len(per_phase)} phases, the variant has {n_phases}")
    return max(1, math.floor(budget.value * 60.0 / calibration["seconds_per_step_all_phases"]))

