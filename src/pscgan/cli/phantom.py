"""``pscgan phantom``: generate and validate the numerical cine + LGE phantom."""

from __future__ import annotations

from pathlib import Path

import typer

from pscgan.cli._common import handle_errors, writing

app = typer.Typer(no_args_is_help=True, help="Generate and validate the numerical cine + LGE phantom.")


@app.command("generate")
@handle_errors
def generate(
    out: Path = typer.Option(..., "--out", "-o", help="Dataset folder to write (canonical layout)."),
    subjects: int = typer.Option(280, "--subjects", "-n", min=1, help="Number of subjects (IHD + normal)."),
    seed: int = typer.Option(
        0, "--seed", help="Cohort seed; every subject re-renders from its recorded parameters."
    ),
    normal_fraction: float = typer.Option(
        50 / 280,
        "--normal-fraction",
        min=0.0,
        max=1.0,
        help="Fraction of normal subjects (paper: 50 of 280).",
    ),
    slices: int = typer.Option(
        3, "--slices", min=1, max=3, help="Slice levels per subject (basal, mid, apical)."
    ),
    matrix: int = typer.Option(64, "--matrix", min=64, help="In-plane matrix of the written images."),
    no_cine_scar_contrast: bool = typer.Option(
        False, "--no-cine-scar-contrast", help="Scar exactly iso-intense to myocardium in cine."
    ),
    workers: int = typer.Option(0, "--workers", help="Worker processes (0: one per CPU core)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an output folder that holds data."),
) -> None:
    """Generate a phantom cohort: cine, LGE, labels and metadata per subject, with a subject-level split."""
    from pscgan.phantom.cohort import CohortOptions, generate_cohort
    from pscgan.ui import console

    options = CohortOptions(n_subjects=subjects, seed=seed, normal_fraction=normal_fraction, n_slices=slices,
                            matrix=matrix, cine_scar_contrast=not no_cine_scar_contrast)
    with writing(out):
        manifest = generate_cohort(out, options, workers=workers, overwrite=overwrite)
    n_normal = len(manifest.provenance.get("normal_subjects", []))
    console().print(f"wrote {len(manifest.subjects)} subjects ({n_normal} normal) to {out}; split "
                    + ", ".join(f"{part} {len(ids)}" for part, ids in manifest.split.items()))


@app.command("validate")
@handle_errors
def validate(
    data: Path = typer.Argument(..., help="Phantom dataset folder."),
    out: Path | None = typer.Option(None, "--out", "-o",
                                    help="Folder for validation.json, validation.md and figures "
                                         "(default: DATA/validation)."),
    reference: Path | None = typer.Option(None, "--reference",
                                          help="Folder of real LGE cases (EMIDEC layout) for the histogram "
                                               "comparison."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing validation folder."),
) -> None:
    """Measure the phantom's physiology and contrast from the generated data, beside the spec's ranges.

    Values outside their range are reported (table, validation.json, validation.md) and counted as
    warnings; the command still exits 0.
    """
    from rich.progress import Progress

    from pscgan.phantom.validation import validate_dataset
    from pscgan.phantom.validation_report import rich_table
    from pscgan.ui import console, progress_columns, progress_enabled

    with writing(out or data / "validation", [data, reference], may_hold_out=[data]), \
            Progress(*progress_columns(), disable=not progress_enabled(), transient=True) as bar:
        task = bar.add_task("measuring subjects", total=None)
        report = validate_dataset(data, out=out, reference=reference, overwrite=overwrite,
                                  progress=lambda done, total: bar.update(task, completed=done, total=total))
    con = console()
    con.print(rich_table(report))
    n_fail = len(report.failures)
    if n_fail:
        con.print(f"[bold yellow]warning:[/] {n_fail} of {len(report.checks)} measured values lie outside "
                  f"their expected range: " + ", ".join(c.key for c in report.failures))
    else:
        con.print(f"all {len(report.checks)} checks within range (or informative)")
    con.print(f"report written to {report.out}")
