"""Named presets: ``paper`` (the published network), ``cpu`` (2 cores, about an hour), ``tiny`` (tests).

Example:
    >>> get_preset("paper").model.widths
    (16, 32, 64, 128)
    >>> sorted(PRESETS)
    ['cpu', 'paper', 'tiny']
"""

from __future__ import annotations

from collections.abc import Callable

from pscgan.config.schema import (
    AttentionMode,
    BottleneckInput,
    LossConfig,
    ModelConfig,
    PscganConfig,
    TrainConfig,
)
from pscgan.errors import ConfigError


def paper() -> PscganConfig:
    """The paper's network (sections 4-6): widths 16/32/64/128, full attention, dense 4096 bottleneck.

    Training follows section 6.3 (Adam, lr 0.001, batch 1, two discriminator steps per generator
    step); the paper gives no step count, so ``steps_per_phase`` is ours.
    """
    return PscganConfig(preset="paper", model=ModelConfig(), loss=LossConfig(), train=TrainConfig())


def cpu() -> PscganConfig:
    """Half the paper's widths, attention only where it is cheap, a time-weighted bottleneck, batch 4.

    Attention: full at the two deepest blocks (at most 1600 tokens), none at blocks 1-2 (where full
    attention over 25x32x32 tokens dominates the cost; their unit outputs only feed the skips).
    Sized so that the three phases train on the phantom cohort's ~630 training slices for 2000
    iterations each (about 13 epochs per phase) in about an hour on 2 cores -- see
    ``benchmarks/results/models_cpu.json`` for the measured iteration time. Whether full, factorised
    or this attention serves the CPU preset best is for the experiments to decide
    (``--set model.attention=factorised`` switches it).
    """
    model = ModelConfig(
        widths=(8, 16, 32, 64),
        attention=AttentionMode.NONE,
        full_attention_max_positions=1600,
        bottleneck_input=BottleneckInput.TIME_WEIGHTED,
        bottleneck_features=1024,
        decoder_start_channels=128,
        decoder_widths=(64, 32, 16, 16),
        condition_pool=2,
        discriminator_widths=(32, 64, 128, 256, 256),
    )
    train = TrainConfig(batch_size=4, steps_per_phase=2000, validation_interval=250, checkpoint_interval=500,
                        log_interval=25, num_threads=2)
    return PscganConfig(preset="cpu", model=model, loss=LossConfig(), train=train)


def tiny() -> PscganConfig:
    """A network of a few thousand parameters on 4 frames of 16x16, for tests."""
    model = ModelConfig(
        frames=4,
        image_size=16,
        widths=(4, 4, 8, 8),
        bottleneck_features=32,
        decoder_start_channels=8,
        decoder_widths=(8, 8, 4, 4),
        discriminator_widths=(4, 8, 8, 16, 16),
    )
    train = TrainConfig(batch_size=2, steps_per_phase=2, validation_interval=1, checkpoint_interval=1,
                        log_interval=1, num_threads=1)
    return PscganConfig(preset="tiny", model=model, loss=LossConfig(), train=train)


PRESETS: dict[str, Callable[[], PscganConfig]] = {"paper": paper, "cpu": cpu, "tiny": tiny}


def get_preset(name: str) -> PscganConfig:
    """The preset called ``name``.

    Raises:
        ConfigError: for an unknown name (the message lists the known ones).
    """
    try:
        return PRESETS[name]()
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise ConfigError(None, f"unknown preset {name!r}; choose one of {known}") from None
