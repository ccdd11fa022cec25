"""A phase of the cascade as a task of the training loop: its networks, optimisers and GAN step.

One step of a phase is ``train.d_steps_per_g_step`` discriminator updates, each on its own batch, then
one generator update on the next batch (the paper's D:G ratio of 2). During the adversarial warm-up
(``train.adversarial_warmup_steps``, for phases whose generator has a supervised term) the
discriminator sits out and the generator learns from its supervised terms alone. Validation scores the
generator on the phase's held-out slices (:mod:`pscgan.training.validation`) and its best weights are
the ones the next phase is conditioned on.

Example:
    >>> import torch
    >>> from pscgan.config.presets import get_preset
    >>> from pscgan.models.phase import Phase, phases_for
    >>> from pscgan.training.distributed import single_process
    >>> cfg = get_preset("tiny")
    >>> task = PhaseTask(cfg, build_phase(cfg, Phase.COARSE, torch.device("cpu")), single_process())
    >>> task.name, sorted(task.modules), sorted(task.optimizers)
    ('coarse', ['coarse.discriminator', 'coarse.generator'], ['d', 'g'])
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pscgan.config.schema import AdversarialLoss, PscganConfig
from pscgan.models.discriminator import Discriminator
from pscgan.models.generator import Generator
from pscgan.models.phase import Phase, phases_for
from pscgan.training.distributed import DistContext
from pscgan.training.task import Batch, StepLogs, Task


@dataclass
class PhaseNets:
    """The networks and optimizers of the phase being trained."""

    phase: Phase
    generator: Generator
    discriminator: Discriminator | None
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer | None


def build_phase(config: PscganConfig, phase: Phase, device: torch.device) -> PhaseNets:
    """Freshly initialised networks of ``phase`` (no discriminator without an adversarial loss), with Adam
    at the phase's learning rate (``train.phase_lr_factors``)."""
    from pscgan.models.factory import build_discriminator, build_generator

    g = build_generator(config, phase).to(device)
    adversarial = config.loss.adversarial is not AdversarialLoss.NONE
    d = build_discriminator(config, phase).to(device) if adversarial else None
    t = config.train
    cascade = phases_for(progressive=True)
    lr = t.phase_lr(cascade.index(phase) if phase in cascade else 0)
    opt_g = torch.optim.Adam(g.parameters(), lr=lr, betas=t.betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=lr, betas=t.betas) if d is not None else None
    return PhaseNets(phase, g, d, opt_g, opt_d)


class PhaseTask(Task):
    """One phase of the cascade.

    Args:
        config: the run's configuration.
        nets: the phase's networks and optimisers.
        ctx: distributed context (gradients are averaged over its ranks).
        validation: the phase's validation slices on this rank (a :class:`~pscgan.training.conditions.Subset`
            with the conditions of the frozen phases), or ``None``.
        samples: folder of the PNG samples written after each validation, or ``None``.
    """

    def __init__(self, config: PscganConfig, nets: PhaseNets, ctx: DistContext, validation: Any = None,
                 samples: Path | None = None) -> None:
        from pscgan.training.steps import has_supervised_target

        self.config, self.nets, self.ctx = config, nets, ctx
        self.validation, self.samples = validation, samples
        self.phase, self.generator = nets.phase, nets.generator
        self.name = nets.phase.value
        self.modules = {f"{self.name}.generator": nets.generator}
        self.optimizers = {"g": nets.opt_g}
        if nets.discriminator is not None and nets.opt_d is not None:
            self.modules[f"{self.name}.discriminator"] = nets.discriminator
            self.optimizers["d"] = nets.opt_d
        t = config.train
        # with a weight average, the average is the phase's generator: validated, kept as the best and
        # frozen for the next phase; the raw weights are only trained (both are checkpointed)
        self.ema_decay = t.generator_ema_decay
        if self.ema_decay is not None:
            from pscgan.training.weight_average import average_copy

            self.generator = average_copy(nets.generator)
            self.modules[f"{self.name}.generator_average"] = self.generator
        self.best_modules = {f"{self.name}.generator": self.generator}
        self.warmup = t.adversarial_warmup_steps if has_supervised_target(self.phase, config.loss) else 0

    def step(self, batches: Iterator[Batch], index: int) -> StepLogs:
        from pscgan.training.steps import discriminator_step, generator_step

        cfg, nets = self.config, self.nets
        classes, hinge = cfg.model.classes, cfg.loss.adversarial is AdversarialLoss.HINGE
        # adversarial warm-up: the first steps of the phase train the generator on its supervised terms
        # alone, and the discriminator only joins after them
        supervised_only = index < self.warmup
        logs: dict[str, list[float]] = {}
        if nets.discriminator is not None and nets.opt_d is not None and not supervised_only:
            for _ in range(cfg.train.d_steps_per_g_step):
                d_logs = discriminator_step(self.phase, cfg.loss, nets.generator, nets.discriminator,
                                            nets.opt_d, next(batches), self.ctx, classes)
                if hinge and "d_adversarial" in d_logs:  # saturated: every sample beyond the margin
                    d_logs["d_saturated"] = float(d_logs["d_adversarial"] == 0.0)
                for key, value in d_logs.items():
                    logs.setdefault(key, []).append(value)
        g_logs = generator_step(self.phase, cfg.loss, nets.generator, nets.discriminator, nets.opt_g,
                                next(batches), self.ctx, classes, supervised_only=supervised_only)
        if self.ema_decay is not None:
            from pscgan.training.weight_average import ramped_decay, update_average

            update_average(self.generator, nets.generator, ramped_decay(self.ema_decay, index))
        out: dict[str, float | list[float]] = dict(logs)
        out.update(g_logs)
        return out

    def validate(self) -> dict[str, Any] | None:
        from pscgan.training.validation import validate

        if self.validation is None:
            return None
        return validate(self.phase, self.generator, self.validation, self.ctx.device)

    def save_samples(self, step: int) -> None:
        from pscgan.training.validation import save_sample_png

        if self.validation is not None and self.samples is not None:
            save_sample_png(self.samples / f"{self.name}_{step:06d}.png", self.phase, self.generator,
                            self.validation, self.ctx.device)
