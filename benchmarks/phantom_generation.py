"""Benchmark: generating the default phantom cohort (280 subjects x 3 slices x 25 phases).

Renders the full default cohort into a temporary folder with one worker per CPU core, and times a
single subject rendered in this process (median of a few repeats, parameters sampled beforehand).
Writes ``benchmarks/results/phantom_generation.json``.

Usage::

    python benchmarks/phantom_generation.py                 # full default cohort
    python benchmarks/phantom_generation.py --subjects 40   # quicker, same per-subject cost
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy

import pscgan
from pscgan.phantom.cohort import CohortOptions, generate_cohort
from pscgan.phantom.params import sample_subject
from pscgan.phantom.render import render_subject

RESULT = Path(__file__).resolve().parent / "results" / "phantom_generation.json"


def single_subject_seconds(repeats: int) -> dict[str, float]:
    """Median render time of one 3-slice subject (sampling excluded), in this process."""
    params = [sample_subject(1000 + i, normal=i % 5 == 0) for i in range(repeats)]
    render_subject(params[0])  # warm-up (imports, FFT plans)
    times = []
    for p in params:
        start = time.perf_counter()
        render_subject(p)
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "repeats": repeats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=CohortOptions().n_subjects)
    parser.add_argument("--workers", type=int, default=0, help="0: one per CPU core")
    parser.add_argument("--repeats", type=int, default=10, help="single-subject renders to time")
    parser.add_argument("--output", type=Path, default=RESULT)
    args = parser.parse_args()

    single = single_subject_seconds(args.repeats)
    workers = args.workers or os.cpu_count() or 1
    options = CohortOptions(n_subjects=args.subjects)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        generate_cohort(Path(tmp) / "phantom", options, workers=workers, progress=False)
        wall = time.perf_counter() - start
        size = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    result = {
        "benchmark": "phantom_generation",
        "command": " ".join(["python benchmarks/phantom_generation.py", *map(shlex.quote, sys.argv[1:])]),
        "subjects": args.subjects, "slices_per_subject": options.n_slices, "phases": 25,
        "matrix": options.matrix,
        "wall_time_s": round(wall, 2), "subjects_per_s": round(args.subjects / wall, 3),
        "seconds_per_subject_per_worker": round(wall * workers / args.subjects, 3),
        "single_subject_render_s": {k: round(v, 4) if isinstance(v, float) else v for k, v in single.items()},
        "dataset_size_mb": round(size / 2**20, 1),
        "workers": workers, "cpu_count": os.cpu_count(),
        "load_average_after": [round(x, 2) for x in load] if load else None,
        "versions": {"pscgan": pscgan.__version__, "python": platform.python_version(),
                     "numpy": np.__version__, "scipy": scipy.__version__},
        "platform": platform.platform(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
