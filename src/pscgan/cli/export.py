"""``pscgan export``: the trained cascade as one ONNX graph, checked with onnxruntime against PyTorch.

Example:
    >>> from typer.testing import CliRunner
    >>> from pscgan.cli.main import app
    >>> result = CliRunner().invoke(app, ["export", "--help"])
    >>> "--onnx" in result.output
    True
"""

from __future__ import annotations

from pathlib import Path

import typer

from pscgan.cli._common import handle_errors, named, output_file
from pscgan.ui import console


@handle_errors
def export(
    onnx_out: Path = typer.Option(..., "--onnx",
                                  help="ONNX file to write (input `cine` (B, 1, T, H, W); outputs "
                                       "`coarse_mask_logits`, `lge`, `mask_logits`)."),
    weights: Path | None = typer.Option(
        None, "--weights", "-w", help="Trained weights (default: the bundled phantom-trained CPU model)."),
    check: bool = typer.Option(True, "--check/--no-check",
                               help="Compare onnxruntime with PyTorch on random cines before writing."),
    atol: float = typer.Option(1e-4, "--atol", min=0.0, help="Largest absolute difference the check allows."),
    opset: int | None = typer.Option(None, "--opset", help="ONNX opset, 14-20 (default 17)."),
    fixed_batch: bool = typer.Option(False, "--fixed-batch",
                                     help="Export for batch size 1 only (default: dynamic batch)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing ONNX file."),
) -> None:
    """Export the three generators as one ONNX inference graph, checked with onnxruntime against PyTorch.

    Needs the optional packages onnx and onnxruntime (the package's `export` extra).
    """
    from rich.markup import escape
    from rich.table import Table

    from pscgan.errors import InputError, OutputExistsError
    from pscgan.inference.onnx_export import export_onnx, require_export_dependencies
    from pscgan.inference.predictor import default_weights_path

    output_file(onnx_out, [weights], ours=named(".onnx"))
    if onnx_out.exists() and not overwrite:  # refuse before the slow export
        raise OutputExistsError(onnx_out, "exists; pass --overwrite to replace it")
    require_export_dependencies(runtime=check)
    if weights is None:
        weights = default_weights_path()
        if not weights.is_file():
            raise InputError(weights, "bundled weights not found; pass --weights (train some with "
                                      "`pscgan train`)")
    report = export_onnx(weights, onnx_out, batch_dynamic=not fixed_batch, opset=opset,
                         check=check, atol=atol, overwrite=overwrite)
    out = console()
    if report.checked:
        table = Table(title=f"onnxruntime vs PyTorch (allowed |diff| <= {report.atol:g})")
        for col in ("batch", "output", "max |diff|", "max |PyTorch|", "argmax agreement"):
            table.add_column(col, justify="left" if col == "output" else "right")
        for row in report.comparisons:
            agree = "-" if row.argmax_agreement is None else f"{row.argmax_agreement:.2%}"
            table.add_row(str(row.batch), row.output, f"{row.max_abs_diff:.2e}", f"{row.max_abs_value:.3g}",
                          agree)
        out.print(table)
    else:
        out.print("[yellow]not checked against PyTorch (--no-check)[/]")
    batch = "dynamic batch" if report.batch_dynamic else "batch 1"
    out.print(f"wrote {escape(str(report.path))} ({report.size_bytes / 1e6:.1f} MB, preset {report.preset}, "
              f"opset {report.opset}, {batch})", highlight=False)
