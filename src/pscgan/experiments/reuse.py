"""Reuse finished runs from other experiment folders instead of training them again.

Tables 3 to 6 all start with the full PSCGAN model, so on the same data, split, preset and budget
their reference runs are the same training. ``pscgan experiment --reuse-from EXP`` lets a new table
adopt such a run: a finished run in ``EXP`` is adopted only when it trained exactly the configuration
this run would train (seed and steps included, compared field by field with the run's stored
``config.json``) on the same dataset folder and the same train / validation / test split. The run
folder is copied whole (training, predictions, evaluation) and its ``done.json`` records where it
came from; the evaluation is not redone, so the adopted run's numbers are the ones its own table
shows.

Example:
    >>> # source = find_reusable_run([Path("exp/table5")], Path("phantom"), split, config)
    >>> # if source is not None: adopt_run(source, Path("exp/table4/full/seed0"))
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pscgan.config.schema import PscganConfig
from pscgan.errors import InputError
from pscgan.experiments.plan import PLAN_FILE
from pscgan.experiments.run import DONE_FILE, read_done
from pscgan.io.atomic import write_json_atomic

#: The split parts that must be equal for a run to be reused.
SPLIT_PARTS = ("train", "validation", "test")


def find_reusable_run(
    sources: Iterable[Path], data: Path, split: dict[str, list[str]], config: PscganConfig
) -> Path | None:
    """The first finished PSCGAN run under ``sources`` (experiment folders) that trained ``config``
    on ``data`` with ``split``, or ``None``.

    Raises:
        InputError: a source is not an experiment folder (no ``plan.json``).
    """
    from pscgan.config.schema import load_config
    from pscgan.training.run_folder import CONFIG_FILE, SPLIT_FILE

    wanted = config.model_dump()
    dataset = str(Path(data).resolve())
    for source in sources:
        source = Path(source)
        if not (source / PLAN_FILE).is_file():
            raise InputError(source, "not an experiment folder (no plan.json); --reuse-from takes the "
                                     "--out folder of an earlier pscgan experiment")
        for done_path in sorted(source.glob(f"*/seed*/{DONE_FILE}")):
            run = done_path.parent
            train = run / "train"
            if (read_done(run) or {}).get("baseline") is not None:
                continue  # a baseline's config.json is not a PSCGAN configuration
            if not (train / CONFIG_FILE).is_file() or not (train / SPLIT_FILE).is_file():
                continue
            if load_config(train / CONFIG_FILE).model_dump() != wanted:
                continue
            if _same_split(json.loads((train / SPLIT_FILE).read_text(encoding="utf-8")), dataset, split):
                return run
    return None


def _same_split(recorded: dict[str, Any], dataset: str, split: dict[str, list[str]]) -> bool:
    if str(Path(recorded.get("dataset", "")).resolve()) != dataset:
        return False
    return all(sorted(recorded.get(part, [])) == sorted(split.get(part, [])) for part in SPLIT_PARTS)


def adopt_run(source: Path, dest: Path) -> dict[str, Any]:
    """Copy the finished run ``source`` to ``dest`` (which must not exist) and return its ``done.json``
    record, which now names the source in ``reused_from``.

    The copy is made beside ``dest`` and renamed into place, so an interruption leaves either no run or
    the whole run, never a half-copied one that would count as finished.
    """
    done = read_done(source)
    if done is None:
        raise InputError(source, "the run has not finished; only finished runs can be reused")
    if dest.exists():
        raise InputError(dest, "a run folder already exists here; it is continued, not replaced")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".{dest.name}.reusing"
    if staging.exists():
        shutil.rmtree(staging)  # left by an interrupted copy: never a finished run
    shutil.copytree(source, staging)
    done["reused_from"] = str(Path(source).resolve())
    write_json_atomic(staging / DONE_FILE, done)
    os.replace(staging, dest)
    return done
