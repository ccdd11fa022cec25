"""Training: the one training loop and its tasks (the cascade's phases here, the baselines in
:mod:`pscgan.baselines`), run folders, checkpoints, divergence recovery, distribution."""

from __future__ import annotations
