"""Summarise the runs of ``benchmarks/convergence_gpu.sh``: for each preset, its steps, its measured
training time and seconds per step (by phase), and its phantom test-split results as ``pscgan evaluate``
scored them.

Usage::

    python benchmarks/convergence_summary.py OUT --command "bash benchmarks/convergence_gpu.sh 4"

OUT holds one folder per preset (``config.json``, ``environment.json``, ``metrics.jsonl``, ``train.log``,
``evaluation.json``); writes ``OUT/convergence_gpu.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from pscgan.evaluation.result_file import read_evaluation
from pscgan.experiments.metrics import run_metrics
from pscgan.io.atomic import write_json_atomic
from pscgan.training.run_folder import training_sittings


def seconds_per_step(folder: Path) -> dict[str, float]:
    """Median seconds per generator step of each phase of a run, leaving out each phase's first record
    (its warm-up: compilation, caches)."""
    config = json.loads((folder / "config.json").read_text())
    first = config["train"]["log_interval"]
    per_phase: dict[str, list[float]] = {}
    for line in (folder / "metrics.jsonl").read_text().splitlines():
        r = json.loads(line)
        if "seconds_per_step" in r and r.get("phase_step", 0) > first:
            per_phase.setdefault(r["phase"], []).append(r["seconds_per_step"])
    return {k: statistics.median(v) for k, v in per_phase.items()}


def summarise(folder: Path) -> dict:
    """One preset's steps, timing and test-split metrics."""
    config = json.loads((folder / "config.json").read_text())
    env = json.loads((folder / "environment.json").read_text())
    records = [json.loads(x) for x in (folder / "metrics.jsonl").read_text().splitlines()]
    steps: dict[str, int] = {}
    for r in records:
        if "phase_step" in r:
            steps[r["phase"]] = max(steps.get(r["phase"], 0), r["phase_step"])
    best = {r["phase"]: r["val_score"] for r in records if "val_score" in r}
    metrics = run_metrics(read_evaluation(folder / "evaluation.json", redo="run pscgan evaluate again"))
    return {
        "preset": config["preset"],
        "device": env.get("device"),
        "gpu": env.get("cuda_devices"),
        "steps_per_phase": config["train"]["steps_per_phase"],
        "steps_trained": steps,
        "training_minutes": round(sum(training_sittings(folder)) / 60, 2),
        "median_seconds_per_step": {k: round(v, 4) for k, v in seconds_per_step(folder).items()},
        "last_validation_score": best,
        "test": metrics,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--command", help="The command that made OUT (recorded).")
    parser.add_argument("--steps-for-minutes", type=float, metavar="MINUTES",
                        help="Instead: print the steps per phase that MINUTES of training buy at the timing "
                             "of the run in OUT, 15%% left for validation and checkpoints.")
    args = parser.parse_args()
    if args.steps_for_minutes is not None:
        one_step_of_each_phase = sum(seconds_per_step(args.out).values())
        print(max(1, int(0.85 * args.steps_for_minutes * 60 / one_step_of_each_phase)))
        return
    if args.command is None:
        parser.error("--command is required to summarise")
    presets = sorted(p for p in args.out.iterdir() if (p / "evaluation.json").is_file())
    result = {"command": args.command, "presets": {p.name: summarise(p) for p in presets}}
    write_json_atomic(args.out / "convergence_gpu.json", result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
