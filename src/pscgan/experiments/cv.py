"""``pscgan cv``: subject-level k-fold cross-validation, with the metrics of ``pscgan evaluate`` reported
as mean (sd) across folds.

The subjects of the dataset's ``train`` and ``test`` parts (every subject when it has no split) are
permuted with a seeded numpy generator and cut into k folds of near-equal size. Fold i trains on the
other k-1 folds (minus a validation share, drawn per fold from those subjects), then predicts and
evaluates fold i. Folds never share a subject, and every subject is held out exactly once. Each fold
is a resumable run (:mod:`pscgan.experiments.run`) in ``OUT/fold<i>/``; the folds and splits are fixed
in ``plan.json``.

Example:
    >>> folds = kfold_subjects([f"s{i}" for i in range(7)], 3, seed=0)
    >>> [len(f) for f in folds], sorted(sum(folds, [])) == sorted(f"s{i}" for i in range(7))
    ([3, 2, 2], True)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pscgan.errors import ConfigError, InputError
from pscgan.experiments.budget import Budget, BudgetKind, calibrate, steps_for_budget
from pscgan.experiments.plan import fixed_config, open_plan, save_plan
from pscgan.experiments.run import DONE_FILE, RunSpec, execute_run, read_done


@dataclass
class CvOptions:
    """What ``pscgan cv`` was asked to do (fields as in :class:`~pscgan.experiments.runner.ExperimentOptions`;
    ``seed`` draws the folds, the preset's seed trains every fold)."""

    data: Path
    out: Path
    folds: int = 10
    preset: str = "cpu"
    overrides: list[str] = field(default_factory=list)
    budget: Budget | None = None
    device: str | None = None
    validation_fraction: float = 0.1
    overwrite: bool = False
    stop_after: int | None = None
    seed: int = 0
    calibration_iterations: int = 3


def dataset_subjects(data: Path) -> list[str]:
    """The subjects cross-validation uses: the ``train`` and ``test`` parts of the dataset's split, or
    every subject (manifest or folders) when there is no split."""
    from pscgan.data.layout import MANIFEST_FILE, list_subject_folders, read_manifest

    if (data / MANIFEST_FILE).is_file():
        manifest = read_manifest(data)
        if manifest.split:
            return sorted(set(manifest.split.get("train", [])) | set(manifest.split.get("test", [])))
        return sorted(manifest.subjects)
    return sorted(f.name for f in list_subject_folders(data))


def kfold_subjects(subjects: list[str], k: int, seed: int) -> list[list[str]]:
    """``k`` disjoint folds covering ``subjects`` (sizes differ by at most one), seeded.

    Raises:
        ConfigError: ``k`` below 2 or above the number of subjects.
    """
    if k < 2:
        raise ConfigError(None, f"--folds must be at least 2, got {k}")
    if k > len(subjects):
        raise ConfigError(None, f"--folds {k} is more than the {len(subjects)} subjects")
    order = np.random.default_rng(seed).permutation(np.array(sorted(subjects), dtype=object))
    return [sorted(str(s) for s in part) for part in np.array_split(order, k)]


def fold_split(
    folds: list[list[str]], index: int, validation_fraction: float, seed: int
) -> dict[str, list[str]]:
    """Train / validation / test subjects of fold ``index`` (test = the fold itself).

    Raises:
        InputError: too few training subjects to hold out a validation set.
    """
    from pscgan.data.layout import make_split

    pool = sorted(s for i, f in enumerate(folds) if i != index for s in f)
    val = (
        make_split(pool, test_fraction=validation_fraction, seed=seed + index)["test"]
        if validation_fraction
        else []
    )
    if len(val) == len(pool):
        raise InputError(
            None, f"fold {index}: {len(pool)} training subjects are too few to hold out a validation set"
        )
    return {"train": sorted(set(pool) - set(val)), "validation": sorted(val), "test": list(folds[index])}


def run_cv(opts: CvOptions, on_fold: Callable[[int, str], None] | None = None) -> dict[str, Any]:
    """Run (or continue) a cross-validation and write ``cv_summary.{md,csv,json}``; returns the summary
    (``complete`` is false when folds are still missing)."""
    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides
    from pscgan.experiments.cv_report import write_summary
    from pscgan.training.launch import phases_of
    from pscgan.training.run_folder import environment_info

    config = apply_overrides(get_preset(opts.preset), opts.overrides)
    data = Path(opts.data)
    request = {
        "kind": "cv",
        "data": str(data.resolve()),
        "folds": opts.folds,
        "preset": opts.preset,
        "overrides": list(opts.overrides),
        "budget": opts.budget.as_dict() if opts.budget else None,
        "validation_fraction": opts.validation_fraction,
        "seed": opts.seed,
    }

    def derive() -> dict[str, Any]:
        folds = kfold_subjects(dataset_subjects(data), opts.folds, opts.seed)
        return {
            "folds": folds,
            "splits": [fold_split(folds, i, opts.validation_fraction, opts.seed) for i in range(len(folds))],
            "base_config": json.loads(config.to_json()),
        }

    plan = open_plan(
        opts.out,
        request,
        derive=derive,
        overwrite=opts.overwrite,
        environment=environment_info(seed=config.train.seed, device=opts.device),
    )
    runs = [(opts.out / f"fold{i}", config.train.seed) for i in range(len(plan["splits"]))]
    config = fixed_config(opts.out, plan, config, runs, opts.preset)
    if "pscgan" not in plan["steps_per_phase"]:
        budget = opts.budget
        if budget is not None and budget.kind is BudgetKind.MINUTES:
            plan["calibration"]["pscgan"] = calibrate(
                config, iterations=opts.calibration_iterations, device=opts.device
            )
        plan["steps_per_phase"]["pscgan"] = (
            config.train.steps_per_phase
            if budget is None
            else steps_for_budget(budget, plan["calibration"].get("pscgan"), len(phases_of(config)))
        )
        save_plan(opts.out, plan)
    steps = plan["steps_per_phase"]["pscgan"]
    complete = True
    for i, split in enumerate(plan["splits"]):
        folder = opts.out / f"fold{i}"
        if read_done(folder) is not None:
            _notify(on_fold, i, "skipped")
            continue
        _notify(on_fold, i, "start")
        spec = RunSpec(folder, data, split, config=config, steps_per_phase=steps, seed=config.train.seed)
        if execute_run(spec, device=opts.device, stop_after=opts.stop_after) is None:
            _notify(on_fold, i, "stopped")
            complete = False
            break
        _notify(on_fold, i, "done")
    summary = summarise_folds(opts.out, plan)
    summary["complete"] = complete and summary["n_folds_done"] == len(plan["splits"])
    write_summary(opts.out, summary)
    return summary


def _notify(on_fold: Callable[[int, str], None] | None, index: int, status: str) -> None:
    if on_fold is not None:
        on_fold(index, status)


def summarise_folds(out: Path, plan: dict[str, Any]) -> dict[str, Any]:
    """Mean (sd) across the finished folds of every Table 1 / Table 2 quantity.

    Raises:
        InputError: a finished fold's ``done.json`` or ``evaluation.json`` is damaged (naming the file and
            the field).
    """

    from pscgan.evaluation.result_file import read_evaluation
    from pscgan.experiments.metrics import flatten_evaluation
    from pscgan.experiments.stats import seed_summary

    per_fold: dict[str, dict[str, float | None]] = {}
    for i in range(len(plan["splits"])):
        folder = out / f"fold{i}"
        if read_done(folder) is not None:
            evaluation = read_evaluation(folder / "evaluation" / "evaluation.json",
                                         redo=f"delete {folder.name}/{DONE_FILE} to evaluate the fold again")
            per_fold[f"fold{i}"] = flatten_evaluation(evaluation)
    names = list(next(iter(per_fold.values())).keys()) if per_fold else []
    quantities = {n: seed_summary([f[n] for f in per_fold.values()]).as_dict() for n in names}
    req = plan["request"]
    return {
        "folds": req["folds"],
        "n_folds_done": len(per_fold),
        "preset": req["preset"],
        "overrides": req["overrides"],
        "budget": req["budget"],
        "data": req["data"],
        "steps_per_phase": plan["steps_per_phase"].get("pscgan"),
        "fold_subjects": plan["folds"],
        "quantities": quantities,
        "per_fold": per_fold,
    }
