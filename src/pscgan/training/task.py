"""What the training loop trains: a task, with its modules, optimisers, step and validation.

A task is one of StyleGAN2-ADA's "phases": the networks it trains, their optimisers and the losses of
one training step. A phase of the cascade is a task (:class:`pscgan.training.phase_task.PhaseTask`),
and so is each baseline (:class:`pscgan.baselines.tasks.BaselineTask`). Everything around the step --
batches, logging, validation cadence, best weights, checkpoints, resume, divergence recovery,
distribution -- is the loop's (:mod:`pscgan.training.loop`), the same for every task.

Example:
    >>> import torch
    >>> class Mean(Task):
    ...     name = "mean"
    ...     def __init__(self):
    ...         self.net = torch.nn.Linear(1, 1)
    ...         self.modules = {"net": self.net}
    ...         self.optimizers = {"net": torch.optim.SGD(self.net.parameters(), lr=0.1)}
    ...         self.best_modules = self.modules
    ...     def step(self, batches, index):
    ...         x = next(batches)["x"]
    ...         loss = (self.net(x) - 1.0).pow(2).mean()
    ...         opt = self.optimizers["net"]
    ...         opt.zero_grad(); loss.backward(); opt.step()
    ...         return {"mse": loss.item()}
    >>> task = Mean()
    >>> sorted(task.step(iter([{"x": torch.ones(2, 1)}]), 0)), task.validate()
    (['mse'], None)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import nn

Batch = dict[str, Any]
StepLogs = Mapping[str, float | Sequence[float]]


class Task:
    """A unit of training: modules, optimisers, one step, and a validation that selects the best weights.

    Attributes:
        name: the task's name (``coarse``, ``monai_unet``, ...): in divergence events and TensorBoard tags.
        modules: every trained module by checkpoint name; the loop saves and restores them.
        optimizers: every optimiser by name; the loop saves and restores them, and lowers their learning
            rates after a divergence.
        best_modules: the modules whose weights the best validation keeps (by checkpoint name); the loop
            loads them back when the task ends.
    """

    name: str = "task"
    modules: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    best_modules: dict[str, nn.Module]

    def step(self, batches: Iterator[Batch], index: int) -> StepLogs:
        """Train on batches drawn from ``batches`` (as many as the step needs); returns its losses.

        Args:
            batches: the loop's batch stream (``next(batches)``).
            index: steps of this task done before this one (0 first), for schedules such as a warm-up.

        Returns:
            Each loss as a float, or as one float per update when the step updates a network several
            times (a discriminator trained twice per generator step); the loop averages them per record.

        Raises:
            NonFiniteStep: a loss or gradient was not finite; the step must not have changed the weights
                (update through :func:`pscgan.training.update.apply_update`).
        """
        raise NotImplementedError

    def validate(self) -> dict[str, Any] | None:
        """Validation metrics, with the ``score`` (higher is better) that selects the best weights, or
        ``None`` without validation data. Called on every rank (the metrics may gather across ranks)."""
        return None

    def save_samples(self, step: int) -> None:
        """Write what a person looks at after the validation at ``step`` (rank 0 only); optional."""

    def train(self) -> None:
        """Put every module in training mode (the loop calls it before the first step)."""
        for module in self.modules.values():
            module.train()
