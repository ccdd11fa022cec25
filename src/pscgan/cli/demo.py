"""``pscgan demo``: the whole tool on a fresh machine, in one command."""

from __future__ import annotations

from pathlib import Path

import typer

from pscgan.cli._common import console, handle_errors


@handle_errors
def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", "-o", help="Folder for everything the demo writes."),
    subjects: int = typer.Option(12, "--subjects", "-n", min=2, help="Phantom subjects to generate."),
    seed: int = typer.Option(2024, "--seed", help="Seed of the phantom cohort."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an output folder that holds data."),
) -> None:
    """Generate a small phantom cohort and write its validation report.

    The prediction, evaluation and HTML report steps join this command as the trained model ships.
    """
    from pscgan.io.atomic import prepare_output_dir
    from pscgan.phantom.cohort import CohortOptions, generate_cohort
    from pscgan.phantom.validation import validate_dataset

    out = prepare_output_dir(out, overwrite=overwrite)
    data = out / "phantom"
    generate_cohort(data, CohortOptions(n_subjects=subjects, seed=seed))
    validate_dataset(data, out=out / "validation")
    console().print(f"demo written to {out}: phantom cohort in {data}, validation report in "
                    f"{out / 'validation' / 'validation.md'}")
