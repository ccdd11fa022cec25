"""Ensembles of a variant's seeds (``pscgan predict --weights A --weights B ...``) against their members.

Cascades trained alike with other seeds make partly independent errors (``dihedral_averaging.py``
found the mean softmax of three seeds' runs better per subject than a single run, in the networks'
crops). This script measures what ``pscgan predict`` does with several weights, in the original
geometry and scored by ``pscgan evaluate``'s own code: for every combination of ``--size`` finished
runs of an experiment variant (``EXPERIMENT/VARIANT/seed*``), the ensemble predicts the test split
(``--data`` as the experiment used it) or, with ``--all-subjects``, every subject of another cohort,
exactly as the experiment predicts (the cascade without the anatomy network).

Each ensemble is paired per subject with the mean of its members' own scores (the single runs'
``done.json`` on the test split, or their ``independent_cohort.py`` scores in ``--singles``), by the
two-sided Wilcoxon signed-rank test over (ensemble, subject) pairs, for scar Dice, overall Dice,
SSIM, PSNR and the scar-ratio error; run-level metrics (scar-ratio r among them) are summarised over
the ensembles and the single runs.

Commands (``benchmarks/results/ensemble_decoder_wide.json``: today's ``cpu`` preset, 3 seeds;
``ensemble.json``: the preset before it, the 3 seeds of ``equal_wallclock_shipped_preset.json``)::

    python benchmarks/ensemble.py --data phantom --runs exp/wide3/full --size 2 3 --work ens-test-wide \\
        --out benchmarks/results/ensemble_decoder_wide.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import shlex
import statistics
import sys
from pathlib import Path
from typing import Any

from pscgan.experiments.metrics import RUN_METRICS, SUBJECT_METRICS
from pscgan.experiments.run import DONE_FILE
from pscgan.experiments.stats import paired_wilcoxon, seed_summary
from pscgan.io.atomic import write_json_atomic

# sibling script (run as ``python benchmarks/...``): the same run folders, scores and work layout
from independent_cohort import SCORES, WEIGHTS, finished_runs, run_slug, score_prediction


def finished(folder: Path) -> list[dict[str, Any]]:
    """The finished runs of a variant folder (at least two: an ensemble needs them)."""
    found = finished_runs(folder)
    if len(found) < 2:
        sys.exit(f"{folder}: fewer than 2 finished runs (seed*/{DONE_FILE})")
    return found


def singles_from(run: dict[str, Any], singles: Path | None, variant: Path) -> dict[str, Any]:
    """A single run's scores: its own test-split ``done.json``, or its cohort scores in ``singles``."""
    if singles is None:
        return {"metrics": run["metrics"], "subjects": run["subjects"]}
    path = singles / run_slug(variant) / f"seed{run['seed']}" / SCORES
    if not path.is_file():
        sys.exit(f"{path}: no cohort scores of this run; run independent_cohort.py on it first")
    return json.loads(path.read_text())


def score_ensemble(members: list[dict[str, Any]], data: Path, split: str | None,
                   work: Path) -> dict[str, Any]:
    """Predict with the members' ensemble and score it (reused when done before)."""
    from pscgan.inference.batch import predict_batch

    scores = work / SCORES
    if scores.is_file():
        return json.loads(scores.read_text())
    pred = work / "prediction"
    inputs = [data] if split is None else [data / sid for sid in members[0]["test_subjects"]]
    summary = predict_batch(inputs, pred, weights=[m["folder"] / "train" / WEIGHTS for m in members],
                            resume=pred.is_dir())
    if summary.get("failures"):
        sys.exit(f"{pred}: {len(summary['failures'])} subject(s) failed, first {summary['failures'][0]}")
    return score_prediction(pred, data, work, seeds=[m["seed"] for m in members])


def members_mean(singles: list[dict[str, Any]], metric: str) -> dict[str, float | None]:
    """Per subject, the mean of the members' values (None where any member's is undefined)."""
    out: dict[str, float | None] = {}
    for sid in singles[0]["subjects"]:
        values = [s["subjects"].get(sid, {}).get(metric) for s in singles]
        out[sid] = statistics.fmean(values) if all(v is not None for v in values) else None
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="dataset the ensembles predict")
    ap.add_argument("--runs", type=Path, required=True, help="EXPERIMENT/VARIANT with seed*/ runs")
    ap.add_argument("--size", type=int, nargs="+", default=[2, 3], help="ensemble sizes")
    ap.add_argument("--all-subjects", action="store_true",
                    help="predict every subject of --data (another cohort) instead of the runs' test split")
    ap.add_argument("--singles", type=Path, help="independent_cohort.py --work folder (with --all-subjects)")
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.all_subjects != (args.singles is not None):
        sys.exit("--all-subjects needs --singles (the members' scores on that cohort), and only it")
    import torch

    torch.set_num_threads(args.threads)
    runs = finished(args.runs)
    singles = {r["seed"]: singles_from(r, args.singles, args.runs) for r in runs}
    split = None if args.all_subjects else "test"
    rows: dict[str, Any] = {}
    for size in args.size:
        ensembles, pairs = [], {m: ({}, {}) for m in SUBJECT_METRICS}
        for combo in itertools.combinations(runs, size):
            seeds = [m["seed"] for m in combo]
            name = "+".join(f"seed{s}" for s in seeds)
            print(f"ensemble {name}", flush=True)
            scored = score_ensemble(list(combo), args.data, split, args.work / name)
            ensembles.append(scored)
            for m in SUBJECT_METRICS:
                base = members_mean([singles[s] for s in seeds], m)
                for sid, value in scored["subjects"].items():
                    pairs[m][0][(name, sid)] = base.get(sid)
                    pairs[m][1][(name, sid)] = value.get(m)
        rows[f"{size} seeds"] = {
            "ensembles": ["+".join(str(s) for s in e["seeds"]) for e in ensembles],
            "metrics": {m: seed_summary([e["metrics"].get(m) for e in ensembles]).as_dict()
                        for m in RUN_METRICS},
            "tests_against_members_mean": {m: paired_wilcoxon(*pairs[m]).as_dict() for m in SUBJECT_METRICS},
        }
    rows["single runs"] = {
        "seeds": sorted(singles),
        "metrics": {m: seed_summary([singles[s]["metrics"].get(m) for s in sorted(singles)]).as_dict()
                    for m in RUN_METRICS},
    }
    result = {
        "command": shlex.join(["python", "benchmarks/ensemble.py", *sys.argv[1:]]),
        "runs": str(args.runs),
        "data": str(args.data),
        "subjects": "every subject of the cohort" if args.all_subjects else "the runs' test split",
        "test": "two-sided Wilcoxon signed-rank test (scipy.stats.wilcoxon), pairs = (ensemble, subject), "
                "ensemble minus the mean of its members' single-run values",
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.out, result)
    for name, row in rows.items():
        means = {m: row["metrics"][m]["mean"] for m in ("dice_overall", "dice_scar", "ssim", "scar_ratio_r")}
        print(name, {k: round(v, 4) for k, v in means.items() if v is not None})
        for m, t in row.get("tests_against_members_mean", {}).items():
            print(f"  {m}: median diff {t['median_difference']}, p={t['p_value']}, n={t['n']}")


if __name__ == "__main__":
    main()
