"""``pscgan report``: HTML reports of a prediction folder."""

from __future__ import annotations

from pathlib import Path

import typer

from pscgan.cli._common import handle_errors, writing
from pscgan.ui import console


@handle_errors
def report(
    pred_dir: Path = typer.Argument(..., help="Output folder of `pscgan predict`."),
    ref_dir: Path | None = typer.Argument(None, help="Reference dataset (adds real LGE, reference labels, "
                                                     "agreement)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Report folder (default PRED_DIR/report)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing report folder."),
    keep_identifiers: bool = typer.Option(False, "--keep-identifiers",
                                          help="Show the patient identifiers kept by `pscgan predict "
                                               "--keep-identifiers` (default: never shown)."),
) -> None:
    """One self-contained HTML page per subject and one for the cohort (index.html)."""
    from pscgan.evaluation.prediction_files import check_prediction_folder
    from pscgan.report.build import build_reports

    check_prediction_folder(pred_dir)  # the report's readers trust what `pscgan predict` wrote
    out = out or pred_dir / "report"
    with writing(out, [pred_dir, ref_dir], may_hold_out=[pred_dir]):
        index = build_reports(pred_dir, ref_dir, out, overwrite=overwrite, keep_identifiers=keep_identifiers)
    console().print(f"report written: {index}")
