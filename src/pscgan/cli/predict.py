"""``pscgan predict``: synthetic LGE and segmentation for new contrast-free cine data."""

from __future__ import annotations

from pathlib import Path

import typer

from pscgan.cli._common import handle_errors
from pscgan.ui import console, progress_enabled


@handle_errors
def predict(
    inputs: list[Path] = typer.Argument(..., help="Dataset folder(s), subject folder(s), NIfTI/NPZ cine "
                                                  "file(s), DICOM cine series folder(s), or folders of "
                                                  "cine files or of series folders (one subject each)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    weights: list[Path] | None = typer.Option(
        None, "--weights", "-w", help="Trained weights (default: the bundled phantom-trained CPU model). "
        "Repeat it to predict with the ensemble of several cascades trained alike (other seeds or "
        "cross-validation folds): their class probabilities and synthetic LGEs are averaged."),
    anatomy_weights: Path | None = typer.Option(
        None, "--anatomy-weights", help="Anatomy network that finds the LV and segments blood pool and "
                                        "myocardium (default: the bundled ACDC-trained one)."),
    no_anatomy: bool = typer.Option(False, "--no-anatomy",
                                    help="The cascade alone: LV found from the cine's motion, anatomy from "
                                         "the cascade (the paper's pipeline)."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="Slices per forward pass."),
    split: str | None = typer.Option(None, "--split", help="For datasets: only this split part (e.g. test)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an output folder that holds data."),
    resume: bool = typer.Option(False, "--resume",
                                help="Keep finished subjects in OUT and complete the rest."),
    ed_phase: int | None = typer.Option(
        None, "--ed-phase", min=0, help="End-diastolic phase of every input (0-based), in place of each "
        "subject.json's or of phase 0 (the trigger) for cine files and DICOM series. The cascade reads "
        "the cine from ED on and its scar depends on this choice."),
    keep_identifiers: bool = typer.Option(False, "--keep-identifiers",
                                          help="Keep the patient and study identifiers of DICOM inputs: in "
                                               "the DICOM "
                                               "outputs and SUBJECT/identifiers.json (default: removed)."),
) -> None:
    """Predict every input; failures are reported per input while the rest of the batch completes."""
    from rich.markup import escape

    from pscgan.inference.batch import predict_batch
    from pscgan.inference.outputs import failure_message
    from pscgan.anatomy.model import default_anatomy_weights_path
    from pscgan.errors import ConfigError
    from pscgan.inference.predictor import default_weights_path

    if no_anatomy and anatomy_weights is not None:
        raise ConfigError(None, "--no-anatomy and --anatomy-weights exclude each other")
    anatomy = None if no_anatomy else anatomy_weights or default_anatomy_weights_path()
    summary = predict_batch(inputs, out, weights=weights or [default_weights_path()], device=device,
                            anatomy_weights=anatomy,
                            batch_size=batch_size, overwrite=overwrite, resume=resume,
                            keep_identifiers=keep_identifiers, progress=progress_enabled(), split=split,
                            ed_phase=ed_phase)
    c = console()
    failures, missing = summary["failures"], summary["output_failures"]
    for n in summary["notes"]:
        c.print(f"note: {escape(n['subject'])}: {escape(n['note'])}", highlight=False)
    c.print(f"{len(summary['predicted'])} predicted, {len(summary['kept_from_before'])} kept, "
            f"{len(failures)} failed -> {out}")
    quality = summary.get("quality") or {}
    if quality.get("n_slices_not_assessed"):
        c.print(f"{quality['n_slices_not_assessed']} of {quality['n_slices_checked']} slices not assessed "
                "for scar by the quality check (see slices.csv, quality_reasons)", markup=False)
    for f in failures:
        c.print(f"[red]failed:[/] {f['error']}")
    for f in missing:  # the subject is predicted, an optional output is not
        c.print(f"[red]failed:[/] {escape(f['subject'])}: {escape(failure_message(f))}", highlight=False)
    if failures or missing:
        raise typer.Exit(code=1)
