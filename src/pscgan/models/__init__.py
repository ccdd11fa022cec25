"""PSCGAN networks: SCLN encoder and baselines, generator, discriminator, the inference cascade.

Start from :mod:`pscgan.models.factory`; the output types are in :mod:`pscgan.models.interfaces`.

Example:
    >>> from pscgan.config.presets import get_preset
    >>> from pscgan.models import Phase, build_generator
    >>> build_generator(get_preset("tiny"), Phase.COARSE).phase.value
    'coarse'
"""

from __future__ import annotations

from pscgan.models.cascade import Cascade
from pscgan.models.discriminator import Discriminator, fake_input, real_input
from pscgan.models.factory import build_cascade, build_discriminator, build_generator, parameter_table
from pscgan.models.generator import Generator
from pscgan.models.interfaces import COARSE_MASK_LOGITS, LGE, MASK_LOGITS, DiscriminatorOutput, EncoderOutput
from pscgan.models.phase import Phase, condition_from, phases_for

__all__ = ["COARSE_MASK_LOGITS", "LGE", "MASK_LOGITS", "Cascade", "Discriminator", "DiscriminatorOutput",
           "EncoderOutput", "Generator", "Phase", "build_cascade", "build_discriminator", "build_generator",
           "condition_from", "fake_input", "parameter_table", "phases_for", "real_input"]
