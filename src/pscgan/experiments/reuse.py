"""Reuse finished runs instead of training them again.

Tables 3 to 6 all start with the full PSCGAN model, so on the same data, split, preset and budget
their reference runs are the same training. ``pscgan experiment --reuse-from SOURCE`` lets a table
adopt such a run. SOURCE is either

- an earlier experiment folder: its finished run is copied whole (training, predictions,
  evaluation), and the evaluation is not redone, so the adopted run's numbers are the ones its own
  table shows; or
- a finished ``pscgan train`` run folder (for example the run a lab's production model came from):
  it is copied as the run's training, and the experiment predicts and evaluates it like a run it
  trained itself. Its training time is read from the run's log, summed over its sittings.

Either is adopted only when it trained exactly the configuration this run would train (seed and
steps included, compared field by field with the stored ``config.json``; only the name of the preset
it started from may differ) on the same dataset folder and the same train / validation / test split.
The adopted run's ``done.json`` records where it came from.

Example:
    >>> # source = find_reusable_run([Path("exp/table5"), Path("runs/cpu")], Path("phantom"), split, config)
    >>> # if source is not None: adopt_run(source, Path("exp/table4/full/seed0"))
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pscgan.config.schema import PscganConfig
from pscgan.errors import InputError
from pscgan.experiments.plan import PLAN_FILE, read_plan
from pscgan.experiments.run import ADOPTED_FILE, DONE_FILE, TIMING_FILE, read_done, timing_from_log
from pscgan.io.atomic import write_json_atomic

#: The split parts that must be equal for a run to be reused.
SPLIT_PARTS = ("train", "validation", "test")


def find_reusable_run(
    sources: Iterable[Path], data: Path, split: dict[str, list[str]], config: PscganConfig
) -> Path | None:
    """The first finished PSCGAN run among ``sources`` (experiment folders or training run folders)
    that trained ``config`` on ``data`` with ``split``, or ``None``.

    Returns:
        An experiment's run folder (``EXP/<variant>/seed<k>``) or a training run folder.

    Raises:
        InputError: a source is neither an experiment folder nor a finished training run.
    """
    wanted = _training_content(config)
    dataset = str(Path(data).resolve())
    for source in sources:
        for run, train in _candidates(Path(source)):
            if _trained_config(train) == wanted and _same_split(_recorded_split(train), dataset, split):
                return run
    return None


def is_training_run(folder: Path) -> bool:
    """Whether ``folder`` is a finished ``pscgan train`` run (configuration, split and final weights)."""
    from pscgan.training.run_folder import CONFIG_FILE, SPLIT_FILE
    from pscgan.training.trainer import WEIGHTS_FILE

    return all((Path(folder) / name).is_file() for name in (CONFIG_FILE, SPLIT_FILE, WEIGHTS_FILE))


def _candidates(source: Path) -> list[tuple[Path, Path]]:
    """(run to adopt, its training folder) pairs a source offers."""
    from pscgan.training.run_folder import CONFIG_FILE, SPLIT_FILE

    if is_training_run(source):
        return [(source, source)]
    if (source / CONFIG_FILE).is_file() and (source / SPLIT_FILE).is_file():
        raise InputError(source, "a training run without final weights (model.safetensors); finish it with "
                                 "pscgan train --resume before reusing it")
    if not (source / PLAN_FILE).is_file():
        raise InputError(source, "neither an experiment folder (no plan.json) nor a finished training run "
                                 "(config.json, split.json and model.safetensors); --reuse-from takes the "
                                 "--out folder of an earlier pscgan experiment or pscgan train")
    # the plan says what the folder is; a damaged one is one line (read_plan)
    if read_plan(source / PLAN_FILE)["request"].get("kind") == "cv":
        raise InputError(source, "a cross-validation folder: its folds train on other subjects than an "
                                 "experiment's split; --reuse-from takes the --out folder of an earlier "
                                 "pscgan experiment or pscgan train")
    found = []
    for done_path in sorted(source.glob(f"*/seed*/{DONE_FILE}")):
        run = done_path.parent
        train = run / "train"
        if (read_done(run) or {}).get("baseline") is not None:
            continue  # a baseline's config.json is not a PSCGAN configuration
        if (train / CONFIG_FILE).is_file() and (train / SPLIT_FILE).is_file():
            found.append((run, train))
    return found


def _training_content(config: PscganConfig) -> dict[str, Any]:
    """What a configuration trains: every field but the name of the preset it started from."""
    content = config.model_dump()
    content.pop("preset", None)
    return content


def _trained_config(train: Path) -> dict[str, Any]:
    """What the run in ``train`` trained, from its ``config.json`` read as pscgan wrote it (every field,
    no coercion), checked against the configuration its final weights carry under their checksum.

    Raises:
        InputError: the configuration is damaged, or is not the one the weights were trained with.
    """
    from pscgan.config.schema import config_from_record
    from pscgan.io.jsonfile import read_json
    from pscgan.models.weights import read_weights_metadata
    from pscgan.training.run_folder import CONFIG_FILE
    from pscgan.training.trainer import WEIGHTS_FILE

    path = train / CONFIG_FILE
    try:
        config = _training_content(config_from_record(read_json(path, what="run configuration"), source=path))
    except InputError as exc:
        raise InputError(path, f"{exc.problem}; {_LEAVE_OUT}") from None
    weights = train / WEIGHTS_FILE
    if not weights.is_file():  # an experiment's run is adopted with its evaluation, not its weights
        return config
    meta = read_weights_metadata(weights)
    try:
        stored = json.loads(meta["config"])
    except (KeyError, TypeError, ValueError, RecursionError):
        raise InputError(weights, f"holds no readable configuration; {_LEAVE_OUT}") from None
    trained = _training_content(config_from_record(stored, source=weights, where="config"))
    if trained != config:
        raise InputError(path, f"field {_first_difference(config, trained)} is not what {WEIGHTS_FILE} was "
                               f"trained with (the file was edited); {_LEAVE_OUT}")
    return config


def _first_difference(a: dict[str, Any], b: dict[str, Any]) -> str:
    """The first field (``section.name``) where two configurations' contents differ."""
    for section in a:
        if a[section] != b.get(section):
            inner, other = a[section], b.get(section)
            inner, other = (inner, other) if isinstance(inner, dict) and isinstance(other, dict) else ({}, {})
            key = next((k for k in inner if inner[k] != other.get(k)), None)
            return section if key is None else f"{section}.{key}"
    return "(a field only one of them has)"


_LEAVE_OUT = "--reuse-from cannot tell what this run trained: leave its folder out of --reuse-from"


def _recorded_split(train: Path) -> dict[str, Any]:
    from pscgan.training.run_folder import SPLIT_FILE

    from pscgan.training.launch import read_split

    return read_split(train / SPLIT_FILE)


def _same_split(recorded: dict[str, Any], dataset: str, split: dict[str, list[str]]) -> bool:
    try:
        if str(Path(recorded.get("dataset", "")).resolve()) != dataset:
            return False
    except (OSError, ValueError):  # a name no folder can have (a NUL byte, too long): not this dataset
        return False
    return all(sorted(recorded.get(part, [])) == sorted(split.get(part, [])) for part in SPLIT_PARTS)


def _check_plain_tree(source: Path) -> None:
    """Refuse a run to copy that holds anything but folders and regular files: a symbolic link would
    bring files from outside the run into the experiment, and a FIFO or device would block the copy.

    Raises:
        InputError: naming the first such entry.
    """
    for root, dirs, files in os.walk(source):
        for name in [*dirs, *files]:
            entry = Path(root) / name
            mode = entry.lstat().st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file or folder"
                raise InputError(entry, f"{kind} in a run to reuse; --reuse-from copies only plain files "
                                        "and folders: leave this run out of --reuse-from")


def adopt_run(source: Path, dest: Path) -> dict[str, Any] | None:
    """Copy the run ``source`` to ``dest`` (which must not exist).

    Returns:
        For an experiment's finished run, its ``done.json`` record, which now names the source in
        ``reused_from``. For a training run folder, ``None``: it becomes ``dest/train`` with its
        training time in ``dest/timing.json``, and the run still has to be predicted and evaluated
        (:func:`pscgan.experiments.run.execute_run` does so without training).

    The copy is made beside ``dest`` and renamed into place, so an interruption leaves either no run or
    the whole run, never a half-copied one that would count as finished.
    """
    done = read_done(source)
    training_run = done is None and is_training_run(source)
    if done is None and not training_run:
        raise InputError(source, "the run has not finished; only finished runs can be reused")
    if dest.exists():
        raise InputError(dest, "a run folder already exists here; it is continued, not replaced")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".{dest.name}.reusing"
    if staging.exists():
        shutil.rmtree(staging)  # left by an interrupted copy: never a finished run
    _check_plain_tree(source)
    origin = str(Path(source).resolve())
    if training_run:
        timing = timing_from_log(source)
        shutil.copytree(source, staging / "train")
        write_json_atomic(staging / TIMING_FILE, timing)
        write_json_atomic(staging / ADOPTED_FILE, {"reused_from": origin})
    else:
        assert done is not None  # a finished run (checked above)
        shutil.copytree(source, staging)
        done["reused_from"] = origin
        write_json_atomic(staging / DONE_FILE, done)
    os.replace(staging, dest)
    return done
