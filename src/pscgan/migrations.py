"""Reading what an older pscgan wrote: every stored format's history, in one place.

Runs, weights, checkpoints, prediction folders and experiment plans outlive the version that wrote them.
Each stored format carries a version; a record of an older version is brought up to today's by the steps
below, one version at a time, before anything else reads it. A step fills every field its version did
not have with the value that version *meant* (what its models were trained with, what its predictions
were prepared with), never with today's default, and says so: the notes are returned and logged (logger
``pscgan.migrations``, level INFO). Nothing outside this module knows how an older format looked.

=====================  ==================  =======  ================================================
format                 where               version  older versions
=====================  ==================  =======  ================================================
configuration          ``config.json``,    5        1: no ``preprocessing`` section (fixed settings),
                       weights, checkpoint          fields absent before ``train.register_lge`` and
                                                    ``loss.mask_to_discriminator`` existed; 2: no
                                                    ``train.lr_schedule`` (a constant rate); 3: options
                                                    added since (``train.phase_lr_factors``,
                                                    ``train.ed_shift_augmentation``,
                                                    ``model.bottleneck_skip``, ``model.decoder_residual``)
                                                    absent, each off; 4: no
                                                    ``loss.segmentation_dice_reduction`` (batch-pooled),
                                                    ``loss.synthesis_ssim_weight`` (0) or
                                                    ``model.generator_norm`` (layer norm)
baseline configuration baseline weights,   2        1 (no ``schema_version``): no ``preprocessing``,
                       run ``config.json``          no ``register_lge`` before it existed
training state         checkpoint          2        1 (no ``version``): no divergence recovery, no
(cascade, baseline)    ``state.json``               log window
prediction record      ``batch.json``,     2        1 (no ``version``): no ``preprocessing`` record,
                       ``summary.json``             no ``weights.register_lge`` before it existed
experiment plan        ``plan.json``       2        1: no ``base_config`` before it was recorded
cascade weights        safetensors header  2        1: no ``metadata_sha256`` before it was added
output folder          ``.pscgan-output``  marker   none: a prediction folder from before the marker
=====================  ==================  =======  ================================================

A record without a version field is of the version named for it above; a *configuration* without one was
written by hand, today, and gets today's defaults. A record of a version without a step (today's, or a
newer one) is returned unchanged for its reader to judge.

Example:
    >>> data, notes = migrate(CONFIGURATION, {"schema_version": 1, "train": {}, "loss": {}})
    >>> data["schema_version"], data["train"]["register_lge"], data["loss"]["mask_to_discriminator"]
    (6, False, 'softmax')
    >>> data["preprocessing"]["intensity_percentiles"]
    [0.5, 99.5]
    >>> print(notes[0][:60])
    configuration 1 -> 2: preprocessing: filled with the fixed s
    >>> migrate(CONFIGURATION, data)[1]
    []
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger("pscgan.migrations")

#: A step: modifies a record of one version in place into the next version's, returns its notes.
Step = Callable[[dict[str, Any]], list[str]]

#: The preprocessing every model and prediction was prepared with before the plan was stored: the fixed
#: ``PreprocessOptions`` of that time (registration bounds are today's defaults too).
V1_PREPROCESSING: dict[str, Any] = {
    "intensity_percentiles": [0.5, 99.5], "temporal_method": "linear", "target_spacing_mm": None,
    "fov_heart_ratio": None, "max_registration_shift_mm": 10.0, "max_registration_angle_deg": 10.0}
_V1_PREPROCESSING_NOTE = ("filled with the fixed settings of that time (intensity percentiles 0.5/99.5, "
                          "linear temporal resampling, native spacing, no field-of-view rule)")


@dataclass(frozen=True)
class Format:
    """A stored format and how its older versions become today's.

    Attributes:
        name: what the notes call it.
        key: the field holding the version.
        current: today's version (what pscgan writes).
        unversioned: the version of a record without ``key`` (None: such a record is today's).
        steps: version -> the step that takes a record of that version to the next.
    """

    name: str
    key: str
    current: int
    unversioned: int | None = None
    steps: Mapping[int, Step] = field(default_factory=dict)


def migrate(fmt: Format, data: Any, *, source: str | Path | None = None) -> tuple[Any, list[str]]:
    """``data`` (a record of ``fmt`` as read from JSON; not modified) in today's version, and what was
    filled in to get there (empty when nothing was migrated).

    Args:
        fmt: the record's format (:data:`CONFIGURATION`, :data:`TRAINING_STATE`, ...).
        data: the record.
        source: the file it came from, named in the log.
    """
    if not isinstance(data, dict):
        return data, []
    version = data.get(fmt.key, fmt.unversioned)
    if isinstance(version, bool) or not isinstance(version, int) or version not in fmt.steps:
        return data, []
    data, notes = copy.deepcopy(data), []
    while version in fmt.steps:
        notes += [f"{fmt.name} {version} -> {version + 1}: {note}" for note in fmt.steps[version](data)]
        version += 1
    data[fmt.key] = version
    if not notes:  # a version that added nothing this record lacks
        return data, notes
    where = f"{source}: " if source is not None else ""
    logger.info("%s%s of an older pscgan read as version %d%s", where, fmt.name, version,
                "".join(f"\n  {note}" for note in notes))
    return data, notes


def _section(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = data.get(name)
    return value if isinstance(value, dict) else None


# configuration (pscgan.config.schema.PscganConfig) ----------------------------------------------------

def _configuration_v1(data: dict[str, Any]) -> list[str]:
    notes = []
    if "preprocessing" not in data:
        data["preprocessing"] = copy.deepcopy(V1_PREPROCESSING)
        notes.append(f"preprocessing: {_V1_PREPROCESSING_NOTE}")
    train, loss = _section(data, "train"), _section(data, "loss")
    if train is not None and "register_lge" not in train:
        train["register_lge"] = False
        notes.append("train.register_lge: absent, so trained on unregistered LGE (False)")
    if loss is not None and "mask_to_discriminator" not in loss:
        loss["mask_to_discriminator"] = "softmax"
        notes.append("loss.mask_to_discriminator: absent, so the discriminators saw softmax masks (softmax)")
    return notes


def _configuration_v2(data: dict[str, Any]) -> list[str]:
    train = _section(data, "train")
    if train is not None and "lr_schedule" not in train:
        train["lr_schedule"] = "constant"
        return ["train.lr_schedule: absent, so trained at a constant learning rate (constant)"]
    return []


def _fill_absent(data: dict[str, Any], meant: dict[str, dict[str, tuple[Any, str]]]) -> list[str]:
    notes = []
    for name, fields in meant.items():
        section = _section(data, name)
        for key, (value, meaning) in fields.items():
            if section is not None and key not in section:
                section[key] = value
                notes.append(f"{name}.{key}: absent, so {meaning} ({json.dumps(value)})")
    return notes


#: Options added while the configuration was at version 3, with the value a version-3 record meant: each
#: was off until it existed.
_V3_ABSENT_MEANT: dict[str, dict[str, tuple[Any, str]]] = {
    "train": {"phase_lr_factors": (None, "every phase at the base learning rate"),
              "ed_shift_augmentation": (0, "no ED shift")},
    "model": {"bottleneck_skip": (False, "no bottleneck skip"),
              "decoder_residual": (False, "one convolution per upsampling block")},
}


def _configuration_v3(data: dict[str, Any]) -> list[str]:
    return _fill_absent(data, _V3_ABSENT_MEANT)


#: Options added while the configuration was at version 4, with the value a version-4 record meant.
_V4_ABSENT_MEANT: dict[str, dict[str, tuple[Any, str]]] = {
    "loss": {"segmentation_dice_reduction": ("batch", "the soft Dice was pooled over the batch"),
             "synthesis_ssim_weight": (0.0, "no SSIM term")},
    "model": {"generator_norm": ("layer", "the generator's 2D convolutions were layer-normalised")},
}


def _configuration_v4(data: dict[str, Any]) -> list[str]:
    return _fill_absent(data, _V4_ABSENT_MEANT)


#: Options added while the configuration was at version 5, with the value a version-5 record meant.
_V5_ABSENT_MEANT: dict[str, dict[str, tuple[Any, str]]] = {
    "loss": {"segmentation_count_weight": (0.0, "no pixel-count term on the generator's softmax")},
}


def _configuration_v5(data: dict[str, Any]) -> list[str]:
    return _fill_absent(data, _V5_ABSENT_MEANT)


#: The run configuration, stored in ``config.json``, in every weights file and checkpoint.
CONFIGURATION = Format("configuration", "schema_version", 6,
                       steps={1: _configuration_v1, 2: _configuration_v2, 3: _configuration_v3,
                              4: _configuration_v4, 5: _configuration_v5})


# baseline configuration (pscgan.baselines.config.BaselineConfig) ---------------------------------------

def _baseline_v1(data: dict[str, Any]) -> list[str]:
    notes = []
    if "register_lge" not in data:
        data["register_lge"] = False
        notes.append("register_lge: absent, so trained on unregistered LGE (False)")
    if "preprocessing" not in data:
        data["preprocessing"] = copy.deepcopy(V1_PREPROCESSING)
        notes.append(f"preprocessing: {_V1_PREPROCESSING_NOTE}")
    return notes


#: A baseline's configuration, stored in its weights and its run's ``config.json``.
BASELINE_CONFIGURATION = Format("baseline configuration", "schema_version", 2, unversioned=1,
                                steps={1: _baseline_v1})


# training state (the "train" entry of a checkpoint's state.json) ---------------------------------------

def _training_state_v1(data: dict[str, Any]) -> list[str]:
    notes = []
    if "divergence" not in data:
        data["divergence"] = {"lr_scale": 1.0, "retries": 0, "events": []}
        notes.append("divergence: absent (before divergence recovery), so no recovery yet (lr scale 1, no "
                     "retries, no events)")
    if "log_window" not in data:
        data["log_window"] = {"sums": {}, "counts": {}}
        notes.append("log_window: absent (before the log window was checkpointed), so an empty window")
    return notes


#: Where cascade training stands (``TrainState``), in every checkpoint of ``pscgan train``.
TRAINING_STATE = Format("training state", "version", 2, unversioned=1, steps={1: _training_state_v1})
#: Where a baseline's training stands (the ``train`` entry of its checkpoints, written by the shared loop).
BASELINE_TRAINING_STATE = Format("baseline training state", "version", 2, unversioned=1,
                                 steps={1: _training_state_v1})


# prediction record (batch.json, summary.json of a prediction folder) ----------------------------------

def _prediction_record_v1(data: dict[str, Any]) -> list[str]:
    notes = []
    if not isinstance(data.get("preprocessing"), dict):
        data["preprocessing"] = copy.deepcopy(V1_PREPROCESSING)
        notes.append(f"preprocessing: not recorded, so {_V1_PREPROCESSING_NOTE}")
    weights = _section(data, "weights")
    if weights is not None and "register_lge" not in weights:
        weights["register_lge"] = None
        notes.append("weights.register_lge: not recorded (None: evaluate registers the reference, the "
                     "paper's protocol, unless told otherwise)")
    return notes


#: What made a prediction folder: the weights and the preprocessing applied.
PREDICTION_RECORD = Format("prediction record", "version", 2, unversioned=1, steps={1: _prediction_record_v1})


# experiment plan (plan.json) ---------------------------------------------------------------------------

def _experiment_plan_v1(data: dict[str, Any]) -> list[str]:
    if "base_config" in data:
        return []
    data["base_config"] = None
    return ["base_config: not recorded (None: the experiment continues with its preset as resolved now, "
            "once its runs are checked to have been trained with it)"]


#: An experiment folder's ``plan.json``.
EXPERIMENT_PLAN = Format("experiment plan", "version", 2, steps={1: _experiment_plan_v1})


# cascade weights (the safetensors header of pscgan.models.weights) -------------------------------------

def _weights_v1(data: dict[str, Any]) -> list[str]:
    if "metadata_sha256" in data:
        return []
    return ["metadata_sha256: absent (before pscgan added it), so the stored configuration is read "
            "unverified"]


#: The header of a cascade weights file. Its version is a string there (``"1"``); see
#: :func:`migrate_weights_header`.
CASCADE_WEIGHTS = Format("cascade weights", "version", 2, steps={1: _weights_v1})


def migrate_weights_header(meta: Mapping[str, str], *, source: str | Path | None = None
                           ) -> tuple[dict[str, str], list[str]]:
    """A cascade weights header (string values) in today's version.

    The header is checked against its ``metadata_sha256`` as written, before this is called; the
    version is therefore replaced only in the returned copy.
    """
    data: dict[str, Any] = dict(meta)
    version = data.get("version")
    if isinstance(version, str) and version.isdigit():
        data["version"] = int(version)
    data, notes = migrate(CASCADE_WEIGHTS, data, source=source)
    data["version"] = str(data.get("version"))
    return data, notes


# output folders (pscgan.io.atomic's marker) -----------------------------------------------------------

def output_predates_marker(folder: str | Path, records: Iterable[str]) -> bool:
    """Whether ``folder``, which carries no output marker, is one pscgan wrote before it marked its
    outputs: it holds one of the files ``records`` (a prediction folder's ``batch.json`` or
    ``summary.json``). Logged when so."""
    found = [name for name in records if (Path(folder) / name).is_file()]
    if found:
        logger.info("%s: output folder of an older pscgan (no output marker; it holds %s)", folder, found[0])
    return bool(found)
