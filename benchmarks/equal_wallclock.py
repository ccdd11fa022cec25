"""Two finished experiment variants compared on the same test subjects, with their training wall-clock.

``pscgan experiment`` gives a baseline as many generator steps as the reference trains in all its
phases, so its Table 6 compares networks at equal steps. A user with one machine asks the other
question: given the same training time, which model is better? This script pairs the runs of two
experiment variant folders (``EXPERIMENT/VARIANT`` holding ``seed*/done.json``), usually from two
experiments where the second variant was given as many steps as the first one's wall-clock buys
(``--budget-steps``), and writes per metric the mean (sd) over seeds, the two-sided Wilcoxon test
paired by (seed, test subject) as ``pscgan experiment`` does (:mod:`pscgan.experiments.stats`), and
each run's measured training seconds and steps.

Commands (``benchmarks/results/equal_wallclock.json``: today's ``cpu`` preset, whose 5,100 generator
steps take about the U-Net's 14,610 steps' time; its ``note`` names the override that is today's
preset)::

    pscgan experiment table6 --data phantom --out exp/aug50 --variants full --budget-steps 1700 --seeds 3 \
        --set train.num_threads=1 --set train.dihedral_augmentation=0.5
    pscgan experiment table6 --data phantom --out exp/wallclock-unet --variants monai_unet \
        --budget-steps 4870 --seeds 3 --set train.num_threads=1
    python benchmarks/equal_wallclock.py --reference "PSCGAN cpu=exp/aug50/full" \
        --challenger "MONAI U-Net=exp/wallclock-unet/monai_unet" --out benchmarks/results/equal_wallclock.json

``equal_wallclock_before_augmentation.json``, ``equal_wallclock_previous_preset.json`` and
``equal_wallclock_candidate.json`` hold the same comparison for the presets before it;
``augmentation.json`` and ``weight_average.json`` compare two cascade recipes the same way (each file
records its command).
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
from pathlib import Path
from typing import Any

from pscgan.errors import PscganError
from pscgan.experiments.metrics import RUN_METRICS, SUBJECT_METRICS
from pscgan.experiments.run import DONE_FILE, read_done
from pscgan.experiments.stats import TEST_NAME, compare_variants
from pscgan.io.atomic import write_json_atomic


def read_runs(folder: Path) -> list[dict[str, Any]]:
    """Every finished run (``seed*/done.json``) of one experiment variant folder, by seed."""
    try:
        runs = [read_done(done.parent) for done in folder.glob(f"seed*/{DONE_FILE}")]
    except PscganError as exc:
        sys.exit(str(exc))
    runs = sorted((r for r in runs if r is not None), key=lambda r: r["seed"])
    if not runs:
        sys.exit(f"{folder}: no finished runs (seed*/{DONE_FILE}); finish the experiment first")
    return runs


def timing(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Measured training seconds and steps of each run, and their means."""
    seconds = [r["training_seconds"] for r in runs]
    return {
        "seeds": [r["seed"] for r in runs],
        "steps_trained": [r["steps_trained"] for r in runs],
        "training_seconds": [round(s, 1) for s in seconds],
        "mean_training_minutes": round(statistics.fmean(seconds) / 60, 2),
        "mean_seconds_per_step": round(statistics.fmean(r["seconds_per_step"] for r in runs), 4),
    }


def parse_named(text: str) -> tuple[str, Path]:
    name, sep, folder = text.partition("=")
    if not sep or not name.strip() or not folder.strip():
        sys.exit(f"expected NAME=EXPERIMENT/VARIANT, got {text!r}")
    return name.strip(), Path(folder.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", required=True, help="NAME=EXPERIMENT/VARIANT (tests are variant minus it)")
    ap.add_argument("--challenger", required=True, help="NAME=EXPERIMENT/VARIANT")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    (ref_name, ref_folder), (ch_name, ch_folder) = parse_named(args.reference), parse_named(args.challenger)
    runs = {ref_name: read_runs(ref_folder), ch_name: read_runs(ch_folder)}
    subjects = {name: {tuple(r["test_subjects"]) for r in rs} for name, rs in runs.items()}
    if len(subjects[ref_name] | subjects[ch_name]) != 1:
        sys.exit("the two variants were not tested on the same subjects (different data or split)")
    comparison = compare_variants(runs, ref_name, RUN_METRICS, SUBJECT_METRICS)
    result = {
        "command": shlex.join(["python", "benchmarks/equal_wallclock.py", *sys.argv[1:]]),
        "reference": ref_name,
        "test": TEST_NAME,
        "test_subjects": len(next(iter(subjects[ref_name]))),
        "variants": {
            name: {"folder": str(folder), "timing": timing(runs[name])} | comparison[name]
            for name, folder in ((ref_name, ref_folder), (ch_name, ch_folder))
        },
    }
    ref_t = result["variants"][ref_name]["timing"]["mean_training_minutes"]
    ch_t = result["variants"][ch_name]["timing"]["mean_training_minutes"]
    result["training_time_ratio"] = round(ch_t / ref_t, 3)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.out, result)
    for name in runs:
        v = result["variants"][name]
        means = {m: v["metrics"][m].get("mean") for m in ("dice_overall", "dice_scar", "scar_ratio_r")}
        shown = {k: round(x, 3) for k, x in means.items() if x is not None}
        print(name, v["timing"]["mean_training_minutes"], "min", shown)
    for m, t in result["variants"][ch_name]["tests"].items():
        print(f"{m}: median diff {t['median_difference']}, p={t['p_value']}, n={t['n']}")


if __name__ == "__main__":
    main()
