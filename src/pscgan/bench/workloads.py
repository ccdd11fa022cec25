"""The passes the models benchmark times: forward and training step of each network, the cascade, and
one training iteration of a phase.

A training iteration is ``d_steps_per_g_step`` discriminator steps and one generator step, each on
its own batch. The generator's forward pass of the last discriminator step is kept (with its graph)
and reused by the generator step: the generator has not changed in between, so this is exactly
``G(x)`` and saves one forward pass per iteration. The earlier discriminator steps generate without
gradients. All optimisers are Adam with ``fused=True`` (about 4x faster than the default on CPU for
the paper's dense bottleneck).

Example:
    >>> from pscgan.config.presets import get_preset
    >>> w = build_workload(get_preset("tiny"), "iteration", "coarse")
    >>> w.train_step()  # one iteration: 2 discriminator steps + 1 generator step
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from pscgan.config.schema import AdversarialLoss, PscganConfig
from pscgan.losses.objective import discriminator_objective, generator_objective
from pscgan.losses.segmentation import multiclass_cross_entropy
from pscgan.models.discriminator import fake_input, real_input
from pscgan.models.factory import build_cascade, build_discriminator, build_generator, count_parameters
from pscgan.models.interfaces import LGE, MASK_LOGITS
from pscgan.models.phase import Phase

NETWORKS = ("generator", "discriminator", "cascade", "iteration")


@dataclass
class Workload:
    """Callables for one benchmark entry; ``None`` where the pass does not exist (cascade training)."""

    forward: Callable[[], Any] | None
    train_step: Callable[[], Any] | None
    parameters: int


def synthetic_batch(config: PscganConfig, phase: Phase, seed: int = 0) -> dict[str, Tensor]:
    """Random inputs and targets of the right shapes on the current default device."""
    m = config.model
    rng = torch.Generator().manual_seed(seed)
    b, t, s = config.train.batch_size, m.frames, m.image_size
    dev = torch.get_default_device()
    batch = {"cine": (torch.rand(b, 1, t, s, s, generator=rng) * 2 - 1).to(dev),
             "labels": torch.randint(0, m.classes, (b, s, s), generator=rng).to(dev),
             "lge": (torch.rand(b, 1, s, s, generator=rng) * 2 - 1).to(dev)}
    if phase is Phase.SYNTHESIS:
        batch["condition"] = torch.softmax(torch.randn(b, m.classes, s, s, generator=rng), 1).to(dev)
    elif phase is Phase.SEGMENTATION:
        batch["condition"] = batch["lge"].clone()
    return batch


def _adam(config: PscganConfig, module: nn.Module, optimise: bool) -> torch.optim.Optimizer | None:
    if not optimise:
        return None
    return torch.optim.Adam(module.parameters(), lr=config.train.lr, betas=config.train.betas, fused=True)


def _step(loss: Tensor, opt: torch.optim.Optimizer | None) -> None:
    if opt is not None:
        opt.zero_grad(set_to_none=True)
    loss.backward()
    if opt is not None:
        opt.step()


def _supervised(outputs: dict[str, Tensor], batch: dict[str, Tensor]) -> Tensor:
    loss = outputs[next(iter(outputs))].new_zeros(())
    if MASK_LOGITS in outputs:
        loss = loss + multiclass_cross_entropy(outputs[MASK_LOGITS], batch["labels"])
    if LGE in outputs:
        loss = loss + (outputs[LGE] - batch["lge"]).abs().mean()
    return loss


def build_workload(config: PscganConfig, network: str, phase: Phase | str | None, *,
                   optimise: bool = True) -> Workload:
    """Build the networks and data of one benchmark entry on the current default device.

    Args:
        network: one of :data:`NETWORKS`.
        phase: the phase (ignored for ``cascade``).
        optimise: create optimisers and step them (off for FLOP counting on the meta device).
    """
    phase = Phase(phase) if phase is not None else None
    if network == "cascade":
        cascade = build_cascade(config)
        cine = synthetic_batch(config, Phase.COARSE)["cine"]

        def cascade_forward() -> Any:
            with torch.no_grad():
                return cascade(cine)
        return Workload(cascade_forward, None, count_parameters(cascade))
    if phase is None:
        raise ValueError(f"the {network} benchmark needs a phase")
    batch = synthetic_batch(config, phase)
    if network == "generator":
        return _generator_workload(config, phase, batch, optimise)
    if network == "discriminator":
        return _discriminator_workload(config, phase, batch, optimise)
    if network == "iteration":
        return _iteration_workload(config, phase, optimise)
    raise ValueError(f"unknown network {network!r}; choose one of {', '.join(NETWORKS)}")


def _generator_workload(config: PscganConfig, phase: Phase, batch: dict[str, Tensor],
                        optimise: bool) -> Workload:
    g = build_generator(config, phase)
    opt = _adam(config, g, optimise)

    def forward() -> Any:
        with torch.no_grad():
            return g(batch["cine"], batch.get("condition"))

    def train_step() -> None:
        _step(_supervised(g(batch["cine"], batch.get("condition")), batch), opt)
    return Workload(forward, train_step, count_parameters(g))


def _discriminator_workload(config: PscganConfig, phase: Phase, batch: dict[str, Tensor],
                            optimise: bool) -> Workload:
    d = build_discriminator(config, phase)
    opt = _adam(config, d, optimise)
    real = real_input(phase, labels=batch["labels"], lge=batch["lge"], classes=config.model.classes)
    fake = real.flip(-1)  # any tensor of the right shape and range

    def forward() -> Any:
        with torch.no_grad():
            return d(real)

    def train_step() -> None:
        terms = discriminator_objective(config.loss, phase, d, real, fake, labels=batch["labels"])
        _step(terms["total"], opt)
    return Workload(forward, train_step, count_parameters(d))


def _iteration_workload(config: PscganConfig, phase: Phase, optimise: bool) -> Workload:
    g = build_generator(config, phase)
    adversarial = config.loss.adversarial is not AdversarialLoss.NONE
    d = build_discriminator(config, phase) if adversarial else None
    opt_g = _adam(config, g, optimise)
    opt_d = _adam(config, d, optimise) if d is not None else None
    d_steps = config.train.d_steps_per_g_step if adversarial else 1
    batches = [synthetic_batch(config, phase, seed=i) for i in range(d_steps)]
    classes = config.model.classes

    def iteration() -> None:
        outputs: dict[str, Tensor] = {}
        for i, batch in enumerate(batches):
            keep_graph = i == len(batches) - 1
            with torch.set_grad_enabled(keep_graph):
                outputs = g(batch["cine"], batch.get("condition"))
            if d is None:
                continue
            real_d = real_input(phase, labels=batch["labels"], lge=batch["lge"], classes=classes)
            detached = {k: v.detach() for k, v in outputs.items()}
            fake = fake_input(phase, detached, config.loss.mask_to_discriminator)
            d_terms = discriminator_objective(config.loss, phase, d, real_d, fake, labels=batch["labels"])
            _step(d_terms["total"], opt_d)
        last = batches[-1]
        real: Tensor | None = None
        if d is not None:
            real = real_input(phase, labels=last["labels"], lge=last["lge"], classes=classes)
            d.requires_grad_(False)  # the generator step needs no discriminator weight gradients
        try:
            terms = generator_objective(config.loss, phase, outputs, d, real, labels=last["labels"],
                                        lge=last["lge"])
            _step(terms["total"], opt_g)
        finally:
            if d is not None:
                d.requires_grad_(True)
    params = count_parameters(g) + (count_parameters(d) if d is not None else 0)
    return Workload(None, iteration, params)
