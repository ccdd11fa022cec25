"""``pscgan evaluate``: the paper's Table 1 and Table 2 for predictions against a reference dataset."""

from __future__ import annotations

from pathlib import Path

import typer

from pscgan.cli._common import handle_errors, print_paper_tables, writing
from pscgan.ui import console


@handle_errors
def evaluate(
    pred_dir: Path = typer.Argument(..., help="Output folder of `pscgan predict`."),
    ref_dir: Path = typer.Argument(..., help="Reference dataset (canonical layout) with labels and LGE."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Folder for the tables (default PRED_DIR/evaluation)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing evaluation folder."),
    register_lge: bool | None = typer.Option(
        None,
        "--register-lge/--no-register-lge",
        help="Register the reference LGE (and labels drawn on it) to the cine end-diastolic frame, as the "
        "paper does. Default: as the predictions' weights were trained (recorded in PRED_DIR), else "
        "register.",
    ),
) -> None:
    """Imaging metrics (accuracy, sensitivity, specificity, Dice, HD95, SSIM, PSNR, NRMSE) and clinical
    agreement (Pearson r, Bland-Altman, segment localisation, transmurality)."""
    from pscgan.evaluation.evaluate import evaluate as run

    out = out or pred_dir / "evaluation"
    with writing(out, [pred_dir, ref_dir], may_hold_out=[pred_dir]):
        result = run(pred_dir, ref_dir, out, overwrite=overwrite, register_lge=register_lge)
    c = console()
    print_paper_tables(c, result["tables"])
    protocol = result["protocol"]
    c.print(f"reference LGE {'registered' if protocol.register_lge else 'not registered'} to the cine "
            f"end-diastolic frame ({protocol.source.value})")
    if protocol.recorded is not None and protocol.recorded != protocol.register_lge:
        c.print(f"note: the predictions' weights were trained with register_lge={protocol.recorded}; the "
                f"reference was prepared with register_lge={protocol.register_lge} as asked")
    for note in result["notes"]:
        c.print(note, markup=False)
    c.print(f"{result['n_subjects']} subjects evaluated; tables in {result['out']}")
