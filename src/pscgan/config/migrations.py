"""Bringing a configuration stored by an older version of pscgan up to today's schema, in one place.

A configuration travels with every run (``config.json``) and every weights file, so one written by an
older version must keep meaning what it meant when its model was trained, even where today's defaults
are other values. Each step below takes a configuration of one schema version to the next and fills
every field that version did not have with the value models of that version were trained with, never
with today's default, and says so: the notes are returned and logged (logger ``pscgan.config``).

Version 1 -> 2:

* ``preprocessing``: added. Version 1 models were prepared with the fixed settings of that time:
  intensity percentiles 0.5 / 99.5, linear temporal resampling, the native in-plane spacing, no
  field-of-view rule, registration bounds of 10 mm and 10 degrees (which are also today's defaults).
* ``train.register_lge``: absent only in configurations written before the field existed, which were
  trained on unregistered LGE: False (today's default: True).
* ``loss.mask_to_discriminator``: absent only in configurations written before the field existed,
  whose discriminators saw softmax probabilities: ``softmax`` (today's default: ``one_hot``).

Example:
    >>> data, notes = migrate_config({"schema_version": 1, "train": {}, "loss": {}})
    >>> data["schema_version"], data["train"]["register_lge"], data["loss"]["mask_to_discriminator"]
    (2, False, 'softmax')
    >>> data["preprocessing"]["intensity_percentiles"]
    [0.5, 99.5]
    >>> migrate_config(data)[1]
    []
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger("pscgan.config")

#: The preprocessing every schema-1 model was prepared with (``PreprocessOptions`` of that time).
V1_PREPROCESSING: dict[str, Any] = {
    "intensity_percentiles": [0.5, 99.5], "temporal_method": "linear", "target_spacing_mm": None,
    "fov_heart_ratio": None, "max_registration_shift_mm": 10.0, "max_registration_angle_deg": 10.0}


def _v1_to_v2(data: dict[str, Any]) -> list[str]:
    notes = []
    if "preprocessing" not in data:
        data["preprocessing"] = copy.deepcopy(V1_PREPROCESSING)
        notes.append("preprocessing: filled with the fixed settings of schema 1 (intensity percentiles "
                     "0.5/99.5, linear temporal resampling, native spacing, no field-of-view rule)")
    train, loss = data.get("train"), data.get("loss")
    if isinstance(train, dict) and "register_lge" not in train:
        train["register_lge"] = False
        notes.append("train.register_lge: absent, so trained on unregistered LGE (False)")
    if isinstance(loss, dict) and "mask_to_discriminator" not in loss:
        loss["mask_to_discriminator"] = "softmax"
        notes.append("loss.mask_to_discriminator: absent, so the discriminators saw softmax masks (softmax)")
    return notes


#: schema version -> the step that takes a configuration of that version to the next.
STEPS: dict[int, Callable[[dict[str, Any]], list[str]]] = {1: _v1_to_v2}


def migrate_config(data: Any, *, source: str | Path | None = None) -> tuple[Any, list[str]]:
    """``data`` (a stored configuration) in today's schema, and what was filled in to get there.

    Only a configuration that names an older ``schema_version`` is migrated: pscgan has always written the
    field, so a dict without it was written by hand, today, and gets today's defaults. Anything that is
    not a dict, or is of a version without a step (today's, or a newer one), is returned unchanged for the
    schema to judge.

    Args:
        data: the configuration as read from JSON (not modified).
        source: the file it came from, named in the log.

    Returns:
        (the configuration, one note per filled field; empty when nothing was migrated).
    """
    if not isinstance(data, dict):
        return data, []
    version = data.get("schema_version")
    if not isinstance(version, int) or version not in STEPS:
        return data, []
    data, notes = copy.deepcopy(data), []
    while version in STEPS:
        notes += [f"schema {version} -> {version + 1}: {note}" for note in STEPS[version](data)]
        version += 1
        data["schema_version"] = version
    where = f"{source}: " if source is not None else ""
    logger.info("%sconfiguration of an older pscgan migrated to schema %d%s", where, version,
                "".join(f"\n  {note}" for note in notes))
    return data, notes
