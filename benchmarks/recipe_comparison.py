"""Test-split results of trained models side by side, with their training time and paired tests.

Each ``--model NAME=PREDICTIONS[:RUN]`` names a prediction folder (``pscgan predict DATA --split test
--no-anatomy --out PREDICTIONS`` for a cascade; a baseline's prediction folder) and, optionally, the
run folder that trained it (its ``metrics.jsonl`` gives the training time, as
``benchmarks/learning_curves.py`` reads it). Every prediction is scored by ``pscgan evaluate``'s own
code, summarised as the experiment tables are (:func:`pscgan.experiments.metrics.run_metrics`) and
tested against the first model, paired over test subjects (two-sided Wilcoxon signed-rank,
:mod:`pscgan.experiments.stats`). One training run per model: the tests say whether two trained
networks differ on these subjects, not how a recipe varies from seed to seed.

Command (``benchmarks/results/recipe_comparison.json`` came from it)::

    python benchmarks/recipe_comparison.py --data phantom \\
        --model "MONAI U-Net=exp/unet/monai_unet/seed0/prediction:exp/unet/monai_unet/seed0/train" \\
        --model "cpu preset=pred-cpu-750:runs/cpu-750" --out benchmarks/results/recipe_comparison.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from pscgan.evaluation.evaluate import evaluate, jsonable
from pscgan.experiments.metrics import run_metrics, subject_metrics
from pscgan.experiments.stats import TEST_NAME, paired_wilcoxon
from pscgan.report.curves import learning_curve

PAIRED = ("accuracy", "dice_overall", "dice_scar", "ssim", "psnr_db", "scar_ratio_abs_error")


def score(data: Path, predictions: Path) -> dict[str, Any]:
    """Run-level metrics and per-subject metrics of one prediction folder."""
    with tempfile.TemporaryDirectory() as tmp:
        result = evaluate(predictions, data, Path(tmp) / "evaluation", overwrite=True)
        evaluation = json.loads((Path(tmp) / "evaluation" / "evaluation.json").read_text())
    return {"metrics": jsonable(run_metrics(evaluation)),
            "subjects": jsonable(subject_metrics(result["pairs"]))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="dataset with the test split")
    ap.add_argument("--model", action="append", required=True,
                    help="NAME=PREDICTIONS[:RUN] (repeatable; the first is the reference)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    models: list[dict[str, Any]] = []
    for text in args.model:
        name, sep, where = text.partition("=")
        if not sep:
            ap.error(f"--model takes NAME=PREDICTIONS[:RUN], got {text!r}")
        pred, _, run = where.partition(":")
        entry: dict[str, Any] = {"name": name.strip(), "predictions": pred, "run": run or None}
        if run:
            curve = learning_curve(Path(run), name)
            entry["training_minutes"] = round(curve.total_seconds / 60, 3)
            entry["training_steps"] = curve.total_steps
        entry |= score(args.data, Path(pred))
        models.append(entry)
    reference = models[0]
    for entry in models[1:]:
        entry["tests_against_reference"] = {
            m: paired_wilcoxon({s: v.get(m) for s, v in reference["subjects"].items()},
                               {s: v.get(m) for s, v in entry["subjects"].items()}).as_dict()
            for m in PAIRED
        }
    record = {
        "command": "python benchmarks/recipe_comparison.py --data DATA "
                   + " ".join(f'--model "{m}"' for m in args.model) + f" --out {args.out}",
        "test": TEST_NAME.replace("(seed, test subject)", "test subject"),
        "reference": reference["name"],
        "models": models,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    for entry in models:
        shown = {k: v if v is None else round(v, 3) for k, v in entry["metrics"].items()}
        print(entry["name"], entry.get("training_minutes"), shown)


if __name__ == "__main__":
    main()
