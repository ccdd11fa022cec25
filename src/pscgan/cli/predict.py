"""``pscgan predict``: synthetic LGE and segmentation for new contrast-free cine data."""

from __future__ import annotations

from pathlib import Path

import typer

from pscgan.cli._common import console, handle_errors, progress_columns, progress_enabled


@handle_errors
def predict(
    inputs: list[Path] = typer.Argument(..., help="Dataset folder(s), subject folder(s), NIfTI/NPZ cine file(s) "
                                                  "or DICOM cine series folder(s)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    weights: Path | None = typer.Option(None, "--weights", "-w",
                                        help="Trained weights (default: the bundled phantom-trained CPU model)."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="Slices per forward pass."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an output folder that holds data."),
    resume: bool = typer.Option(False, "--resume", help="Keep finished subjects in OUT and complete the rest."),
    keep_identifiers: bool = typer.Option(False, "--keep-identifiers",
                                          help="Copy patient identifiers into DICOM outputs (default: removed)."),
) -> None:
    """Predict every input; failures are reported per input while the rest of the batch completes."""
    import platform

    import pscgan
    from pscgan.errors import ConfigError, InputError, PscganError
    from pscgan.inference.inputs import discover_inputs, load_input
    from pscgan.inference.outputs import subject_done, write_subject_result, write_summary, write_tables
    from pscgan.inference.predictor import Predictor, default_weights_path
    from pscgan.inference.weights import read_weights_metadata
    from pscgan.io.atomic import prepare_output_dir

    if resume and overwrite:
        raise ConfigError(None, "--resume and --overwrite exclude each other")
    weights = weights or default_weights_path()
    if not weights.is_file():
        raise InputError(weights, "weights file not found (train one with `pscgan train`)")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(None, "--device cuda was asked for but no CUDA device is available")
    predictor = Predictor.from_weights(weights, device=device, batch_size=batch_size)
    if not resume:
        prepare_output_dir(out, overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)
    items, failures = [], []
    for path in inputs:
        try:
            items.extend(discover_inputs(path))
        except PscganError as exc:
            failures.append({"input": str(path), "error": str(exc)})
    names = [i.name for i in items]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise InputError(None, f"several inputs would write to the same output folder: {sorted(dupes)}")
    from rich.progress import Progress

    done, skipped = [], []
    with Progress(*progress_columns(), disable=not progress_enabled()) as progress:
        task = progress.add_task("predicting", total=len(items))
        for item in items:
            if resume and subject_done(out, item.name):
                skipped.append(item.name)
            else:
                try:
                    loaded = load_input(item)
                    write_subject_result(out, loaded, predictor.predict(loaded), keep_identifiers=keep_identifiers)
                    done.append(item.name)
                except PscganError as exc:
                    failures.append({"input": str(item.path), "subject": item.name, "error": str(exc)})
            progress.advance(task)
    finished = [n for n in names if subject_done(out, n)]
    write_tables(out, finished)
    meta = read_weights_metadata(weights)
    write_summary(out, {"pscgan": pscgan.__version__, "python": platform.python_version(),
                        "weights": {"file": weights.name, "sha256": meta.get("sha256"),
                                    "preset": predictor.config.preset},
                        "inputs": [str(p) for p in inputs], "predicted": done, "kept_from_before": skipped,
                        "subjects": finished, "failures": failures})
    c = console()
    c.print(f"{len(done)} predicted, {len(skipped)} kept, {len(failures)} failed -> {out}")
    if failures:
        for f in failures:
            c.print(f"[red]failed:[/] {f['error']}")
        raise typer.Exit(code=1)
