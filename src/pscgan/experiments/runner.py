"""``pscgan experiment``: train every variant of a table with K seeds on the same data and budget, then
write the table.

The experiment folder::

    EXP/
      plan.json, environment.json     written first (see :mod:`pscgan.experiments.plan`); the plan
                                      keeps the resolved preset, so later runs train what earlier ones did
      <variant>/seed<k>/              one resumable run each (see :mod:`pscgan.experiments.run`)
      <table>.md / .csv / .json       the table, rewritten after every finished run

Every variant trains on the same subject split (fixed in ``plan.json``), for the same budget, with
seeds ``preset seed + 0 .. K-1``; seed k of every variant starts from the same seed. Repeating the
command continues where it stopped and never retrains a finished run; ``reuse_from`` adopts
identical finished runs of earlier experiments (:mod:`pscgan.experiments.reuse`).

Example:
    >>> # result = run_experiment(ExperimentOptions(ExperimentTable.TABLE3, Path("phantom"), Path("exp"),
    >>> #                                           budget=Budget(BudgetKind.STEPS, 200), seeds=3))
    >>> # print(Path("exp/table3.md").read_text())
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pscgan.config.schema import PscganConfig
from pscgan.experiments.budget import Budget, BudgetKind, busy_calibration, calibrate, steps_for_budget
from pscgan.experiments.metrics import RUN_METRICS, SUBJECT_METRICS
from pscgan.experiments.plan import fixed_config, open_plan, save_plan
from pscgan.experiments.run import RunSpec, execute_run, read_done
from pscgan.experiments.variants import ExperimentTable, Variant, check_table_applies, variants_of

TITLES = {ExperimentTable.TABLE3: "Table 3: contribution of each component of PSCGAN",
          ExperimentTable.TABLE4: "Table 4: SCLN components and other time-series encoders",
          ExperimentTable.TABLE5: "Table 5: loss terms and adversarial losses",
          ExperimentTable.TABLE6: "Table 6: PSCGAN and baseline networks on the same data",
          ExperimentTable.EFFICIENCY: "Efficient SCLN attention against full attention at equal budget"}

#: ``on_run(variant, seed, status)`` with status ``start``, ``done``, ``skipped``, ``reused`` or
#: ``stopped``.
RunCallback = Callable[[str, int, str], None]


@dataclass
class ExperimentOptions:
    """What ``pscgan experiment`` was asked to do.

    Attributes:
        table: the experiment.
        data: dataset folder (canonical layout); its ``test`` split is evaluated.
        out: experiment folder.
        preset: preset of the reference model.
        overrides: ``section.field=value`` changes applied to the preset (before each variant's own).
        budget: equal training budget (``None``: the preset's ``steps_per_phase``).
        seeds: seeds per variant.
        variants: run only these variants in this invocation (the table shows every finished one).
        device: ``cpu``, ``cuda`` or ``None`` (CUDA when available).
        validation_fraction: share of the training subjects held out for validation.
        overwrite: start over in a folder holding another experiment.
        stop_after: generator steps to train in this invocation before stopping (resumable).
        calibration_iterations: timed iterations per phase for a minute budget.
        reuse_from: earlier experiment folders whose finished PSCGAN runs are adopted instead of
            trained again when they trained the same configuration on the same data and split
            (see :mod:`pscgan.experiments.reuse`).
    """

    table: ExperimentTable
    data: Path
    out: Path
    preset: str = "cpu"
    overrides: list[str] = field(default_factory=list)
    budget: Budget | None = None
    seeds: int = 1
    variants: list[str] | None = None
    device: str | None = None
    validation_fraction: float = 0.1
    overwrite: bool = False
    stop_after: int | None = None
    calibration_iterations: int = 3
    reuse_from: list[Path] = field(default_factory=list)


def variant_config(base: PscganConfig, variant: Variant) -> PscganConfig:
    """The preset with the variant's overrides (validated: a bad combination fails before training).

    Without a discriminator no loss term teaches phase II the LGE except the regularisation, so a
    variant that switches adversarial learning off gets a pixel L1 (weight 1) when the preset has none;
    a preset that already has one (``cpu``) keeps its weight.
    """
    from pscgan.config.schema import AdversarialLoss, apply_overrides

    config = apply_overrides(base, list(variant.overrides or ()))
    if config.loss.adversarial is AdversarialLoss.NONE and config.loss.pixel_l1_weight == 0:
        config = apply_overrides(config, ["loss.pixel_l1_weight=1.0"])
    return config


def run_experiment(opts: ExperimentOptions, on_run: RunCallback | None = None) -> dict[str, Any]:
    """Run (or continue) an experiment and write its table; returns the table's JSON content
    (``complete`` is false when ``stop_after`` ended this invocation early)."""
    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides
    from pscgan.errors import ConfigError
    from pscgan.experiments.tables import write_tables
    from pscgan.training.launch import subject_split
    from pscgan.training.run_folder import environment_info

    if opts.seeds < 1:
        raise ConfigError(None, f"--seeds must be at least 1, got {opts.seeds}")
    every = variants_of(opts.table)  # refuses an unknown table with the list of known ones
    table = ExperimentTable(opts.table)
    base = apply_overrides(get_preset(opts.preset), opts.overrides)
    check_table_applies(table, base.model.encoder)
    selected = variants_of(table, opts.variants)
    for v in every:  # a bad combination of overrides fails here, before the folder is made
        if v.baseline is None:
            variant_config(base, v)
    request = {"kind": "experiment", "table": table.value, "data": str(Path(opts.data).resolve()),
               "preset": opts.preset, "overrides": list(opts.overrides), "seeds": opts.seeds,
               "budget": opts.budget.as_dict() if opts.budget else None,
               "validation_fraction": opts.validation_fraction}

    def derive() -> dict[str, Any]:
        split = subject_split(Path(opts.data), opts.validation_fraction, base.train.seed)
        if not split["test"]:
            raise ConfigError(
                opts.data, "the dataset's split has no test subjects to evaluate the variants on"
            )
        return {
            "split": split,
            "variants": [v.as_dict() for v in every],
            "seed_values": [base.train.seed + k for k in range(opts.seeds)],
            "base_config": json.loads(base.to_json()),
        }

    plan = open_plan(
        opts.out,
        request,
        derive=derive,
        overwrite=opts.overwrite,
        environment=environment_info(seed=base.train.seed, device=opts.device),
    )
    reference = every[0]
    runs = [(opts.out / reference.name / f"seed{seed}", seed) for seed in plan["seed_values"]]
    base = fixed_config(opts.out, plan, base, runs, opts.preset)
    configs = {v.name: variant_config(base, v) for v in every if v.baseline is None}
    steps = _steps_per_phase(opts, plan, [reference, *selected], configs, base)
    complete = True
    for variant in selected:
        for seed in plan["seed_values"]:
            folder = opts.out / variant.name / f"seed{seed}"
            if read_done(folder) is not None:
                _notify(on_run, variant.name, seed, "skipped")
                continue
            spec = RunSpec(
                folder,
                Path(opts.data),
                plan["split"],
                config=configs.get(variant.name),
                baseline=variant.baseline,
                steps_per_phase=steps[variant.name],
                phases=_phases(configs[reference.name]),
                seed=seed,
                preset=plan["request"]["preset"],
                reference=configs[reference.name],
            )
            reused = _reuse(opts, plan, spec)
            if reused and read_done(spec.folder) is not None:
                _notify(on_run, variant.name, seed, "reused")
                write_tables(opts.out, collect_results(opts.out, plan, table, opts.preset))
                continue
            if not reused:  # an adopted training run is only predicted and evaluated
                _notify(on_run, variant.name, seed, "start")
            if execute_run(spec, device=opts.device, stop_after=opts.stop_after) is None:
                _notify(on_run, variant.name, seed, "stopped")
                complete = False
                break
            _notify(on_run, variant.name, seed, "reused" if reused else "done")
            write_tables(opts.out, collect_results(opts.out, plan, table, opts.preset))
        if not complete:
            break
    result = collect_results(opts.out, plan, table, opts.preset)
    seeds_done = {r["name"]: len(r["seeds"]) for r in result["rows"]}
    # what this command asked for, and the whole table (a --variants subset leaves the table incomplete)
    result["requested_complete"] = complete and all(seeds_done.get(v.name) == opts.seeds for v in selected)
    everything = all(seeds_done.get(v.name) == opts.seeds for v in every)
    result["complete"] = result["requested_complete"] and everything
    write_tables(opts.out, result)
    return result


def _reuse(opts: ExperimentOptions, plan: dict[str, Any], spec: RunSpec) -> bool:
    """Adopt a matching finished run from ``opts.reuse_from``; a run already started here is continued
    instead (its partial training is never thrown away). An adopted training run folder still has to
    be predicted and evaluated."""
    from pscgan.experiments.reuse import adopt_run, find_reusable_run
    from pscgan.experiments.run import run_config

    if not opts.reuse_from or spec.config is None or spec.folder.exists():
        return False
    source = find_reusable_run(opts.reuse_from, Path(opts.data), plan["split"], run_config(spec))
    if source is None:
        return False
    adopt_run(source, spec.folder)
    return True


def _notify(on_run: RunCallback | None, name: str, seed: int, status: str) -> None:
    if on_run is not None:
        on_run(name, seed, status)


def _phases(config: PscganConfig) -> int:
    from pscgan.training.launch import phases_of

    return len(phases_of(config))


def _steps_per_phase(
    opts: ExperimentOptions,
    plan: dict[str, Any],
    needed: list[Variant],
    configs: dict[str, PscganConfig],
    base: PscganConfig,
) -> dict[str, int]:
    """Steps per phase of the ``needed`` variants (the reference first), calibrated once and recorded
    in the plan.

    A step budget (or the preset's steps) is per phase of the reference; a variant with fewer phases
    (progressive training removed: one joint phase) gets as many generator steps in total as the
    reference, so it is not compared at a third of the training. A baseline also trains as many steps
    in total as the reference, whatever the budget kind: its speed cannot be calibrated the same way.
    """
    budget = opts.budget
    changed = False
    reference_phases = _phases(configs[needed[0].name])
    for name in [v.name for v in needed if v.baseline is None]:
        config = configs[name]
        if name in plan["steps_per_phase"]:
            continue
        if budget is None or budget.kind is BudgetKind.STEPS:
            per_reference_phase = base.train.steps_per_phase if budget is None else int(budget.value)
            total = per_reference_phase * reference_phases
            plan["steps_per_phase"][name] = -(-total // _phases(config))  # ceiling: never fewer in total
        else:
            cal = calibrate(config, iterations=opts.calibration_iterations, device=opts.device)
            plan["calibration"][name] = cal
            plan["steps_per_phase"][name] = steps_for_budget(budget, cal, _phases(config))
        changed = True
    for v in needed:
        if v.baseline is not None and v.name not in plan["steps_per_phase"]:
            plan["steps_per_phase"][v.name] = plan["steps_per_phase"][needed[0].name]
            changed = True
    if changed:
        save_plan(opts.out, plan)
    return plan["steps_per_phase"]


def collect_results(out: Path, plan: dict[str, Any], table: ExperimentTable, preset: str) -> dict[str, Any]:
    """The table's content from every finished run in ``out`` (rows in table order, unfinished
    variants left out)."""
    from pscgan.experiments.stats import TEST_NAME, compare_variants

    variants = [
        Variant(
            v["name"],
            v["label"],
            None if v["overrides"] is None else tuple(v["overrides"]),
            v["baseline"],
            v.get("note", ""),
        )
        for v in plan["variants"]
    ]
    runs: dict[str, list[dict[str, Any]]] = {}
    for v in variants:
        done = [read_done(out / v.name / f"seed{s}") for s in plan["seed_values"]]
        if any(d is not None for d in done):
            runs[v.name] = [d for d in done if d is not None]
    reference = variants[0].name
    compared = compare_variants(runs, reference, RUN_METRICS, SUBJECT_METRICS)
    rows = []
    for v in variants:
        if v.name not in runs:
            continue
        finished = runs[v.name]
        per_step = [r["seconds_per_step"] for r in finished if r.get("seconds_per_step") is not None]
        cal = plan["calibration"].get(v.name)
        rows.append(
            {
                "name": v.name,
                "label": v.label,
                "overrides": v.overrides,
                "baseline": v.baseline,
                "note": v.note,
                "steps_per_phase": plan["steps_per_phase"].get(v.name),
                "seconds_per_step": sum(per_step) / len(per_step) if per_step else None,
                "calibrated_seconds_per_step": cal["seconds_per_step_all_phases"] if cal else None,
                "reused_from": sorted({r["reused_from"] for r in finished if r.get("reused_from")}),
                **compared[v.name],
            }
        )
    req = plan["request"]
    return {
        "table": table.value,
        "title": TITLES[table],
        "preset": preset,
        "reference": reference,
        "seeds": req["seeds"],
        "budget": req["budget"],
        "calibration_note": busy_calibration(
            [
                plan["calibration"][v.name]
                for v in variants
                if v.name in runs and v.name in plan["calibration"]
            ]
        ),
        "data": req["data"],
        "test": TEST_NAME,
        "paired_metrics": list(SUBJECT_METRICS),
        "metrics": list(RUN_METRICS),
        "test_subjects": plan["split"]["test"],
        "rows": rows,
    }
