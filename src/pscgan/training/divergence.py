"""What to do when a GAN diverges: never apply a non-finite update, go back, lower the learning rate.

A step whose loss or gradients are not finite (NaN/inf) raises :class:`NonFiniteStep` *before*
``optimizer.step()``, so garbage never lands in the weights. The trainer then restores the last good
checkpoint (weights, optimizers, batch-stream position, RNG), multiplies the learning rates by
:attr:`DivergenceGuard.lr_factor`, records the event in ``metrics.jsonl`` and ``train.log`` and trains on.
After :attr:`DivergenceGuard.max_retries` failures without reaching a new checkpoint it stops with a
:class:`DivergenceError`. The lowered rate is part of the training state, so it survives a resume.

Example:
    >>> guard = DivergenceGuard(max_retries=2, lr_factor=0.5, base_lr=1e-3)
    >>> state = DivergenceState()
    >>> event = guard.record(state, phase="coarse", failed_step=7, restored_step=6, reason="g_total=nan")
    >>> event["lr"], state.lr_scale, state.retries
    (0.0005, 0.5, 1)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from pscgan.errors import PscganError
from pscgan.training.distributed import DistContext, reduce_mean


class NonFiniteStep(FloatingPointError):
    """A training step produced a NaN/inf loss or gradient; the update was not applied."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class DivergenceError(PscganError):
    """Training kept diverging although the learning rate was lowered after each failure."""


def all_finite(tensors: Iterable[Tensor | None]) -> bool:
    """Whether every element of every tensor is finite (``None`` entries, e.g. unused grads, are skipped)."""
    flags = [torch.isfinite(t).all() for t in tensors if t is not None]
    return bool(torch.stack(flags).all()) if flags else True


def check_update(logs: Mapping[str, float], module: nn.Module, ctx: DistContext) -> None:
    """Raise :class:`NonFiniteStep` when a loss term or a gradient of ``module`` is not finite.

    Call it after the backward pass (and gradient averaging) and before ``optimizer.step()``. Under
    DDP every rank takes the same decision (a bad rank makes all ranks skip), so none waits alone in a
    collective.
    """
    bad_terms = sorted(k for k, v in logs.items() if not math.isfinite(v))
    bad_grads = not all_finite(p.grad for p in module.parameters())
    bad = reduce_mean({"nonfinite": float(bool(bad_terms) or bad_grads)}, ctx)["nonfinite"] > 0
    if bad:
        what = ", ".join(f"{k}={logs[k]}" for k in bad_terms) or ("non-finite gradients" if bad_grads
                                                                   else "non-finite values on another rank")
        raise NonFiniteStep(what)


def check_losses(logs: Mapping[str, float | Sequence[float]], ctx: DistContext) -> None:
    """Raise :class:`NonFiniteStep` when a logged loss of a step is not finite (on any rank).

    The loop's own check after every step, so the recovery rule holds for a task whose updates do not
    check themselves (those that use :func:`pscgan.training.update.apply_update` already did, before
    stepping).
    """
    bad = sorted(k for k, v in logs.items()
                 if not all(math.isfinite(x) for x in (v if isinstance(v, Sequence) else (v,))))
    if reduce_mean({"nonfinite": float(bool(bad))}, ctx)["nonfinite"] > 0:
        raise NonFiniteStep(", ".join(f"{k}={logs[k]}" for k in bad) or "non-finite values on another rank")


def set_learning_rate(optimizers: Iterable[torch.optim.Optimizer | None], lr: float) -> None:
    """Set the learning rate of every parameter group of every optimizer."""
    for opt in optimizers:
        if opt is not None:
            for group in opt.param_groups:
                group["lr"] = lr


@dataclass
class DivergenceState:
    """The part of a phase's training state that divergence recovery changes (checkpointed with it).

    Attributes:
        lr_scale: factor applied to the configured learning rate in this phase.
        retries: failures since the last checkpoint reached after a recovery.
        events: the recorded divergence events of this phase (re-logged if a resume lost them).
    """

    lr_scale: float = 1.0
    retries: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DivergenceGuard:
    """The recovery policy.

    Args:
        max_retries: failures allowed in a row (without reaching a new checkpoint) before stopping.
        lr_factor: learning-rate multiplier applied at each failure.
        base_lr: the configured learning rate (for the recorded events).
        run: the run folder, named in the error message.
    """

    max_retries: int = 3
    lr_factor: float = 0.5
    base_lr: float = 1e-3
    run: Path | None = None

    def record(self, state: DivergenceState, *, phase: str, failed_step: int, restored_step: int,
               reason: str) -> dict[str, Any]:
        """Count a failure, lower ``state.lr_scale`` and return the event to log.

        Raises:
            DivergenceError: this is failure number ``max_retries + 1`` in a row.
        """
        if state.retries >= self.max_retries:
            raise DivergenceError(
                self.run,
                f"training diverged at step {failed_step} (phase {phase}: {reason}) "
                f"{state.retries + 1} times in a row although the learning rate was "
                f"lowered to {self.base_lr * state.lr_scale:.3g}; check the data "
                "(pscgan data check), lower train.lr or raise train.divergence_retries",
            )
        state.retries += 1
        state.lr_scale *= self.lr_factor
        event = {"event": "divergence", "step": restored_step, "phase": phase, "failed_step": failed_step,
                 "reason": reason, "retry": state.retries, "lr_scale": state.lr_scale,
                 "lr": self.base_lr * state.lr_scale}
        state.events.append(event)
        return event

    @staticmethod
    def reached_checkpoint(state: DivergenceState) -> None:
        """A checkpoint after the failure point was reached: the next failure starts a new count."""
        state.retries = 0
