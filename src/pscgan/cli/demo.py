"""``pscgan demo``: the whole tool on a fresh machine, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from pscgan.cli._common import handle_errors, print_paper_tables, writing
from pscgan.ui import console

#: Seed of the demo cohort: different from the training cohort's (seed 0), so the demo subjects are new
#: to the bundled model.
DEMO_SEED = 20260


@handle_errors
def demo(
    out: Path = typer.Option(
        Path("demo-output"), "--out", "-o", help="Folder for everything the demo writes."
    ),
    subjects: int = typer.Option(8, "--subjects", "-n", min=2, help="Phantom subjects to generate."),
    seed: int = typer.Option(DEMO_SEED, "--seed", help="Seed of the demo phantom cohort."),
    weights: Path | None = typer.Option(
        None, "--weights", "-w", help="Weights (default: the bundled model)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an output folder that holds data."),
) -> None:
    """Generate a phantom cohort, predict synthetic LGE + segmentation with the bundled weights, score
    them against the phantom's ground truth, and write an HTML report."""
    import time

    from pscgan.errors import InputError
    from pscgan.inference.predictor import default_weights_path

    c = console()
    start = time.perf_counter()
    weights = weights or default_weights_path()
    if not weights.is_file():
        raise InputError(weights, "weights file not found; reinstall pscgan or pass --weights")
    with writing(out, [weights]):
        _demo(out, subjects, seed, weights, overwrite, c, start)


def _demo(out: Path, subjects: int, seed: int, weights: Path, overwrite: bool, c: Any, start: float) -> None:
    import time

    from pscgan.errors import InputError
    from pscgan.evaluation.evaluate import evaluate
    from pscgan.inference.batch import predict_batch
    from pscgan.io.atomic import prepare_output_dir
    from pscgan.phantom.cohort import CohortOptions, generate_cohort
    from pscgan.report.build import build_reports

    out = prepare_output_dir(out, overwrite=overwrite)
    data = out / "phantom"
    c.print(f"[bold]1/4[/] generating {subjects} phantom subjects (seed {seed})")
    generate_cohort(data, CohortOptions(n_subjects=subjects, seed=seed, test_fraction=0.0), workers=0)
    c.print("[bold]2/4[/] predicting synthetic LGE and segmentation")
    summary = predict_batch([data], out / "predictions", weights=weights)
    if summary["failures"]:
        raise InputError(out / "predictions", f"prediction failed: {summary['failures'][0]['error']}")
    c.print("[bold]3/4[/] scoring against the phantom's ground truth")
    result = evaluate(out / "predictions", data, out / "evaluation")
    c.print("[bold]4/4[/] writing the HTML report")
    index = build_reports(out / "predictions", data, out / "report", title="pscgan demo (phantom)")
    print_paper_tables(c, result["tables"])
    c.print(f"done in {time.perf_counter() - start:.0f} s. Open [bold]{index}[/] in a browser.")
