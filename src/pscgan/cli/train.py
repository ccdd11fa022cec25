"""``pscgan train``: progressive training of the three-phase cascade."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import typer

from pscgan.cli._common import handle_errors, writing
from pscgan.ui import console


@handle_errors
def train(
    data: Path | None = typer.Option(None, "--data", "-d", help="Dataset folder (canonical layout)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Run folder to create."),
    preset: str | None = typer.Option(None, "--preset", "-p", help="paper | cpu | tiny (default cpu)."),
    overrides: list[str] = typer.Option(
        [],
        "--set",
        help="Config override section.field=value (repeatable), e.g. --set train.steps_per_phase=500.",
    ),
    resume: Path | None = typer.Option(None, "--resume", help="Continue the run in this folder."),
    device: str | None = typer.Option(None, "--device", help="cpu or cuda (default: cuda when available)."),
    deterministic: bool = typer.Option(
        False, "--deterministic", help="Deterministic algorithms: a resumed run ends with the same weights."
    ),
    validation_fraction: float = typer.Option(
        0.1,
        "--validation-fraction",
        min=0.0,
        max=0.5,
        help="Share of training subjects held out for validation.",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Start over in a run folder that holds data."),
) -> None:
    """Train the cascade (or resume a run). Writes config, split, environment, metrics, samples,
    checkpoints and the final weights into the run folder."""
    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides
    from pscgan.errors import ConfigError
    from pscgan.training.launch import TrainOptions, run_training

    if resume is None and (data is None or out is None):
        raise ConfigError(None, "give --data and --out for a new run, or --resume RUN to continue one")
    if resume is not None and out is not None and out != resume:
        raise ConfigError(None, "--resume names the run folder; do not also give a different --out")
    # When resuming, a preset or overrides given again must match the run's saved configuration.
    config = None
    if resume is None or preset is not None or overrides:
        config = apply_overrides(get_preset(preset or "cpu"), overrides)
    run = resume or out
    assert run is not None  # one of the two, checked above
    opts = TrainOptions(
        run=run,
        data=data,
        config=config,
        resume=resume is not None,
        device=device,
        deterministic=deterministic,
        validation_fraction=validation_fraction,
        overwrite=overwrite,
    )
    # under torchrun only rank 0 writes the run folder, so only it holds the lock
    main_rank = int(os.environ.get("RANK", "0")) == 0
    with writing(opts.run, [data]) if main_rank else contextlib.nullcontext():
        weights = run_training(opts)
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, one line, not one per process
        console().print(f"trained weights: {weights}")
