"""Run configuration: typed schema (:mod:`pscgan.config.schema`), presets (:mod:`pscgan.config.presets`)."""

from __future__ import annotations

from pscgan.config.presets import PRESETS, get_preset
from pscgan.config.schema import PscganConfig, apply_overrides, load_config

__all__ = ["PRESETS", "PscganConfig", "apply_overrides", "get_preset", "load_config"]
