"""Progressive training of the three-phase cascade: run folders, checkpoints, phases, distribution."""

from __future__ import annotations
