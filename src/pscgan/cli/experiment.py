"""``pscgan experiment`` (ablation tables, baselines, efficient attention) and ``pscgan cv`` (k-fold
cross-validation): many resumable training runs under one folder, summarised as tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from pscgan.cli._common import handle_errors, writing
from pscgan.ui import console

_BUDGET_HELP = "Training minutes per variant, turned into steps per phase by a short timing of each variant."
_STEPS_HELP = "Generator steps per phase for every variant (default: the preset's steps_per_phase)."
_STOP_HELP = "Stop after this many generator steps in this invocation; repeat the command to continue."

# Options both commands take, declared once so that their flags and help cannot drift apart.
_BUDGET_STEPS = typer.Option(None, "--budget-steps", help=_STEPS_HELP)
_DEVICE = typer.Option(None, "--device", help="cpu or cuda (default: cuda when available).")
_STOP_AFTER = typer.Option(None, "--stop-after", min=1, help=_STOP_HELP)
_OVERWRITE = typer.Option(False, "--overwrite", help="Start over in a folder holding another experiment.")
_VALIDATION_FRACTION = typer.Option(
    0.1,
    "--validation-fraction",
    min=0.0,
    max=0.5,
    help="Share of each run's training subjects held out for validation.",
)


class _RunProgress:
    """A rich progress bar over the runs (one line per run when the output is not a terminal)."""

    def __init__(self, total: int, description: str) -> None:
        from pscgan.ui import progress_enabled

        self.out = console()
        self.progress: Any = None
        if progress_enabled():
            from rich.progress import Progress

            from pscgan.ui import progress_columns

            self.progress = Progress(*progress_columns(), console=self.out)
            self.task = self.progress.add_task(description, total=total)

    def __enter__(self) -> _RunProgress:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, name: str, status: str) -> None:
        if self.progress is None:
            self.out.print(f"{name}: {status}", highlight=False)
            return
        if status == "start":
            self.progress.update(self.task, description=f"training {name}")
        elif status in ("done", "skipped", "reused"):
            self.progress.advance(self.task)


@handle_errors
def experiment(
    table: str = typer.Argument(..., help="table3 | table4 | table5 | table6 | efficiency."),
    data: Path = typer.Option(
        ..., "--data", "-d", help="Dataset folder (canonical layout) with a test split."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Experiment folder (created, or continued)."),
    preset: str = typer.Option(
        "cpu", "--preset", "-p", help="Preset of the reference model: paper | cpu | tiny."
    ),
    budget: float | None = typer.Option(None, "--budget", help=_BUDGET_HELP),
    budget_steps: int | None = _BUDGET_STEPS,
    seeds: int = typer.Option(3, "--seeds", min=1, help="Seeds (training runs) per variant."),
    variants: str | None = typer.Option(
        None,
        "--variants",
        help="Comma-separated variants to run now (default: all; the table shows every finished one).",
    ),
    overrides: list[str] = typer.Option(
        [],
        "--set",
        help="Config override section.field=value applied to the "
        "preset before each variant's own (repeatable); baselines take train.register_lge, "
        "train.num_threads, train.dihedral_augmentation, train.ed_shift_augmentation and the "
        "preprocessing section from it.",
    ),
    device: str | None = _DEVICE,
    validation_fraction: float = _VALIDATION_FRACTION,
    stop_after: int | None = _STOP_AFTER,
    overwrite: bool = _OVERWRITE,
    reuse_from: list[Path] = typer.Option(
        [],
        "--reuse-from",
        help="Earlier experiment folder, or finished pscgan train run folder, whose PSCGAN runs with the "
        "same configuration, seed, data and split are copied instead of trained again (repeatable).",
    ),
) -> None:
    """Train every variant of a table with the same data, budget and seeds, test each against the full
    model, and write the table as Markdown, CSV and JSON into the experiment folder. Repeating the
    command continues the experiment; finished runs are never retrained."""
    from pscgan.experiments.budget import budget_from_options
    from pscgan.experiments.runner import ExperimentOptions, run_experiment
    from pscgan.experiments.variants import ExperimentTable, variants_of

    chosen = [v.strip() for v in variants.split(",") if v.strip()] if variants else None
    n_runs = len(variants_of(table, chosen)) * seeds  # also refuses an unknown table or variant
    opts = ExperimentOptions(
        table=ExperimentTable(table),
        data=data,
        out=out,
        preset=preset,
        overrides=list(overrides),
        budget=budget_from_options(budget, budget_steps),
        seeds=seeds,
        variants=chosen,
        device=device,
        validation_fraction=validation_fraction,
        overwrite=overwrite,
        stop_after=stop_after,
        reuse_from=list(reuse_from),
    )
    with writing(out, [data, *reuse_from]), _RunProgress(n_runs, f"{table}: {n_runs} runs") as progress:
        result = run_experiment(
            opts, on_run=lambda name, seed, status: progress(f"{name} seed {seed}", status)
        )
    c = console()
    c.print((out / f"{result['table']}.md").read_text(encoding="utf-8"), markup=False, highlight=False)
    if result["complete"]:
        state = "complete"
    elif result["requested_complete"]:
        state = "complete for the chosen variants (the table's others have not run: add them with --variants)"
    else:
        state = "not complete yet (repeat the command to continue)"
    c.print(f"experiment {state}; tables in {out}")


@handle_errors
def cv(
    data: Path = typer.Option(..., "--data", "-d", help="Dataset folder (canonical layout)."),
    out: Path = typer.Option(..., "--out", "-o", help="Cross-validation folder (created, or continued)."),
    folds: int = typer.Option(10, "--folds", "-k", min=2, help="Number of subject-level folds."),
    preset: str = typer.Option("cpu", "--preset", "-p", help="paper | cpu | tiny."),
    budget: float | None = typer.Option(None, "--budget", help="Training minutes per fold (calibrated)."),
    budget_steps: int | None = _BUDGET_STEPS,
    overrides: list[str] = typer.Option(
        [], "--set", help="Config override section.field=value (repeatable)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the fold assignment."),
    device: str | None = _DEVICE,
    validation_fraction: float = _VALIDATION_FRACTION,
    stop_after: int | None = _STOP_AFTER,
    overwrite: bool = _OVERWRITE,
) -> None:
    """Subject-level k-fold cross-validation: each fold trains on the other folds and is evaluated like
    `pscgan evaluate`; writes cv_summary.md/.csv/.json with mean (sd) across folds."""
    from pscgan.experiments.budget import budget_from_options
    from pscgan.experiments.cv import CvOptions, run_cv

    opts = CvOptions(
        data=data,
        out=out,
        folds=folds,
        preset=preset,
        overrides=list(overrides),
        budget=budget_from_options(budget, budget_steps),
        device=device,
        validation_fraction=validation_fraction,
        overwrite=overwrite,
        stop_after=stop_after,
        seed=seed,
    )
    with writing(out, [data]), _RunProgress(folds, f"{folds}-fold cross-validation") as progress:
        summary = run_cv(opts, on_fold=lambda index, status: progress(f"fold {index}", status))
    c = console()
    c.print((out / "cv_summary.md").read_text(encoding="utf-8"), markup=False, highlight=False)
    state = "complete" if summary["complete"] else "not complete yet (repeat the command to continue)"
    c.print(f"cross-validation {state}; summary in {out}")
