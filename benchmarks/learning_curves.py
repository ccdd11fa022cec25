"""Learning curves of training runs: validation scar Dice, overall Dice and SSIM against training time.

Reads each run folder's own ``metrics.jsonl`` (PSCGAN or baseline; :mod:`pscgan.report.curves`) and
writes a figure and a JSON file with every validation point, each run's best value per metric and the
training minutes it took to reach it, and, against the first run named (the reference), the training
minutes each other run needed to reach the reference's best validation scar Dice (time to quality;
``null`` where it never did). Training time counts optimiser steps only (not validation or
checkpoints), from the ``seconds_per_step`` the runs logged, so it depends on the machine's load
while they trained: the JSON records the runs' environment files beside the curves. Runs that trained
beside different numbers of other jobs are put on one clock with ``--alone-minutes NAME=MINUTES``:
the run's time axis is scaled so that its total is MINUTES, a measured training time of the same
configuration alone (slowed by other jobs, a run slows about evenly over its length); the JSON
records the logged and the scaled totals.

Command (the files in ``benchmarks/results/learning_curves.*`` came from it)::

    python benchmarks/learning_curves.py --run "MONAI U-Net=exp/unet-long/monai_unet/seed0/train" \\
        --run "PSCGAN cpu=run-cpu" --out benchmarks/results/learning_curves
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from pscgan.report.curves import CURVE_METRICS, LearningCurve, learning_curve, learning_curves_png
from pscgan.training.run_folder import portable_command


def best(curve: LearningCurve, key: str) -> dict[str, Any] | None:
    """The best validation value of ``key`` and the training minutes and step of its first point."""
    points = [p for p in curve.points if key in p.metrics and math.isfinite(p.metrics[key])]
    if not points:
        return None
    top = max(points, key=lambda p: (p.metrics[key], -p.seconds))
    return {"value": round(top.metrics[key], 4), "training_minutes": round(top.seconds / 60, 3),
            "step": top.step, "phase": top.phase}


def minutes_to_reach(curve: LearningCurve, key: str, target: float) -> float | None:
    """Training minutes until the validation ``key`` first reaches ``target``; None if it never does."""
    for p in curve.points:
        if p.metrics.get(key, -math.inf) >= target:
            return round(p.seconds / 60, 3)
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", action="append", required=True,
                    help="NAME=RUN_FOLDER (repeatable; the first is the reference for time to quality)")
    ap.add_argument("--alone-minutes", action="append", default=[],
                    help="NAME=MINUTES: scale that run's time axis to this measured time alone (repeatable)")
    ap.add_argument("--title", default=None)
    ap.add_argument("--out", type=Path, required=True, help="output stem: writes STEM.json and STEM.png")
    args = ap.parse_args()
    alone: dict[str, float] = {}
    for text in args.alone_minutes:
        name, sep, minutes = text.partition("=")
        try:
            alone[name.strip()] = float(minutes)
        except ValueError:
            ap.error(f"--alone-minutes takes NAME=MINUTES, got {text!r}")
        if not sep or alone[name.strip()] <= 0:
            ap.error(f"--alone-minutes takes NAME=MINUTES with MINUTES > 0, got {text!r}")
    curves, sources = [], {}
    for text in args.run:
        name, sep, folder = text.partition("=")
        if not sep or not name.strip():
            ap.error(f"--run takes NAME=RUN_FOLDER, got {text!r}")
        name, run = name.strip(), Path(folder)
        curve = learning_curve(run, name)
        env = run / "environment.json"
        environment = json.loads(env.read_text()) if env.is_file() else None
        if environment and isinstance(environment.get("command"), list):
            environment["command"] = portable_command(environment["command"])  # no machine paths
        sources[name] = {"run": folder, "environment": environment}
        if name in alone:
            minutes = alone.pop(name)
            sources[name]["time_axis"] = {"logged_minutes": round(curve.total_seconds / 60, 3),
                                          "scaled_to_minutes": minutes}
            curve = curve.rescaled(minutes)
        curves.append(curve)
    if alone:
        ap.error(f"--alone-minutes names no --run: {', '.join(alone)}")
    reference = curves[0]
    target = best(reference, "dice_scar")
    record = {
        "command": "python benchmarks/learning_curves.py " + " ".join(f'--run "{r}"' for r in args.run)
                   + "".join(f' --alone-minutes "{a}"' for a in args.alone_minutes)
                   + (f' --title "{args.title}"' if args.title else "") + f" --out {args.out}",
        "training_time": "optimiser steps only, from the seconds_per_step each run logged; a run with a "
                         "time_axis in its source scaled to its measured time alone",
        "reference": reference.name,
        "runs": [],
    }
    for curve in curves:
        entry = curve.as_dict()
        entry["source"] = sources[curve.name]
        entry["total_training_minutes"] = round(curve.total_seconds / 60, 3)
        entry["best"] = {key: best(curve, key) for key in CURVE_METRICS}
        if target is not None:
            reached = minutes_to_reach(curve, "dice_scar", target["value"])
            entry["minutes_to_reference_best_scar_dice"] = reached
        record["runs"].append(entry)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    args.out.with_suffix(".png").write_bytes(learning_curves_png(curves, args.title))
    for entry in record["runs"]:
        print(entry["name"], entry["total_training_minutes"], "min",
              {k: v and v["value"] for k, v in entry["best"].items()}, file=sys.stderr)


if __name__ == "__main__":
    main()
