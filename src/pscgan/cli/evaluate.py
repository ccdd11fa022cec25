"""``pscgan evaluate``: the paper's Table 1 and Table 2 for predictions against a reference dataset."""

from __future__ import annotations

from pathlib import Path

import typer

from pscgan.cli._common import console, handle_errors, print_paper_tables


@handle_errors
def evaluate(
    pred_dir: Path = typer.Argument(..., help="Output folder of `pscgan predict`."),
    ref_dir: Path = typer.Argument(..., help="Reference dataset (canonical layout) with labels and LGE."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Folder for the tables (default PRED_DIR/evaluation)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing evaluation folder."),
) -> None:
    """Imaging metrics (accuracy, sensitivity, specificity, Dice, HD95, SSIM, PSNR, NRMSE) and clinical
    agreement (Pearson r, Bland-Altman, segment localisation, transmurality)."""
    from pscgan.evaluation.evaluate import evaluate as run

    result = run(pred_dir, ref_dir, out, overwrite=overwrite)
    c = console()
    print_paper_tables(c, result["tables"])
    c.print(f"{result['n_subjects']} subjects evaluated; tables in {result['out']}")
