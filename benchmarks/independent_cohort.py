"""Two finished experiment variants scored again on an independent phantom cohort, paired per subject.

``pscgan experiment`` and ``benchmarks/equal_wallclock.py`` test on the 70 subjects of the phantom's test
split. A recipe that leads on the means there can still be level per subject, and with 70 subjects a
median paired difference of 0.005 in scar Dice is within chance. This script takes the runs the two
variant folders already trained (``EXPERIMENT/VARIANT/seed*/train``, nothing is retrained) and scores
each on a second cohort that none of them saw: a phantom drawn with another seed, every subject used
as a test subject. Each run predicts exactly as its experiment did (``pscgan.inference.batch`` for the
cascade without the anatomy network, ``pscgan.baselines.predict_baseline`` for a baseline) and is
scored by ``pscgan evaluate``'s own code.

The comparison is fixed before the cohort is scored, as for the test split: per metric, the mean
(sd) over seeds; the two-sided Wilcoxon signed-rank test paired by (seed, subject) of challenger minus
reference for scar Dice, overall Dice, SSIM, PSNR and the scar-ratio error
(:func:`pscgan.experiments.stats.compare_variants`); and, because scar-ratio r is a cohort statistic
without per-subject values, a paired bootstrap over subjects of the difference of the two variants'
mean-over-seeds Pearson r (each resample draws subjects with replacement and keeps every seed of both
variants on the drawn subjects; two-sided p = twice the smaller tail share, floored at 1 / resamples).

Commands (``benchmarks/results/independent_cohort.json``: today's ``cpu`` preset against the equally
augmented MONAI U-Net given 29,220 steps, more than the preset's training time; the runs of
``equal_wallclock_decoder_wide.json``; the other ``independent_cohort_*.json`` files record theirs)::

    pscgan phantom generate --out cohort1 --subjects 280 --seed 1
    python benchmarks/independent_cohort.py --cohort cohort1 --work cohort1-scores \\
        --reference "MONAI U-Net, augmented, 29,220 steps=exp/unet2x/monai_unet" \\
        --challenger "PSCGAN cpu (decoder 128/64/32/32)=exp/wide3/full" \\
        --out benchmarks/results/independent_cohort.json

Predictions and evaluations go to ``WORK/<variant folder>/seed<k>/`` and are reused when the command is
repeated (a second comparison that shares a variant predicts only the other one).
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

from pscgan.errors import PscganError
from pscgan.experiments.metrics import RUN_METRICS, SUBJECT_METRICS, run_metrics, subject_metrics
from pscgan.experiments.run import DONE_FILE, read_done
from pscgan.experiments.stats import TEST_NAME, compare_variants
from pscgan.io.atomic import write_json_atomic

from equal_wallclock import parse_named  # a sibling script: run as ``python benchmarks/...``

WEIGHTS = "model.safetensors"
SCORES = "scores.json"


def finished_runs(folder: Path) -> list[dict[str, Any]]:
    """``done.json`` of every finished run of a variant folder, by seed, with its folder."""
    try:
        runs = [(done.parent, read_done(done.parent)) for done in folder.glob(f"seed*/{DONE_FILE}")]
    except PscganError as exc:
        sys.exit(str(exc))
    found = sorted(({"folder": f} | r for f, r in runs if r is not None), key=lambda r: r["seed"])
    if not found:
        sys.exit(f"{folder}: no finished runs (seed*/{DONE_FILE}); finish the experiment first")
    return found


def run_slug(variant: Path) -> str:
    """The folder name under ``--work`` of a variant folder's runs."""
    return str(variant).strip("/").replace("/", "_")


def cohort_subjects(cohort: Path) -> list[Path]:
    """The subject folders of a dataset folder."""
    return sorted(p for p in cohort.iterdir() if p.is_dir() and not p.name.startswith("."))


def score_prediction(pred: Path, data: Path, work: Path, **extra: Any) -> dict[str, Any]:
    """Evaluate a prediction folder against ``data`` into ``work/evaluation`` and write ``work/scores.json``:
    ``extra``, the run-level metrics, each subject's metrics and its (predicted, reference) scar ratio."""
    from pscgan.evaluation.evaluate import evaluate, jsonable

    result = evaluate(pred, data, work / "evaluation", overwrite=True)
    evaluation = json.loads((work / "evaluation" / "evaluation.json").read_text())
    record = extra | {
        "metrics": jsonable(run_metrics(evaluation)),
        "subjects": jsonable(subject_metrics(result["pairs"])),
        "scar_ratio": {r["subject"]: [r.get("scar_ratio_pred"), r.get("scar_ratio_ref")]
                       for r in evaluation.get("per_subject") or []},
    }
    write_json_atomic(work / SCORES, record)
    return record


def score_run(run: dict[str, Any], cohort: Path, work: Path) -> dict[str, Any]:
    """Predict every cohort subject with the run's weights and score them (reused when done before)."""
    scores = work / SCORES
    if scores.is_file():
        return json.loads(scores.read_text())
    weights = run["folder"] / "train" / WEIGHTS
    if not weights.is_file():
        sys.exit(f"{weights}: the run has no trained weights")
    pred = work / "prediction"
    if run.get("baseline"):
        from pscgan.baselines import predict_baseline

        summary = predict_baseline(weights, cohort, pred, split=None, resume=pred.is_dir())
    else:
        from pscgan.inference.batch import predict_batch

        summary = predict_batch(cohort_subjects(cohort), pred, weights=weights, resume=pred.is_dir())
    if summary.get("failures"):
        sys.exit(f"{pred}: {len(summary['failures'])} subject(s) failed, first {summary['failures'][0]}")
    return score_prediction(pred, cohort, work, seed=run["seed"])


def phantom_seed(dataset: Path) -> int:
    """The seed a phantom cohort was drawn with (its ``dataset.json`` provenance)."""
    try:
        meta = json.loads((dataset / "dataset.json").read_text())
        return int(meta["provenance"]["options"]["seed"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        sys.exit(f"{dataset}: not a phantom cohort with a recorded seed ({exc})")


def ratio_table(runs: list[dict[str, Any]], subjects: list[str]) -> np.ndarray:
    """seeds x subjects x (predicted, reference) scar ratios; NaN where a run has none."""
    out = np.full((len(runs), len(subjects), 2), np.nan)
    for i, run in enumerate(runs):
        for j, sid in enumerate(subjects):
            pair = run["scar_ratio"].get(sid)
            if pair is not None and None not in pair:
                out[i, j] = pair
    return out


def mean_r(table: np.ndarray, idx: np.ndarray) -> float:
    """Mean over seeds of Pearson r between predicted and reference scar ratio on subjects ``idx``."""
    rs = []
    for seed in table:
        pred, ref = seed[idx, 0], seed[idx, 1]
        ok = ~(np.isnan(pred) | np.isnan(ref))
        rs.append(float(np.corrcoef(pred[ok], ref[ok])[0, 1]))
    return statistics.fmean(rs)


def bootstrap_r(ref: np.ndarray, ch: np.ndarray, resamples: int, seed: int) -> dict[str, Any]:
    """Paired bootstrap over subjects of (challenger - reference) mean-over-seeds scar-ratio r."""
    n = ref.shape[1]
    all_idx = np.arange(n)
    observed = mean_r(ch, all_idx) - mean_r(ref, all_idx)
    rng = np.random.default_rng(seed)
    diffs = np.empty(resamples)
    for k in range(resamples):
        idx = rng.integers(0, n, n)
        diffs[k] = mean_r(ch, idx) - mean_r(ref, idx)
    tail = min(float(np.mean(diffs <= 0)), float(np.mean(diffs >= 0)))
    return {
        "difference": observed,
        "ci95": [float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975))],
        "p_value": max(2 * tail, 1 / resamples),
        "resamples": resamples,
        "bootstrap_seed": seed,
        "subjects": n,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cohort", type=Path, required=True, help="phantom cohort none of the runs trained on")
    ap.add_argument("--work", type=Path, required=True, help="folder for the predictions and evaluations")
    ap.add_argument("--reference", required=True, help="NAME=EXPERIMENT/VARIANT (tests: challenger minus it)")
    ap.add_argument("--challenger", required=True, help="NAME=EXPERIMENT/VARIANT")
    ap.add_argument("--resamples", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for prediction")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    (ref_name, ref_folder), (ch_name, ch_folder) = parse_named(args.reference), parse_named(args.challenger)
    if ref_name == ch_name:
        sys.exit(f"--reference and --challenger are both named {ref_name!r}; give them different names")
    named = {ref_name: ref_folder, ch_name: ch_folder}
    cohort_ids = {p.name for p in cohort_subjects(args.cohort)}
    cohort_seed = phantom_seed(args.cohort)
    runs: dict[str, list[dict[str, Any]]] = {}
    for name, folder in named.items():
        runs[name] = []
        for run in finished_runs(folder):
            trained_on = Path(json.loads((run["folder"] / "train" / "split.json").read_text())["dataset"])
            # the subject names repeat across cohorts; another seed is what makes them other subjects
            if trained_on.resolve() == args.cohort.resolve() or phantom_seed(trained_on) == cohort_seed:
                sys.exit(f"{run['folder']}: trained on {trained_on}, a phantom of the cohort's seed "
                         f"{cohort_seed}; generate the cohort with another --seed")
            print(f"{name}: seed {run['seed']}", flush=True)
            work = args.work / run_slug(folder) / f"seed{run['seed']}"
            runs[name].append(score_run(run, args.cohort, work))
    comparison = compare_variants(runs, ref_name, RUN_METRICS, SUBJECT_METRICS)
    subjects = sorted(cohort_ids)
    r_test = bootstrap_r(ratio_table(runs[ref_name], subjects), ratio_table(runs[ch_name], subjects),
                         args.resamples, seed=0)
    result = {
        "command": shlex.join(["python", "benchmarks/independent_cohort.py", *sys.argv[1:]]),
        "cohort": str(args.cohort),
        "cohort_subjects": len(subjects),
        "reference": ref_name,
        "test": TEST_NAME,
        "scar_ratio_r_test": "paired bootstrap over subjects of the difference of mean-over-seeds Pearson r",
        "variants": {name: {"folder": str(folder)} | comparison[name] for name, folder in named.items()},
        "scar_ratio_r_difference": r_test,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.out, result)
    for name in runs:
        means = {m: result["variants"][name]["metrics"][m].get("mean")
                 for m in ("dice_overall", "dice_scar", "ssim", "scar_ratio_r")}
        print(name, {k: round(x, 4) for k, x in means.items() if x is not None})
    for m, t in result["variants"][ch_name]["tests"].items():
        print(f"{m}: median diff {t['median_difference']}, p={t['p_value']}, n={t['n']}")
    print("scar ratio r difference", r_test)


if __name__ == "__main__":
    main()
