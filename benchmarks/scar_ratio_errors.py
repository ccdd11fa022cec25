"""Where the scar-ratio errors of scored experiment variants lie, on a phantom cohort with known infarcts.

``benchmarks/independent_cohort.py`` scores finished runs on a second phantom cohort and tests the
scar-ratio r of two variants. This script reads the same scores (nothing is predicted again) and asks
what the errors are made of, per variant:

* bias and mean absolute error of the predicted scar ratio, by the reference scar ratio (no scar,
  then bins of 5 points);
* the least-squares slope of predicted on reference scar ratio (1: no shrinkage towards the mean);
* Spearman's rank correlation, over the subjects with an infarct, of the mean-over-seeds signed error
  with what the phantom drew for each subject (``subject.json``): the largest maximum transmurality
  of its infarcts, their summed angular width, their number, the mean border zone, the wall
  thickness.

With ``--reference``, the same correlations for the per-subject difference in absolute error
(variant minus reference), to see whether one variant's extra error follows a kind of scar.

Command (``benchmarks/results/scar_ratio_errors.json``, the runs of ``independent_cohort.json``)::

    python benchmarks/scar_ratio_errors.py --cohort cohort1 --work cohort1-scores \\
        --reference "MONAI U-Net, augmented, 29,220 steps=exp/unet2x/monai_unet" \\
        --variant "PSCGAN cpu (decoder 128/64/32/32)=exp/wide3/full" \\
        --out benchmarks/results/scar_ratio_errors.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

from equal_wallclock import parse_named  # sibling scripts: run as ``python benchmarks/...``
from independent_cohort import SCORES, ratio_table, run_slug

from pscgan.io.atomic import write_json_atomic

BINS = (0.0, 0.05, 0.10, 0.15, 0.20, 1.0)


def seed_scores(work: Path, variant: Path) -> list[dict[str, Any]]:
    """Every seed's ``scores.json`` of a variant scored by ``independent_cohort.py``."""
    files = sorted((work / run_slug(variant)).glob(f"seed*/{SCORES}"))
    if not files:
        sys.exit(f"{work / run_slug(variant)}: no scores; score the variant with "
                 "benchmarks/independent_cohort.py first")
    return [json.loads(f.read_text()) for f in files]


def infarct_features(cohort: Path, sid: str) -> dict[str, float]:
    """What the phantom drew for a subject's infarcts (zeros without one)."""
    params = json.loads((cohort / sid / "subject.json").read_text())["phantom"]["params"]
    infarcts = params["infarcts"]
    return {
        "max_transmurality": max((i["tei_max"] for i in infarcts), default=0.0),
        "width_deg": sum(i["width_deg"] for i in infarcts),
        "infarcts": float(len(infarcts)),
        "border_zone_mm": statistics.fmean(i["border_zone_mm"] for i in infarcts) if infarcts else 0.0,
        "wall_thickness_mm": params["anatomy"]["wall_thickness_mm"],
    }


def describe(table: np.ndarray) -> dict[str, Any]:
    """Bias, absolute error by reference bin, and slope, per seed and averaged."""
    pred, ref = table[..., 0], table[..., 1]
    err = pred - ref
    bins: dict[str, Any] = {}
    edges = [(None, 0.0)] + list(zip(BINS[:-1], BINS[1:], strict=True))
    for lo, hi in edges:
        sel = ref == 0 if lo is None else (ref > lo) & (ref <= hi)
        name = "no scar" if lo is None else f"({lo:.2f}, {hi:.2f}]"
        bins[name] = {"subjects": int(sel[0].sum()), "bias": float(np.nanmean(err[sel])),
                      "mean_abs_error": float(np.nanmean(np.abs(err[sel])))}
    slopes = []
    for p, r in zip(pred, ref, strict=True):
        ok = ~(np.isnan(p) | np.isnan(r))
        slopes.append(float(np.polyfit(r[ok], p[ok], 1)[0]))
    return {"bias": float(np.nanmean(err)), "mean_abs_error": float(np.nanmean(np.abs(err))),
            "slope_per_seed": slopes, "slope": statistics.fmean(slopes), "by_reference_ratio": bins}


def correlations(values: np.ndarray, features: list[dict[str, float]], keep: np.ndarray) -> dict[str, Any]:
    """Spearman rho (and p) of ``values`` with each feature over the subjects ``keep``."""
    from scipy.stats import spearmanr

    out = {}
    for name in features[0]:
        x = np.array([f[name] for f in features])[keep]
        rho, p = spearmanr(x, values[keep])
        out[name] = {"rho": float(rho), "p_value": float(p)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cohort", type=Path, required=True, help="the phantom cohort the scores are of")
    ap.add_argument("--work", type=Path, required=True, help="independent_cohort.py's --work folder")
    ap.add_argument("--variant", action="append", required=True, help="NAME=EXPERIMENT/VARIANT")
    ap.add_argument("--reference", help="NAME=EXPERIMENT/VARIANT to compare each variant's errors with")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    named = [parse_named(v) for v in args.variant]
    reference = parse_named(args.reference) if args.reference else None
    every = named + ([reference] if reference else [])
    if len({name for name, _ in every}) != len(every):
        sys.exit("two variants share a name")
    subjects = sorted(seed_scores(args.work, every[0][1])[0]["scar_ratio"])
    features = [infarct_features(args.cohort, sid) for sid in subjects]
    tables = {name: ratio_table(seed_scores(args.work, folder), subjects) for name, folder in every}
    scarred = np.array([f["infarcts"] > 0 for f in features])

    rows: dict[str, Any] = {}
    for name, _ in every:
        table = tables[name]
        signed = np.nanmean(table[..., 0] - table[..., 1], axis=0)
        rows[name] = describe(table) | {"signed_error_vs_infarct": correlations(signed, features, scarred)}
        if reference and name != reference[0]:
            ref_abs = np.nanmean(np.abs(tables[reference[0]][..., 0] - tables[reference[0]][..., 1]), axis=0)
            extra = np.nanmean(np.abs(table[..., 0] - table[..., 1]), axis=0) - ref_abs
            rows[name]["extra_abs_error_vs_infarct"] = correlations(extra, features, scarred)
    record = {
        "benchmark": "scar_ratio_errors",
        "command": "python benchmarks/scar_ratio_errors.py " + shlex.join(sys.argv[1:]),
        "cohort": {"subjects": len(subjects), "with_infarct": int(scarred.sum())},
        "variants": {name: str(folder) for name, folder in every},
        "reference": reference[0] if reference else None,
        "what": "errors are predicted minus reference scar ratio (a fraction of the myocardium); bins by "
                "the reference ratio; slope of predicted on reference, least squares per seed; Spearman "
                "rho over subjects with an infarct of the mean-over-seeds error against what the "
                "phantom drew",
        "rows": rows,
    }
    write_json_atomic(args.out, record)
    for name, row in rows.items():
        print(f"{name}: bias {row['bias']:+.4f}, |error| {row['mean_abs_error']:.4f}, "
              f"slope {row['slope']:.3f}")


if __name__ == "__main__":
    main()
