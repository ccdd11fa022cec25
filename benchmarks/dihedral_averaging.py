"""Does averaging predictions help the cascade or the U-Net: over the 8 quarter-turns and mirrors, over
training runs (seeds), or over the two models?

For finished experiment runs of the cascade and of a segmentation baseline (same test split, same
seeds), each test slice's crop is segmented under each of the 8 dihedral transforms (each undone
afterwards); the rows are segmentations of the softmax probabilities as they are, under one transform
only, averaged over the 8 transforms, averaged over the seeds' runs of one model, and averaged over the
cascade and the baseline of one seed. Scar Dice is taken per subject (scar pixels pooled over its
slices) in the 64x64 crops the networks see, against the cached labels. That is the training cache's
geometry, not the original one `pscgan evaluate` scores in, so the numbers are for comparing the rows
here, not for quoting beside Table 1. Pairs for the Wilcoxon tests are (seed, subject) with scar in
either; a seed average is paired, per subject, with the mean of the single runs' scores.

The ``spread`` block says where a model's errors vary: the standard deviation of a subject's scar Dice
over the 8 transforms (one run), and over the seeds (no transform), each averaged over subjects.
Averaging can only cancel errors that vary.

Usage::

    python benchmarks/dihedral_averaging.py --data phantom --cascade exp/candIN/full \\
        --baseline exp/unet3/monai_unet --seeds 0 1 2 --out benchmarks/results/dihedral_averaging.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pscgan.labels import Tissue
from pscgan.training.augmentation import SYMMETRIES, apply_symmetry


def _undo(x: torch.Tensor, code: int) -> torch.Tensor:
    """The inverse of ``apply_symmetry``'s symmetry ``code`` on the last two axes."""
    x = torch.flip(x, dims=(-1,)) if code >= 4 else x
    return torch.rot90(x, -(code % 4), dims=(-2, -1))


@torch.no_grad()
def probabilities(logits_of, cine: torch.Tensor, code: int, batch: int = 32) -> torch.Tensor:
    """Softmax probabilities (N, C, H, W) from ``logits_of(cine crops) -> (N, C, H, W)`` of the crops
    turned by symmetry ``code`` (0: as they are), turned back."""
    turned = (apply_symmetry({"cine": cine[s:s + batch]}, code)["cine"] for s in range(0, len(cine), batch))
    return _undo(torch.cat([torch.softmax(logits_of(x), 1) for x in turned]), code)


def scar_dice_by_subject(pred: np.ndarray, labels: np.ndarray,
                         subjects: list[str]) -> dict[str, float | None]:
    """Scar Dice per subject, its slices taken as one volume (MONAI's ``compute_dice``); None where
    neither has scar."""
    from monai.metrics import compute_dice

    out: dict[str, float | None] = {}
    for s in dict.fromkeys(subjects):
        rows = [i for i, x in enumerate(subjects) if x == s]
        volume = [torch.from_numpy(a[rows] == Tissue.SCAR)[None, None].float() for a in (pred, labels)]
        # a reference without scar still scores the predicted scar (Dice 0), unlike MONAI's default
        either = bool(volume[0].any() or volume[1].any())
        out[s] = float(compute_dice(*volume, include_background=True, ignore_empty=False)) if either else None
    return out


def _test_split(run: Path) -> list[str]:
    """The test subjects of a training run folder."""
    return list(json.loads((run / "split.json").read_text())["test"])


def test_crops(data: Path, run: Path) -> tuple[torch.Tensor, np.ndarray, list[str]]:
    """The test slices of training run ``run`` as the networks see them, from the training cache its
    configuration names: cine crops (N, 1, T, H, W), labels (N, H, W) and each slice's subject."""
    from pscgan.config.schema import load_config
    from pscgan.data.cache import TrainingCache, ensure_cache
    from pscgan.data.protocol import planned_options, preprocess_options

    config = load_config(run / "config.json")
    pre = preprocess_options(data, register_lge=config.train.register_lge, **planned_options(config))
    cache = TrainingCache(ensure_cache(data, pre))
    idx = cache.indices_of(_test_split(run))
    crops = np.stack([np.asarray(cache.arrays["cine"][j], np.float32) for j in idx])
    labels = np.stack([np.asarray(cache.arrays["labels"][j]) for j in idx])
    return torch.from_numpy(crops)[:, None], labels, [cache.entries[j].subject_id for j in idx]


#: Scar Dice by row, then by seed (``"all"`` for a seed average), then by subject (None: no scar in either).
Scores = dict[str, dict[str, dict[str, float | None]]]


def paired(scores: Scores, a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
    """Row ``a``'s and row ``b``'s scores, paired by (seed, subject); where one row is a seed average, by
    subject, the other row taken as the mean over its seeds."""
    if "all" in scores[a] or "all" in scores[b]:
        mean_a, mean_b = (_seed_mean(scores[k]) for k in (a, b))
        keys = [k for k in mean_a if k in mean_b]
        return np.array([mean_a[k] for k in keys]), np.array([mean_b[k] for k in keys])
    pairs = [(x, scores[b][seed].get(subject)) for seed in scores[a]
             for subject, x in scores[a][seed].items()]
    x, y = np.array([p for p in pairs if p[0] is not None and p[1] is not None], dtype=float).T
    return x, y


def _seed_mean(row: dict[str, dict[str, float | None]]) -> dict[str, float]:
    """A row's score per subject, averaged over its seeds (subjects scored in every seed only)."""
    subjects = [s for s in next(iter(row.values())) if all(row[seed].get(s) is not None for seed in row)]
    return {s: float(np.mean([float(row[seed][s] or 0.0) for seed in row])) for s in subjects}


def mean_sd(rows: list[dict[str, float | None]]) -> float:
    """The standard deviation over ``rows`` (each subject -> score) of a subject's score, averaged over
    the subjects every row scores."""
    keys = [k for k in rows[0] if all(row.get(k) is not None for row in rows)]
    return float(np.mean([np.std([float(row[k] or 0.0) for row in rows]) for k in keys]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--cascade", type=Path, required=True, help="experiment variant folder with seedN/train")
    ap.add_argument("--baseline", type=Path, required=True, help="baseline variant folder with seedN/train")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    from scipy.stats import wilcoxon

    from pscgan.baselines.weights import load_baseline_weights
    from pscgan.models.weights import load_weights

    torch.set_num_threads(args.threads)
    # the seeds' runs share one test split (checked below), so its crops are read once and the seed
    # averages average like for like
    first = args.cascade / f"seed{args.seeds[0]}" / "train"
    cine, labels, subjects = test_crops(args.data, first)
    scores: Scores = {}
    as_is: dict[tuple[str, int], torch.Tensor] = {}  # (model, seed) -> probabilities
    names = ("cascade", "baseline")

    def score(key: str, seed: str, probs: torch.Tensor) -> None:
        dice = scar_dice_by_subject(probs.argmax(1).numpy(), labels, subjects)
        scores.setdefault(key, {})[seed] = dice
        print(seed, key, round(float(np.mean([d for d in dice.values() if d is not None])), 4), flush=True)

    for seed in args.seeds:
        run = args.cascade / f"seed{seed}" / "train"
        if _test_split(run) != _test_split(first):
            ap.error(f"{run}: its test split is not that of {first}; the seed averages need one split")
        cascade, _ = load_weights(run / "model.safetensors")
        cascade.eval()
        unet, _ = load_baseline_weights(args.baseline / f"seed{seed}" / "train" / "model.safetensors")
        unet.eval()
        for name, logits_of in zip(names, (lambda x: cascade(x)["mask_logits"], unet), strict=True):
            turned = [probabilities(logits_of, cine, code) for code in range(SYMMETRIES)]
            score(f"{name}, as is", str(seed), turned[0])
            for code in range(1, SYMMETRIES):
                score(f"{name}, transform {code} only", str(seed), turned[code])
            score(f"{name}, dihedral average", str(seed), sum(turned[1:], turned[0]))
            as_is[name, seed] = turned[0]
        score("cascade and baseline averaged", str(seed), as_is["cascade", seed] + as_is["baseline", seed])
    for name in names:
        runs = torch.stack([as_is[name, seed] for seed in args.seeds])
        score(f"{name}, seeds averaged", "all", runs.sum(0))
    rows: dict[str, Any] = {}
    for key, by_seed in scores.items():
        values = [d for dice in by_seed.values() for d in dice.values() if d is not None]
        rows[key] = {"scar_dice_mean": float(np.mean(values)), "n": len(values)}
    tests = {}
    comparisons = [("cascade, as is", "cascade, dihedral average"),
                   ("baseline, as is", "baseline, dihedral average"),
                   ("cascade, as is", "baseline, as is"),
                   ("cascade, dihedral average", "baseline, dihedral average"),
                   ("cascade, as is", "cascade, seeds averaged"),
                   ("baseline, as is", "baseline, seeds averaged"),
                   ("cascade, seeds averaged", "baseline, seeds averaged"),
                   ("cascade, as is", "cascade and baseline averaged"),
                   ("baseline, as is", "cascade and baseline averaged")]
    for a, b in comparisons:
        x, y = paired(scores, a, b)
        tests[f"{b} minus {a}"] = {"median": float(np.median(y - x)), "mean": float(np.mean(y - x)),
                                   "p": float(wilcoxon(y, x).pvalue), "n": len(x)}
    spread = {}
    for name in names:
        transforms = [f"{name}, as is"] + [f"{name}, transform {c} only" for c in range(1, SYMMETRIES)]
        spread[f"{name}: sd over the 8 transforms"] = float(np.mean(
            [mean_sd([scores[k][str(seed)] for k in transforms]) for seed in args.seeds]))
        spread[f"{name}: sd over the seeds"] = mean_sd([scores[f"{name}, as is"][str(s)] for s in args.seeds])
    record = {
        "benchmark": "dihedral_averaging",
        "command": shlex.join(["python", "benchmarks/dihedral_averaging.py", *sys.argv[1:]]),
        "what": "scar Dice per (seed, test subject) in the networks' 64x64 crops against the cached labels; "
                "dihedral average = mean softmax over the 8 quarter-turns and mirrors, each undone; "
                "transform k only = the crops turned by training's symmetry k and the result turned back; "
                "seeds averaged = mean softmax of the seeds' runs; cascade and baseline averaged = mean "
                "softmax of the two models of one seed",
        "test": "two-sided Wilcoxon signed-rank test (scipy.stats.wilcoxon), pairs = (seed, subject), or "
                "subject where a row averages the seeds (the other row then the mean over its seeds)",
        "seeds": args.seeds, "rows": rows, "paired": tests,
        "spread": spread,
    }
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"rows": rows, "paired": tests, "spread": spread}, indent=2))


if __name__ == "__main__":
    main()
