"""``pscgan data``: check a dataset folder and build its packed training cache."""

from __future__ import annotations

from pathlib import Path

import typer

from pscgan.cli._common import handle_errors, named, output_file
from pscgan.ui import console, progress_columns, progress_enabled

app = typer.Typer(no_args_is_help=True, help="Check datasets and build training caches.")


@app.command("check")
@handle_errors
def check(
    dataset: Path = typer.Argument(..., help="Dataset folder in the canonical layout."),
    require_labels: bool = typer.Option(True, "--require-labels/--no-require-labels",
                                        help="Treat a subject without labels.nii.gz as a problem."),
) -> None:
    """Read every subject of a dataset and list the problems found, one line per subject; say what its
    labels annotate (dataset.json 'annotated') and what training would miss."""
    from rich.table import Table

    from pscgan.data.annotation import check_labels, dataset_annotation
    from pscgan.data.layout import (
        MANIFEST_FILE,
        dataset_labels_geometry,
        list_subject_folders,
        load_subject,
        read_manifest,
        subject_id_problem,
    )
    from pscgan.errors import PscganError

    folders = list_subject_folders(dataset)
    if (dataset / MANIFEST_FILE).is_file():
        read_manifest(dataset)
    annotation = dataset_annotation(dataset)
    problems: list[tuple[str, str]] = []
    n_slices = 0
    for folder in folders:
        try:
            s = load_subject(folder, require_labels=require_labels)
            n_slices += s.cine.array.shape[2]
            if s.labels is not None:
                check_labels(s.labels.array, annotation, folder / "labels.nii.gz")
            problem = subject_id_problem(folder, s.info)
            if problem:
                problems.append((folder.name, problem))
        except PscganError as exc:
            problems.append((folder.name, str(exc)))
    out = console()
    if problems:
        table = Table("subject", "problem", title=f"{len(problems)} of {len(folders)} subjects have problems")
        for name, msg in problems:
            table.add_row(name, msg)
        out.print(table)
        raise typer.Exit(code=1)
    out.print(f"{dataset}: {len(folders)} subjects, {n_slices} slices, no problems found "
              f"(labels_geometry: {dataset_labels_geometry(dataset).value})", markup=False)
    out.print(annotation.describe(), markup=False)
    if not annotation.complete:
        out.print("usable for prediction, evaluation and reports (what it lacks is reported as not defined); "
                  f"`pscgan train` cannot use it yet: no {'; no '.join(annotation.missing_for_training())}",
                  markup=False)


@app.command("cache")
@handle_errors
def cache(
    dataset: Path = typer.Argument(..., help="Dataset folder in the canonical layout."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Cache file (default: DATASET/pscgan_cache.safetensors)."
    ),
    crop: int = typer.Option(64, "--crop", min=16, help="In-plane crop size around the LV."),
    phases: int = typer.Option(25, "--phases", min=2, help="Cine phases after temporal resampling."),
    spacing: float | None = typer.Option(
        None, "--spacing", min=0.1, help="Resample in-plane to this spacing in mm (default: keep native)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Rebuild an existing cache file."),
    register_lge: bool = typer.Option(
        True,
        "--register-lge/--no-register-lge",
        help="Register the LGE (and labels drawn on it, per dataset.json labels_geometry) to the cine "
        "end-diastolic frame, as the paper does and every preset trains.",
    ),
) -> None:
    """Preprocess a dataset once and pack it into one memory-mapped file for training."""
    from rich.progress import Progress

    from pscgan.data.cache import TrainingCache, build_cache
    from pscgan.data.layout import MANIFEST_FILE, list_subject_folders
    from pscgan.data.protocol import preprocess_options

    if out is not None:  # the default lies in the dataset folder, beside the subjects
        output_file(
            out, [dataset, dataset / MANIFEST_FILE], may_hold_out=[dataset], ours=named(".safetensors")
        )
    options = preprocess_options(dataset, register_lge=register_lge, n_phases=phases, crop_size=crop,
                                 target_spacing_mm=spacing)
    n = len(list_subject_folders(dataset))
    with Progress(*progress_columns(), disable=not progress_enabled()) as progress:
        task = progress.add_task("packing subjects", total=n)
        path = build_cache(dataset, out, options=options, overwrite=overwrite,
                           on_subject=lambda _: progress.advance(task))
    c = TrainingCache(path)
    console().print(f"wrote {path} ({len(c)} slices, {path.stat().st_size / 2**20:.1f} MiB)")
