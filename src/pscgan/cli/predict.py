"""``pscgan predict``: synthetic LGE and segmentation for new contrast-free cine data."""

from __future__ import annotations

from pathlib import Path

import typer

from pscgan.cli._common import console, handle_errors, progress_enabled


@handle_errors
def predict(
    inputs: list[Path] = typer.Argument(..., help="Dataset folder(s), subject folder(s), NIfTI/NPZ cine file(s) "
                                                  "or DICOM cine series folder(s)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    weights: Path | None = typer.Option(None, "--weights", "-w",
                                        help="Trained weights (default: the bundled phantom-trained CPU model)."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="Slices per forward pass."),
    split: str | None = typer.Option(None, "--split", help="For datasets: only this split part (e.g. test)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an output folder that holds data."),
    resume: bool = typer.Option(False, "--resume", help="Keep finished subjects in OUT and complete the rest."),
    keep_identifiers: bool = typer.Option(False, "--keep-identifiers",
                                          help="Keep the patient and study identifiers of DICOM inputs: in the DICOM "
                                               "outputs and SUBJECT/identifiers.json (default: removed)."),
) -> None:
    """Predict every input; failures are reported per input while the rest of the batch completes."""
    from pscgan.inference.batch import predict_batch
    from pscgan.inference.predictor import default_weights_path

    summary = predict_batch(inputs, out, weights=weights or default_weights_path(), device=device,
                            batch_size=batch_size, overwrite=overwrite, resume=resume,
                            keep_identifiers=keep_identifiers, progress=progress_enabled(), split=split)
    c = console()
    failures = summary["failures"]
    c.print(f"{len(summary['predicted'])} predicted, {len(summary['kept_from_before'])} kept, "
            f"{len(failures)} failed -> {out}")
    quality = summary.get("quality") or {}
    if quality.get("n_slices_not_assessed"):
        c.print(f"{quality['n_slices_not_assessed']} of {quality['n_slices_checked']} slices not assessed "
                "for scar by the quality check (see slices.csv, quality_reasons)", markup=False)
    if failures:
        for f in failures:
            c.print(f"[red]failed:[/] {f['error']}")
        raise typer.Exit(code=1)
