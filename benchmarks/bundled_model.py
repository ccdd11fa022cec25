"""Benchmark of the bundled model: its training wall time, and the wall time of `pscgan predict` on the
phantom test split and of `pscgan demo`, each end to end in a fresh process.

Usage::

    python benchmarks/bundled_model.py --run RUN --data phantom

RUN is the training run the bundled weights were packaged from (``docs/model-card.md``): its
``train.log`` gives the training wall time and ``metrics.jsonl`` the seconds per iteration. Writes
``benchmarks/results/bundled_model.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pscgan.training.run_folder import portable_command, training_sittings

RESULT = Path(__file__).resolve().parent / "results" / "bundled_model.json"


def training_time(run: Path) -> dict:
    """Training wall time summed over the run's sittings (the hours between sittings are not training)."""
    sittings = training_sittings(run)
    env = json.loads((run / "environment.json").read_text())
    config = json.loads((run / "config.json").read_text())
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    per_step = [
        r["seconds_per_step"] for r in records if "seconds_per_step" in r and r.get("phase_step", 0) > 25
    ]
    seconds = sum(sittings)
    return {"training_command": portable_command(env.get("command", [])),
            "training_threads": config.get("train", {}).get("num_threads"),
            "training_sittings": len(sittings),
            "training_wall_time_min": round(seconds / 60, 1),
            "training_median_seconds_per_iteration": round(statistics.median(per_step), 3),
            "generator_steps": max(r.get("step", 0) for r in records)}


def timed(cmd: list[str]) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "CI": "true"})
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"command": portable_command(cmd[2:] if cmd[:2] == [sys.executable, "-m"] else cmd),
            "wall_time_s": round(seconds, 1), "peak_rss_mib": round(max(peak, before) / 1024)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=RESULT)
    args = ap.parse_args()
    result = {
        "benchmark": "bundled_model",
        "load_average_at_start": os.getloadavg()[0],
        **training_time(args.run),
    }
    with tempfile.TemporaryDirectory() as tmp:
        pred = timed([sys.executable, "-m", "pscgan", "predict", str(args.data), "--split", "test",
                      "--out", str(Path(tmp) / "pred")])
        slices = len((Path(tmp) / "pred" / "slices.csv").read_text().strip().splitlines()) - 1
        result["predict_test_split"] = {**pred, "slices": slices}
        result["predict_seconds_per_slice"] = round(
            pred["wall_time_s"] / result["predict_test_split"]["slices"], 3
        )
        result["demo"] = timed([sys.executable, "-m", "pscgan", "demo", "--out", str(Path(tmp) / "demo")])
    result["load_average_at_end"] = os.getloadavg()[0]
    result["command"] = f"python benchmarks/bundled_model.py {portable_command(sys.argv[1:])}"
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
